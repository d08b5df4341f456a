//! Helpers shared by the integration tests: valid bodies, parsing shortcuts and a table runner
//! that reports every failing row at once.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use idp_core::{
    Access, FieldRule, NewProvider, PROVIDER_FIELDS, Provider, ProviderEndpoints,
    ProviderNamePolicy, ProviderUpdate, UpdateKind,
};
use serde_json::{Value, json};

/// A discovery URL that every provider's host rule accepts except TARA's.
pub const GENERIC_URL: &str = "https://idp.example.com/.well-known/openid-configuration";
/// A discovery URL on TARA's test host.
pub const TARA_URL: &str = "https://tara-test.ria.ee/oidc/.well-known/openid-configuration";

/// The messages every test compares against, spelled once.
pub const REQUIRED: &str = "This field is required.";
pub const BLANK: &str = "This field may not be blank.";
pub const NULL: &str = "This field may not be null.";
pub const NOT_A_STRING: &str = "Not a valid string.";
pub const NOT_A_BOOLEAN: &str = "Must be a valid boolean.";

/// The writable fields with the rule they are read by, in model order, from the field
/// definition: the lists below follow it, so a field added there is tested too.
fn writable_fields() -> impl Iterator<Item = (&'static str, FieldRule)> {
    PROVIDER_FIELDS
        .iter()
        .filter_map(|field| match field.access {
            Access::Writable { rule, .. } => Some((field.name, rule)),
            Access::ReadOnly => None,
        })
}

/// The string fields with their maximum length and whether blank (`""`) and `null` are allowed.
pub fn string_fields() -> Vec<(&'static str, usize, bool, bool)> {
    writable_fields()
        .filter_map(|(name, rule)| {
            let (max, blank, null) = rule.text_limits()?;
            Some((name, usize::try_from(max).ok()?, blank, null))
        })
        .collect()
}

/// The boolean fields.
pub fn boolean_fields() -> Vec<&'static str> {
    writable_fields()
        .filter(|(_, rule)| *rule == FieldRule::Boolean)
        .map(|(name, _)| name)
        .collect()
}

/// The writable fields that hold neither a string nor a boolean: the lists and the mapping.
pub fn structured_fields() -> Vec<&'static str> {
    writable_fields()
        .filter(|(_, rule)| rule.text_limits().is_none() && *rule != FieldRule::Boolean)
        .map(|(name, _)| name)
        .collect()
}

/// The default policy: any slug is a provider name.
pub fn any_slug() -> ProviderNamePolicy {
    ProviderNamePolicy::AnySlug
}

/// A minimal valid create body for `provider`, with a discovery URL its host rule accepts.
pub fn create_body(provider: &str) -> Value {
    let url = if provider == "tara" {
        TARA_URL
    } else {
        GENERIC_URL
    };
    json!({
        "provider": provider,
        "client_id": "client",
        "client_secret": "secret",
        "discovery_url": url,
        "label": "Label",
    })
}

/// `body` with the keys of `changes` set (added, or replaced in place).
pub fn with(mut body: Value, changes: &Value) -> Value {
    let object = body.as_object_mut().expect("body is an object");
    for (key, value) in changes.as_object().expect("changes are an object") {
        object.insert(key.clone(), value.clone());
    }
    body
}

/// `body` without `keys`.
pub fn without(mut body: Value, keys: &[&str]) -> Value {
    let object = body.as_object_mut().expect("body is an object");
    for key in keys {
        object.shift_remove(*key);
    }
    body
}

/// A string of `n` copies of `c`.
pub fn chars(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// Endpoints as read from a discovery document.
pub fn endpoints() -> ProviderEndpoints {
    ProviderEndpoints {
        auth_url: "https://idp.example.com/auth".into(),
        token_url: "https://idp.example.com/token".into(),
        userinfo_url: "https://idp.example.com/userinfo".into(),
        logout_url: "https://idp.example.com/logout".into(),
    }
}

/// The errors of a create body as their JSON body, or `None` when it is accepted.
pub fn create_result(body: &Value, names: &ProviderNamePolicy) -> Option<Value> {
    NewProvider::parse(body, names)
        .err()
        .map(|errors| serde_json::to_value(&errors).expect("errors serialise"))
}

/// The JSON error body of a create body that must be refused (default name policy).
pub fn create_errors(body: &Value) -> Value {
    create_result(body, &any_slug())
        .unwrap_or_else(|| panic!("expected the create body to be refused: {body}"))
}

/// The provider a create body makes, with [`endpoints`] (default name policy).
pub fn created(body: &Value) -> Provider {
    match NewProvider::parse(body, &any_slug()) {
        Ok(new) => new.into_provider(endpoints()),
        Err(errors) => panic!("expected {body} to be accepted, got {errors}"),
    }
}

/// The staff view (with secret) of the provider a create body makes.
pub fn created_json(body: &Value) -> Value {
    created(body).to_json(true, true)
}

/// The JSON error body of an update body for the stored `provider`, or `None` when accepted.
pub fn update_result(body: &Value, provider: &str, kind: UpdateKind) -> Option<Value> {
    ProviderUpdate::parse(body, provider, kind, &any_slug())
        .err()
        .map(|errors| serde_json::to_value(&errors).expect("errors serialise"))
}

/// Applies an accepted update body to `stored` and returns the result.
pub fn updated(stored: &Provider, body: &Value, kind: UpdateKind) -> Provider {
    let update = match ProviderUpdate::parse(body, &stored.provider, kind, &any_slug()) {
        Ok(update) => update,
        Err(errors) => panic!("expected update {body} to be accepted, got {errors}"),
    };
    let mut provider = stored.clone();
    update.apply(&mut provider, None);
    provider
}

/// The keys of a JSON object, in order.
pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Runs `check` on every row and fails once, listing each failing row with what was expected
/// and what came back; `None` means "accepted".
pub fn check_rows<R: std::fmt::Debug>(
    rows: &[(R, Option<Value>)],
    mut check: impl FnMut(&R) -> Option<Value>,
) {
    let failures: Vec<String> = rows
        .iter()
        .enumerate()
        .filter_map(|(index, (row, expected))| {
            let actual = check(row);
            (actual != *expected).then(|| {
                format!("row {index}: {row:?}\n  expected: {expected:?}\n  actual:   {actual:?}")
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// A one-field error body `{"<field>": [<messages>]}`.
pub fn field_error(field: &str, messages: &[&str]) -> Value {
    json!({ field: messages })
}
