//! The profiles and provider metadata logins use, on both backends: users found by any
//! single-value field (inactive ones included), emails counted case-insensitively, duplicates
//! and NUL characters, and the providers' login metadata.

use chrono::NaiveDateTime;
use idp_core::login::{FieldValue, UserProfile};
use idp_store::testing::TestDatabase;
use idp_store::{Backend, Lookup, Store, StoreError, StoredLoginMetadata};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { super::$name(idp_store::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(idp_store::Backend::Postgres) } )* }
    };
}

on_both_backends!(
    users_are_found_by_any_single_value_field_inactive_ones_included,
    emails_are_counted_case_insensitively,
    a_taken_user_name_is_a_duplicate_and_nul_never_reaches_the_database,
    login_metadata_round_trips_and_goes_with_its_provider,
);

fn at(seconds: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0)
        .unwrap_or_default()
        .naive_utc()
}

fn user(store: &Store, name: &str, email: &str, active: bool) -> i64 {
    let mut profile = UserProfile {
        username: name.into(),
        is_active: active,
        registration_method: "keycloak".into(),
        ..UserProfile::default()
    };
    profile.fields.set("email", FieldValue::Text(email.into()));
    profile
        .fields
        .set("civil_number", FieldValue::Text(format!("EE{name}")));
    profile
        .fields
        .set("affiliations", FieldValue::List(vec!["staff@x".into()]));
    store.save_login_user(None, &profile, at(0)).unwrap()
}

fn users_are_found_by_any_single_value_field_inactive_ones_included(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let ada = user(&store, "ada", "ada@example.org", false);
    let found = |field: &str, value: &str| store.find_login_user(field, value).unwrap();
    let Lookup::One(user_found) = found("username", "ada") else {
        panic!("ada by username")
    };
    assert_eq!(user_found.id, ada);
    assert!(!user_found.profile.is_active);
    assert_eq!(user_found.profile.fields.affiliations, ["staff@x"]);
    assert_eq!(user_found.profile.registration_method, "keycloak");
    assert!(matches!(found("civil_number", "EEada"), Lookup::One(u) if u.id == ada));
    assert_eq!(
        found("email", "ADA@example.org"),
        Lookup::None,
        "exact match"
    );
    assert_eq!(
        found("affiliations", "staff@x"),
        Lookup::None,
        "not a lookup field"
    );
    assert_eq!(found("username", "a\0da"), Lookup::None);
    let mut twin = user_found.profile.clone();
    twin.username = "ada-twin".into();
    twin.fields
        .set("civil_number", FieldValue::Text("EEtwin".into()));
    store.save_login_user(None, &twin, at(1)).unwrap();
    assert_eq!(found("email", "ada@example.org"), Lookup::Many);
    assert_eq!(store.last_login(ada).unwrap(), Some(at(0)));
    assert_eq!(store.user_profile(ada).unwrap(), Some(user_found.profile));
}

fn emails_are_counted_case_insensitively(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let ada = user(&store, "ada", "Ada@Example.org", true);
    let count = store.count_users_by_email("ada@EXAMPLE.org").unwrap();
    assert_eq!(count.count, 1);
    assert_eq!(count.user.map(|u| u.id), Some(ada));
    user(&store, "bob", "ADA@example.ORG", true);
    let count = store.count_users_by_email("ada@example.org").unwrap();
    assert_eq!((count.count, count.user), (2, None));
    assert_eq!(
        store
            .count_users_by_email("nobody@example.org")
            .unwrap()
            .count,
        0
    );
}

fn a_taken_user_name_is_a_duplicate_and_nul_never_reaches_the_database(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let ada = user(&store, "ada", "ada@example.org", true);
    let again = UserProfile {
        username: "ada".into(),
        is_active: true,
        ..UserProfile::default()
    };
    assert!(matches!(
        store.save_login_user(None, &again, at(1)),
        Err(StoreError::Duplicate)
    ));
    let mut odd = again.clone();
    odd.username = "eve".into();
    odd.fields
        .set("first_name", FieldValue::Text("E\0ve".into()));
    odd.details.insert("k".into(), serde_json::json!("a\0b"));
    let eve = store.save_login_user(None, &odd, at(1)).unwrap();
    let stored = store.user_profile(eve).unwrap().unwrap();
    assert_eq!(stored.fields.first_name, "Eve");
    assert_eq!(stored.details["k"], "a\0b", "JSON text escapes NUL");
    let mut changed = store.user_profile(ada).unwrap().unwrap();
    changed.is_staff = true;
    assert_eq!(
        store.save_login_user(Some(ada), &changed, at(2)).unwrap(),
        ada
    );
    assert!(store.user_profile(ada).unwrap().unwrap().is_staff);
    assert!(matches!(
        store.save_login_user(Some(9999), &changed, at(2)),
        Err(StoreError::NotFound)
    ));
}

fn login_metadata_round_trips_and_goes_with_its_provider(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let metadata = StoredLoginMetadata {
        issuer: Some("https://idp.example.org".into()),
        jwks_uri: Some("https://idp.example.org/jwks".into()),
        id_token_signing_algs: vec!["RS256".into(), "EdDSA".into()],
        token_endpoint_auth_methods: Some(vec!["client_secret_basic".into()]),
        iss_parameter_supported: true,
        fetched_at: at(5),
    };
    store.save_login_metadata("nobody", &metadata).unwrap();
    assert_eq!(
        store.login_metadata("nobody").unwrap(),
        None,
        "no provider, no row"
    );
    let body = serde_json::json!({
        "provider": "keycloak", "client_id": "c", "client_secret": "s", "label": "K",
        "discovery_url": "https://keycloak.example.org/.well-known/openid-configuration",
    });
    let provider = idp_core::NewProvider::parse(&body, &idp_core::ProviderNamePolicy::AnySlug)
        .unwrap()
        .into_provider(idp_core::ProviderEndpoints::default());
    store.insert_provider(&provider).unwrap();
    store.save_login_metadata("keycloak", &metadata).unwrap();
    assert_eq!(
        store.login_metadata("keycloak").unwrap(),
        Some(metadata.clone())
    );
    let replaced = StoredLoginMetadata {
        token_endpoint_auth_methods: None,
        ..metadata
    };
    store.save_login_metadata("keycloak", &replaced).unwrap();
    assert_eq!(store.login_metadata("keycloak").unwrap(), Some(replaced));
    store.delete_provider("keycloak", None).unwrap();
    assert_eq!(store.login_metadata("keycloak").unwrap(), None);
}
