//! The login flow's storage on both backends: transactions consumed once, exchange codes
//! redeemed once, hashed and sealed values, and the purge by injected time.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::Text;
use idp_core::login::{FieldValue, UserProfile};
use idp_store::testing::TestDatabase;
use idp_store::{
    Authentication, Backend, DbConnection, NewLoginTransaction, Purged, Store, login_hash,
};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { super::$name(idp_store::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(idp_store::Backend::Postgres) } )* }
    };
}

on_both_backends!(
    a_transaction_is_taken_once_by_its_binding_with_its_secrets_opened,
    a_state_alone_consumes_its_transaction,
    nothing_of_a_login_is_stored_in_plaintext,
    an_exchange_code_makes_one_token_that_remembers_the_login,
    an_expired_exchange_code_is_consumed_and_makes_nothing,
    the_purge_removes_only_what_expired_by_the_given_time,
    key_rotation_reseals_what_logins_sealed_so_the_old_key_can_go,
    a_test_login_is_taken_by_its_state_and_its_latest_report_kept_sealed,
);

fn at(seconds: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0)
        .unwrap_or_default()
        .naive_utc()
}

fn transaction(state: &str, binding: &str, now: NaiveDateTime) -> NewLoginTransaction {
    NewLoginTransaction {
        kind: "login".into(),
        provider: "keycloak".into(),
        state: state.into(),
        binding: binding.into(),
        nonce: "nonce-value-0123456789".into(),
        pkce_verifier: Some("verifier-value-0123456789".into()),
        return_url: Some("https://portal.example.com/x".into()),
        referrer: None,
        redirect_uri: "https://api.example.com/api-auth/keycloak/complete/".into(),
        created_at: now,
        expires_at: now + TimeDelta::minutes(10),
    }
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

#[derive(QueryableByName)]
struct Raw {
    #[diesel(sql_type = Text)]
    text: String,
}

/// Every stored text of the login tables and the tokens, as one string.
fn raw_text(store: &Store) -> String {
    let sql = "SELECT state_hash || binding_hash || nonce || COALESCE(pkce_verifier, '') AS text \
               FROM login_transactions UNION ALL \
               SELECT code_hash || COALESCE(id_token, '') AS text FROM exchange_codes UNION ALL \
               SELECT key_hash || COALESCE(id_token, '') AS text FROM api_tokens";
    store
        .with_connection(|conn: &mut DbConnection| diesel::sql_query(sql).load::<Raw>(conn))
        .unwrap()
        .into_iter()
        .map(|row| row.text)
        .collect()
}

fn a_transaction_is_taken_once_by_its_binding_with_its_secrets_opened(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    store
        .insert_login_transaction(&transaction("state-1", "binding-1", at(0)))
        .unwrap();
    assert_eq!(
        store.take_login_transaction(Some("other"), None).unwrap(),
        None
    );
    let taken = store
        .take_login_transaction(Some("binding-1"), Some("wrong-state"))
        .unwrap()
        .expect("found by its binding");
    assert_eq!(taken.state_hash, login_hash("state-1"));
    assert_eq!(taken.nonce, "nonce-value-0123456789");
    assert_eq!(
        taken.pkce_verifier.as_deref(),
        Some("verifier-value-0123456789")
    );
    assert_eq!(
        taken.return_url.as_deref(),
        Some("https://portal.example.com/x")
    );
    assert_eq!(taken.expires_at, at(600));
    assert!(!format!("{taken:?}").contains("nonce-value"));
    assert_eq!(
        store
            .take_login_transaction(Some("binding-1"), Some("state-1"))
            .unwrap(),
        None
    );
    assert_eq!(store.login_state_counts().unwrap(), (0, 0));
}

fn a_state_alone_consumes_its_transaction(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    store
        .insert_login_transaction(&transaction("state-2", "binding-2", at(0)))
        .unwrap();
    assert_eq!(
        store.take_login_transaction(None, Some("state-2")).unwrap(),
        None
    );
    assert_eq!(
        store
            .take_login_transaction(Some("binding-2"), None)
            .unwrap(),
        None
    );
}

fn nothing_of_a_login_is_stored_in_plaintext(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    store
        .insert_login_transaction(&transaction("state-3", "binding-3", at(0)))
        .unwrap();
    let id = user(&store, "ada", "ada@example.org", true);
    let code = store
        .create_exchange_code(
            id,
            "keycloak",
            Some("id.token.value"),
            at(0),
            TimeDelta::seconds(30),
        )
        .unwrap();
    let text = raw_text(&store);
    for secret in [
        "state-3",
        "binding-3",
        "nonce-value",
        "verifier-value",
        &code,
        "id.token.value",
    ] {
        assert!(!text.contains(secret), "{secret} is stored in plaintext");
    }
    let token = store
        .redeem_exchange_code(&code, at(1), None)
        .unwrap()
        .unwrap()
        .token;
    let text = raw_text(&store);
    assert!(!text.contains(&token.key) && !text.contains("id.token.value"));
}

fn an_exchange_code_makes_one_token_that_remembers_the_login(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let id = user(&store, "ada", "ada@example.org", true);
    let code = store
        .create_exchange_code(
            id,
            "keycloak",
            Some("id.token.value"),
            at(0),
            TimeDelta::seconds(30),
        )
        .unwrap();
    assert_eq!(code.len(), 32);
    assert!(
        code.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let redeemed = store
        .redeem_exchange_code(&code, at(29), Some(TimeDelta::hours(24)))
        .unwrap()
        .expect("a fresh code is redeemed");
    assert_eq!(redeemed.provider, "keycloak");
    let token = redeemed.token;
    assert_eq!(token.key.len(), 40);
    assert_eq!(token.username, "ada");
    assert_eq!(token.expires_at, Some(at(29) + TimeDelta::hours(24)));
    assert!(
        matches!(store.authenticate(&token.key).unwrap(), Authentication::User(u) if u.id == id)
    );
    let login = store
        .token_login(&token.key)
        .unwrap()
        .expect("the token exists");
    assert_eq!(login.provider.as_deref(), Some("keycloak"));
    assert_eq!(login.id_token.as_deref(), Some("id.token.value"));
    assert_eq!(
        store.redeem_exchange_code(&code, at(29), None).unwrap(),
        None,
        "replayed"
    );
    assert!(store.revoke_token(&token.key).unwrap());
    assert_eq!(store.token_login(&token.key).unwrap(), None);
}

fn an_expired_exchange_code_is_consumed_and_makes_nothing(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let id = user(&store, "ada", "ada@example.org", true);
    let code = store
        .create_exchange_code(id, "keycloak", None, at(0), TimeDelta::seconds(30))
        .unwrap();
    assert_eq!(
        store.redeem_exchange_code(&code, at(30), None).unwrap(),
        None
    );
    assert_eq!(
        store.login_state_counts().unwrap(),
        (0, 0),
        "consumed although expired"
    );
    assert_eq!(
        store
            .redeem_exchange_code("0123456789abcdef0123456789abcdef", at(0), None)
            .unwrap(),
        None
    );
}

fn the_purge_removes_only_what_expired_by_the_given_time(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let id = user(&store, "ada", "ada@example.org", true);
    store
        .insert_login_transaction(&transaction("s-old", "b-old", at(0)))
        .unwrap();
    store
        .insert_login_transaction(&transaction("s-new", "b-new", at(300)))
        .unwrap();
    store
        .create_exchange_code(id, "k", None, at(0), TimeDelta::seconds(30))
        .unwrap();
    store
        .create_exchange_code(id, "k", None, at(100), TimeDelta::seconds(30))
        .unwrap();
    assert_eq!(store.purge_login_state(at(29)).unwrap(), Purged::default());
    assert_eq!(
        store.purge_login_state(at(30)).unwrap(),
        Purged {
            transactions: 0,
            exchange_codes: 1
        }
    );
    assert_eq!(
        store.purge_login_state(at(600)).unwrap(),
        Purged {
            transactions: 1,
            exchange_codes: 1
        }
    );
    assert_eq!(store.login_state_counts().unwrap(), (1, 0));
    assert!(
        store
            .take_login_transaction(Some("b-new"), None)
            .unwrap()
            .is_some()
    );
}

/// `reseal_secrets` seals again what logins sealed (a login under way, an exchange code, a
/// login token's ID token): after it, a store holding only the new key opens all of them.
fn key_rotation_reseals_what_logins_sealed_so_the_old_key_can_go(backend: Backend) {
    use idp_store::{SecretBox, SecretKey};
    let key = || SecretKey::from_base64(&SecretKey::generate_base64()).unwrap();
    let (old, new) = (key(), key());
    let db = TestDatabase::new(backend);
    let before = db.store_with(SecretBox::new(old.clone(), vec![]));
    before.migrate().unwrap();
    let id = user(&before, "ada", "ada@example.org", true);
    before
        .insert_login_transaction(&transaction("state-1", "binding-1", at(0)))
        .unwrap();
    let pending = before
        .create_exchange_code(
            id,
            "keycloak",
            Some("id.token.pending"),
            at(0),
            TimeDelta::hours(1),
        )
        .unwrap();
    let redeemed = before
        .create_exchange_code(
            id,
            "keycloak",
            Some("id.token.kept"),
            at(0),
            TimeDelta::hours(1),
        )
        .unwrap();
    let token = before
        .redeem_exchange_code(&redeemed, at(1), None)
        .unwrap()
        .expect("redeemed")
        .token;
    before
        .save_test_login_report("keycloak", r#"{"n":1}"#, at(1), "passed")
        .unwrap();

    let rotating = db.store_with(SecretBox::new(new.clone(), vec![old]));
    assert_eq!(rotating.reseal_secrets().unwrap(), 4);
    assert_eq!(
        rotating.reseal_secrets().unwrap(),
        0,
        "nothing left to re-seal"
    );

    let after = db.store_with(SecretBox::new(new, vec![]));
    let login = after
        .token_login(&token.key)
        .unwrap()
        .expect("the token exists");
    assert_eq!(login.id_token.as_deref(), Some("id.token.kept"));
    let taken = after
        .take_login_transaction(Some("binding-1"), None)
        .unwrap()
        .expect("the transaction is there");
    assert_eq!(taken.nonce, "nonce-value-0123456789");
    assert_eq!(
        taken.pkce_verifier.as_deref(),
        Some("verifier-value-0123456789")
    );
    let pending = after
        .redeem_exchange_code(&pending, at(2), None)
        .unwrap()
        .expect("the code is there");
    let login = after.token_login(&pending.token.key).unwrap().unwrap();
    assert_eq!(login.id_token.as_deref(), Some("id.token.pending"));
    assert_eq!(
        after.test_login_report("keycloak").unwrap().unwrap().0,
        r#"{"n":1}"#
    );
}

fn a_test_login_is_taken_by_its_state_and_its_latest_report_kept_sealed(backend: Backend) {
    let db = TestDatabase::new(backend);
    let store = db.store();
    let mut test = transaction("test-state", "test-binding", at(0));
    test.kind = "test".into();
    let staff = idp_store::AuditContext::user("ada", Some("token-key"), Some("req-1".into()));
    store.begin_test_login(&test, &staff).unwrap();
    store
        .insert_login_transaction(&transaction("login-state", "login-binding", at(0)))
        .unwrap();
    // A login transaction is never taken as a test one.
    assert_eq!(store.take_test_transaction("login-state").unwrap(), None);
    let taken = store.take_test_transaction("test-state").unwrap().unwrap();
    assert_eq!(taken.kind, "test");
    assert_eq!(taken.nonce, "nonce-value-0123456789");
    assert_eq!(store.take_test_transaction("test-state").unwrap(), None);
    assert_eq!(store.login_state_counts().unwrap(), (1, 0));

    assert_eq!(store.test_login_report("keycloak").unwrap(), None);
    store
        .save_test_login_report(
            "keycloak",
            r#"{"n":1,"email":"first@example.org"}"#,
            at(1),
            "failed",
        )
        .unwrap();
    store
        .save_test_login_report(
            "keycloak",
            r#"{"n":2,"email":"second@example.org"}"#,
            at(2),
            "passed",
        )
        .unwrap();
    let (report, when) = store.test_login_report("keycloak").unwrap().unwrap();
    assert_eq!(
        (report.as_str(), when),
        (r#"{"n":2,"email":"second@example.org"}"#, at(2))
    );
    let raw: Vec<Raw> = store
        .with_connection(|conn: &mut DbConnection| {
            diesel::sql_query("SELECT report AS text FROM test_login_reports").load::<Raw>(conn)
        })
        .unwrap();
    assert_eq!(raw.len(), 1);
    assert!(!raw[0].text.contains("example.org"), "the report is sealed");

    // The test login's trail: begun by the staff user, then each end with its outcome.
    let filter = idp_store::AuditFilter {
        action: Some(idp_store::AuditAction::TestLogin),
        ..Default::default()
    };
    let events = store.audit_events(&filter, 0, 10).unwrap();
    let trail: Vec<(String, String, Option<String>, serde_json::Value)> = events
        .items
        .iter()
        .rev()
        .map(|event| {
            (
                event.provider.clone(),
                event.actor.clone(),
                event.request_id.clone(),
                event.changes[0]["after"].clone(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            (
                "keycloak".into(),
                "ada".into(),
                Some("req-1".into()),
                "begun".into()
            ),
            ("keycloak".into(), "system".into(), None, "failed".into()),
            ("keycloak".into(), "system".into(), None, "passed".into()),
        ]
    );
    for event in &events.items {
        assert!(!event.to_json().to_string().contains("example.org"));
    }
}
