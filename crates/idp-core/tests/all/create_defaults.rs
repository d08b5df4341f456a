//! Per-provider defaults applied on create (the reference's; `docs/decisions.md`, "Provider names
//! and defaults"): keys the
//! body leaves out get the provider's default, a mapping gets the default keys it lacks after its
//! own, and names other than tara, eduteams and keycloak get the model's plain defaults.

use crate::common;

use common::*;
use idp_core::{PROVIDER_DEFAULTS, defaults_for};
use serde_json::{Value, json};

/// The four defaulted fields of a created provider, as JSON.
fn defaulted(body: &Value) -> Value {
    let json = created_json(body);
    json!({
        "user_field": json["user_field"],
        "user_claim": json["user_claim"],
        "extra_fields": json["extra_fields"],
        "extra_scope": json["extra_scope"],
        "attribute_mapping": json["attribute_mapping"],
    })
}

fn keycloak_mapping() -> Value {
    json!({
        "email": "email",
        "first_name": "given_name",
        "last_name": "family_name",
        "identity_source": "identity_source",
        "organization": "schac_home_organization affiliation org",
        "civil_number": "schacPersonalUniqueID",
        "gender": "gender",
        "birth_date": "birthdate",
        "personal_title": "schacPersonalTitle",
        "place_of_birth": "schacPlaceOfBirth",
        "address": "address",
        "country_of_residence": "schacCountryOfResidence",
        "nationality": "schacCountryOfCitizenship",
        "organization_country": "org_reg_country org_country",
        "organization_type": "schacHomeOrganizationType",
        "organization_registry_code": "organization_registry_code",
        "organization_vat_code": "organization_vat_code",
        "organization_address": "organization_address",
        "eduperson_assurance": "eduperson_assurance",
        "phone_number": "phone_number",
    })
}

#[test]
fn tara_create_gets_the_tara_defaults() {
    let body = create_body("tara");
    assert_eq!(
        defaulted(&body),
        json!({
            "user_field": "civil_number",
            "user_claim": "sub",
            "extra_fields": "amr profile_attributes_translit",
            "extra_scope": null,
            "attribute_mapping": {
                "first_name": "given_name",
                "last_name": "family_name",
                "civil_number": "sub",
            },
        })
    );
    assert_eq!(
        keys(&created_json(&body)["attribute_mapping"]),
        ["first_name", "last_name", "civil_number"]
    );
}

#[test]
fn eduteams_create_gets_the_eduteams_defaults() {
    let body = create_body("eduteams");
    assert_eq!(
        defaulted(&body),
        json!({
            "user_field": "username",
            "user_claim": "sub",
            "extra_fields": "eduperson_assurance",
            "extra_scope": "profile email eduperson_assurance ssh_public_key",
            "attribute_mapping": {
                "first_name": "given_name",
                "last_name": "family_name",
                "affiliations": "voperson_external_affiliation",
                "email": "email",
            },
        })
    );
    assert_eq!(
        keys(&created_json(&body)["attribute_mapping"]),
        ["first_name", "last_name", "affiliations", "email"]
    );
}

#[test]
fn keycloak_create_gets_the_keycloak_defaults_with_the_newer_country_claim_first() {
    let body = create_body("keycloak");
    assert_eq!(
        defaulted(&body),
        json!({
            "user_field": "username",
            "user_claim": "sub",
            "extra_fields": "site_username",
            "extra_scope": null,
            "attribute_mapping": keycloak_mapping(),
        })
    );
    assert_eq!(
        keys(&created_json(&body)["attribute_mapping"]),
        keys(&keycloak_mapping())
    );
}

#[test]
fn tara_create_merges_default_mapping_under_request_keys() {
    // The reference's own test (its "Key-value merge example").
    let body = with(
        create_body("tara"),
        &json!({
            "attribute_mapping": {"email": "overridden_email"},
            "user_field": "overridden_user_field",
            "user_claim": "overridden_user_claim",
            "extra_fields": "overridden_extra_fields",
        }),
    );
    let json = created_json(&body);
    assert_eq!(json["user_field"], "overridden_user_field");
    assert_eq!(json["user_claim"], "overridden_user_claim");
    assert_eq!(json["extra_fields"], "overridden_extra_fields");
    assert_eq!(
        json["attribute_mapping"],
        json!({
            "email": "overridden_email",
            "first_name": "given_name",
            "last_name": "family_name",
            "civil_number": "sub",
        })
    );
    assert_eq!(
        keys(&json["attribute_mapping"]),
        ["email", "first_name", "last_name", "civil_number"]
    );
}

#[test]
fn request_mapping_keys_win_and_come_first_then_missing_defaults_in_default_order() {
    let body = with(
        create_body("keycloak"),
        &json!({"attribute_mapping": {"phone_number": "tel", "email": "mail", "nationalities": "c"}}),
    );
    let mapping = created_json(&body)["attribute_mapping"].clone();
    let defaults = keycloak_mapping();
    let mut expected_keys = vec!["phone_number", "email", "nationalities"];
    expected_keys.extend(
        keys(&defaults)
            .into_iter()
            .filter(|key| !["phone_number", "email"].contains(key)),
    );
    assert_eq!(keys(&mapping), expected_keys);
    assert_eq!(mapping["phone_number"], "tel");
    assert_eq!(mapping["email"], "mail");
    assert_eq!(mapping["nationalities"], "c");
    assert_eq!(mapping["first_name"], "given_name");
    assert_eq!(mapping.as_object().unwrap().len(), 21);
}

#[test]
fn an_empty_mapping_still_gets_every_default_key() {
    let body = with(create_body("eduteams"), &json!({"attribute_mapping": {}}));
    assert_eq!(
        keys(&created_json(&body)["attribute_mapping"]),
        ["first_name", "last_name", "affiliations", "email"]
    );
}

#[test]
fn keys_sent_as_null_or_blank_are_not_replaced_by_defaults() {
    let rows: Vec<((&str, Value), Option<Value>)> = vec![
        (
            ("eduteams", json!({"extra_scope": null})),
            Some(json!({"extra_scope": null})),
        ),
        (
            ("eduteams", json!({"extra_scope": ""})),
            Some(json!({"extra_scope": ""})),
        ),
        (
            ("eduteams", json!({"extra_scope": "  "})),
            Some(json!({"extra_scope": ""})),
        ),
        (
            ("tara", json!({"extra_fields": ""})),
            Some(json!({"extra_fields": ""})),
        ),
        (
            ("tara", json!({"extra_fields": null})),
            Some(json!({"extra_fields": null})),
        ),
        (
            ("keycloak", json!({"extra_fields": null})),
            Some(json!({"extra_fields": null})),
        ),
        (
            ("keycloak", json!({"extra_scope": "openid"})),
            Some(json!({"extra_scope": "openid"})),
        ),
        (
            ("tara", json!({"user_field": "email"})),
            Some(json!({"user_field": "email"})),
        ),
    ];
    check_rows(&rows, |(provider, changes)| {
        let json = created_json(&with(create_body(provider), changes));
        let (key, _) = changes.as_object().unwrap().iter().next().unwrap();
        Some(json!({ key: json[key] }))
    });
}

#[test]
fn generic_names_get_the_model_defaults_only() {
    for provider in [
        "generic",
        "corp-sso",
        "remote-eduteams",
        "tara2",
        "keycloak-test",
    ] {
        assert_eq!(
            defaulted(&create_body(provider)),
            json!({
                "user_field": "username",
                "user_claim": "sub",
                "extra_fields": null,
                "extra_scope": null,
                "attribute_mapping": {},
            }),
            "{provider}"
        );
    }
}

#[test]
fn every_other_field_gets_the_model_default() {
    let json = created_json(&create_body("tara"));
    assert_eq!(json["is_active"], true);
    assert_eq!(json["verify_ssl"], true);
    assert_eq!(json["enable_post_logout_redirect"], true);
    assert_eq!(json["enable_pkce"], false);
    assert_eq!(json["management_url"], "");
    assert_eq!(json["protected_fields"], json!([]));
    assert_eq!(json["allowed_redirects"], json!([]));
    assert_eq!(json["logout_url"], "https://idp.example.com/logout");
}

#[test]
fn the_parsed_create_exposes_what_the_discovery_fetch_needs() {
    let body = with(
        create_body("keycloak"),
        &json!({"verify_ssl": "false", "discovery_url": " https://kc.example.com/x "}),
    );
    let new = idp_core::NewProvider::parse(&body, &any_slug()).unwrap();
    assert_eq!(new.provider(), "keycloak");
    assert_eq!(new.discovery_url(), "https://kc.example.com/x");
    assert!(!new.verify_ssl());
    assert!(
        idp_core::NewProvider::parse(&create_body("keycloak"), &any_slug())
            .unwrap()
            .verify_ssl()
    );
}

#[test]
fn provider_defaults_table_matches_the_reference() {
    let names: Vec<&str> = PROVIDER_DEFAULTS.iter().map(|d| d.provider).collect();
    assert_eq!(names, ["tara", "eduteams", "remote-eduteams", "keycloak"]);
    let remote = &PROVIDER_DEFAULTS[2];
    assert_eq!(remote.user_claim, "voperson_id");
    assert_eq!(remote.extra_fields, "eduperson_assurance");
    assert_eq!(
        remote.extra_scope,
        Some("profile email eduperson_assurance ssh_public_key")
    );
    assert_eq!(
        remote.attribute_mapping,
        [
            ("first_name", "given_name"),
            ("last_name", "family_name"),
            ("affiliations", "voperson_external_affiliation"),
            ("email", "mail"),
        ]
    );
    // The internal remote-eduteams defaults are never applied through the API.
    assert!(defaults_for("remote-eduteams").is_none());
    assert!(defaults_for("generic").is_none());
    for name in ["tara", "eduteams", "keycloak"] {
        assert_eq!(defaults_for(name).map(|d| d.provider), Some(name));
    }
}
