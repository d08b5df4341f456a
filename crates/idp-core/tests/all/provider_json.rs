//! The provider as the API serves it (`docs/decisions.md`, "Wire compatibility" and "Secrets,
//! users and tokens"): 21 keys for staff
//! in the reference's order, 16 for everyone else, and `client_secret` only when it is exposed.

use crate::common;

use common::*;
use idp_core::{HIDDEN_FIELDS, Provider};
use serde_json::json;

const STAFF_KEYS: [&str; 21] = [
    "protected_fields",
    "allowed_redirects",
    "provider",
    "is_active",
    "client_id",
    "client_secret",
    "verify_ssl",
    "enable_post_logout_redirect",
    "enable_pkce",
    "discovery_url",
    "userinfo_url",
    "token_url",
    "auth_url",
    "logout_url",
    "label",
    "management_url",
    "extra_scope",
    "user_field",
    "user_claim",
    "attribute_mapping",
    "extra_fields",
];

fn provider() -> Provider {
    created(&with(
        create_body("tara"),
        &json!({
            "protected_fields": ["email"],
            "allowed_redirects": ["https://portal.example.com"],
            "management_url": "https://manage.example.com",
            "attribute_mapping": {"email": "email"},
        }),
    ))
}

#[test]
fn staff_see_21_keys_in_the_reference_order() {
    let json = provider().to_json(true, true);
    assert_eq!(keys(&json), STAFF_KEYS);
    assert_eq!(
        json,
        json!({
            "protected_fields": ["email"],
            "allowed_redirects": ["https://portal.example.com"],
            "provider": "tara",
            "is_active": true,
            "client_id": "client",
            "client_secret": "secret",
            "verify_ssl": true,
            "enable_post_logout_redirect": true,
            "enable_pkce": false,
            "discovery_url": TARA_URL,
            "userinfo_url": "https://idp.example.com/userinfo",
            "token_url": "https://idp.example.com/token",
            "auth_url": "https://idp.example.com/auth",
            "logout_url": "https://idp.example.com/logout",
            "label": "Label",
            "management_url": "https://manage.example.com",
            "extra_scope": null,
            "user_field": "civil_number",
            "user_claim": "sub",
            "attribute_mapping": {
                "email": "email",
                "first_name": "given_name",
                "last_name": "family_name",
                "civil_number": "sub",
            },
            "extra_fields": "amr profile_attributes_translit",
        })
    );
}

#[test]
fn staff_without_secret_exposure_see_20_keys_and_no_client_secret() {
    let json = provider().to_json(true, false);
    let expected: Vec<&str> = STAFF_KEYS
        .into_iter()
        .filter(|key| *key != "client_secret")
        .collect();
    assert_eq!(keys(&json), expected);
}

#[test]
fn everyone_else_sees_16_keys_without_the_hidden_five() {
    assert_eq!(
        HIDDEN_FIELDS,
        [
            "client_secret",
            "user_field",
            "user_claim",
            "attribute_mapping",
            "extra_fields"
        ]
    );
    let expected: Vec<&str> = STAFF_KEYS
        .into_iter()
        .filter(|key| !HIDDEN_FIELDS.contains(key))
        .collect();
    assert_eq!(expected.len(), 16);
    for with_secret in [true, false] {
        let json = provider().to_json(false, with_secret);
        assert_eq!(keys(&json), expected, "with_secret = {with_secret}");
    }
}

#[test]
fn nullable_fields_are_served_as_null_and_set_ones_as_strings() {
    let mut provider = provider();
    assert_eq!(provider.to_json(false, false)["extra_scope"], json!(null));
    provider.extra_scope = Some("profile".into());
    provider.extra_fields = None;
    let json = provider.to_json(true, true);
    assert_eq!(json["extra_scope"], "profile");
    assert_eq!(json["extra_fields"], json!(null));
}

#[test]
fn the_mapping_keeps_its_insertion_order_in_the_response() {
    let json = provider().to_json(true, true);
    assert_eq!(
        keys(&json["attribute_mapping"]),
        ["email", "first_name", "last_name", "civil_number"]
    );
}

#[test]
fn a_served_provider_read_back_as_a_put_body_changes_nothing() {
    // Clients may send back what they read: read-only keys are ignored and provider too.
    let stored = provider();
    let body = stored.to_json(true, true);
    let again = updated(&stored, &body, idp_core::UpdateKind::Replace);
    assert_eq!(again, stored);
}
