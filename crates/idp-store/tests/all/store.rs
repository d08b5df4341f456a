//! The store on both backends: the same tests run on a SQLite file and a PostgreSQL database.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use idp_core::{AttributeMapping, NewProvider, Provider, ProviderEndpoints, ProviderNamePolicy};
use idp_store::testing::TestDatabase;
use idp_store::{Authentication, Backend, DbConnection, StoreError};

fn provider(name: &str, label: &str) -> Provider {
    // Parsed from a create body, so that every field of the definition has a value.
    let body = serde_json::json!({
        "provider": "template",
        "client_id": "client",
        "client_secret": "-",
        "discovery_url": "https://idp.example.com/.well-known/openid-configuration",
        "label": "-",
        "protected_fields": ["email"],
        "attribute_mapping": {"last_name": "family_name", "email": "email"},
        "extra_fields": "a b",
        "allowed_redirects": ["https://portal.example.com"],
    });
    let template = NewProvider::parse(&body, &ProviderNamePolicy::AnySlug)
        .unwrap_or_else(|errors| panic!("the template body is refused: {errors}"));
    let provider = Provider {
        provider: name.into(),
        client_secret: format!("secret-of-{name}"),
        label: label.into(),
        ..template.into_provider(ProviderEndpoints {
            auth_url: "https://idp.example.com/auth".into(),
            token_url: "https://idp.example.com/token".into(),
            userinfo_url: "https://idp.example.com/userinfo".into(),
            logout_url: String::new(),
        })
    };
    assert_eq!(
        provider.attribute_mapping,
        AttributeMapping(vec![
            ("last_name".into(), "family_name".into()),
            ("email".into(), "email".into()),
        ]),
        "the mapping keeps its order"
    );
    provider
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { super::$name(idp_store::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(idp_store::Backend::Postgres) } )* }
    };
}

on_both_backends!(
    providers_round_trip_with_mapping_order_kept,
    list_is_ordered_by_label_then_insertion_and_paged,
    inactive_providers_are_hidden_from_active_only_reads,
    duplicate_names_are_reported_as_duplicate,
    updates_bump_the_version_and_detect_conflicts,
    deletes_honour_the_expected_version,
    client_secrets_are_never_stored_in_plaintext,
    tokens_authenticate_until_revoked_expired_or_user_deactivated,
    migrations_are_idempotent,
    kept_counts_match_real_counts_after_every_kind_of_write,
);

fn providers_round_trip_with_mapping_order_kept(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let stored = store.insert_provider(&provider("kc", "Keycloak")).unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.provider, provider("kc", "Keycloak"));
    let read = store.get_provider("kc", false).unwrap().unwrap();
    assert_eq!(read, stored);
    assert_eq!(read.provider.attribute_mapping.0[0].0, "last_name");
    assert!(store.get_provider("missing", false).unwrap().is_none());
}

fn list_is_ordered_by_label_then_insertion_and_paged(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    for (name, label) in [("c", "B"), ("a", "A"), ("b", "B"), ("d", "C")] {
        store.insert_provider(&provider(name, label)).unwrap();
    }
    let page = store.list_providers(false, 0, 10).unwrap();
    let names: Vec<_> = page
        .items
        .iter()
        .map(|p| p.provider.provider.as_str())
        .collect();
    assert_eq!(names, ["a", "c", "b", "d"]);
    assert_eq!(page.total, 4);
    let second = store.list_providers(false, 2, 2).unwrap();
    let names: Vec<_> = second
        .items
        .iter()
        .map(|p| p.provider.provider.as_str())
        .collect();
    assert_eq!(names, ["b", "d"]);
}

fn inactive_providers_are_hidden_from_active_only_reads(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let mut off = provider("off", "Off");
    off.is_active = false;
    store.insert_provider(&off).unwrap();
    store.insert_provider(&provider("on", "On")).unwrap();
    assert!(store.get_provider("off", true).unwrap().is_none());
    assert!(store.get_provider("off", false).unwrap().is_some());
    assert_eq!(store.count_providers(true).unwrap(), 1);
    assert_eq!(store.count_providers(false).unwrap(), 2);
    assert_eq!(store.list_providers(true, 0, 10).unwrap().items.len(), 1);
}

fn duplicate_names_are_reported_as_duplicate(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    store.insert_provider(&provider("kc", "One")).unwrap();
    assert!(matches!(
        store.insert_provider(&provider("kc", "Two")),
        Err(StoreError::Duplicate)
    ));
    assert_eq!(store.count_providers(false).unwrap(), 1);
}

fn updates_bump_the_version_and_detect_conflicts(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    store.insert_provider(&provider("kc", "One")).unwrap();
    let mut changed = provider("kc", "Two");
    changed.client_secret = "rotated".into();
    let updated = store.update_provider(&changed, Some(1)).unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.provider.label, "Two");
    assert_eq!(updated.provider.client_secret, "rotated");
    assert!(matches!(
        store.update_provider(&changed, Some(1)),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.update_provider(&provider("nope", "X"), None),
        Err(StoreError::NotFound)
    ));
}

fn deletes_honour_the_expected_version(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    store.insert_provider(&provider("kc", "One")).unwrap();
    assert!(matches!(
        store.delete_provider("kc", Some(7)),
        Err(StoreError::Conflict)
    ));
    store.delete_provider("kc", Some(1)).unwrap();
    assert!(matches!(
        store.delete_provider("kc", None),
        Err(StoreError::NotFound)
    ));
}

#[derive(QueryableByName)]
struct Secret {
    #[diesel(sql_type = Text)]
    client_secret: String,
}

fn client_secrets_are_never_stored_in_plaintext(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    store.insert_provider(&provider("kc", "One")).unwrap();
    let mut conn = match db.url() {
        idp_store::DatabaseUrl::Sqlite(path) => {
            DbConnection::Sqlite(SqliteConnection::establish(&path.to_string_lossy()).unwrap())
        }
        idp_store::DatabaseUrl::Postgres(url) => {
            DbConnection::Postgresql(PgConnection::establish(url).unwrap())
        }
    };
    let rows: Vec<Secret> = diesel::sql_query("SELECT client_secret FROM identity_providers")
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].client_secret.contains("secret-of-kc"));
    assert!(
        rows[0]
            .client_secret
            .starts_with(&format!("v1:{}:", store.secrets().primary_id()))
    );
    if let idp_store::DatabaseUrl::Sqlite(path) = db.url() {
        drop(store);
        let bytes = std::fs::read(path).unwrap();
        let wal = std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default();
        for file in [bytes, wal] {
            assert!(!file.windows(12).any(|w| w == b"secret-of-kc"));
        }
    }
}

fn tokens_authenticate_until_revoked_expired_or_user_deactivated(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    assert!(!store.has_staff_user().unwrap());
    let admin = store.ensure_user("admin", true).unwrap();
    assert!(store.has_staff_user().unwrap());
    let token = store.create_token(&admin, None).unwrap();
    assert_eq!(
        store.authenticate(&token.key).unwrap(),
        Authentication::User(admin.clone())
    );
    assert_eq!(
        store.authenticate("0".repeat(40).as_str()).unwrap(),
        Authentication::Invalid
    );

    let past = Utc::now().naive_utc() - Duration::days(1);
    let expired = store.create_token(&admin, Some(past)).unwrap();
    assert_eq!(
        store.authenticate(&expired.key).unwrap(),
        Authentication::Expired
    );

    store.set_user_active("admin", false).unwrap();
    assert_eq!(
        store.authenticate(&token.key).unwrap(),
        Authentication::Inactive
    );
    store.set_user_active("admin", true).unwrap();

    assert!(store.revoke_token(&token.key).unwrap());
    assert_eq!(
        store.authenticate(&token.key).unwrap(),
        Authentication::Invalid
    );
    assert!(!store.revoke_token(&token.key).unwrap());
    assert_eq!(store.revoke_user_tokens("admin").unwrap(), 1);
}

fn migrations_are_idempotent(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    assert!(store.migrate().unwrap().is_empty());
}

fn kept_counts_match_real_counts_after_every_kind_of_write(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let check = |store: &idp_store::Store| {
        for active_only in [false, true] {
            let kept = store
                .list_page(active_only, 1, false, |_| None)
                .unwrap()
                .total;
            assert_eq!(
                kept,
                store.count_providers(active_only).unwrap(),
                "active_only={active_only}"
            );
        }
    };
    check(&store);
    for i in 0..5 {
        let mut p = provider(&format!("p{i}"), "L");
        p.is_active = i % 2 == 0;
        store.insert_provider(&p).unwrap();
    }
    check(&store);
    let mut p1 = store.get_provider("p1", false).unwrap().unwrap();
    p1.provider.is_active = true;
    store.update_provider(&p1.provider, None).unwrap();
    p1.provider.label = "unchanged activity".into();
    store.update_provider(&p1.provider, None).unwrap();
    check(&store);
    store.delete_provider("p0", None).unwrap();
    store.delete_provider("p3", None).unwrap();
    check(&store);
    let mut imported: Vec<Provider> = (5..8).map(|i| provider(&format!("p{i}"), "M")).collect();
    imported[0].is_active = false;
    store.import_providers(&imported, true).unwrap();
    check(&store);
    store.import_providers(&imported, false).unwrap();
    check(&store);
    assert_eq!(store.count_providers(false).unwrap(), 6);
}
