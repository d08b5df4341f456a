//! The audit history and refresh checks on both backends: every write leaves exactly the event
//! that describes it, in its transaction, and no event holds a client secret in any form.

use chrono::{Duration, Utc};
use diesel::connection::SimpleConnection;
use idp_core::{NewProvider, Provider, ProviderEndpoints, ProviderNamePolicy};
use idp_store::testing::TestDatabase;
use idp_store::{
    AuditAction, AuditContext, AuditEvent, AuditFilter, Backend, CheckOutcome, SecretBox,
    SecretKey, Store, StoreError, token_fingerprint,
};
use serde_json::{Value, json};

fn endpoints(host: &str) -> ProviderEndpoints {
    ProviderEndpoints {
        auth_url: format!("https://{host}/auth"),
        token_url: format!("https://{host}/token"),
        userinfo_url: format!("https://{host}/userinfo"),
        logout_url: String::new(),
    }
}

fn provider(name: &str, secret: &str) -> Provider {
    let body = json!({
        "provider": name,
        "client_id": "client",
        "client_secret": secret,
        "discovery_url": "https://idp.example.com/.well-known/openid-configuration",
        "label": "Label",
    });
    NewProvider::parse(&body, &ProviderNamePolicy::AnySlug)
        .unwrap_or_else(|errors| panic!("the body is refused: {errors}"))
        .into_provider(endpoints("idp.example.com"))
}

fn alice(request: &str) -> AuditContext {
    AuditContext::user("alice", Some("key-of-alice"), Some(request.to_owned()))
}

fn events(store: &Store) -> Vec<AuditEvent> {
    store.all_audit_events(None).unwrap()
}

/// The field names an event's changes list.
fn fields(event: &AuditEvent) -> Vec<String> {
    event
        .changes
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["field"].as_str().unwrap().to_owned())
        .collect()
}

fn change<'e>(event: &'e AuditEvent, field: &str) -> &'e Value {
    event
        .changes
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["field"] == field)
        .unwrap_or_else(|| panic!("{field} is not among the changes of {event:?}"))
}

/// Every stored sealed secret, and the whole audit table as text: no event may hold a secret's
/// plaintext, its sealed value, or the token key.
fn assert_no_secret_in_events(store: &Store, plaintexts: &[&str]) {
    let sealed: Vec<String> = store
        .with_connection(|conn| {
            use diesel::prelude::*;
            diesel::sql_query("SELECT client_secret FROM identity_providers")
                .load::<Sealed>(conn)
                .map(|rows| rows.into_iter().map(|row| row.client_secret).collect())
        })
        .unwrap();
    let texts: Vec<String> = store
        .with_connection(|conn| {
            use diesel::prelude::*;
            diesel::sql_query(
                "SELECT CAST(id AS TEXT) || action || provider || actor || \
                 COALESCE(actor_token, '') || COALESCE(request_id, '') || changes AS text \
                 FROM audit_events",
            )
            .load::<Text>(conn)
            .map(|rows| rows.into_iter().map(|row| row.text).collect())
        })
        .unwrap();
    assert!(!texts.is_empty(), "there are events to search");
    for text in &texts {
        for secret in plaintexts.iter().copied().chain(["key-of-alice"]) {
            assert!(!text.contains(secret), "{secret:?} in an event: {text}");
        }
        for value in &sealed {
            assert!(
                !text.contains(value.as_str()),
                "a sealed secret in an event"
            );
            // Not even the sealed value's ciphertext part.
            let tail = value.rsplit(':').next().unwrap();
            assert!(
                !text.contains(tail),
                "a sealed secret's ciphertext in an event"
            );
        }
        assert!(
            !text.contains("v1:"),
            "something sealed in an event: {text}"
        );
    }
}

#[derive(diesel::QueryableByName)]
struct Sealed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    client_secret: String,
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { super::$name(idp_store::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(idp_store::Backend::Postgres) } )* }
    };
}

on_both_backends!(
    each_write_leaves_one_event_with_its_changes,
    failed_writes_leave_no_event,
    an_event_that_cannot_be_written_undoes_its_change,
    resealing_and_imports_are_audited,
    exported_history_is_restored_once,
    events_are_filtered_paged_and_pruned,
    refreshes_write_endpoints_only_when_changed,
    failed_checks_keep_the_configuration,
);

fn each_write_leaves_one_event_with_its_changes(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();

    let created = store
        .insert_provider_by(&provider("kc", "first-secret"), &alice("req-1"))
        .unwrap();
    let trail = events(&store);
    assert_eq!(trail.len(), 1);
    let event = &trail[0];
    assert_eq!(event.action, AuditAction::Create);
    assert_eq!(event.provider, "kc");
    assert_eq!(event.actor, "alice");
    assert_eq!(
        event.actor_token.as_deref(),
        Some(token_fingerprint("key-of-alice").as_str())
    );
    assert_eq!(event.request_id.as_deref(), Some("req-1"));
    assert!(Utc::now().naive_utc() - event.occurred_at < Duration::minutes(5));
    assert_eq!(
        change(event, "label"),
        &json!({"field": "label", "before": null, "after": "Label"})
    );
    assert_eq!(
        change(event, "client_secret"),
        &json!({"field": "client_secret", "changed": true})
    );
    // Every field of the API's staff view, and the secret, appear.
    let view = created.provider.to_json(true, false);
    assert_eq!(fields(event).len(), view.as_object().unwrap().len() + 1);

    // An update names only what changed.
    let mut changed = created.provider.clone();
    changed.label = "Keycloak".into();
    changed.client_secret = "second-secret".into();
    store
        .update_provider_by(&changed, Some(created.version), &alice("req-2"))
        .unwrap();
    let trail = events(&store);
    assert_eq!(trail.len(), 2);
    let event = &trail[1];
    assert_eq!(event.action, AuditAction::Update);
    assert_eq!(event.request_id.as_deref(), Some("req-2"));
    assert_eq!(fields(event), ["label", "client_secret"]);
    assert_eq!(
        change(event, "label"),
        &json!({"field": "label", "before": "Label", "after": "Keycloak"})
    );

    // An update that changes nothing is no change, and leaves no event.
    store
        .update_provider_by(&changed, None, &alice("req-3"))
        .unwrap();
    assert_eq!(events(&store).len(), 2);

    // The secret alone: named, never shown.
    changed.client_secret = "third-secret".into();
    store.update_provider(&changed, None).unwrap();
    let trail = events(&store);
    assert_eq!(trail.len(), 3);
    assert_eq!(fields(&trail[2]), ["client_secret"]);
    assert_eq!(trail[2].actor, "system");
    assert_eq!(trail[2].actor_token, None);
    assert_no_secret_in_events(&store, &["first-secret", "second-secret", "third-secret"]);

    // A delete keeps every field's last value, and the history outlives the provider.
    store
        .delete_provider_by("kc", None, &alice("req-4"))
        .unwrap();
    let trail = events(&store);
    assert_eq!(trail.len(), 4);
    let event = &trail[3];
    assert_eq!(event.action, AuditAction::Delete);
    assert_eq!(
        change(event, "label"),
        &json!({"field": "label", "before": "Keycloak", "after": null})
    );
    assert!(trail.windows(2).all(|pair| pair[0].id < pair[1].id));
    let texts: Vec<String> = trail.iter().map(|e| e.to_json().to_string()).collect();
    for secret in [
        "first-secret",
        "second-secret",
        "third-secret",
        "key-of-alice",
    ] {
        assert!(texts.iter().all(|text| !text.contains(secret)));
    }
}

fn failed_writes_leave_no_event(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let created = store.insert_provider(&provider("kc", "s")).unwrap();
    assert_eq!(events(&store).len(), 1);
    let mut changed = created.provider.clone();
    changed.label = "Other".into();
    // Stale version, unknown provider, duplicate name, stale delete.
    assert!(matches!(
        store.update_provider_by(&changed, Some(created.version + 1), &alice("r")),
        Err(StoreError::Conflict)
    ));
    let mut missing = changed.clone();
    missing.provider = "missing".into();
    assert!(matches!(
        store.update_provider_by(&missing, None, &alice("r")),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.insert_provider_by(&provider("kc", "s"), &alice("r")),
        Err(StoreError::Duplicate)
    ));
    assert!(matches!(
        store.delete_provider_by("kc", Some(99), &alice("r")),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.delete_provider_by("missing", None, &alice("r")),
        Err(StoreError::NotFound)
    ));
    assert_eq!(events(&store).len(), 1);
    assert_eq!(store.get_provider("kc", false).unwrap().unwrap(), created);
}

fn an_event_that_cannot_be_written_undoes_its_change(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let created = store.insert_provider(&provider("kc", "s")).unwrap();
    // Make every event write fail: the change it describes must not stay either.
    store
        .with_connection(|conn| conn.batch_execute("ALTER TABLE audit_events RENAME TO audit_gone"))
        .unwrap();
    let mut changed = created.provider.clone();
    changed.label = "Other".into();
    assert!(store.update_provider(&changed, None).is_err());
    assert!(store.delete_provider("kc", None).is_err());
    assert!(store.insert_provider(&provider("new", "s")).is_err());
    assert_eq!(store.get_provider("kc", false).unwrap().unwrap(), created);
    assert!(store.get_provider("new", false).unwrap().is_none());
}

fn resealing_and_imports_are_audited(backend: Backend) {
    let db = TestDatabase::new(backend);
    let old = SecretKey::from_base64(&SecretKey::generate_base64()).unwrap();
    let store = db.store_with(SecretBox::new(old.clone(), vec![]));
    store.insert_provider(&provider("a", "secret-a")).unwrap();
    store.insert_provider(&provider("b", "secret-b")).unwrap();
    let new = SecretKey::from_base64(&SecretKey::generate_base64()).unwrap();
    let rotated = db.store_with(SecretBox::new(new, vec![old]));
    assert_eq!(rotated.reseal_secrets().unwrap(), 2);
    let trail = events(&rotated);
    let reseals: Vec<&AuditEvent> = trail
        .iter()
        .filter(|e| e.action == AuditAction::Reseal)
        .collect();
    assert_eq!(reseals.len(), 2);
    for event in &reseals {
        assert_eq!(
            event.changes,
            json!([{"field": "client_secret", "changed": true}])
        );
        assert_eq!(event.actor, "system");
    }
    // Nothing left to re-seal: no event.
    assert_eq!(rotated.reseal_secrets().unwrap(), 0);
    assert_eq!(events(&rotated).len(), 4);

    // A dry run writes nothing; a real import audits its creates and updates.
    let mut a = rotated.get_provider("a", false).unwrap().unwrap().provider;
    a.label = "Imported".into();
    let c = provider("c", "secret-c");
    rotated
        .import_providers(&[a.clone(), c.clone()], true)
        .unwrap();
    assert_eq!(events(&rotated).len(), 4);
    rotated.import_providers(&[a, c], false).unwrap();
    let trail = events(&rotated);
    assert_eq!(trail.len(), 6);
    assert_eq!(trail[4].action, AuditAction::Update);
    assert_eq!(fields(&trail[4]), ["label"]);
    assert_eq!(trail[5].action, AuditAction::Create);
    assert_no_secret_in_events(&rotated, &["secret-a", "secret-b", "secret-c"]);
}

fn exported_history_is_restored_once(backend: Backend) {
    let source = TestDatabase::new(backend);
    let store = source.store();
    let created = store
        .insert_provider_by(&provider("kc", "s"), &alice("req-1"))
        .unwrap();
    let mut changed = created.provider.clone();
    changed.label = "Changed".into();
    store
        .update_provider_by(&changed, None, &alice("req-2"))
        .unwrap();
    let exported: Vec<Value> = events(&store).iter().map(AuditEvent::to_json).collect();
    let history: Vec<AuditEvent> = exported
        .iter()
        .map(|value| AuditEvent::from_json(value).unwrap())
        .collect();

    let target_db = TestDatabase::new(backend);
    let target = target_db.store();
    target
        .import_with_history(std::slice::from_ref(&changed), &history, false)
        .unwrap();
    let trail = events(&target);
    // The two restored events, then the import's own create.
    assert_eq!(trail.len(), 3);
    for (restored, original) in trail.iter().zip(events(&store)) {
        assert_eq!(
            (
                restored.occurred_at,
                restored.action,
                &restored.actor,
                &restored.request_id
            ),
            (
                original.occurred_at,
                original.action,
                &original.actor,
                &original.request_id
            )
        );
        assert_eq!(restored.changes, original.changes);
    }
    assert_eq!(trail[2].action, AuditAction::Create);
    // Importing the same file again adds nothing: the events are held, the provider unchanged.
    target
        .import_with_history(std::slice::from_ref(&changed), &history, false)
        .unwrap();
    assert_eq!(events(&target).len(), 3);
    // Something that is not an event is not read as one.
    assert!(AuditEvent::from_json(&json!({"action": "create"})).is_none());
    assert!(
        AuditEvent::from_json(&json!({
            "occurred_at": "2026-01-01T00:00:00Z", "action": "explode", "provider": "p",
            "actor": "a", "changes": []
        }))
        .is_none()
    );
}

fn events_are_filtered_paged_and_pruned(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let bob = AuditContext::user("bob", None, None);
    store
        .insert_provider_by(&provider("a", "s"), &alice("1"))
        .unwrap();
    store.insert_provider_by(&provider("b", "s"), &bob).unwrap();
    store.delete_provider_by("a", None, &bob).unwrap();
    let filter = |provider: Option<&str>, actor: Option<&str>, action| AuditFilter {
        provider: provider.map(str::to_owned),
        actor: actor.map(str::to_owned),
        action,
        since: None,
    };
    let page = store.audit_events(&AuditFilter::default(), 0, 2).unwrap();
    assert_eq!(page.total, 3);
    // Newest first.
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].action, AuditAction::Delete);
    assert_eq!(
        store
            .audit_events(&AuditFilter::default(), 2, 2)
            .unwrap()
            .items
            .len(),
        1
    );
    let count = |filter: AuditFilter| store.audit_events(&filter, 0, 100).unwrap().total;
    assert_eq!(count(filter(Some("a"), None, None)), 2);
    assert_eq!(count(filter(None, Some("bob"), None)), 2);
    assert_eq!(count(filter(Some("a"), Some("bob"), None)), 1);
    assert_eq!(count(filter(None, None, Some(AuditAction::Create))), 2);
    assert_eq!(count(filter(None, None, Some(AuditAction::Reseal))), 0);
    assert_eq!(count(filter(Some("a\0"), None, None)), 0);
    let now = Utc::now().naive_utc();
    let since = |at| AuditFilter {
        since: Some(at),
        ..AuditFilter::default()
    };
    assert_eq!(count(since(now - Duration::hours(1))), 3);
    assert_eq!(count(since(now + Duration::hours(1))), 0);

    // Pruning removes what is older than the cut-off only.
    assert_eq!(
        store.prune_audit_events(now - Duration::hours(1)).unwrap(),
        0
    );
    assert_eq!(
        store.prune_audit_events(now + Duration::hours(1)).unwrap(),
        3
    );
    assert_eq!(count(AuditFilter::default()), 0);
}

fn refreshes_write_endpoints_only_when_changed(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let created = store.insert_provider(&provider("kc", "secret-kc")).unwrap();
    let url = created.provider.discovery_url.clone();
    let keys = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>();
    let system = AuditContext::system();

    // Same endpoints: no write, no event; the check is recorded.
    let same = store
        .apply_refresh(
            "kc",
            &url,
            &endpoints("idp.example.com"),
            &keys(&["k1"]),
            &system,
        )
        .unwrap();
    assert_eq!(same.changes, json!([]));
    assert_eq!(same.stored.version, created.version);
    assert!(!same.keys_rotated);
    assert_eq!(events(&store).len(), 1);
    let check = store.provider_check("kc").unwrap().unwrap();
    assert_eq!(check.outcome, CheckOutcome::Success);
    assert_eq!(check.jwks_key_ids, ["k1"]);
    assert_eq!(check.key_rotations, 0);
    let first_seen = check.jwks_changed_at.unwrap();

    // A moved endpoint and a rotated key.
    let moved = store
        .apply_refresh(
            "kc",
            &url,
            &endpoints("moved.example.com"),
            &keys(&["k2", "k1"]),
            &alice("r"),
        )
        .unwrap();
    assert!(moved.keys_rotated);
    assert_eq!(moved.stored.version, created.version + 1);
    assert_eq!(
        moved.stored.provider.endpoints.token_url,
        "https://moved.example.com/token"
    );
    let trail = events(&store);
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[1].action, AuditAction::Refresh);
    assert_eq!(trail[1].actor, "alice");
    assert_eq!(fields(&trail[1]), ["userinfo_url", "token_url", "auth_url"]);
    let check = store.provider_check("kc").unwrap().unwrap();
    assert_eq!(check.jwks_key_ids, ["k1", "k2"]);
    assert_eq!(check.key_rotations, 1);
    assert!(check.jwks_changed_at.unwrap() >= first_seen);
    assert_eq!(check.drift.as_array().unwrap().len(), 3);

    // The discovery URL changed while the document was read: nothing is written.
    assert!(matches!(
        store.apply_refresh("kc", "https://other/", &endpoints("x"), &[], &system),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.apply_refresh("gone", &url, &endpoints("x"), &[], &system),
        Err(StoreError::NotFound)
    ));
    assert_eq!(events(&store).len(), 2);
    assert_no_secret_in_events(&store, &["secret-kc"]);

    // The check goes with its provider.
    store.delete_provider("kc", None).unwrap();
    assert!(store.provider_check("kc").unwrap().is_none());
}

fn failed_checks_keep_the_configuration(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let created = store.insert_provider(&provider("kc", "s")).unwrap();
    let url = created.provider.discovery_url.clone();
    store
        .apply_refresh(
            "kc",
            &url,
            &endpoints("idp.example.com"),
            &["k1".to_owned()],
            &AuditContext::system(),
        )
        .unwrap();
    let good = store.provider_check("kc").unwrap().unwrap();
    let failed = store.record_check_failure("kc", "unreachable").unwrap();
    assert_eq!(failed.outcome, CheckOutcome::Failure);
    assert_eq!(failed.last_error.as_deref(), Some("unreachable"));
    assert_eq!(failed.last_success_at, good.last_success_at);
    assert_eq!(failed.jwks_key_ids, ["k1"]);
    assert_eq!(store.get_provider("kc", false).unwrap().unwrap(), created);
    assert_eq!(events(&store).len(), 1);
    assert!(matches!(
        store.record_check_failure("gone", "x"),
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.provider_checks().unwrap().len(), 1);
}
