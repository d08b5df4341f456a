//! Reading discovery documents the way the reference does, with a 400-class error (never a panic)
//! for every shape it would crash on.

use idp_oidc::{DiscoveryDocument, FetchErrorKind};
use serde_json::{Value, json};

use crate::common;
use common::minimal_document;

fn document(value: Value) -> DiscoveryDocument {
    DiscoveryDocument::from_value(value).unwrap()
}

fn with(key: &str, value: Value) -> DiscoveryDocument {
    let mut base = minimal_document("https://idp.example.com");
    base.as_object_mut().unwrap().insert(key.to_owned(), value);
    document(base)
}

#[test]
fn null_claims_are_a_clear_error_in_both_actions() {
    let doc = with("claims_supported", Value::Null);
    let not_a_list = FetchErrorKind::NotAStringList {
        key: "claims_supported",
    };
    assert_eq!(doc.metadata_report().unwrap_err().kind(), &not_a_list);
    assert_eq!(doc.generate_mapping().unwrap_err().kind(), &not_a_list);
    // Creating a provider does not read the claims, as in the reference.
    assert!(doc.provider_endpoints().is_ok());
}

#[test]
fn non_string_claims_or_scopes_are_a_clear_error() {
    for (key, value) in [
        ("claims_supported", json!(["sub", 7])),
        ("claims_supported", json!("sub email")),
        ("scopes_supported", json!([{"name": "openid"}])),
        ("scopes_supported", Value::Null),
    ] {
        let error = with(key, value).generate_mapping().unwrap_err();
        assert_eq!(
            error.kind(),
            &FetchErrorKind::NotAStringList {
                key: if key == "claims_supported" {
                    "claims_supported"
                } else {
                    "scopes_supported"
                }
            }
        );
        assert_eq!(
            error.to_string(),
            format!("'{key}' is not a list of strings")
        );
    }
}

#[test]
fn absent_claims_and_scopes_are_empty_lists() {
    let mut value = minimal_document("https://idp");
    let object = value.as_object_mut().unwrap();
    object.remove("claims_supported");
    object.remove("scopes_supported");
    let report = serde_json::to_value(document(value).metadata_report().unwrap()).unwrap();
    assert_eq!(report["claims_supported"], json!([]));
    assert_eq!(report["scopes_supported"], json!([]));
    assert_eq!(report["suggested_scopes"], json!(["openid"]));
}

#[test]
fn the_report_has_exactly_the_reference_keys_in_order() {
    let mut value = minimal_document("https://idp");
    let object = value.as_object_mut().unwrap();
    object.remove("end_session_endpoint");
    object.insert(
        "registration_endpoint".into(),
        json!("https://idp/register"),
    );
    let report = serde_json::to_value(document(value).metadata_report().unwrap()).unwrap();
    let keys: Vec<&String> = report.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "claims_supported",
            "scopes_supported",
            "endpoints",
            "waldur_fields",
            "suggested_scopes"
        ]
    );
    assert_eq!(
        serde_json::to_string(&report["endpoints"]).unwrap(),
        r#"{"authorization_endpoint":"https://idp/auth","token_endpoint":"https://idp/token","userinfo_endpoint":"https://idp/userinfo","end_session_endpoint":null,"jwks_uri":null}"#
    );
    assert_eq!(report["waldur_fields"].as_array().unwrap().len(), 22);
}

#[test]
fn duplicate_claims_are_kept_verbatim() {
    let doc = with("claims_supported", json!(["name", "email", "name"]));
    let report = doc.metadata_report().unwrap();
    assert_eq!(report.claims_supported, ["name", "email", "name"]);
}

#[test]
fn lenient_documents_are_read_as_the_reference_reads_them() {
    // No jwks_uri, no response types, an issuer on another host, http endpoints.
    let doc = document(json!({
        "issuer": "https://elsewhere.example.org/",
        "authorization_endpoint": "http://idp.internal/auth",
        "token_endpoint": "http://idp.internal/token",
        "userinfo_endpoint": "http://idp.internal/userinfo",
    }));
    assert!(doc.metadata().is_none());
    let endpoints = doc.provider_endpoints().unwrap();
    assert_eq!(endpoints.userinfo_url, "http://idp.internal/userinfo");
    assert_eq!(endpoints.logout_url, "");
}

#[test]
fn bodies_that_are_not_json_objects_are_rejected_cleanly() {
    assert_eq!(
        DiscoveryDocument::from_json(b"").unwrap_err().kind(),
        &FetchErrorKind::InvalidJson
    );
    assert_eq!(
        DiscoveryDocument::from_json(b"{\"a\": NaN}")
            .unwrap_err()
            .kind(),
        &FetchErrorKind::InvalidJson
    );
    assert_eq!(
        DiscoveryDocument::from_json(b"\"text\"")
            .unwrap_err()
            .kind(),
        &FetchErrorKind::NotAnObject
    );
    assert_eq!(
        DiscoveryDocument::from_json(b"null").unwrap_err().kind(),
        &FetchErrorKind::NotAnObject
    );
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), b"{}"].concat();
    assert!(DiscoveryDocument::from_json(&with_bom).is_ok());
    let deep = "[".repeat(100_000);
    assert_eq!(
        DiscoveryDocument::from_json(deep.as_bytes())
            .unwrap_err()
            .kind(),
        &FetchErrorKind::InvalidJson
    );
}

#[test]
fn an_endpoint_that_is_not_a_string_is_named() {
    let doc = with("token_endpoint", json!({"url": "https://idp/token"}));
    let error = doc.metadata_report().unwrap_err();
    assert_eq!(
        error.kind(),
        &FetchErrorKind::InvalidEndpoint("token_endpoint")
    );
    // An optional endpoint of the wrong type is shown as absent instead.
    let report = with("jwks_uri", json!(42)).metadata_report().unwrap();
    assert_eq!(report.endpoints.jwks_uri, None);
}

#[test]
fn case_only_matches_use_the_providers_spelling() {
    let doc = with(
        "claims_supported",
        json!(["Email", "GIVEN_NAME", "given_Name"]),
    );
    let mapping = doc.generate_mapping().unwrap();
    assert_eq!(mapping.attribute_mapping["email"], "Email");
    assert_eq!(mapping.attribute_mapping["first_name"], "given_Name");
}

#[test]
fn the_table_shows_endpoints_fields_and_the_mapping() {
    let report = document(minimal_document("https://idp"))
        .metadata_report()
        .unwrap();
    let table = report.render_table();
    for expected in [
        "authorization_endpoint   https://idp/auth",
        "jwks_uri                 (none)",
        "CLAIMS SUPPORTED (4)",
        "SCOPES SUPPORTED (3)",
        "first_name",
        "SUGGESTED MAPPING",
        "extra_scope: \"email profile\"",
        "suggested_scopes: email openid profile",
    ] {
        assert!(table.contains(expected), "{expected:?} not in\n{table}");
    }
    let hostile = with("claims_supported", json!(["\u{1b}[2Jwiped"]))
        .metadata_report()
        .unwrap();
    assert!(!hostile.render_table().contains('\u{1b}'));
}
