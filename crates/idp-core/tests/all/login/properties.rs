//! Properties of the login logic over generated inputs, from a fixed seed (set
//! `IDP_PROPTEST_SEED` to try another, `PROPTEST_CASES` to change the number of cases):
//!
//! * the chosen redirect origin is always an allowed redirect, or the homeport URL when none
//!   is allowed;
//! * coercion never panics, and what it accepts fits the field;
//! * the mapping never panics on any claims and mapping, its trace serialises, its values
//!   come from configured claims, and its unused claims are present, sorted and unread;
//! * a login never clears a field;
//! * any key is reachable through an escaped JSON Pointer.

use idp_core::login::{
    ClaimPath, FieldKind, FieldValue, GENDER_CHOICES, LoginTarget, PROFILE_FIELDS, SyncFields,
    UserProfile, apply_login, choose_redirect_origin, coerce_value, parse_date, profile_field,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Value, json};

use super::support::Setup;

fn config(cases: u32) -> Config {
    let seed = std::env::var("IDP_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0x1091_e000);
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(cases);
    eprintln!("proptest: seed {seed} (IDP_PROPTEST_SEED), {cases} cases");
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Short strings mixing the characters the rules care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._@:/~\\-]{0,12}",
        "\\PC{0,8}",
        Just("urn:schac:personalUniqueID:ee:EST:123".to_owned()),
        Just("1983-01-21".to_owned()),
        Just("MALE".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((claim_key(), inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Claim names the mappings below also use, so that claims are found as often as not.
fn claim_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "sub",
            "email",
            "given_name",
            "roles",
            "a",
            "b",
            "0",
            ""
        ])
        .prop_map(str::to_owned),
        "[a-z~/]{1,4}",
    ]
}

fn claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((claim_key(), json_value()), 0..8)
        .prop_map(|pairs| pairs.into_iter().collect())
}

/// A whitespace-separated claim list of names and pointers, some malformed.
fn claim_list() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        claim_key(),
        claim_key().prop_map(|k| format!("/{k}")),
        (claim_key(), claim_key()).prop_map(|(a, b)| format!("/{a}/{b}")),
        Just("/a/0".to_owned()),
    ];
    prop::collection::vec(name, 0..4).prop_map(|names| names.join(" "))
}

fn setup() -> impl Strategy<Value = Setup> {
    let fields = prop::sample::subsequence(
        PROFILE_FIELDS
            .iter()
            .map(|f| f.name)
            .chain(["username", "bogus"])
            .collect::<Vec<_>>(),
        0..6,
    );
    (
        prop::sample::select(vec![
            "username",
            "email",
            "civil_number",
            "affiliations",
            "x",
        ]),
        claim_list(),
        prop::collection::vec((fields.clone(), claim_list()), 0..3),
        prop::option::of(claim_list()),
        prop::option::of(claim_key()),
        any::<bool>(),
    )
        .prop_map(|(user_field, user_claim, groups, extra, role, all)| {
            let mut setup = Setup::default().lookup(user_field, &user_claim);
            for (fields, claims) in groups {
                for field in fields {
                    setup = setup.map(field, &claims);
                }
            }
            setup.extra_fields = extra;
            setup.role_claim = role;
            if !all {
                setup = setup.sync_only("gender nationality");
            }
            setup
        })
}

fn origin_url() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(vec!["https", "HTTP", "http", "ftp", "javascript", ""]),
            prop::sample::select(vec!["://", ":", "//", ":///"]),
            prop::sample::select(vec![
                "homeport1.example.com",
                "HOMEPORT2.example.com:8443",
                "evil.example",
                "[::1]",
                "[bad",
                "u@homeport1.example.com",
                "",
            ]),
            "[/?#a-z]{0,6}",
        )
            .prop_map(|(s, sep, host, rest)| format!("{s}{sep}{host}{rest}")),
        "\\PC{0,20}",
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn the_redirect_origin_is_always_allowed_or_the_homeport(
        allowed in prop::collection::vec(
            prop::sample::select(vec![
                "https://homeport1.example.com",
                "https://homeport2.example.com:8443",
                "http://localhost:3000",
            ]).prop_map(str::to_owned),
            0..3,
        ),
        return_url in prop::option::of(origin_url()),
        referrer in prop::option::of(origin_url()),
    ) {
        let home = "https://fallback.example.com/";
        if let Ok(origin) = choose_redirect_origin(&allowed, home, return_url.as_deref(), referrer.as_deref()) {
            prop_assert!(allowed.contains(&origin) || (allowed.is_empty() && origin == home), "{origin}");
        }
    }

    #[test]
    fn coercion_never_panics_and_keeps_only_what_fits(value in json_value()) {
        for field in &PROFILE_FIELDS {
            let Ok(coerced) = coerce_value(field, &value) else { continue };
            match (field.kind, coerced) {
                (FieldKind::List, FieldValue::List(items)) => prop_assert!(!items.is_empty()),
                (kind, FieldValue::Text(text)) if kind != FieldKind::List => {
                    prop_assert!(!text.is_empty());
                    if let Some(max) = field.max_length {
                        prop_assert!(text.chars().count() <= max);
                    }
                    if kind == FieldKind::Date {
                        prop_assert_eq!(parse_date(&text), Some(text.clone()));
                    }
                    if kind == FieldKind::Gender {
                        prop_assert!(GENDER_CHOICES.contains(&text.as_str()));
                    }
                }
                (kind, other) => prop_assert!(false, "{kind:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn the_mapping_never_panics_and_its_trace_is_consistent(setup in setup(), claims in claims()) {
        let trace = setup.trace(Value::Object(claims.clone()));
        prop_assert!(serde_json::to_string(&trace).is_ok());
        for field in &trace.fields {
            prop_assert!(profile_field(field.field).is_some());
            if let Some(claim) = &field.claim {
                prop_assert!(field.synced);
                prop_assert!(field.claims.split_whitespace().any(|c| c == claim));
                let path = ClaimPath::parse(claim).unwrap();
                prop_assert!(path.lookup(&claims).is_some());
            }
        }
        let mut sorted = trace.unused_claims.clone();
        sorted.sort();
        prop_assert_eq!(&sorted, &trace.unused_claims);
        for key in &trace.unused_claims {
            prop_assert!(claims.contains_key(key));
            let read_by_lookup = setup
                .user_claim
                .split_whitespace()
                .filter_map(|c| ClaimPath::parse(c).ok())
                .any(|path| path.top_level() == key);
            prop_assert!(!read_by_lookup, "{key} is read by the lookup");
        }
        if let Some(value) = &trace.lookup.value {
            prop_assert!(!value.is_empty());
        }
    }

    #[test]
    fn a_login_never_clears_a_field(setup in setup(), claims in claims(), filled in any::<bool>()) {
        let trace = setup.trace(Value::Object(claims));
        let mut user = UserProfile { username: "u".into(), is_active: true, ..UserProfile::default() };
        if filled {
            for field in &PROFILE_FIELDS {
                let value = match field.kind {
                    FieldKind::List => FieldValue::List(vec!["x".into()]),
                    FieldKind::Date => FieldValue::Text("2000-01-01".into()),
                    FieldKind::Gender => FieldValue::Text("unknown".into()),
                    _ => FieldValue::Text("x".into()),
                };
                user.fields.set(field.name, value);
            }
        }
        if let Ok(applied) = apply_login(&trace, LoginTarget::Existing { user: &user, by_email: false }) {
            for field in &PROFILE_FIELDS {
                let before = user.fields.to_json(field.name);
                let after = applied.user.fields.to_json(field.name);
                if idp_core::login::is_truthy(&before) {
                    prop_assert!(idp_core::login::is_truthy(&after), "{} cleared", field.name);
                }
            }
            prop_assert_eq!(&applied.user.username, &user.username);
        }
    }

    #[test]
    fn any_key_is_reachable_through_an_escaped_pointer(key in "[^\\s]{0,8}", value in json_value()) {
        let pointer = format!("/{}", key.replace('~', "~0").replace('/', "~1"));
        let path = ClaimPath::parse(&pointer).unwrap();
        let claims: Map<String, Value> = [(key.clone(), value.clone())].into_iter().collect();
        prop_assert_eq!(path.lookup(&claims), Some(&value));
        prop_assert_eq!(path.top_level(), key.as_str());
    }
}

#[test]
fn sync_fields_default_to_every_mapped_field() {
    assert_eq!(SyncFields::default(), SyncFields::Mapped);
}
