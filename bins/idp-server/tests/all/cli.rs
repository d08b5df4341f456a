//! The `idp-server` binary as an operator uses it: first start, tokens, a full CRUD round with
//! the printed token, graceful shutdown, export and import, and `inspect`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use idp_store::Backend;
use idp_store::testing::TestDatabase;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common;

use common::{Server, free_port, serve_discovery};

const BIN: &str = env!("CARGO_BIN_EXE_idp-server");
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The environment of every command: the database, a fixed key, loopback discovery allowed.
fn command(db: &TestDatabase) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IDP_DATABASE_URL", db.url_string())
        .env("IDP_SECRET_KEY", KEY)
        .env("IDP_DISCOVERY_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("RUST_LOG", "warn");
    command
}

fn run(mut command: Command) -> Output {
    let output = command.output().expect("idp-server runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Starts the server on a fresh database and returns it with the admin key it printed.
fn start(db: &TestDatabase) -> (Server, String) {
    let (server, key) = Server::start(command(db), true, Stdio::null());
    (server, key.expect("the first start prints the admin key"))
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(idp_store::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(idp_store::Backend::Postgres).await } )* }
    };
}

on_both_backends!(
    first_start_prints_an_admin_token_that_creates_lists_updates_and_deletes,
    sigterm_lets_in_flight_requests_finish_then_exits_zero,
    token_create_prints_a_key_that_revoke_ends,
    export_then_import_into_an_empty_database_reproduces_every_provider,
    export_with_history_carries_the_audit_events_and_import_keeps_them,
);

async fn first_start_prints_an_admin_token_that_creates_lists_updates_and_deletes(
    backend: Backend,
) {
    let db = TestDatabase::new(backend);
    let idp = MockServer::start().await;
    let url = serve_discovery(&idp, "corp").await;
    let (server, admin_key) = start(&db);
    let http = reqwest::Client::new();
    let auth = format!("Token {admin_key}");
    let collection = format!("{}/api/identity-providers/", server.base);
    let body = json!({"provider": "corp", "label": "Corp", "client_id": "c", "client_secret": "s", "discovery_url": url});
    let created = http
        .post(&collection)
        .header("Authorization", &auth)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let list: Value = http
        .get(&collection)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["provider"], "corp");
    let one = format!("{collection}corp/");
    let patched = http
        .patch(&one)
        .header("Authorization", &auth)
        .json(&json!({"label": "C"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(
        http.delete(&one)
            .header("Authorization", &auth)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert!(server.terminate().success());
    // A second start finds the staff user and prints no new key.
    let output = run({
        let mut c = command(&db);
        c.arg("migrate");
        c
    });
    assert!(output.stdout.is_empty());
}

async fn sigterm_lets_in_flight_requests_finish_then_exits_zero(backend: Backend) {
    let db = TestDatabase::new(backend);
    let idp = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/slow/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(1500))
                .set_body_json(
                    json!({"claims_supported": ["email"], "scopes_supported": ["openid", "email"]}),
                ),
        )
        .mount(&idp)
        .await;
    let (server, admin_key) = start(&db);
    let url = format!("{}/api/identity-providers/generate-mapping/", server.base);
    let auth = format!("Token {admin_key}");
    let mut in_flight = Vec::new();
    for i in 0..8 {
        // Distinct URLs, so that no two requests share one fetch.
        let body = json!({"discovery_url": format!("{}/slow/.well-known/openid-configuration?n={i}", idp.uri())});
        let request = reqwest::Client::new()
            .post(&url)
            .header("Authorization", &auth)
            .json(&body)
            .send();
        in_flight.push(tokio::spawn(request));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopping = tokio::task::spawn_blocking(move || server.terminate());
    for request in in_flight {
        let response = request
            .await
            .unwrap()
            .expect("an in-flight request is answered");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap()["attribute_mapping"],
            json!({"email": "email"})
        );
    }
    let status = stopping.await.unwrap();
    assert!(status.success(), "exit status {status:?}");
}

async fn token_create_prints_a_key_that_revoke_ends(backend: Backend) {
    let db = TestDatabase::new(backend);
    let output = run({
        let mut c = command(&db);
        c.args([
            "token",
            "create",
            "--username",
            "ops",
            "--staff",
            "--expires-in",
            "30",
        ]);
        c
    });
    let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(key.len(), 40);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    let store = db.store_with(idp_store::SecretBox::new(
        idp_store::SecretKey::from_base64(KEY).unwrap(),
        vec![],
    ));
    assert!(
        matches!(store.authenticate(&key).unwrap(), idp_store::Authentication::User(u) if u.is_staff)
    );
    run({
        let mut c = command(&db);
        c.args(["token", "revoke", &key]);
        c
    });
    assert_eq!(
        store.authenticate(&key).unwrap(),
        idp_store::Authentication::Invalid
    );
    let again = command(&db)
        .args(["token", "revoke", &key])
        .output()
        .unwrap();
    assert!(!again.status.success());
}

async fn export_then_import_into_an_empty_database_reproduces_every_provider(backend: Backend) {
    let source = TestDatabase::new(backend);
    let idp = MockServer::start().await;
    let (server, admin_key) = start(&source);
    let http = reqwest::Client::new();
    let auth = format!("Token {admin_key}");
    let collection = format!("{}/api/identity-providers/", server.base);
    for (name, extra) in [
        (
            "keycloak",
            json!({"attribute_mapping": {"email": "mail"}, "allowed_redirects": ["https://portal.example.com"]}),
        ),
        ("eduteams", json!({"is_active": false, "extra_scope": null})),
        (
            "generic",
            json!({"protected_fields": ["email"], "enable_pkce": true}),
        ),
    ] {
        let mut body = json!({"provider": name, "label": name.to_uppercase(), "client_id": "c", "client_secret": format!("{name}-s3cret"), "discovery_url": serve_discovery(&idp, name).await});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let response = http
            .post(&collection)
            .header("Authorization", &auth)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }
    let original: Value = http
        .get(&collection)
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("providers.json");
    run({
        let mut c = command(&source);
        c.args(["providers", "export", "--with-secrets", "--output"])
            .arg(&file);
        c
    });
    let target = TestDatabase::new(backend);
    let dry = run(import(&target, &file, true));
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout)
            .matches("created")
            .count(),
        3
    );
    let output = run(import(&target, &file, false));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .matches("created")
            .count(),
        3
    );
    let store = target.store_with(idp_store::SecretBox::new(
        idp_store::SecretKey::from_base64(KEY).unwrap(),
        vec![],
    ));
    let imported: Vec<Value> = store
        .all_providers()
        .unwrap()
        .iter()
        .map(|p| p.provider.to_json(true, true))
        .collect();
    assert_eq!(Value::Array(imported), original);
    let again = run(import(&target, &file, false));
    assert_eq!(
        String::from_utf8_lossy(&again.stdout)
            .matches("unchanged")
            .count(),
        3
    );

    // Without secrets, new providers cannot be created: nothing at all is written.
    let plain = dir.path().join("plain.json");
    run({
        let mut c = command(&source);
        c.args(["providers", "export", "--output"]).arg(&plain);
        c
    });
    let empty = TestDatabase::new(backend);
    let refused = import(&empty, &plain, false).output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("no client secret: the file was exported without --with-secrets")
            && stderr.contains("--secrets FILE"),
        "{stderr}"
    );
    let store = empty.store_with(idp_store::SecretBox::new(
        idp_store::SecretKey::from_base64(KEY).unwrap(),
        vec![],
    ));
    assert!(store.all_providers().unwrap().is_empty());

    // A secrets file that misses one provider still refuses the whole file, naming it; a
    // malformed one is refused without quoting it.
    let secrets = dir.path().join("secrets.json");
    std::fs::write(
        &secrets,
        json!({"keycloak": "keycloak-s3cret", "eduteams": "eduteams-s3cret"}).to_string(),
    )
    .unwrap();
    let partial = import(&empty, &plain, false)
        .arg("--secrets")
        .arg(&secrets)
        .output()
        .unwrap();
    assert!(!partial.status.success());
    let stderr = String::from_utf8_lossy(&partial.stderr);
    assert!(stderr.contains("(generic): no client secret"), "{stderr}");
    assert!(!stderr.contains("keycloak)"), "{stderr}");
    std::fs::write(&secrets, "{\"keycloak\": 42, \"x\": \"leak-me\"}").unwrap();
    let malformed = import(&empty, &plain, false)
        .arg("--secrets")
        .arg(&secrets)
        .output()
        .unwrap();
    assert!(!malformed.status.success());
    let stderr = String::from_utf8_lossy(&malformed.stderr);
    assert!(
        stderr.contains("is not a string") && !stderr.contains("leak-me"),
        "{stderr}"
    );
    assert!(store.all_providers().unwrap().is_empty());

    // With every secret given, the export without secrets reproduces the providers.
    std::fs::write(
        &secrets,
        json!({"keycloak": "keycloak-s3cret", "eduteams": "eduteams-s3cret",
               "generic": "generic-s3cret"})
        .to_string(),
    )
    .unwrap();
    let mut with_secrets = import(&empty, &plain, false);
    with_secrets.arg("--secrets").arg(&secrets);
    let output = run(with_secrets);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .matches("created")
            .count(),
        3
    );
    let imported: Vec<Value> = store
        .all_providers()
        .unwrap()
        .iter()
        .map(|p| p.provider.to_json(true, true))
        .collect();
    assert_eq!(Value::Array(imported), original);
}

async fn export_with_history_carries_the_audit_events_and_import_keeps_them(backend: Backend) {
    let source = TestDatabase::new(backend);
    let key = || idp_store::SecretBox::new(idp_store::SecretKey::from_base64(KEY).unwrap(), vec![]);
    let store = source.store_with(key());
    let body = json!({
        "provider": "kc", "client_id": "c", "client_secret": "history-s3cret", "label": "K",
        "discovery_url": "https://idp.example.com/.well-known/openid-configuration",
    });
    let provider = idp_core::NewProvider::parse(&body, &idp_core::ProviderNamePolicy::AnySlug)
        .unwrap()
        .into_provider(idp_core::ProviderEndpoints {
            auth_url: "https://idp.example.com/auth".into(),
            token_url: "https://idp.example.com/token".into(),
            userinfo_url: "https://idp.example.com/userinfo".into(),
            logout_url: String::new(),
        });
    let alice = idp_store::AuditContext::user("alice", Some("alice-key"), Some("r-1".into()));
    store.insert_provider_by(&provider, &alice).unwrap();
    let mut changed = provider.clone();
    changed.label = "Keycloak".into();
    changed.client_secret = "rotated-s3cret".into();
    store.update_provider_by(&changed, None, &alice).unwrap();
    let original = store.all_audit_events(None).unwrap();
    assert_eq!(original.len(), 2);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    run({
        let mut c = command(&source);
        c.args([
            "providers",
            "export",
            "--with-secrets",
            "--with-history",
            "--output",
        ])
        .arg(&file);
        c
    });
    let text = std::fs::read_to_string(&file).unwrap();
    let exported: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(exported["providers"].as_array().unwrap().len(), 1);
    assert_eq!(exported["history"].as_array().unwrap().len(), 2);
    // The history names the secret's change, never its value (the providers carry it, as asked).
    let history = exported["history"].to_string();
    for secret in ["history-s3cret", "rotated-s3cret", "alice-key"] {
        assert!(
            !history.contains(secret),
            "{secret} in the exported history"
        );
    }

    let target = TestDatabase::new(backend);
    run(import(&target, &file, true));
    let restored = target.store_with(key());
    assert!(
        restored.all_audit_events(None).unwrap().is_empty(),
        "a dry run writes nothing"
    );
    run(import(&target, &file, false));
    let events = restored.all_audit_events(None).unwrap();
    assert_eq!(
        events.len(),
        3,
        "the two exported events, then the import's create"
    );
    for (kept, original) in events.iter().zip(&original) {
        assert_eq!(kept.occurred_at, original.occurred_at);
        assert_eq!(kept.action, original.action);
        assert_eq!(kept.actor, "alice");
        assert_eq!(kept.actor_token, original.actor_token);
        assert_eq!(kept.request_id.as_deref(), Some("r-1"));
        assert_eq!(kept.changes, original.changes);
    }
    assert_eq!(events[2].actor, "system");
    // Imported again: nothing new.
    run(import(&target, &file, false));
    assert_eq!(restored.all_audit_events(None).unwrap().len(), 3);

    // A history entry that is not an event refuses the whole file.
    let bad = dir.path().join("bad.json");
    let mut broken = exported.clone();
    broken["history"][0]["action"] = json!("explode");
    std::fs::write(&bad, broken.to_string()).unwrap();
    let empty = TestDatabase::new(backend);
    let refused = import(&empty, &bad, false).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("history entry 0"));
}

fn import(db: &TestDatabase, file: &Path, dry_run: bool) -> Command {
    let mut c = command(db);
    c.args(["providers", "import"]).arg(file);
    if dry_run {
        c.arg("--dry-run");
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_have_one_line_per_request_with_its_route_status_latency_and_id() {
    let db = TestDatabase::new(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let port = free_port();
    let mut child = command(&db)
        .env("IDP_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let response = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/api/identity-providers/missing/"
        ))
        .header("X-Request-Id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["request_id"] == "req-42")
        .collect();
    assert_eq!(requests.len(), 1, "{text}");
    let line = requests[0];
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/api/identity-providers/{provider}/");
    assert_eq!(line["status"], 404);
    assert!(line["latency_ms"].is_f64(), "a number: {line}");
    assert!(text.contains("admin"), "the start-up is logged too");
    assert!(
        !text
            .lines()
            .any(|l| l.len() == 40 && l.bytes().all(|b| b.is_ascii_hexdigit()))
    );
}
