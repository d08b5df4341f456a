//! Several `idp-server` processes on one database, as behind a load balancer: they start together
//! on an empty PostgreSQL database (one applies the migrations, all become ready), each serves
//! the others' writes once told (PostgreSQL notifications), a token revoked anywhere stops
//! working everywhere, and `If-Match` lets exactly one of two racing writes win. On SQLite, the
//! periodic check shows one process the writes of another on the same file.
//!
//! Waiting for another instance to see a write is a bounded poll; no duration is asserted.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use idp_store::Backend;
use idp_store::testing::TestDatabase;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::common;

use common::{Server, serve_discovery};

const BIN: &str = env!("CARGO_BIN_EXE_idp-server");
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const COLLECTION: &str = "/api/identity-providers/";

fn command(database_url: &str, check_interval: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IDP_DATABASE_URL", database_url)
        .env("IDP_SECRET_KEY", KEY)
        .env("IDP_DISCOVERY_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("IDP_SNAPSHOT_CHECK_INTERVAL", check_interval)
        .env("RUST_LOG", "warn");
    command
}

fn staff_token(database_url: &str) -> String {
    let output = command(database_url, "5")
        .args(["token", "create", "--username", "ops", "--staff"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String) {
    let mut request = http.request(method, url);
    if let Some(key) = key {
        request = request.header("Authorization", format!("Token {key}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("the server answers");
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Polls `url` on `server` until `accept` holds for its answer; the last answer on failure.
async fn eventually(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    accept: impl Fn(u16, &str) -> bool,
) -> Result<(), (u16, String)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = call(http, reqwest::Method::GET, url, key, &[], None).await;
        if accept(status, &body) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err((status, body));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_postgres_start_together_and_serve_each_others_writes() {
    // An empty database: no migration applied yet.
    let db = tokio::task::spawn_blocking(|| TestDatabase::new(Backend::Postgres))
        .await
        .unwrap();
    let url = db.url_string();
    // A long check interval: whatever the others see quickly, they heard by notification.
    let starting: Vec<_> = (0..3)
        .map(|_| {
            let cmd = command(&url, "60");
            std::thread::spawn(move || Server::start(cmd, false, Stdio::null()).0)
        })
        .collect();
    let mut servers: Vec<Server> = starting.into_iter().map(|t| t.join().unwrap()).collect();
    let http = reqwest::Client::new();
    for server in &mut servers {
        server.assert_running();
        let ready = format!("{}/health/ready", server.base);
        eventually(&http, &ready, None, |status, _| status == 200)
            .await
            .expect("every instance becomes ready");
    }
    let key = staff_token(&url);
    let idp = MockServer::start().await;
    let discovery_url = serve_discovery(&idp, "corp").await;
    let [a, b, c] = [0, 1, 2].map(|i| format!("{}{COLLECTION}", servers[i].base));

    // A create on A is served by B and C.
    let body = json!({"provider": "corp", "label": "Corp", "client_id": "c", "client_secret": "s", "discovery_url": discovery_url});
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        &a,
        Some(&key),
        &[],
        Some(&body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    for other in [&b, &c] {
        eventually(
            &http,
            &format!("{other}corp/"),
            Some(&key),
            |status, body| status == 200 && body.contains("\"client_secret\":\"s\""),
        )
        .await
        .expect("the create reaches every instance");
    }

    // Writes racing on two instances with the same If-Match: exactly one wins, and every
    // instance ends up serving the winner.
    let patch = |label: &str| json!({"label": label});
    let (on_b, on_c) = (format!("{b}corp/"), format!("{c}corp/"));
    let (from_b, from_c) = (patch("From B"), patch("From C"));
    let if_match = [("If-Match", "\"1\"")];
    let (first, second) = tokio::join!(
        call(
            &http,
            reqwest::Method::PATCH,
            &on_b,
            Some(&key),
            &if_match,
            Some(&from_b)
        ),
        call(
            &http,
            reqwest::Method::PATCH,
            &on_c,
            Some(&key),
            &if_match,
            Some(&from_c)
        ),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{first:?} {second:?}");
    let winner = if first.0 == 200 { "From B" } else { "From C" };
    for instance in [&a, &b, &c] {
        eventually(&http, &format!("{instance}corp/"), None, |status, body| {
            status == 200 && body.contains(winner)
        })
        .await
        .expect("every instance serves the winning write");
    }
    // The list pages and counts follow too.
    for instance in [&a, &b, &c] {
        eventually(&http, instance, None, |status, body| {
            status == 200 && body.contains(winner)
        })
        .await
        .expect("the list shows the winning write");
    }

    // An update immediately followed by a deletion: the update's notification names a row that
    // is gone when it is read; every instance ends up without it.
    let (status, _) = call(
        &http,
        reqwest::Method::PATCH,
        &format!("{a}corp/"),
        Some(&key),
        &[],
        Some(&patch("Last words")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &http,
        reqwest::Method::DELETE,
        &format!("{a}corp/"),
        Some(&key),
        &[],
        None,
    )
    .await;
    assert_eq!(status, 204);
    for instance in [&a, &b, &c] {
        eventually(
            &http,
            &format!("{instance}corp/"),
            Some(&key),
            |status, _| status == 404,
        )
        .await
        .expect("the deletion reaches every instance");
        eventually(&http, instance, None, |status, body| {
            status == 200 && body == "[]"
        })
        .await
        .expect("the list is empty everywhere");
    }

    // A token used (and so cached) on every instance, revoked by another process: it stops
    // working everywhere.
    for instance in [&a, &b, &c] {
        let (status, _) = call(&http, reqwest::Method::GET, instance, Some(&key), &[], None).await;
        assert_eq!(status, 200);
    }
    let output = command(&url, "5")
        .args(["token", "revoke", &key])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for instance in [&a, &b, &c] {
        eventually(&http, instance, Some(&key), |status, _| status == 401)
            .await
            .expect("the revoked token is refused everywhere");
    }
    for server in &mut servers {
        server.assert_running();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_sqlite_file_see_each_others_writes_at_the_next_check() {
    let db = TestDatabase::new(Backend::Sqlite);
    let url = db.url_string();
    let (first, _) = Server::start(command(&url, "0.05"), true, Stdio::null());
    let (second, _) = Server::start(command(&url, "0.05"), false, Stdio::null());
    let key = staff_token(&url);
    let http = reqwest::Client::new();
    let idp = MockServer::start().await;
    let discovery_url = serve_discovery(&idp, "corp").await;
    let a = format!("{}{COLLECTION}", first.base);
    let b = format!("{}{COLLECTION}", second.base);
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        &format!("{b}corp/"),
        None,
        &[],
        None,
    )
    .await;
    assert_eq!(status, 404);
    let body = json!({"provider": "corp", "label": "Corp", "client_id": "c", "client_secret": "s", "discovery_url": discovery_url});
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        &a,
        Some(&key),
        &[],
        Some(&body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    eventually(&http, &format!("{b}corp/"), None, |status, body| {
        status == 200 && body.contains("Corp")
    })
    .await
    .expect("the other process serves the create");
    let output = command(&url, "5")
        .args(["token", "revoke", &key])
        .output()
        .unwrap();
    assert!(output.status.success());
    for instance in [&a, &b] {
        eventually(&http, instance, Some(&key), |status, _| status == 401)
            .await
            .expect("the revoked token is refused by both processes");
    }
}
