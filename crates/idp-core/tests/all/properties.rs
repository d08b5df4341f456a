//! Property tests of the domain rules (`docs/decisions.md`, "Errors": every bad input is a
//! 4xx, never a 5xx).
//!
//! Generated inputs, from a fixed seed so that a failure reproduces (set `IDP_PROPTEST_SEED` to
//! try another, `PROPTEST_CASES` to change the number of cases):
//!
//! * any JSON value, and objects with the real field names holding any values, give `Ok` or a
//!   field-keyed error in one of the DRF shapes, never a panic, for `NewProvider::parse`,
//!   `ProviderUpdate::parse` (PUT and PATCH), `DiscoveryRequest::parse` and
//!   `AttributeMapping::parse`;
//! * what a create or an update accepts is a fixed point: the provider's own JSON parses back to
//!   the same provider;
//! * normalised redirect lists are idempotent;
//! * generated mappings only use advertised claims, in the provider's spelling, and `extra_scope`
//!   only advertised scopes.

use std::collections::BTreeSet;

use idp_core::{
    Access, AttributeMapping, DiscoveryRequest, NewProvider, PROVIDER_FIELDS, Presence, Provider,
    ProviderEndpoints, ProviderField, ProviderNamePolicy, ProviderUpdate, USER_FIELDS, UpdateKind,
    ValidationErrors, defaults_for, field_suggestions, generate_mapping, normalise_redirects,
    suggested_scopes, user_field,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Number, Value, json};

/// The seed every property starts from unless `IDP_PROPTEST_SEED` names another.
const DEFAULT_SEED: u64 = 0x01d9_c0de;

fn seed() -> u64 {
    std::env::var("IDP_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

/// A deterministic configuration running `cases` cases (or `PROPTEST_CASES`).
fn config(cases: u32) -> Config {
    let seed = seed();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(cases);
    // Shown with the output of a failing test, so the run can be repeated.
    eprintln!("proptest: seed {seed} (IDP_PROPTEST_SEED), {cases} cases");
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

// ----- The fields and their rules -------------------------------------------------------------

/// Every key a provider body may carry: the writable fields in the API's order, then the
/// read-only ones, from the field definition.
fn fields() -> Vec<&'static str> {
    let writable = ProviderField::api_order().filter(|f| f.access != Access::ReadOnly);
    let read_only = PROVIDER_FIELDS
        .iter()
        .filter(|f| f.access == Access::ReadOnly);
    writable.chain(read_only).map(|f| f.name).collect()
}

/// The fields whose presence `pick` (given a writable field's presence on create and on `PUT`)
/// makes `wanted`, in the API's order.
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

fn create_required() -> Vec<&'static str> {
    fields_where(|create, _| create, Presence::Required)
}

fn put_required() -> Vec<&'static str> {
    fields_where(|_, put| put, Presence::Required)
}

/// The fields updates ignore (`provider`).
fn ignored_on_update() -> Vec<&'static str> {
    fields_where(|_, put| put, Presence::Ignored)
}

const REQUIRED: &str = "This field is required.";

/// Claims that the catalogue knows, in several spellings, to make matches likely.
const CLAIMS: [&str; 24] = [
    "sub",
    "email",
    "mail",
    "given_name",
    "family_name",
    "name",
    "birthdate",
    "gender",
    "phone_number",
    "address",
    "acr",
    "amr",
    "schacHomeOrganization",
    "schac_home_organization",
    "eduperson_assurance",
    "eduPersonAssurance",
    "voperson_external_affiliation",
    "ssh_public_key",
    "org_country",
    "org_reg_country",
    "address.country",
    "preferred_username",
    "nationalities",
    "organization_vat_code",
];

const SCOPES: [&str; 12] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "eduperson_assurance",
    "voperson_external_affiliation",
    "ssh_public_key",
    "offline_access",
    "OpenID",
    "Email",
    "roles",
];

/// URLs of every kind the rules distinguish.
const URLS: [&str; 24] = [
    "https://idp.example.com/.well-known/openid-configuration",
    "http://idp.example.com/x",
    "https://tara.ria.ee/oidc/.well-known/openid-configuration",
    "https://TARA-TEST.ria.ee:443/x",
    "https://proxy.eduteams.org/.well-known/openid-configuration",
    "https://kc.example.org/realms/x",
    "http://localhost:8080/realms/x",
    "http://127.0.0.1",
    "https://[::1]:8443/x",
    "https://[zz]:1/x",
    "https://[::1/x",
    "https://user:pass@idp.example.com/x",
    "https://@idp.example.com",
    "ftp://example.com/x",
    "https:///path",
    "https://",
    "not a url",
    "idp.example.com",
    "https://exa mple.com",
    "https://example.com:99999",
    "https://-bad.example.com",
    "HTTPS://Portal.Example.com/",
    "https://portal.example.com?x=1",
    "https://portal.example.com#f",
];

// ----- Strategies -----------------------------------------------------------------------------

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![
            0.0,
            1.0,
            -0.0,
            0.5,
            1e16,
            1e-5,
            1e300,
            -1e-300,
            123_456.789,
        ])
        .prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![0_i64, 1, -1, 2, i64::MAX, i64::MIN]).prop_map(Value::from),
    ]
}

/// Strings of every kind the rules look at: blank, padded, long, with NUL or control
/// characters, boolean spellings, slugs, URLs, claims and field names.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[ \t\n]{0,2}[a-z0-9][a-z0-9_-]{0,34}[ \t\n]{0,2}",
        1 => Just(String::new()),
        1 => "[ \t\r\n\u{a0}\u{3000}]{1,4}",
        1 => "[a-z]{0,3}\u{0}[a-z]{0,3}",
        1 => "[a-zé]{95,105}",
        1 => "[a-z]{195,205}",
        1 => "\\PC{0,40}",
        2 => prop::sample::select(vec![
            "true", "False", "yes", "NO", "on", "off", "1", "0", "t", "f", "maybe", "",
        ])
        .prop_map(str::to_owned),
        2 => prop::sample::select(URLS.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(CLAIMS.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(USER_FIELDS.iter().map(|f| f.name).collect::<Vec<_>>())
            .prop_map(str::to_owned),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(fields()).prop_map(str::to_owned),
        1 => prop::sample::select(USER_FIELDS.iter().map(|f| f.name).collect::<Vec<_>>())
            .prop_map(str::to_owned),
        1 => Just("discovery_url".to_owned()),
        1 => any::<String>(),
    ]
}

fn object_of(
    keys: impl Strategy<Value = String>,
    values: impl Strategy<Value = Value>,
    size: std::ops::Range<usize>,
) -> impl Strategy<Value = Value> {
    prop::collection::vec((keys, values), size).prop_map(|pairs| {
        let map: Map<String, Value> = pairs.into_iter().collect();
        Value::Object(map)
    })
}

/// Any JSON value, up to a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            object_of(key(), inner, 0..6),
        ]
    })
}

/// Values a field may plausibly be sent: anything, lists of strings (redirects, protected
/// fields), objects keyed by user fields (mappings).
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => json_value(),
        2 => prop::collection::vec(text().prop_map(Value::String), 0..4).prop_map(Value::Array),
        2 => prop::collection::vec(redirect_url().prop_map(Value::String), 0..4)
            .prop_map(Value::Array),
        2 => object_of(
            prop::sample::select(USER_FIELDS.iter().map(|f| f.name).collect::<Vec<_>>())
                .prop_map(str::to_owned),
            prop_oneof![4 => text().prop_map(Value::String), 1 => json_value()],
            0..5,
        ),
    ]
}

/// An object with the real field names (and a few others) holding any values.
fn field_object() -> impl Strategy<Value = Value> {
    object_of(key(), field_value(), 0..12)
}

/// A create body that is valid, then changed in a few fields: many are accepted, many not.
fn create_body() -> impl Strategy<Value = Value> {
    let provider = prop_oneof![
        prop::sample::select(vec![
            "generic", "tara", "keycloak", "eduteams", "my-idp", "0_x"
        ])
        .prop_map(str::to_owned),
        "[a-z0-9][a-z0-9_-]{0,31}",
    ];
    (
        provider,
        prop::sample::select(URLS.to_vec()),
        prop::collection::vec((key(), field_value()), 0..4),
    )
        .prop_map(|(provider, url, changes)| {
            let url = if provider == "tara" {
                "https://tara.ria.ee/.well-known/openid-configuration"
            } else {
                url
            };
            let mut body = json!({
                "provider": provider,
                "client_id": "client",
                "client_secret": "secret",
                "discovery_url": url,
                "label": "Label",
            });
            let object = body.as_object_mut().expect("an object");
            for (key, value) in changes {
                object.insert(key, value);
            }
            body
        })
}

/// Redirect-like URLs: schemes, user info, hosts (ASCII, IP, bracketed, and Unicode ones whose
/// lower case is longer than they are), ports and tails in every combination.
fn redirect_url() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "http",
        "https",
        "HTTP",
        "Https",
        "hTTps",
        "ftp",
        "ftps",
        "javascript",
        "",
    ]);
    let userinfo = prop::sample::select(vec!["", "", "", "user@", "u:p@", "İ@", ":p@", "a@b@"]);
    let label = |set: Vec<char>, length: std::ops::Range<usize>| {
        prop::collection::vec(prop::sample::select(set), length)
            .prop_map(|chars| chars.into_iter().collect::<String>())
    };
    let tld = prop::sample::select(vec!["com", "EE", "xn--p1ai", "İİ", "c", ""]);
    let mixed = label(vec!['a', 'Z', '0', '-', 'İ', 'K', 'ß', 'Ω', 'é'], 1..40);
    let mixed_host = (prop::collection::vec(mixed, 1..9), tld.clone())
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")));
    // Mostly `İ`, which lower-cases to two characters: hosts near the 253-character limit.
    let growing = label(vec!['a', 'İ', 'İ', 'İ'], 20..32);
    let growing_host = (prop::collection::vec(growing, 4..9), tld)
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")));
    let host = prop_oneof![
        2 => prop::sample::select(vec![
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "example.com",
            "Portal.Example.COM",
            "[::1]",
            "[::1",
            "xn--bcher-kva.example",
            "*.example.com",
            "exa mple.com",
            "localhost.evil.com",
            "example.com.",
            "",
        ])
        .prop_map(str::to_owned),
        2 => mixed_host,
        1 => growing_host,
    ];
    let port = prop::sample::select(vec!["", "", ":80", ":8443", ":", ":123456", ":x"]);
    let tail = prop::sample::select(vec!["", "", "/", "?", "#", "/x", "?a=1", "#f", "/?#"]);
    (scheme, userinfo, host, port, tail).prop_map(|(scheme, userinfo, host, port, tail)| {
        format!("{scheme}://{userinfo}{host}{port}{tail}")
    })
}

fn claim() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(CLAIMS.to_vec()).prop_map(str::to_owned),
        // The catalogue's claims in another letter case: matched case-insensitively.
        2 => (prop::sample::select(CLAIMS.to_vec()), any::<u64>()).prop_map(|(claim, bits)| {
            claim
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if bits >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        }),
        1 => any::<String>(),
        1 => "[a-zA-Z_ .\u{212a}\u{130}]{0,12}",
    ]
}

fn scope() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(SCOPES.to_vec()).prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[a-z ]{0,8}",
    ]
}

// ----- Checks ---------------------------------------------------------------------------------

/// Whether `value` is a non-empty list of strings.
fn is_message_list(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| !items.is_empty() && items.iter().all(Value::is_string))
}

/// Asserts that `errors` is a field-keyed error in one of the three DRF shapes, naming only
/// fields of the body, required fields that are absent (with the required message), or
/// `non_field_errors`; list-item errors are keyed by indexes of the list.
fn assert_keyed(errors: &ValidationErrors, body: &Value, required: &[&str], ignored: &[&str]) {
    let shown = errors.to_string();
    let json = serde_json::to_value(errors).expect("errors serialise");
    let object = json.as_object().expect("errors are a JSON object");
    assert!(!object.is_empty(), "an error with no message: {shown}");
    assert_eq!(
        serde_json::from_str::<Value>(&shown).ok().as_ref(),
        Some(&json),
        "Display is the JSON body"
    );
    let sent = body.as_object();
    for (field, error) in object {
        if field == "non_field_errors" {
            assert!(is_message_list(error), "{field}: {error}");
            continue;
        }
        let value = sent
            .filter(|_| !ignored.contains(&field.as_str()))
            .and_then(|object| object.get(field));
        match value {
            None => {
                assert!(
                    required.contains(&field.as_str()),
                    "error for {field:?}, which the body does not carry: {shown}"
                );
                assert_eq!(error, &json!([REQUIRED]), "{field}");
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

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Asserts the invariants of an accepted provider: every text field within its limit, trimmed
/// and free of NUL, the name allowed, redirects normalised and mapping keys user fields.
fn assert_valid(provider: &Provider, names: &ProviderNamePolicy) {
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
        assert!(chars(text) as u64 <= max, "{text:?} longer than {max}");
        assert_eq!(text.trim(), text, "{text:?} is trimmed");
        assert!(!text.contains('\0'), "{text:?} holds NUL");
        assert!(blank || !text.is_empty(), "blank where it may not be");
    }
    for item in &provider.protected_fields {
        assert!(!item.trim().is_empty() && !item.contains('\0'), "{item:?}");
    }
    assert_eq!(
        normalise_redirects(&provider.allowed_redirects).as_ref(),
        Ok(&provider.allowed_redirects),
        "stored redirects are normalised"
    );
    let mut keys = BTreeSet::new();
    for (key, value) in &provider.attribute_mapping.0 {
        assert!(user_field(key).is_some(), "mapping key {key:?}");
        assert!(keys.insert(key), "mapping key {key:?} twice");
        assert!(!value.trim().is_empty(), "mapping value for {key:?}");
    }
}

/// Asserts that the provider's own JSON is an accepted create body giving the same provider.
///
/// A create adds the per-provider default mapping for the keys a mapping lacks, so after an
/// update that removed some, those come back, after the provider's own keys.
fn assert_fixed_point(provider: &Provider, names: &ProviderNamePolicy) {
    let json = provider.to_json(true, true);
    let again = match NewProvider::parse(&json, names) {
        Ok(again) => again.into_provider(provider.endpoints.clone()),
        Err(errors) => panic!("an accepted provider is refused when sent back: {json} -> {errors}"),
    };
    let own = &provider.attribute_mapping.0;
    let mapping = &again.attribute_mapping.0;
    assert_eq!(&mapping[..own.len().min(mapping.len())], &own[..], "{json}");
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

/// A stored provider to apply updates to, as a create would have made it.
fn stored(name: &str) -> Provider {
    let url = if name == "tara" {
        "https://tara.ria.ee/.well-known/openid-configuration"
    } else {
        "https://idp.example.com/.well-known/openid-configuration"
    };
    let body = json!({
        "provider": name,
        "client_id": "client",
        "client_secret": "secret",
        "discovery_url": url,
        "label": "Label",
        "allowed_redirects": ["https://portal.example.com"],
    });
    NewProvider::parse(&body, &ProviderNamePolicy::AnySlug)
        .expect("a valid body")
        .into_provider(ProviderEndpoints {
            auth_url: "https://idp.example.com/auth".into(),
            token_url: "https://idp.example.com/token".into(),
            userinfo_url: "https://idp.example.com/userinfo".into(),
            logout_url: String::new(),
        })
}

fn policies() -> [ProviderNamePolicy; 2] {
    [
        ProviderNamePolicy::AnySlug,
        ProviderNamePolicy::from_setting("waldur").expect("a valid setting"),
    ]
}

/// Every parser on one body: no panic, `Ok` or a field-keyed error, accepted values valid and
/// fixed points.
fn check_body(body: &Value) {
    for names in policies() {
        match NewProvider::parse(body, &names) {
            Ok(new) => {
                let provider = new.into_provider(ProviderEndpoints::default());
                assert_valid(&provider, &names);
                assert_fixed_point(&provider, &names);
            }
            Err(errors) => assert_keyed(&errors, body, &create_required(), &[]),
        }
        if let Err(errors) = NewProvider::parse_unique(body, &names, true) {
            assert_keyed(&errors, body, &create_required(), &[]);
        }
        for name in ["generic", "tara", "keycloak", "eduteams"] {
            for (kind, required) in [
                (UpdateKind::Replace, put_required()),
                (UpdateKind::Partial, Vec::new()),
            ] {
                match ProviderUpdate::parse(body, name, kind, &names) {
                    Ok(update) => {
                        let mut provider = stored(name);
                        update.apply(&mut provider, None);
                        assert_valid(&provider, &ProviderNamePolicy::AnySlug);
                        assert_fixed_point(&provider, &ProviderNamePolicy::AnySlug);
                    }
                    // `provider` is ignored by updates: no error may name it.
                    Err(errors) => assert_keyed(&errors, body, &required, &ignored_on_update()),
                }
            }
        }
    }
    match DiscoveryRequest::parse(body) {
        Ok(request) => {
            assert!(!request.discovery_url.is_empty());
            assert_eq!(request.discovery_url.trim(), request.discovery_url);
            assert!(idp_core::is_valid_django_url(&request.discovery_url));
        }
        Err(errors) => assert_keyed(&errors, body, &["discovery_url"], &[]),
    }
    if let Some(value) = body.get("attribute_mapping") {
        check_mapping(value);
    }
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

/// The generated mapping's claims are advertised ones, in the provider's spelling; its scopes
/// advertised ones other than `openid`, sorted, once each.
fn check_generated(claims: &[String], scopes: &[String]) {
    let mapping = generate_mapping(claims, scopes);
    let mut fields = USER_FIELDS.iter().map(|f| f.name);
    for (field, value) in &mapping.attribute_mapping {
        assert!(
            fields.any(|f| f == field),
            "{field} is a user field, in canonical order"
        );
        let value = value.as_str().expect("mapping values are strings");
        assert!(!value.is_empty(), "{field} maps to nothing");
        for claim in value.split(' ') {
            assert!(
                claims.iter().any(|c| c == claim),
                "{field} maps to {claim:?}, which the provider does not advertise ({claims:?})"
            );
        }
    }
    let extra: Vec<&str> = if mapping.extra_scope.is_empty() {
        Vec::new()
    } else {
        mapping.extra_scope.split(' ').collect()
    };
    for scope in &extra {
        assert!(
            scopes.iter().any(|s| s == scope),
            "extra_scope {scope:?} is not advertised ({scopes:?})"
        );
        assert_ne!(*scope, "openid");
    }
    assert!(extra.windows(2).all(|w| w[0] < w[1]), "sorted, once each");
    for suggestion in field_suggestions(claims) {
        for claim in &suggestion.available_claims {
            assert!(
                claims.contains(claim),
                "{claim:?} offered for {}",
                suggestion.field
            );
        }
    }
    // `openid` always, then advertised scopes only, sorted by code point, once each.
    let suggested = suggested_scopes(claims, scopes);
    assert!(suggested.iter().any(|s| s == "openid"), "{suggested:?}");
    assert!(suggested.windows(2).all(|w| w[0] < w[1]), "{suggested:?}");
    for scope in suggested.iter().filter(|s| *s != "openid") {
        assert!(scopes.contains(scope), "suggested scope {scope:?}");
    }
}

// ----- Properties -----------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(768))]

    #[test]
    fn any_json_value_gives_ok_or_a_keyed_error(body in json_value()) {
        check_body(&body);
    }

    #[test]
    fn objects_with_the_real_field_names_give_ok_or_a_keyed_error(body in field_object()) {
        check_body(&body);
    }

    #[test]
    fn nearly_valid_create_bodies_give_ok_or_a_keyed_error(body in create_body()) {
        check_body(&body);
    }

    #[test]
    fn any_value_is_a_mapping_or_a_message(value in field_value()) {
        check_mapping(&value);
    }

    #[test]
    fn normalised_redirects_are_idempotent(
        urls in prop::collection::vec(
            prop_oneof![4 => redirect_url(), 1 => any::<String>()],
            0..4,
        )
    ) {
        if let Ok(normalised) = normalise_redirects(&urls) {
            prop_assert_eq!(normalised.len(), urls.len());
            prop_assert_eq!(normalise_redirects(&normalised), Ok(normalised.clone()));
        }
    }

    #[test]
    fn generated_mappings_use_only_advertised_claims_and_scopes(
        claims in prop::collection::vec(claim(), 0..30),
        scopes in prop::collection::vec(scope(), 0..10),
    ) {
        check_generated(&claims, &scopes);
    }
}

/// The idempotence rule on origins whose lower case is longer than they are (`İ` lower-cases
/// to two characters): a list accepted once must be accepted again, unchanged, after
/// normalising. Django measures the lower-cased host name against its 253-character limit, and
/// the whole URL against 2048 characters.
#[test]
fn redirects_whose_lower_case_is_longer_are_idempotent() {
    let label = "İ".repeat(31);
    let host = [label.as_str(); 5].join(".");
    let long_host = format!("https://{host}.com");
    let long_userinfo = format!("https://{}@portal.example.com", "İ".repeat(1020));
    let mut failures = Vec::new();
    for url in [long_host, long_userinfo] {
        let urls = vec![url];
        if let Ok(normalised) = normalise_redirects(&urls) {
            let again = normalise_redirects(&normalised);
            if again.as_ref() != Ok(&normalised) {
                failures.push(format!(
                    "{} characters, accepted as {} characters, then: {again:?}",
                    urls[0].chars().count(),
                    normalised[0].chars().count(),
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
