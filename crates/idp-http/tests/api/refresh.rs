//! Refresh and status: a loopback provider whose discovery document and key set change between
//! refreshes (endpoint moved, key rotated, document broken, then restored); the background
//! refresher's rounds run on demand, one instance at a time; metrics of the outcomes.

use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{As, TestApp, idp_document, spawn_app, status_and_json};
use crate::on_both_backends;
use idp_http::{ApiSettings, AppState, RefreshSettings, Refresher};
use idp_oidc::{DiscoveryClient, FetchPolicy};
use idp_store::testing::TestDatabase;
use idp_store::{AuditAction, AuditEvent, Backend, SecretBox, SecretKey};

on_both_backends!(
    refresh_follows_a_changing_document,
    refresh_and_status_are_for_staff_and_known_providers,
    a_round_refreshes_active_providers_as_system_and_prunes_old_events,
    metrics_count_refresh_outcomes_and_key_rotations,
);

/// Serves `document` as the discovery document of `name` and a key set with `kids`, replacing
/// whatever the loopback provider served before.
async fn serve(
    app: &TestApp,
    name: &str,
    document: Option<Value>,
    body: Option<&str>,
    kids: &[&str],
) {
    app.idp.reset().await;
    let route = format!("/{name}/.well-known/openid-configuration");
    let response = match (document, body) {
        (Some(document), _) => ResponseTemplate::new(200).set_body_json(document),
        (None, Some(body)) => ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string(body),
        (None, None) => ResponseTemplate::new(404),
    };
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(response)
        .mount(&app.idp)
        .await;
    let keys: Vec<Value> = kids
        .iter()
        .map(|kid| json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"}))
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/{name}/certs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": keys})))
        .mount(&app.idp)
        .await;
}

async fn post_refresh(app: &TestApp, name: &str) -> (u16, Value) {
    status_and_json(
        app.request(
            Method::POST,
            &format!("/api/identity-providers/{name}/refresh/"),
            As::Token(&app.staff),
            None,
        )
        .await,
    )
    .await
}

async fn get_status(app: &TestApp, name: &str) -> Value {
    let (status, body) = status_and_json(
        app.get_staff(&format!("/api/identity-providers/{name}/status/"))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    body
}

fn events(app: &TestApp) -> Vec<AuditEvent> {
    app.store.all_audit_events(Some("kc")).unwrap()
}

async fn refresh_follows_a_changing_document(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = app.idp.uri();
    serve(&app, "kc", Some(idp_document(&base, "kc")), None, &["k1"]).await;
    let created = app.create_provider("kc", "Keycloak").await;
    // create_provider mounted its own document; serve ours (the same) with keys.
    serve(&app, "kc", Some(idp_document(&base, "kc")), None, &["k1"]).await;

    // Never checked.
    let status = get_status(&app, "kc").await;
    assert_eq!(status["checked_at"], Value::Null);
    assert_eq!(status["outcome"], Value::Null);

    // Nothing changed: nothing written, no event; the keys are recorded.
    let (code, body) = post_refresh(&app, "kc").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["changes"], json!([]));
    assert_eq!(body["keys_rotated"], false);
    assert_eq!(body["status"]["jwks_key_ids"], json!(["k1"]));
    assert_eq!(body["status"]["outcome"], "success");
    assert_eq!(events(&app).len(), 1);
    let version = app
        .store
        .get_provider("kc", false)
        .unwrap()
        .unwrap()
        .version;

    // The token endpoint moved and the key rotated.
    let mut moved = idp_document(&base, "kc");
    moved["token_endpoint"] = json!(format!("{base}/kc/v2/token"));
    serve(&app, "kc", Some(moved), None, &["k2"]).await;
    let (code, body) = post_refresh(&app, "kc").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["changes"],
        json!([{"field": "token_url", "before": format!("{base}/kc/token"), "after": format!("{base}/kc/v2/token")}])
    );
    assert_eq!(body["keys_rotated"], true);
    let (_, provider) = status_and_json(app.get_staff("/api/identity-providers/kc/").await).await;
    assert_eq!(provider["token_url"], json!(format!("{base}/kc/v2/token")));
    // The provider's body keeps the reference's keys.
    assert_eq!(
        provider.as_object().unwrap().len(),
        created.as_object().unwrap().len()
    );
    let trail = events(&app);
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[1].action, AuditAction::Refresh);
    assert_eq!(trail[1].actor, "staff");
    let status = get_status(&app, "kc").await;
    assert_eq!(status["jwks_key_ids"], json!(["k2"]));
    assert_eq!(status["key_rotations"], 1);
    assert_eq!(status["drift"][0]["field"], "token_url");
    let good = app.store.get_provider("kc", false).unwrap().unwrap();
    assert_eq!(good.version, version + 1);

    // Each failure is recorded, answered 400, and changes neither the provider nor the trail.
    let mut lost = idp_document(&base, "kc");
    lost.as_object_mut().unwrap().remove("token_endpoint");
    let mut refused = idp_document(&base, "kc");
    refused["jwks_uri"] = json!("http://169.254.169.254/latest/keys");
    let mut private = idp_document(&base, "kc");
    private["jwks_uri"] = json!("http://10.1.2.3/keys");
    let failures: Vec<(Option<Value>, Option<&str>)> = vec![
        (None, Some("this is not JSON")),
        (None, Some("[1, 2]")),
        (Some(lost), None),
        (Some(refused), None),
        (Some(private), None),
        (None, None),
    ];
    for (document, body) in failures {
        serve(&app, "kc", document, body, &["k3"]).await;
        let (code, answer) = post_refresh(&app, "kc").await;
        assert_eq!(code, 400, "{answer}");
        assert!(answer["detail"].as_str().is_some_and(|d| !d.is_empty()));
        let status = get_status(&app, "kc").await;
        assert_eq!(status["outcome"], "failure");
        assert_eq!(status["last_error"], answer["detail"]);
        assert_eq!(
            status["jwks_key_ids"],
            json!(["k2"]),
            "the last good keys are kept"
        );
        assert!(status["last_success_at"].is_string());
        assert_eq!(app.store.get_provider("kc", false).unwrap().unwrap(), good);
        assert_eq!(events(&app).len(), 2);
    }
    // The unreachable key set: the document is fine, its jwks_uri answers 404.
    app.idp.reset().await;
    Mock::given(method("GET"))
        .and(path("/kc/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(idp_document(&base, "kc")))
        .mount(&app.idp)
        .await;
    let (code, _) = post_refresh(&app, "kc").await;
    assert_eq!(code, 400);
    assert_eq!(app.store.get_provider("kc", false).unwrap().unwrap(), good);

    // Restored: the endpoint moves back, the failure is cleared.
    serve(&app, "kc", Some(idp_document(&base, "kc")), None, &["k2"]).await;
    let (code, body) = post_refresh(&app, "kc").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["changes"][0]["after"],
        json!(format!("{base}/kc/token"))
    );
    assert_eq!(body["keys_rotated"], false);
    let status = get_status(&app, "kc").await;
    assert_eq!(status["outcome"], "success");
    assert_eq!(status["last_error"], Value::Null);
    assert_eq!(events(&app).len(), 3);
}

async fn refresh_and_status_are_for_staff_and_known_providers(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("kc", "Keycloak").await;
    for (method, path) in [
        (Method::POST, "/api/identity-providers/kc/refresh/"),
        (Method::GET, "/api/identity-providers/kc/status/"),
    ] {
        let anonymous = app.request(method.clone(), path, As::Anonymous, None).await;
        assert_eq!(anonymous.status(), 401);
        let user = app
            .request(method.clone(), path, As::Token(&app.user), None)
            .await;
        assert_eq!(user.status(), 403);
        let unknown = path.replace("/kc/", "/nope/");
        let (status, body) = status_and_json(
            app.request(method, &unknown, As::Token(&app.staff), None)
                .await,
        )
        .await;
        assert_eq!(status, 404);
        assert!(body["detail"].is_string());
    }
    let wrong = app
        .request(
            Method::GET,
            "/api/identity-providers/kc/refresh/",
            As::Token(&app.staff),
            None,
        )
        .await;
    assert_eq!(wrong.status(), 405);
    assert!(app.store.provider_check("kc").unwrap().is_none());
}

fn state_for(app: &TestApp, settings: ApiSettings) -> AppState {
    let policy = FetchPolicy {
        allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..FetchPolicy::default()
    };
    AppState {
        store: app.store.clone(),
        discovery: DiscoveryClient::new(policy),
        settings,
    }
}

async fn a_round_refreshes_active_providers_as_system_and_prunes_old_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = app.idp.uri();
    app.create_provider("kc", "Keycloak").await;
    app.create_provider("off", "Inactive").await;
    let response = app
        .request(
            Method::PATCH,
            "/api/identity-providers/off/",
            As::Token(&app.staff),
            Some(&json!({"is_active": false})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut moved = idp_document(&base, "kc");
    moved["userinfo_endpoint"] = json!(format!("{base}/kc/v2/userinfo"));
    serve(&app, "kc", Some(moved), None, &["k1"]).await;

    // An event from long ago, as an import of an old export would bring.
    let old = AuditEvent::from_json(&json!({
        "occurred_at": "2001-01-01T00:00:00Z", "action": "update", "provider": "kc",
        "actor": "someone", "changes": [{"field": "label", "before": "a", "after": "b"}],
    }))
    .unwrap();
    let kc = app
        .store
        .get_provider("kc", false)
        .unwrap()
        .unwrap()
        .provider;
    app.store.import_with_history(&[kc], &[old], false).unwrap();

    let settings = ApiSettings {
        refresh: RefreshSettings {
            interval: None,
            audit_retention: Some(std::time::Duration::from_secs(30 * 86_400)),
        },
        ..ApiSettings::default()
    };
    let report = Refresher::new(state_for(&app, settings), None)
        .run_round()
        .await;
    assert!(report.ran);
    assert_eq!((report.succeeded, report.failed, report.pruned), (1, 0, 1));
    let refreshed = app.store.get_provider("kc", false).unwrap().unwrap();
    assert_eq!(
        refreshed.provider.endpoints.userinfo_url,
        format!("{base}/kc/v2/userinfo")
    );
    let trail = app.store.all_audit_events(Some("kc")).unwrap();
    let last = trail.last().unwrap();
    assert_eq!(
        (last.action, last.actor.as_str()),
        (AuditAction::Refresh, "system")
    );
    assert!(
        trail.iter().all(|e| e.actor != "someone"),
        "the old event was pruned"
    );
    // The inactive provider was not checked.
    assert!(app.store.provider_check("off").unwrap().is_none());
    // Without a retention, nothing is pruned.
    let report = Refresher::new(state_for(&app, ApiSettings::default()), None)
        .run_round()
        .await;
    assert_eq!((report.ran, report.succeeded, report.pruned), (true, 1, 0));
}

async fn metrics_count_refresh_outcomes_and_key_rotations(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = app.idp.uri();
    app.create_provider("kc", "Keycloak").await;
    serve(&app, "kc", Some(idp_document(&base, "kc")), None, &["k1"]).await;
    assert_eq!(post_refresh(&app, "kc").await.0, 200);
    serve(&app, "kc", Some(idp_document(&base, "kc")), None, &["k2"]).await;
    assert_eq!(post_refresh(&app, "kc").await.0, 200);
    serve(&app, "kc", None, Some("broken"), &[]).await;
    assert_eq!(post_refresh(&app, "kc").await.0, 400);
    let metrics = app
        .request(Method::GET, "/metrics", As::Anonymous, None)
        .await
        .text()
        .await
        .unwrap();
    for line in [
        "idp_provider_refresh_total{outcome=\"success\",provider=\"kc\"} 2",
        "idp_provider_refresh_total{outcome=\"failure\",provider=\"kc\"} 1",
        "idp_provider_key_rotations{provider=\"kc\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in:\n{metrics}"
        );
    }
    let age = metrics
        .lines()
        .find(|l| l.starts_with("idp_provider_last_good_check_age_seconds{provider=\"kc\"}"))
        .unwrap_or_else(|| panic!("no check age in:\n{metrics}"));
    let seconds: f64 = age.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(seconds >= 0.0);
}

/// Three instances on one PostgreSQL database: while one holds the refresh lock, the others'
/// rounds do nothing; once it is released, the next round runs. (On SQLite every instance may
/// refresh; a refresh writes only what changed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_postgres_refresh_one_at_a_time() {
    let db = tokio::task::spawn_blocking(|| TestDatabase::new(Backend::Postgres))
        .await
        .unwrap();
    let key = SecretKey::from_base64(&SecretKey::generate_base64()).unwrap();
    let stores: Vec<_> = (0..3)
        .map(|_| db.store_with(SecretBox::new(key.clone(), vec![])))
        .collect();
    let idp = wiremock::MockServer::start().await;
    let base = idp.uri();
    Mock::given(method("GET"))
        .and(path("/kc/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(idp_document(&base, "kc")))
        .mount(&idp)
        .await;
    Mock::given(method("GET"))
        .and(path("/kc/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": []})))
        .mount(&idp)
        .await;
    let body = json!({
        "provider": "kc", "client_id": "c", "client_secret": "s", "label": "K",
        "discovery_url": format!("{base}/kc/.well-known/openid-configuration"),
    });
    let provider = idp_core::NewProvider::parse(&body, &idp_core::ProviderNamePolicy::AnySlug)
        .unwrap()
        .into_provider(idp_core::ProviderEndpoints {
            auth_url: "http://old/auth".into(),
            token_url: "http://old/token".into(),
            userinfo_url: "http://old/userinfo".into(),
            logout_url: String::new(),
        });
    stores[0].insert_provider(&provider).unwrap();
    let policy = FetchPolicy {
        allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..FetchPolicy::default()
    };
    let refreshers: Vec<Refresher> = stores
        .iter()
        .map(|store| {
            Refresher::new(
                AppState {
                    store: store.clone(),
                    discovery: DiscoveryClient::new(policy.clone()),
                    settings: ApiSettings::default(),
                },
                None,
            )
        })
        .collect();

    let held = stores[0]
        .try_refresh_lock()
        .unwrap()
        .expect("the lock is free");
    assert!(stores[1].try_refresh_lock().unwrap().is_none());
    let (b, c) = tokio::join!(refreshers[1].run_round(), refreshers[2].run_round());
    assert!(
        !b.ran && !c.ran,
        "no round while another instance holds the lock"
    );
    assert!(stores[0].provider_check("kc").unwrap().is_none());
    assert!(idp.received_requests().await.unwrap().is_empty());
    drop(held);

    // Released: of rounds started together, one holds the lock while the others skip or run
    // after it; whichever ran first wrote the endpoints, and no later one found anything to
    // write.
    let (a, b, c) = tokio::join!(
        refreshers[0].run_round(),
        refreshers[1].run_round(),
        refreshers[2].run_round()
    );
    let ran = [&a, &b, &c].iter().filter(|r| r.ran).count();
    assert!(ran >= 1, "{a:?} {b:?} {c:?}");
    let refreshes = stores[0]
        .all_audit_events(Some("kc"))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::Refresh)
        .count();
    assert_eq!(refreshes, 1, "the endpoints were written once");
    // And the lock is free again afterwards.
    assert!(stores[2].try_refresh_lock().unwrap().is_some());
}

/// A loopback provider whose discovery document is answered only once the test opens the gate:
/// it reports each request for the document as it arrives, and the most it held at once.
struct GatedProvider {
    base: String,
    arrived: tokio::sync::mpsc::UnboundedReceiver<()>,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
    most_held: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl GatedProvider {
    async fn start() -> Self {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tell, arrived) = tokio::sync::mpsc::unbounded_channel();
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let most_held = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(AtomicUsize::new(0));
        let document = idp_document(&base, "kc").to_string();
        let (gate2, most2) = (gate.clone(), most_held.clone());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let (tell, gate, most, held) =
                    (tell.clone(), gate2.clone(), most2.clone(), held.clone());
                let document = document.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        let read = socket.read(&mut buffer).await.unwrap_or(0);
                        if read == 0 {
                            return;
                        }
                        head.extend_from_slice(&buffer[..read]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let body = if head.starts_with("GET /kc/.well-known/openid-configuration") {
                        let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        let _ = tell.send(());
                        gate.acquire().await.unwrap().forget();
                        held.fetch_sub(1, Ordering::SeqCst);
                        document
                    } else {
                        json!({"keys": []}).to_string()
                    };
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self {
            base,
            arrived,
            gate,
            most_held,
        }
    }
}

/// Three instances on one PostgreSQL database start a round together while the provider holds
/// its answer: exactly one is refreshing (its request is held), the other two have finished
/// without refreshing; once the answer is let through, that one round completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_postgres_start_a_round_together_and_one_refreshes() {
    let db = tokio::task::spawn_blocking(|| TestDatabase::new(Backend::Postgres))
        .await
        .unwrap();
    let key = SecretKey::from_base64(&SecretKey::generate_base64()).unwrap();
    let stores: Vec<_> = (0..3)
        .map(|_| db.store_with(SecretBox::new(key.clone(), vec![])))
        .collect();
    let mut idp = GatedProvider::start().await;
    let body = json!({
        "provider": "kc", "client_id": "c", "client_secret": "s", "label": "K",
        "discovery_url": format!("{}/kc/.well-known/openid-configuration", idp.base),
    });
    let provider = idp_core::NewProvider::parse(&body, &idp_core::ProviderNamePolicy::AnySlug)
        .unwrap()
        .into_provider(idp_core::ProviderEndpoints {
            auth_url: "http://old/auth".into(),
            token_url: "http://old/token".into(),
            userinfo_url: "http://old/userinfo".into(),
            logout_url: String::new(),
        });
    stores[0].insert_provider(&provider).unwrap();
    let policy = FetchPolicy {
        allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..FetchPolicy::default()
    };
    let (done, mut reports) = tokio::sync::mpsc::unbounded_channel();
    for store in &stores {
        let refresher = Refresher::new(
            AppState {
                store: store.clone(),
                discovery: DiscoveryClient::new(policy.clone()),
                settings: ApiSettings::default(),
            },
            None,
        );
        let done = done.clone();
        tokio::spawn(async move {
            let _ = done.send(refresher.run_round().await);
        });
    }
    // One round is now fetching the document, held by the provider.
    idp.arrived.recv().await.unwrap();
    // The two others end without refreshing, while that fetch is still held.
    for _ in 0..2 {
        let report = reports.recv().await.unwrap();
        assert!(!report.ran, "{report:?}");
    }
    idp.gate.add_permits(1);
    let report = reports.recv().await.unwrap();
    assert_eq!((report.ran, report.succeeded, report.failed), (true, 1, 0));
    assert_eq!(idp.most_held.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(idp.arrived.try_recv().is_err(), "one document fetch in all");
    let refreshed = stores[1].get_provider("kc", false).unwrap().unwrap();
    assert_eq!(
        refreshed.provider.endpoints.token_url,
        format!("{}/kc/token", idp.base)
    );
}
