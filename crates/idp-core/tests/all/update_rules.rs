//! Update bodies (`docs/decisions.md`, "Field rules"): `PUT` requires the four
//! create fields but `provider`, `PATCH` requires nothing, `provider` is ignored, the host rule
//! uses the stored provider, no defaults are applied and a mapping replaces the stored one.

use crate::common;

use common::*;
use idp_core::{Provider, ProviderEndpoints, ProviderUpdate, UpdateKind};
use serde_json::{Value, json};

const PUT: UpdateKind = UpdateKind::Replace;
const PATCH: UpdateKind = UpdateKind::Partial;

/// A stored TARA provider with non-default values everywhere.
fn stored_tara() -> Provider {
    created(&with(
        create_body("tara"),
        &json!({
            "is_active": false,
            "verify_ssl": false,
            "enable_pkce": true,
            "management_url": "https://manage.example.com",
            "protected_fields": ["email"],
            "extra_scope": "profile",
            "allowed_redirects": ["https://portal.example.com"],
        }),
    ))
}

/// A full `PUT` body for TARA.
fn put_body() -> Value {
    json!({
        "client_id": "new-client",
        "client_secret": "new-secret",
        "discovery_url": "https://tara.ria.ee/oidc/.well-known/openid-configuration",
        "label": "New label",
    })
}

#[test]
fn put_requires_client_id_client_secret_discovery_url_and_label_but_not_provider() {
    let errors = update_result(&json!({}), "tara", PUT).unwrap();
    assert_eq!(
        errors,
        json!({
            "client_id": [REQUIRED],
            "client_secret": [REQUIRED],
            "discovery_url": [REQUIRED],
            "label": [REQUIRED],
        })
    );
    assert_eq!(
        keys(&errors),
        ["client_id", "client_secret", "discovery_url", "label"]
    );
    for field in ["client_id", "client_secret", "discovery_url", "label"] {
        assert_eq!(
            update_result(&without(put_body(), &[field]), "tara", PUT),
            Some(field_error(field, &[REQUIRED])),
            "{field}"
        );
    }
}

#[test]
fn patch_requires_nothing_and_an_empty_patch_changes_nothing() {
    let stored = stored_tara();
    assert_eq!(update_result(&json!({}), "tara", PATCH), None);
    assert_eq!(updated(&stored, &json!({}), PATCH), stored);
    let update = ProviderUpdate::parse(&json!({}), "tara", PATCH, &any_slug()).unwrap();
    assert_eq!(update.discovery_url(), None, "nothing to fetch");
    assert_eq!(update.verify_ssl(), None);
}

#[test]
fn provider_in_an_update_body_is_ignored_whatever_its_value() {
    let stored = stored_tara();
    for provider in [
        json!("keycloak"),
        json!("Bad Name!"),
        json!(""),
        json!(null),
        json!(42),
        json!([]),
    ] {
        let put = with(put_body(), &json!({ "provider": provider }));
        assert_eq!(
            updated(&stored, &put, PUT).provider,
            "tara",
            "PUT {provider}"
        );
        let patch = json!({ "provider": provider, "label": "Renamed" });
        let provider_after = updated(&stored, &patch, PATCH);
        assert_eq!(provider_after.provider, "tara", "PATCH {provider}");
        assert_eq!(provider_after.label, "Renamed");
    }
}

#[test]
fn the_host_rule_on_update_uses_the_stored_provider() {
    let invalid = Some(json!({"non_field_errors": ["Invalid discovery URL."]}));
    let rows: Vec<((&str, Value), Option<Value>)> = vec![
        (
            ("tara", json!({"discovery_url": "https://tara.ria.ee/x"})),
            None,
        ),
        (
            (
                "tara",
                json!({"discovery_url": "https://idp.example.com/x"}),
            ),
            invalid.clone(),
        ),
        // A body naming another provider changes nothing: tara's rule still applies.
        (
            (
                "tara",
                json!({"provider": "eduteams", "discovery_url": "https://idp.example.com/x"}),
            ),
            invalid.clone(),
        ),
        (
            (
                "keycloak",
                json!({"discovery_url": "https://proxy.eduteams.org/x"}),
            ),
            invalid.clone(),
        ),
        (
            (
                "keycloak",
                json!({"provider": "eduteams", "discovery_url": "https://fooeduteams.org/x"}),
            ),
            invalid.clone(),
        ),
        (
            (
                "keycloak",
                json!({"discovery_url": "https://tara.ria.ee/x"}),
            ),
            invalid.clone(),
        ),
        (
            (
                "eduteams",
                json!({"discovery_url": "https://proxy.eduteams.org/x"}),
            ),
            None,
        ),
        (
            (
                "corp-sso",
                json!({"discovery_url": "https://tara.ria.ee/x"}),
            ),
            None,
        ),
        (
            (
                "corp-sso",
                json!({"discovery_url": "ftp://idp.example.com/x"}),
            ),
            invalid.clone(),
        ),
        // Without discovery_url there is nothing to check.
        (("tara", json!({"label": "x"})), None),
        // Field errors come first and stop the host check.
        (
            (
                "tara",
                json!({"discovery_url": "https://idp.example.com/x", "label": ""}),
            ),
            Some(field_error("label", &[BLANK])),
        ),
    ];
    check_rows(&rows, |(provider, body)| {
        update_result(body, provider, PATCH)
    });

    let put = with(
        put_body(),
        &json!({"discovery_url": "https://idp.example.com/x"}),
    );
    assert_eq!(update_result(&put, "tara", PUT), invalid);
}

#[test]
fn put_replaces_the_sent_fields_and_keeps_omitted_optional_ones() {
    let stored = stored_tara();
    let after = updated(&stored, &put_body(), PUT);
    assert_eq!(after.client_id, "new-client");
    assert_eq!(after.client_secret, "new-secret");
    assert_eq!(
        after.discovery_url,
        "https://tara.ria.ee/oidc/.well-known/openid-configuration"
    );
    assert_eq!(after.label, "New label");
    // Omitted optional fields keep their stored values (DRF does not reset them on PUT).
    let unchanged = Provider {
        client_id: stored.client_id.clone(),
        client_secret: stored.client_secret.clone(),
        discovery_url: stored.discovery_url.clone(),
        label: stored.label.clone(),
        ..after
    };
    assert_eq!(unchanged, stored);
}

#[test]
fn patch_changes_only_the_sent_fields() {
    let stored = stored_tara();
    let after = updated(
        &stored,
        &json!({
            "is_active": "yes",
            "enable_post_logout_redirect": 0,
            "extra_scope": null,
            "extra_fields": "",
            "user_claim": " sub email ",
            "protected_fields": [],
            "allowed_redirects": ["HTTPS://New.Example.com/"],
        }),
        PATCH,
    );
    let expected = Provider {
        is_active: true,
        enable_post_logout_redirect: false,
        extra_scope: None,
        extra_fields: Some(String::new()),
        user_claim: "sub email".into(),
        protected_fields: vec![],
        allowed_redirects: vec!["https://new.example.com".into()],
        ..stored.clone()
    };
    assert_eq!(after, expected);
}

#[test]
fn an_update_replaces_the_whole_mapping_and_applies_no_defaults() {
    let stored = stored_tara();
    assert_eq!(
        stored.attribute_mapping.0.len(),
        3,
        "tara defaults on create"
    );
    for kind in [PUT, PATCH] {
        let body = with(
            if kind == PUT { put_body() } else { json!({}) },
            &json!({"attribute_mapping": {"email": "mail"}}),
        );
        let after = updated(&stored, &body, kind);
        assert_eq!(after.attribute_mapping.to_json(), json!({"email": "mail"}));
        assert_eq!(after.user_field, "civil_number", "kept, not re-defaulted");
    }
    let cleared = updated(&stored, &json!({"attribute_mapping": {}}), PATCH);
    assert!(
        cleared.attribute_mapping.0.is_empty(),
        "{{}} clears the mapping"
    );
    let nulls = updated(&stored, &json!({"extra_fields": null}), PATCH);
    assert_eq!(nulls.extra_fields, None, "no default on update");
}

#[test]
fn update_bodies_follow_the_same_field_rules_as_create() {
    let rows: Vec<(Value, Option<Value>)> = vec![
        (json!({"label": ""}), Some(field_error("label", &[BLANK]))),
        (
            json!({"client_id": null}),
            Some(field_error("client_id", &[NULL])),
        ),
        (
            json!({"client_secret": true}),
            Some(field_error("client_secret", &[NOT_A_STRING])),
        ),
        (
            json!({"user_field": chars('u', 101)}),
            Some(field_error(
                "user_field",
                &["Ensure this field has no more than 100 characters."],
            )),
        ),
        (
            json!({"verify_ssl": "maybe"}),
            Some(field_error("verify_ssl", &[NOT_A_BOOLEAN])),
        ),
        (
            json!({"protected_fields": ["", "x"]}),
            Some(json!({"protected_fields": {"0": [BLANK]}})),
        ),
        (
            json!({"protected_fields": "a,b"}),
            Some(field_error(
                "protected_fields",
                &["Expected a list of items but got type \"str\"."],
            )),
        ),
        (
            json!({"allowed_redirects": ["http://portal.example.com"]}),
            Some(field_error(
                "allowed_redirects",
                &[
                    "HTTPS required for http://portal.example.com. HTTP is only allowed for localhost.",
                ],
            )),
        ),
        (
            json!({"attribute_mapping": {"nope": "x"}}),
            Some(field_error(
                "attribute_mapping",
                &["Invalid attribute mapping keys: nope"],
            )),
        ),
        (
            json!({"id": 3}),
            Some(field_error("id", &["Unknown field."])),
        ),
        (
            json!({"token_url": "https://x.example.com", "logout_url": null}),
            None,
        ),
        (
            json!(null),
            Some(json!({"non_field_errors": ["No data provided"]})),
        ),
        (
            json!([{"label": "x"}]),
            Some(
                json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
            ),
        ),
    ];
    check_rows(&rows, |body| update_result(body, "tara", PATCH));
}

#[test]
fn put_reports_missing_and_invalid_fields_together_in_model_order() {
    let errors = update_result(
        &json!({"label": "", "enable_pkce": [], "provider": ""}),
        "tara",
        PUT,
    )
    .unwrap();
    assert_eq!(
        keys(&errors),
        [
            "client_id",
            "client_secret",
            "enable_pkce",
            "discovery_url",
            "label"
        ]
    );
}

#[test]
fn the_update_exposes_what_the_discovery_fetch_needs() {
    let update = ProviderUpdate::parse(
        &json!({"discovery_url": " https://tara.ria.ee/x ", "verify_ssl": "off"}),
        "tara",
        PATCH,
        &any_slug(),
    )
    .unwrap();
    assert_eq!(update.discovery_url(), Some("https://tara.ria.ee/x"));
    assert_eq!(update.verify_ssl(), Some(false));
}

#[test]
fn apply_replaces_the_endpoints_only_when_new_ones_are_given() {
    let stored = stored_tara();
    let fresh = ProviderEndpoints {
        auth_url: "https://tara.ria.ee/auth".into(),
        token_url: "https://tara.ria.ee/token".into(),
        userinfo_url: "https://tara.ria.ee/userinfo".into(),
        logout_url: String::new(),
    };
    let parse = |body: &Value| ProviderUpdate::parse(body, "tara", PATCH, &any_slug()).unwrap();

    let mut kept = stored.clone();
    parse(&json!({"label": "x"})).apply(&mut kept, None);
    assert_eq!(kept.endpoints, stored.endpoints);

    let mut refreshed = stored.clone();
    parse(&json!({"discovery_url": "https://tara.ria.ee/x"}))
        .apply(&mut refreshed, Some(fresh.clone()));
    assert_eq!(refreshed.endpoints, fresh);
    assert_eq!(refreshed.discovery_url, "https://tara.ria.ee/x");
}
