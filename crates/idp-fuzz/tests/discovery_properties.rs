//! Property tests of discovery-document parsing: arbitrary bytes, arbitrary JSON, objects with
//! the real discovery keys holding any values, and mutated fixture documents never panic
//! `DiscoveryDocument::from_json`, `metadata_report`, `generate_mapping` or
//! `provider_endpoints`; what they answer is consistent, and a rendered report never carries a
//! control character from the document.
//!
//! Inputs come from a fixed seed so that a failure reproduces (set `IDP_PROPTEST_SEED` to try
//! another, `PROPTEST_CASES` to change the number of cases). The fixture documents are the
//! project's own discovery documents (`fixtures/discovery`), which also seed the fuzz target.

use std::sync::OnceLock;

use idp_oidc::{DiscoveryDocument, FetchErrorKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Number, Value};

/// The seed every property starts from unless `IDP_PROPTEST_SEED` names another.
const DEFAULT_SEED: u64 = 0x01d9_c0de;

fn config(cases: u32) -> Config {
    let seed = std::env::var("IDP_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_SEED);
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

/// The keys of a discovery document that the parsers read, and some they do not.
const KEYS: [&str; 18] = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "end_session_endpoint",
    "jwks_uri",
    "claims_supported",
    "scopes_supported",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "code_challenge_methods_supported",
    "registration_endpoint",
    "claims_parameter_supported",
    "service_documentation",
    "version",
];

const CLAIMS: [&str; 16] = [
    "sub",
    "email",
    "mail",
    "given_name",
    "GIVEN_NAME",
    "family_name",
    "name",
    "acr",
    "schacHomeOrganization",
    "eduperson_assurance",
    "phone_number",
    "address",
    "birthdate",
    "org_country",
    "https://gitlab.org/claims/groups/owner",
    "\u{1b}[31mred",
];

const SCOPES: [&str; 8] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "eduperson_assurance",
    "ssh_public_key",
    "offline_access",
];

const URLS: [&str; 10] = [
    "https://idp.example.com/auth",
    "https://idp.example.com/",
    "http://idp.example.com/x",
    "https://login.microsoftonline.com/{tenantid}/v2.0",
    "",
    "not a url",
    "https://[::1",
    "urn:x",
    "https://idp.example.com/\u{0}",
    "https://idp.example.com/\u{1b}]0;title\u{7}",
];

/// The project's own discovery documents, as bytes.
fn fixtures() -> &'static [Vec<u8>] {
    static FIXTURES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = idp_fixtures::discovery_dir();
        let documents = idp_fixtures::json_documents(&dir);
        assert!(
            documents.len() >= 12,
            "the fixture documents are in {}",
            dir.display()
        );
        documents
            .iter()
            .map(|(_, path)| std::fs::read(path).expect("a readable fixture"))
            .collect()
    })
}

// ----- Strategies -----------------------------------------------------------------------------

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => prop::sample::select(URLS.to_vec()).prop_map(str::to_owned),
        2 => prop::sample::select(CLAIMS.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(SCOPES.to_vec()).prop_map(str::to_owned),
        1 => "[\u{0}-\u{1f}\u{7f}-\u{9f}a-z]{0,12}",
    ]
}

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
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Values a discovery key may plausibly hold: URLs, lists of claims or scopes (sometimes with a
/// non-string inside), or anything.
fn document_value() -> impl Strategy<Value = Value> {
    let list = prop::collection::vec(
        prop_oneof![
            6 => text().prop_map(Value::String),
            1 => json_value(),
        ],
        0..24,
    )
    .prop_map(Value::Array);
    prop_oneof![
        3 => text().prop_map(Value::String),
        3 => list,
        2 => json_value(),
    ]
}

/// An object with the real discovery keys holding any values.
fn document_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), document_value()), 0..16)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<String, Value>>()))
}

/// One change to a fixture document.
#[derive(Debug, Clone)]
enum Change {
    Set(String, Value),
    Remove(usize),
    /// Replaces one element of a list value.
    SetItem(usize, usize, Value),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        2 => (key(), document_value()).prop_map(|(k, v)| Change::Set(k, v)),
        1 => any::<usize>().prop_map(Change::Remove),
        2 => (any::<usize>(), any::<usize>(), json_value())
            .prop_map(|(k, i, v)| Change::SetItem(k, i, v)),
    ]
}

/// A fixture document with a few keys changed, removed or given odd list elements.
fn mutated_fixture() -> impl Strategy<Value = Value> {
    (0..fixtures().len(), prop::collection::vec(change(), 0..5)).prop_map(|(index, changes)| {
        let mut value: Value =
            serde_json::from_slice(&fixtures()[index]).expect("the fixtures are JSON");
        let object = value.as_object_mut().expect("the fixtures are objects");
        for change in changes {
            let keys: Vec<String> = object.keys().cloned().collect();
            match change {
                Change::Set(key, new) => {
                    object.insert(key, new);
                }
                Change::Remove(i) if !keys.is_empty() => {
                    object.remove(&keys[i % keys.len()]);
                }
                Change::SetItem(k, i, new) if !keys.is_empty() => {
                    if let Some(Value::Array(items)) = object.get_mut(&keys[k % keys.len()])
                        && !items.is_empty()
                    {
                        let at = i % items.len();
                        items[at] = new;
                    }
                }
                _ => {}
            }
        }
        value
    })
}

/// A fixture document's bytes, cut short and with a few bytes changed.
fn mutated_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        0..fixtures().len(),
        any::<usize>(),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
    )
        .prop_map(|(index, cut, flips)| {
            let mut bytes = fixtures()[index].clone();
            if cut % 3 == 0 {
                bytes.truncate(cut % (bytes.len() + 1));
            }
            let length = bytes.len();
            if length > 0 {
                for (at, byte) in flips {
                    bytes[at % length] = byte;
                }
            }
            bytes
        })
}

// ----- Checks ---------------------------------------------------------------------------------

fn check_value(value: Value) {
    let bytes = serde_json::to_vec(&value).expect("a value serialises");
    idp_fuzz::discovery_document(&bytes);
    match DiscoveryDocument::from_value(value) {
        Ok(document) => idp_fuzz::check_document(&document),
        Err(error) => assert_eq!(error.kind(), &FetchErrorKind::NotAnObject),
    }
}

// ----- Properties -----------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        idp_fuzz::discovery_document(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in prop_oneof![
        any::<String>(),
        "[\\[\\]{}:,\" 0-9a-z.eE+\\-\\\\]{0,80}",
    ]) {
        idp_fuzz::discovery_document(text.as_bytes());
        let mut bommed = b"\xEF\xBB\xBF".to_vec();
        bommed.extend_from_slice(text.as_bytes());
        idp_fuzz::discovery_document(&bommed);
    }

    #[test]
    fn mutated_fixture_documents_never_panic(bytes in mutated_bytes()) {
        idp_fuzz::discovery_document(&bytes);
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        check_value(value);
    }

    #[test]
    fn objects_with_the_real_keys_never_panic(value in document_object()) {
        check_value(value);
    }

    #[test]
    fn fixture_documents_with_changed_keys_never_panic(value in mutated_fixture()) {
        check_value(value);
    }
}

/// Every fixture document gives a consistent answer.
#[test]
fn every_fixture_document_is_read_consistently() {
    for bytes in fixtures() {
        idp_fuzz::discovery_document(bytes);
    }
}
