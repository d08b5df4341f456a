//! The store on both backends: the same tests run on a SQLite file and a PostgreSQL database.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use idp_core::{AttributeMapping, NewProvider, Provider, ProviderEndpoints, ProviderNamePolicy};
use idp_store::testing::TestDatabase;
use idp_store::{AuditContext, Authentication, Backend, DbConnection, StoreError};

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
    modify_reads_changes_and_writes_in_one_transaction,
    every_update_path_marks_the_row_with_the_next_change_number,
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

fn modify_reads_changes_and_writes_in_one_transaction(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    store.insert_provider(&provider("kc", "One")).unwrap();
    let context = AuditContext::user("alice", None, Some("req-1".into()));
    let updated = store
        .modify_provider_by("kc", Some(1), &context, |p| {
            p.label = "Two".into();
            // A change cannot rename the row it was read from.
            p.provider = "other".into();
        })
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.provider.label, "Two");
    assert_eq!(updated.provider.provider, "kc");
    // The answer is what a read gives, the secret included.
    assert_eq!(store.get_provider("kc", false).unwrap().unwrap(), updated);
    assert!(store.get_provider("other", false).unwrap().is_none());
    let events = store.all_audit_events(Some("kc")).unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.request_id.as_deref()),
        ("alice", Some("req-1"))
    );
    assert_eq!(
        last.changes,
        serde_json::json!([{"field": "label", "before": "One", "after": "Two"}])
    );

    // A stale version, a missing name and a name no row can hold change nothing.
    let untouched = |_: &mut Provider| panic!("not called for a refused update");
    assert!(matches!(
        store.modify_provider_by("kc", Some(1), &context, untouched),
        Err(StoreError::Conflict)
    ));
    for name in ["nope", "nul\0name"] {
        assert!(matches!(
            store.modify_provider_by(name, None, &context, untouched),
            Err(StoreError::NotFound)
        ));
    }
    assert_eq!(store.get_provider("kc", false).unwrap().unwrap(), updated);
    assert_eq!(
        store.all_audit_events(Some("kc")).unwrap().len(),
        events.len()
    );
}

/// Snapshots reload the rows marked above the number they have applied: every kind of update
/// (the API's, a whole-row replacement, an import) must leave its row marked with
/// the counter's new value, and nothing else marked above the old one.
fn every_update_path_marks_the_row_with_the_next_change_number(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    for name in ["a", "b", "c"] {
        store.insert_provider(&provider(name, name)).unwrap();
    }
    let changed_since = |seen: i64| {
        let mut rows = Vec::new();
        let changes = store
            .provider_changes(Some(seen), 100, |batch| {
                rows.extend(batch.into_iter().map(|row| (row.name, row.change_seq)));
            })
            .unwrap();
        (changes.versions.providers, rows)
    };
    let system = AuditContext::system();
    let modify = || {
        store
            .modify_provider_by("b", None, &system, |p| p.label = "B2".into())
            .map(drop)
    };
    let replace = || store.update_provider(&provider("c", "C2"), None).map(drop);
    // An import writes its own statements: a row it leaves as it is stays unmarked.
    let import = || {
        let rows = [
            provider("a", "A2"),
            provider("b", "B3"),
            provider("c", "C2"),
        ];
        store.import_providers(&rows, false).map(drop)
    };
    type Write<'a> = &'a dyn Fn() -> Result<(), StoreError>;
    let writes: [(&[&str], Write<'_>); 3] = [
        (&["b"], &modify),
        (&["c"], &replace),
        (&["a", "b"], &import),
    ];
    for (names, write) in writes {
        let seen = store.versions().unwrap().providers;
        write().unwrap();
        let (now, rows) = changed_since(seen);
        let mut written: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
        written.sort_unstable();
        assert_eq!(
            written, names,
            "the rows written, and only they, are marked"
        );
        assert!(
            rows.iter().all(|(_, seq)| *seq > seen && *seq <= now),
            "{rows:?}"
        );
        assert_eq!(
            rows.iter().map(|(_, seq)| *seq).max(),
            Some(now),
            "{rows:?}"
        );
        assert_eq!(
            changed_since(now).1,
            Vec::new(),
            "nothing is marked above it"
        );
    }
}
