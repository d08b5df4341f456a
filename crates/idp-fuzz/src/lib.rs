//! Fuzz harnesses of the identity-provider registry, shared by the coverage-guided fuzz targets
//! (`fuzz/`, run by `cargo xtask fuzz`) and the regression test that replays, on stable with a
//! plain `cargo test`, the seed corpus (`seeds/<target>/`) and every crash input found
//! (`regressions/<target>/`).
//!
//! Each harness takes raw bytes and panics when a rule of `docs/decisions.md` ("Errors",
//! "Discovery fetches") is broken: a parser
//! panicked, an error is not in one of the three DRF shapes, or an accepted value is not what
//! was asked for (see each function). Returning normally means the input was handled.

use std::sync::OnceLock;

use idp_core::{
    Access, AttributeMapping, DiscoveryRequest, NewProvider, PROVIDER_FIELDS, Presence, Provider,
    ProviderEndpoints, ProviderField, ProviderNamePolicy, ProviderUpdate, UpdateKind,
    ValidationErrors, defaults_for, is_valid_django_url, normalise_redirects, user_field,
};
use idp_oidc::{DiscoveryDocument, FetchError, FetchErrorKind};
use serde_json::{Map, Value};

/// A harness: takes one input, panics when a rule is broken.
pub type Harness = fn(&[u8]);

/// The harnesses by target name, as the directories under `seeds/` and `regressions/` are named.
pub const TARGETS: [(&str, Harness); 2] = [
    ("request_body", request_body),
    ("discovery_document", discovery_document),
];

/// The fields whose presence `pick` (given a writable field's presence on create and on `PUT`)
/// makes `wanted`, in the API's order, from the field definition.
fn fields_where(
    pick: impl Fn(Presence, Presence) -> Presence,
    wanted: Presence,
) -> Vec<&'static str> {
    ProviderField::api_order()
        .filter(|field| match field.access {
            Access::Writable {
                on_create, on_put, ..
            } => pick(on_create, on_put) == wanted,
            Access::ReadOnly => false,
        })
        .map(|field| field.name)
        .collect()
}
const REQUIRED: &str = "This field is required.";
const STORED_NAMES: [&str; 4] = ["generic", "tara", "keycloak", "eduteams"];

/// Request-body parsing: the bytes are read as the server reads a body (blank is `{}`, anything
/// else must be JSON), then given to `NewProvider::parse` (with and without the name taken, under
/// both name policies), `ProviderUpdate::parse` (PUT and PATCH, for each known provider and a
/// generic one), `DiscoveryRequest::parse` and `AttributeMapping::parse`.
///
/// Every answer must be `Ok` or a field-keyed error in one of the DRF shapes that names only
/// fields the body carries, absent required fields, or `non_field_errors`. An accepted provider
/// must hold values within their limits, normalised redirects that normalise to themselves, and
/// must parse back from its own JSON to the same provider.
pub fn request_body(data: &[u8]) {
    let body = if data.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        match serde_json::from_slice::<Value>(data) {
            Ok(body) => body,
            // The server answers 400 with the parser's message.
            Err(error) => {
                assert!(!error.to_string().is_empty());
                return;
            }
        }
    };
    check_request_body(&body);
}

/// [`request_body`] on a body that is already JSON.
pub fn check_request_body(body: &Value) {
    let create_required = fields_where(|create, _| create, Presence::Required);
    let put_required = fields_where(|_, put| put, Presence::Required);
    let ignored_on_update = fields_where(|_, put| put, Presence::Ignored);
    for names in policies() {
        match NewProvider::parse(body, names) {
            Ok(new) => {
                let provider = new.into_provider(ProviderEndpoints::default());
                check_provider(&provider, names);
                check_fixed_point(&provider, names);
            }
            Err(errors) => check_errors(&errors, body, &create_required, &[]),
        }
        if let Err(errors) = NewProvider::parse_unique(body, names, true) {
            check_errors(&errors, body, &create_required, &[]);
        }
        for (name, stored) in stored() {
            for (kind, required) in [
                (UpdateKind::Replace, &put_required[..]),
                (UpdateKind::Partial, &[][..]),
            ] {
                match ProviderUpdate::parse(body, name, kind, names) {
                    Ok(update) => {
                        let mut provider = stored.clone();
                        update.apply(&mut provider, None);
                        check_provider(&provider, &ProviderNamePolicy::AnySlug);
                        check_fixed_point(&provider, &ProviderNamePolicy::AnySlug);
                    }
                    // Updates ignore `provider`: no error may name it.
                    Err(errors) => check_errors(&errors, body, required, &ignored_on_update),
                }
            }
        }
    }
    let _ = NewProvider::requested_name(body);
    match DiscoveryRequest::parse(body) {
        Ok(request) => {
            assert_eq!(request.discovery_url.trim(), request.discovery_url);
            assert!(is_valid_django_url(&request.discovery_url));
        }
        Err(errors) => check_errors(&errors, body, &["discovery_url"], &[]),
    }
    if let Some(object) = body.as_object() {
        for value in object.values() {
            check_mapping(value);
        }
        if let Some(Value::Array(items)) = object.get("allowed_redirects") {
            let urls: Vec<String> = items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect();
            if let Ok(normalised) = normalise_redirects(&urls) {
                assert_eq!(
                    normalise_redirects(&normalised).as_ref(),
                    Ok(&normalised),
                    "normalising {urls:?} is not idempotent"
                );
            }
        }
    }
}

/// Discovery-document parsing: the bytes are a response body given to
/// `DiscoveryDocument::from_json`, then to `provider_endpoints`, `generate_mapping`,
/// `metadata_report` and `render_table`.
///
/// Answers must agree with the document: endpoints are the document's strings, the mapping uses
/// only advertised claims (in the provider's spelling) and `extra_scope` only advertised scopes,
/// the report lists the document's claims and scopes verbatim with the reference's keys, and the
/// rendered table holds no control character but newlines.
pub fn discovery_document(data: &[u8]) {
    match DiscoveryDocument::from_json(data) {
        Ok(document) => check_document(&document),
        Err(error) => {
            assert!(
                matches!(
                    error.kind(),
                    FetchErrorKind::InvalidJson | FetchErrorKind::NotAnObject
                ),
                "from_json failed with {error:?}"
            );
            check_messages(&error);
        }
    }
}

/// [`discovery_document`] on a document already parsed.
pub fn check_document(document: &DiscoveryDocument) {
    let _ = (document.metadata(), document.strict_error());
    let claims = string_list(document, "claims_supported");
    let scopes = string_list(document, "scopes_supported");
    let required = |key: &str| match document.get(key) {
        Some(Value::String(url)) if !url.is_empty() => Some(url.as_str()),
        _ => None,
    };

    match document.provider_endpoints() {
        Ok(endpoints) => {
            assert_eq!(
                Some(endpoints.auth_url.as_str()),
                required("authorization_endpoint")
            );
            assert_eq!(
                Some(endpoints.token_url.as_str()),
                required("token_endpoint")
            );
            assert_eq!(
                Some(endpoints.userinfo_url.as_str()),
                required("userinfo_endpoint")
            );
        }
        Err(error) => check_messages(&error),
    }

    let mapping = document.generate_mapping();
    match &mapping {
        Ok(mapping) => {
            let claims = claims.as_ref().expect("a mapping needs a list of claims");
            let scopes = scopes.as_ref().expect("a mapping needs a list of scopes");
            for (field, value) in &mapping.attribute_mapping {
                assert!(user_field(field).is_some(), "{field} is not a user field");
                let value = value.as_str().expect("mapping values are strings");
                assert!(!value.is_empty(), "{field} maps to nothing");
                for claim in value.split(' ') {
                    assert!(
                        claims.contains(&claim),
                        "{field} maps to {claim:?}, which is not advertised"
                    );
                }
            }
            if !mapping.extra_scope.is_empty() {
                for scope in mapping.extra_scope.split(' ') {
                    assert!(scopes.contains(&scope), "extra_scope {scope:?}");
                    assert_ne!(scope, "openid");
                }
            }
        }
        Err(error) => {
            assert!(claims.is_none() || scopes.is_none(), "{error:?}");
            check_messages(error);
        }
    }

    match document.metadata_report() {
        Ok(report) => {
            let owned = |list: &Option<Vec<&str>>| {
                list.as_ref()
                    .map(|items| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            };
            assert_eq!(Some(&report.claims_supported), owned(&claims).as_ref());
            assert_eq!(Some(&report.scopes_supported), owned(&scopes).as_ref());
            assert_eq!(
                Some(report.endpoints.authorization_endpoint.as_str()),
                required("authorization_endpoint")
            );
            assert_eq!(report.waldur_fields.len(), idp_core::USER_FIELDS.len());
            assert_eq!(mapping.as_ref().ok(), Some(report.suggested_mapping()));
            let json = serde_json::to_value(&report).expect("a report serialises");
            let keys: Vec<&str> = json
                .as_object()
                .expect("a report is an object")
                .keys()
                .map(String::as_str)
                .collect();
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
            let table = report.render_table();
            assert!(
                !table.chars().any(|c| c.is_control() && c != '\n'),
                "the rendered report carries a control character"
            );
        }
        Err(error) => check_messages(&error),
    }
}

fn policies() -> &'static [ProviderNamePolicy; 2] {
    static POLICIES: OnceLock<[ProviderNamePolicy; 2]> = OnceLock::new();
    POLICIES.get_or_init(|| {
        [
            ProviderNamePolicy::AnySlug,
            ProviderNamePolicy::from_setting("waldur").expect("a valid setting"),
        ]
    })
}

/// A stored provider per name, as a create would have made it, to apply updates to.
fn stored() -> &'static [(&'static str, Provider)] {
    static STORED: OnceLock<Vec<(&'static str, Provider)>> = OnceLock::new();
    STORED.get_or_init(|| {
        STORED_NAMES
            .iter()
            .map(|name| {
                let url = if *name == "tara" {
                    "https://tara.ria.ee/.well-known/openid-configuration"
                } else {
                    "https://idp.example.com/.well-known/openid-configuration"
                };
                let body = serde_json::json!({
                    "provider": name,
                    "client_id": "client",
                    "client_secret": "secret",
                    "discovery_url": url,
                    "label": "Label",
                    "allowed_redirects": ["https://portal.example.com"],
                });
                let provider = NewProvider::parse(&body, &ProviderNamePolicy::AnySlug)
                    .expect("a valid body")
                    .into_provider(ProviderEndpoints {
                        auth_url: "https://idp.example.com/auth".into(),
                        token_url: "https://idp.example.com/token".into(),
                        userinfo_url: "https://idp.example.com/userinfo".into(),
                        logout_url: String::new(),
                    });
                (*name, provider)
            })
            .collect()
    })
}

fn is_message_list(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| !items.is_empty() && items.iter().all(Value::is_string))
}

/// Checks that `errors` is field-keyed, in one of the three DRF shapes, and names only fields of
/// the body (less `ignored`), absent `required` fields, or `non_field_errors`.
fn check_errors(errors: &ValidationErrors, body: &Value, required: &[&str], ignored: &[&str]) {
    let json = serde_json::to_value(errors).expect("errors serialise");
    let object = json.as_object().expect("errors are a JSON object");
    assert!(!object.is_empty(), "an error with no message");
    assert_eq!(
        serde_json::from_str::<Value>(&errors.to_string())
            .ok()
            .as_ref(),
        Some(&json),
        "Display is the JSON body"
    );
    for (field, error) in object {
        if field == "non_field_errors" {
            assert!(is_message_list(error), "{field}: {error}");
            continue;
        }
        let sent = body
            .as_object()
            .filter(|_| !ignored.contains(&field.as_str()))
            .and_then(|object| object.get(field));
        match sent {
            None => {
                assert!(
                    required.contains(&field.as_str()),
                    "an error for {field:?}, which the body does not carry"
                );
                assert_eq!(error, &serde_json::json!([REQUIRED]), "{field}");
            }
            Some(value) => match error {
                Value::Array(_) => assert!(is_message_list(error), "{field}: {error}"),
                Value::Object(items) => {
                    let length = value.as_array().map_or(0, Vec::len);
                    assert!(!items.is_empty(), "{field}: {error}");
                    for (index, messages) in items {
                        let index: usize = index.parse().expect("item errors keyed by index");
                        assert!(index < length, "{field}: index {index} of {length}");
                        assert!(is_message_list(messages), "{field}: {error}");
                    }
                }
                _ => panic!("{field}: not a DRF error shape: {error}"),
            },
        }
    }
}

/// Checks an accepted provider's values: within their limits, trimmed, free of NUL, the name
/// allowed, redirects normalised and mapping keys user fields, once each.
fn check_provider(provider: &Provider, names: &ProviderNamePolicy) {
    assert!(names.allows(&provider.provider), "{}", provider.provider);
    // Every string field, as the field definition bounds it.
    let json = provider.to_json(true, true);
    for field in PROVIDER_FIELDS {
        let Access::Writable { rule, .. } = field.access else {
            continue;
        };
        let Some((max, blank, null)) = rule.text_limits() else {
            continue;
        };
        let Some(text) = json[field.name].as_str() else {
            assert!(null && json[field.name].is_null(), "{}: {json}", field.name);
            continue;
        };
        assert!(
            text.chars().count() as u64 <= max,
            "{text:?} longer than {max}"
        );
        assert_eq!(text.trim(), text, "{text:?} is not trimmed");
        assert!(!text.contains('\0'), "{text:?} holds NUL");
        assert!(blank || !text.is_empty(), "blank where it may not be");
    }
    for item in &provider.protected_fields {
        assert!(!item.trim().is_empty() && !item.contains('\0'), "{item:?}");
    }
    assert_eq!(
        normalise_redirects(&provider.allowed_redirects).as_ref(),
        Ok(&provider.allowed_redirects),
        "stored redirects are not normalised"
    );
    for (index, (key, value)) in provider.attribute_mapping.0.iter().enumerate() {
        assert!(user_field(key).is_some(), "mapping key {key:?}");
        assert!(
            !provider.attribute_mapping.0[..index]
                .iter()
                .any(|(k, _)| k == key),
            "mapping key {key:?} twice"
        );
        assert!(!value.trim().is_empty(), "mapping value for {key:?}");
    }
}

/// Checks that the provider's own JSON is an accepted create body giving the same provider; a
/// create adds the per-provider default mapping for keys the mapping lacks, after its own.
fn check_fixed_point(provider: &Provider, names: &ProviderNamePolicy) {
    let json = provider.to_json(true, true);
    let again = match NewProvider::parse(&json, names) {
        Ok(again) => again.into_provider(provider.endpoints.clone()),
        Err(errors) => panic!("an accepted provider is refused when sent back: {json} -> {errors}"),
    };
    let own = &provider.attribute_mapping.0;
    let mapping = &again.attribute_mapping.0;
    assert!(
        mapping.len() >= own.len() && mapping[..own.len()] == own[..],
        "{json}"
    );
    let defaults = defaults_for(&provider.provider).map_or(&[][..], |d| d.attribute_mapping);
    for (key, value) in &mapping[own.len()..] {
        assert!(
            defaults.contains(&(key.as_str(), value.as_str())),
            "{key} added to the mapping of {json}"
        );
    }
    let without_mapping = |p: &Provider| Provider {
        attribute_mapping: AttributeMapping::default(),
        ..p.clone()
    };
    assert_eq!(
        without_mapping(&again),
        without_mapping(provider),
        "parsing {json} again changed it"
    );
}

fn check_mapping(value: &Value) {
    match AttributeMapping::parse(value) {
        Ok(mapping) => {
            let object = value.as_object().expect("only objects are mappings");
            assert_eq!(mapping.0.len(), object.len());
            assert_eq!(
                &mapping.to_json(),
                value,
                "a mapping keeps what it was given"
            );
        }
        Err(message) => assert!(!message.is_empty()),
    }
}

fn check_messages(error: &FetchError) {
    assert!(
        !error.to_string().is_empty(),
        "{error:?} has an empty message"
    );
}

fn string_list<'a>(document: &'a DiscoveryDocument, key: &str) -> Option<Vec<&'a str>> {
    match document.get(key) {
        None => Some(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(Value::as_str).collect(),
        Some(_) => None,
    }
}
