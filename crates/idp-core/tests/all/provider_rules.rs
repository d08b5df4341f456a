//! Provider names (`docs/decisions.md`, "Provider names and defaults") and the object-level
//! discovery-URL host rules.

use crate::common;

use common::*;
use idp_core::{ProviderNamePolicy, REFERENCE_PROVIDERS, check_discovery_url_for_provider};
use serde_json::{Value, json};

fn invalid_provider() -> Option<Value> {
    Some(field_error("provider", &["Invalid provider."]))
}

fn invalid_url() -> Option<Value> {
    Some(json!({"non_field_errors": ["Invalid discovery URL."]}))
}

#[test]
fn by_default_any_slug_of_up_to_32_characters_is_a_provider_name() {
    let rows: Vec<(String, Option<Value>)> = vec![
        ("tara".into(), None),
        ("eduteams".into(), None),
        ("keycloak".into(), None),
        ("remote-eduteams".into(), None),
        ("my-idp".into(), None),
        ("azure_ad".into(), None),
        ("0idp".into(), None),
        ("a".into(), None),
        (chars('z', 32), None),
        ("Tara".into(), invalid_provider()),
        ("-idp".into(), invalid_provider()),
        ("_idp".into(), invalid_provider()),
        ("my.idp".into(), invalid_provider()),
        ("my/idp".into(), invalid_provider()),
        ("my idp".into(), invalid_provider()),
        ("idé".into(), invalid_provider()),
        ("new_provider!".into(), invalid_provider()),
        // Length is a field check of its own and comes before the name rule.
        (
            chars('z', 33),
            Some(field_error(
                "provider",
                &["Ensure this field has no more than 32 characters."],
            )),
        ),
        (
            format!("Bad Name {}", chars('x', 30)),
            Some(field_error(
                "provider",
                &["Ensure this field has no more than 32 characters."],
            )),
        ),
    ];
    check_rows(&rows, |name| create_result(&create_body(name), &any_slug()));
}

#[test]
fn the_waldur_policy_accepts_only_the_three_reference_names() {
    let policy = ProviderNamePolicy::from_setting("waldur").unwrap();
    assert_eq!(
        policy,
        ProviderNamePolicy::Only(
            REFERENCE_PROVIDERS
                .iter()
                .map(|n| (*n).to_owned())
                .collect()
        )
    );
    let rows: Vec<(&str, Option<Value>)> = vec![
        ("tara", None),
        ("eduteams", None),
        ("keycloak", None),
        (" keycloak ", None),
        ("remote-eduteams", invalid_provider()),
        ("generic", invalid_provider()),
        ("TARA", invalid_provider()),
        ("new_provider", invalid_provider()),
    ];
    check_rows(&rows, |name| {
        let body = with(create_body(name.trim()), &json!({ "provider": name }));
        create_result(&body, &policy)
    });
}

#[test]
fn a_listed_policy_accepts_exactly_its_names() {
    let policy = ProviderNamePolicy::from_setting(" corp-sso , waldur ").unwrap();
    for name in ["corp-sso", "tara", "eduteams", "keycloak"] {
        assert_eq!(create_result(&create_body(name), &policy), None, "{name}");
    }
    assert_eq!(
        create_result(&create_body("other"), &policy),
        invalid_provider()
    );
    assert!(ProviderNamePolicy::from_setting("Not A Slug").is_err());
    assert_eq!(
        ProviderNamePolicy::from_setting("any").unwrap(),
        ProviderNamePolicy::AnySlug
    );
}

/// The host rule's verdict for one provider and URL, through a create body.
fn url_verdict(provider: &str, url: &str) -> Option<Value> {
    create_result(
        &with(create_body(provider), &json!({ "discovery_url": url })),
        &any_slug(),
    )
}

#[test]
fn tara_discovery_urls_must_be_on_tara_hosts() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        (
            "https://tara.ria.ee/oidc/.well-known/openid-configuration",
            None,
        ),
        (
            "https://tara-test.ria.ee/oidc/.well-known/openid-configuration",
            None,
        ),
        ("https://TARA.RIA.EE/x", None),
        ("HTTPS://tara.ria.ee:8443/x?y#z", None),
        ("http://tara-test.ria.ee/x", None),
        ("https://someone@tara.ria.ee/x", None),
        ("https://idp.example.com/x", invalid_url()),
        ("https://evil.tara.ria.ee/x", invalid_url()),
        ("https://tara.ria.ee.evil.com/x", invalid_url()),
        ("https://tara.ria.ee@evil.com/x", invalid_url()),
        ("https://ria.ee/x", invalid_url()),
        ("https://tara.ria.ee./x", invalid_url()),
        ("ftp://tara.ria.ee/x", invalid_url()),
    ];
    check_rows(&rows, |url| url_verdict("tara", url));
}

#[test]
fn keycloak_discovery_urls_must_not_be_on_eduteams_or_tara_hosts() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        (
            "https://kc.example.com/realms/x/.well-known/openid-configuration",
            None,
        ),
        ("https://eduteams.org.example.com/x", None),
        ("https://eduteams.organisation.example/x", None),
        ("https://proxy.eduteams.org/x", invalid_url()),
        ("https://eduteams.org/x", invalid_url()),
        ("https://fooeduteams.org/x", invalid_url()),
        ("https://PROXY.EDUTEAMS.ORG/x", invalid_url()),
        ("https://tara.ria.ee/x", invalid_url()),
        ("https://tara-test.ria.ee/x", invalid_url()),
        ("https://Tara-Test.Ria.Ee:443/x", invalid_url()),
    ];
    check_rows(&rows, |url| url_verdict("keycloak", url));
}

#[test]
fn eduteams_and_generic_providers_have_no_host_rule() {
    let mut rows: Vec<((&str, &str), Option<Value>)> = Vec::new();
    for provider in ["eduteams", "generic", "remote-eduteams"] {
        for url in [
            "https://proxy.eduteams.org/.well-known/openid-configuration",
            "https://tara.ria.ee/x",
            "http://10.0.0.5:8080/x",
            "https://[2001:db8::1]:8443/x",
            "https://idp/x",
        ] {
            rows.push(((provider, url), None));
        }
    }
    check_rows(&rows, |(provider, url)| url_verdict(provider, url));
}

#[test]
fn every_provider_needs_an_http_or_https_url_with_a_host() {
    let mut rows: Vec<((&str, &str), Option<Value>)> = Vec::new();
    for provider in ["tara", "keycloak", "eduteams", "generic"] {
        for url in [
            "ftp://tara.ria.ee/x",
            "file:///etc/passwd",
            "https:///path",
            "https://:443/path",
            "tara.ria.ee/x",
            "https:tara.ria.ee",
            "//tara.ria.ee/x",
            "https://[::1/x",
            "https://::1]/x",
            "https://[not-ip]/x",
            "https://[127.0.0.1]/x",
        ] {
            rows.push(((provider, url), invalid_url()));
        }
    }
    check_rows(&rows, |(provider, url)| url_verdict(provider, url));
}

#[test]
fn the_host_rule_is_the_same_function_outside_a_body() {
    let error = check_discovery_url_for_provider("tara", "https://example.com/x").unwrap_err();
    assert_eq!(
        serde_json::to_value(&error).unwrap(),
        invalid_url().unwrap()
    );
    assert_eq!(error.non_field_errors(), ["Invalid discovery URL."]);
    assert!(check_discovery_url_for_provider("keycloak", "https://kc.example.com/x").is_ok());
}

#[test]
fn the_url_check_runs_only_once_every_field_passes() {
    let bad_url_for_tara = "https://idp.example.com/x";
    let rows: Vec<(Value, Option<Value>)> = vec![
        (
            with(
                create_body("tara"),
                &json!({"discovery_url": bad_url_for_tara}),
            ),
            invalid_url(),
        ),
        (
            with(
                create_body("tara"),
                &json!({"discovery_url": bad_url_for_tara, "label": ""}),
            ),
            Some(field_error("label", &[BLANK])),
        ),
        (
            with(
                create_body("tara"),
                &json!({"discovery_url": bad_url_for_tara, "enable_pkce": "sometimes"}),
            ),
            Some(field_error("enable_pkce", &[NOT_A_BOOLEAN])),
        ),
        (
            with(
                create_body("tara"),
                &json!({"discovery_url": bad_url_for_tara, "unexpected": 1}),
            ),
            Some(field_error("unexpected", &["Unknown field."])),
        ),
        (
            with(
                create_body("tara"),
                &json!({"provider": "Tara", "discovery_url": "not a url at all"}),
            ),
            invalid_provider(),
        ),
    ];
    check_rows(&rows, |body| create_result(body, &any_slug()));
}

#[test]
fn the_url_check_uses_the_trimmed_url() {
    assert_eq!(url_verdict("tara", "  https://tara.ria.ee/x \n"), None);
    assert_eq!(
        created(&with(
            create_body("tara"),
            &json!({"discovery_url": "  https://tara.ria.ee/x \n"})
        ))
        .discovery_url,
        "https://tara.ria.ee/x"
    );
}

#[test]
fn a_taken_name_is_reported_in_its_place_before_the_name_rule() {
    let body = without(
        with(create_body("Bad Name"), &json!({"protected_fields": "x"})),
        &["label"],
    );
    assert_eq!(
        idp_core::NewProvider::requested_name(&body).as_deref(),
        Some("Bad Name")
    );
    let errors = idp_core::NewProvider::parse_unique(&body, &any_slug(), true).unwrap_err();
    let errors = serde_json::to_value(&errors).unwrap();
    assert_eq!(
        errors,
        json!({
            "protected_fields": ["Expected a list of items but got type \"str\"."],
            "provider": ["identity provider with this provider already exists."],
            "label": ["This field is required."],
        })
    );
    let keys: Vec<&str> = errors
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["protected_fields", "provider", "label"]);
    assert_eq!(
        idp_core::NewProvider::requested_name(&json!({"provider": 7})).as_deref(),
        Some("7")
    );
    assert_eq!(
        idp_core::NewProvider::requested_name(&json!({"provider": true})),
        None
    );
}
