//! Mapping values name claims by top-level name or by RFC 6901 JSON Pointer: a malformed
//! pointer in `attribute_mapping`, `user_claim` or `extra_fields` is a field error on that
//! field, and plain names are read exactly as before.

use idp_core::{NewProvider, ProviderNamePolicy, ProviderUpdate, UpdateKind};
use serde_json::{Value, json};

const BAD: &str = "Invalid JSON Pointer \"/a~2b\": \"~\" must be followed by \"0\" or \"1\".";

fn body(extra: Value) -> Value {
    let mut body = json!({
        "provider": "generic",
        "client_id": "c",
        "client_secret": "s",
        "discovery_url": "https://idp.example.org/.well-known/openid-configuration",
        "label": "L",
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

fn errors(extra: Value) -> Value {
    match NewProvider::parse(&body(extra), &ProviderNamePolicy::AnySlug) {
        Ok(_) => Value::Null,
        Err(errors) => serde_json::to_value(errors).unwrap_or_default(),
    }
}

#[test]
fn malformed_pointers_are_field_errors_on_their_field() {
    assert_eq!(
        errors(json!({"user_claim": "sub /a~2b"})),
        json!({"user_claim": [BAD]})
    );
    assert_eq!(
        errors(json!({"extra_fields": "/a~2b"})),
        json!({"extra_fields": [BAD]})
    );
    assert_eq!(
        errors(json!({"attribute_mapping": {"email": "mail /a~2b"}})),
        json!({"attribute_mapping": [format!("Attribute mapping value for 'email' is invalid: {BAD}")]})
    );
    // Every field's error is reported together.
    let all = errors(json!({"user_claim": "/a~2b", "extra_fields": "/a~2b"}));
    assert_eq!(all.as_object().map(|o| o.len()), Some(2));
}

#[test]
fn pointers_and_plain_names_are_accepted() {
    let parsed = NewProvider::parse(
        &body(json!({
            "user_claim": "/ids/0 sub",
            "extra_fields": "/realm_access/roles a~b a.b",
            "attribute_mapping": {"affiliations": "/realm_access/roles", "email": "mail email"},
        })),
        &ProviderNamePolicy::AnySlug,
    );
    let provider = parsed
        .unwrap_or_else(|errors| panic!("{errors}"))
        .into_provider(Default::default());
    assert_eq!(provider.user_claim, "/ids/0 sub");
    assert_eq!(
        provider.extra_fields.as_deref(),
        Some("/realm_access/roles a~b a.b")
    );
    assert_eq!(
        provider.attribute_mapping.get("affiliations"),
        Some("/realm_access/roles")
    );
}

#[test]
fn updates_check_pointers_too() {
    for kind in [UpdateKind::Partial, UpdateKind::Replace] {
        let update = ProviderUpdate::parse(
            &body(json!({"user_claim": "/~"})),
            "generic",
            kind,
            &ProviderNamePolicy::AnySlug,
        );
        let errors = serde_json::to_value(update.err()).unwrap_or_default();
        assert_eq!(
            errors["user_claim"][0],
            "Invalid JSON Pointer \"/~\": \"~\" must be followed by \"0\" or \"1\"."
        );
    }
}
