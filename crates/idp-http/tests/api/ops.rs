//! What the platform reads: health probes, Prometheus metrics and request ids.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{As, spawn_app, status_and_json};
use crate::on_both_backends;
use idp_store::Backend;

on_both_backends!(
    health_probes_answer_live_and_ready,
    metrics_count_requests_discovery_fetches_and_pool_use,
    every_response_carries_a_request_id_and_keeps_the_clients,
);

async fn health_probes_answer_live_and_ready(backend: Backend) {
    let app = spawn_app(backend).await;
    let live = app
        .request(Method::GET, "/health/live", As::Anonymous, None)
        .await;
    assert_eq!(status_and_json(live).await, (200, json!({"status": "ok"})));
    let ready = app
        .request(Method::GET, "/health/ready", As::Anonymous, None)
        .await;
    assert_eq!(
        status_and_json(ready).await,
        (200, json!({"status": "ready"}))
    );
}

async fn metrics_count_requests_discovery_fetches_and_pool_use(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("acme", "Acme").await;
    let refused = json!({"discovery_url": "http://169.254.169.254/x"});
    let discover = "/api/identity-providers/discover_metadata/";
    assert_eq!(
        app.request(
            Method::POST,
            discover,
            As::Token(&app.staff),
            Some(&refused)
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        app.request(
            Method::GET,
            "/api/identity-providers/acme/",
            As::Anonymous,
            None
        )
        .await
        .status(),
        200
    );
    let response = app
        .request(Method::GET, "/metrics", As::Anonymous, None)
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for needle in [
        r#"idp_http_requests_total{method="POST",route="/api/identity-providers/",status="201"} 1"#,
        r#"idp_http_requests_total{method="GET",route="/api/identity-providers/{provider}/",status="200"} 1"#,
        r#"idp_discovery_fetches_total{outcome="ok"} 1"#,
        r#"idp_discovery_fetches_total{outcome="refused"} 1"#,
        "idp_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    // One write connection on SQLite (its one writer), the pool's size on PostgreSQL.
    let max = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 10,
    };
    let pool = format!(r#"idp_db_pool_connections{{state="max"}} {max}"#);
    assert!(text.contains(&pool), "missing {pool} in:\n{text}");
}

async fn every_response_carries_a_request_id_and_keeps_the_clients(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app
        .request(Method::GET, "/api/identity-providers/", As::Anonymous, None)
        .await;
    let second = app
        .request(
            Method::GET,
            "/api/identity-providers/nope/",
            As::Anonymous,
            None,
        )
        .await;
    let a = first.headers()["x-request-id"].to_str().unwrap().to_owned();
    let b = second.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!a.is_empty() && a != b);
    let client = reqwest::Client::new();
    let kept = client
        .get(format!("{}/health/live", app.base))
        .header("X-Request-Id", "trace-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-1234");
    let replaced = client
        .get(format!("{}/health/live", app.base))
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "bad id with spaces");
}
