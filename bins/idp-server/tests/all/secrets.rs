//! Secrets stay secret (`docs/decisions.md`, "Secrets, users and tokens"): client secrets and API
//! token keys never appear in plaintext in the database, in the logs or in an error body, and
//! `secrets rotate-key` re-seals every stored secret under a new key in one transaction. Every test
//! runs on both backends.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use diesel::RunQueryDsl;
use idp_store::testing::TestDatabase;
use idp_store::{Backend, SecretBox, SecretKey};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common;

use common::{Server, free_port, serve_discovery};

const BIN: &str = env!("CARGO_BIN_EXE_idp-server");
const COLLECTION: &str = "/api/identity-providers/";

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(idp_store::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(idp_store::Backend::Postgres).await } )* }
    };
}

on_both_backends!(
    database_files_and_dump_hold_no_client_secret_or_token_key_in_plaintext,
    debug_logs_in_text_and_json_hold_no_client_secret_or_token_key,
    no_error_body_echoes_a_client_secret_or_token_key,
    expose_client_secret_false_keeps_secrets_out_of_every_response,
    rotate_key_with_a_key_file_reseals_every_row_then_drop_old_leaves_one_key,
    rotate_key_with_env_keys_new_then_old_reseals_and_the_old_key_can_go,
    rotate_key_is_one_transaction_a_row_it_cannot_open_leaves_every_row_as_it_was,
    a_database_whose_key_is_missing_fails_clearly_instead_of_returning_garbage,
    rotate_key_while_instances_serve_answers_no_5xx_and_they_follow_the_key_file,
    a_named_key_file_that_is_missing_stops_every_command_and_is_not_created,
);

/// Neither the database password nor the sealing key reaches standard error or `--help`, even
/// when the database is unreachable or the key is malformed.
#[test]
fn database_password_and_secret_key_stay_out_of_errors_and_help() {
    let password = format!("pw-{}", random_hex(10));
    let url = format!(
        "postgres://postgres:{password}@127.0.0.1:{}/idp",
        free_port()
    );
    let key = SecretKey::generate_base64();
    let bad_key = format!("not-base64-{}!", random_hex(10));
    let bad_length = "c2hvcnQtc2VjcmV0LWtleQ==".to_owned();
    let needles = vec![
        password.clone(),
        key.clone(),
        bad_key.clone(),
        bad_length.clone(),
    ];
    let mut outputs = Vec::new();
    for (keys, args) in [
        (key.as_str(), vec!["migrate"]),
        (key.as_str(), vec!["serve", "--bind", "127.0.0.1:0"]),
        (bad_key.as_str(), vec!["migrate"]),
        (bad_length.as_str(), vec!["migrate"]),
        (key.as_str(), vec!["--help"]),
        (key.as_str(), vec!["serve", "--help"]),
        (key.as_str(), vec!["secrets", "rotate-key", "--help"]),
        (key.as_str(), vec!["secrets", "rotate-key"]),
    ] {
        let output = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("IDP_DATABASE_URL", &url)
            .env("IDP_SECRET_KEY", keys)
            .env("RUST_LOG", "debug")
            .args(&args)
            .output()
            .unwrap();
        let failed = !output.status.success();
        outputs.push((args.join(" "), failed, output));
    }
    for (what, failed, output) in &outputs {
        if !what.contains("--help") {
            assert!(failed, "`{what}` succeeded without a database");
            assert!(!output.stderr.is_empty(), "`{what}` says why it failed");
        }
        for stream in [&output.stdout, &output.stderr] {
            let leaked = found_in(stream, &needles);
            assert!(
                leaked.is_empty(),
                "`{what}` printed {leaked:?}: {}",
                String::from_utf8_lossy(stream)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Where the key ring comes from.
#[derive(Clone, Debug)]
enum Key {
    /// `IDP_SECRET_KEY` (one key, or `NEW,OLD`).
    Env(String),
    /// `IDP_SECRET_KEY_FILE`.
    File(PathBuf),
}

/// The environment of every command: the database, the key ring, loopback discovery allowed.
fn command(db: &TestDatabase, key: &Key) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IDP_DATABASE_URL", db.url_string())
        .env("IDP_DISCOVERY_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("RUST_LOG", "warn");
    match key {
        Key::Env(keys) => command.env("IDP_SECRET_KEY", keys),
        Key::File(path) => command.env("IDP_SECRET_KEY_FILE", path),
    };
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

fn with_args(mut command: Command, args: &[&str]) -> Command {
    command.args(args);
    command
}

/// `token create --username NAME [--staff]`: the printed key.
fn create_token(db: &TestDatabase, key: &Key, username: &str, staff: bool) -> String {
    let mut args = vec!["token", "create", "--username", username];
    if staff {
        args.push("--staff");
    }
    let output = run(with_args(command(db, key), &args));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 40, "{token}");
    token
}

/// `n` random bytes as hex, from the kernel.
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A distinctive client secret.
fn secret() -> String {
    format!("s3cret-{}", random_hex(12))
}

/// A request's answer, with everything a secret could hide in.
#[derive(Debug)]
struct Answer {
    what: String,
    status: u16,
    headers: String,
    body: String,
}

/// Sends one request and reads the whole answer.
async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    authorization: Option<reqwest::header::HeaderValue>,
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = http.request(method.clone(), format!("{base}{path}"));
    if let Some(value) = &authorization {
        request = request.header("Authorization", value.clone());
    }
    let shown_body = body
        .as_ref()
        .map(|(_, bytes)| String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).into_owned())
        .unwrap_or_default();
    if let Some((content_type, bytes)) = body {
        request = request.header("Content-Type", content_type).body(bytes);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("{method} {path}: no answer: {error}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
        .collect::<Vec<_>>()
        .join("\n");
    let body = response.text().await.unwrap_or_default();
    Answer {
        what: format!("{method} {path} with {shown_body}"),
        status,
        headers,
        body,
    }
}

fn token(key: &str) -> Option<reqwest::header::HeaderValue> {
    Some(reqwest::header::HeaderValue::from_str(&format!("Token {key}")).unwrap())
}

fn json_body(value: &Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", serde_json::to_vec(value).unwrap()))
}

/// A valid create body.
fn provider_body(name: &str, label: &str, client_secret: &str, discovery_url: &str) -> Value {
    json!({
        "provider": name,
        "label": label,
        "client_id": format!("{name}-client"),
        "client_secret": client_secret,
        "discovery_url": discovery_url,
    })
}

/// Every needle found in `haystack`.
fn found_in<'a>(haystack: &[u8], needles: &'a [String]) -> Vec<&'a str> {
    needles
        .iter()
        .filter(|needle| {
            haystack
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
        .map(String::as_str)
        .collect()
}

/// Every stored `(provider, client_secret)` as the column holds it, in insertion order.
fn raw_secrets(db: &TestDatabase) -> Vec<(String, String)> {
    #[derive(diesel::QueryableByName)]
    struct Sealed {
        #[diesel(sql_type = diesel::sql_types::Text)]
        provider: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        client_secret: String,
    }
    // Any key: the raw column is read, nothing is opened.
    let store = db.store();
    store
        .with_connection(|conn| {
            diesel::sql_query("SELECT provider, client_secret FROM identity_providers ORDER BY id")
                .load::<Sealed>(conn)
        })
        .unwrap()
        .into_iter()
        .map(|row| (row.provider, row.client_secret))
        .collect()
}

/// The key ring a key setting names, as the server reads it.
fn ring_of(text: &str) -> Vec<SecretKey> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| SecretKey::from_base64(line).unwrap())
        .collect()
}

fn key_id(base64: &str) -> String {
    SecretKey::from_base64(base64).unwrap().id().to_owned()
}

/// Creates one provider per `(name, secret)` through the API.
async fn create_providers(base: &str, staff: &str, idp: &MockServer, secrets: &[(String, String)]) {
    for (name, client_secret) in secrets {
        let url = serve_discovery(idp, name).await;
        let answer = call(
            base,
            reqwest::Method::POST,
            COLLECTION,
            token(staff),
            json_body(&provider_body(
                name,
                &name.to_uppercase(),
                client_secret,
                &url,
            )),
        )
        .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
}

/// Reads every provider as staff and checks each one's `client_secret`.
async fn assert_served_secrets(base: &str, staff: &str, secrets: &[(String, String)]) {
    for (name, client_secret) in secrets {
        let answer = call(
            base,
            reqwest::Method::GET,
            &format!("{COLLECTION}{name}/"),
            token(staff),
            None,
        )
        .await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["client_secret"], client_secret.as_str(), "{name}");
    }
    let answer = call(base, reqwest::Method::GET, COLLECTION, token(staff), None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

fn key_file_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn some_secrets(count: usize) -> Vec<(String, String)> {
    (0..count).map(|i| (format!("idp{i}"), secret())).collect()
}

// ---------------------------------------------------------------------------------------------
// 2a. At rest.

async fn database_files_and_dump_hold_no_client_secret_or_token_key_in_plaintext(backend: Backend) {
    let db = TestDatabase::new(backend);
    let key = Key::Env(SecretKey::generate_base64());
    let idp = MockServer::start().await;
    let (server, admin) = Server::start(command(&db, &key), true, Stdio::null());
    let admin = admin.unwrap();
    let ops = create_token(&db, &key, "ops", true);
    let viewer = create_token(&db, &key, "viewer", false);
    let marker = format!("Label-{}", random_hex(8));

    let Key::Env(sealing_key) = &key else {
        unreachable!()
    };
    let mut needles = vec![
        admin.clone(),
        ops.clone(),
        viewer.clone(),
        sealing_key.clone(),
    ];
    let mut created = Vec::new();
    for i in 0..3 {
        let name = format!("corp{i}");
        let client_secret = secret();
        needles.push(client_secret.clone());
        let url = serve_discovery(&idp, &name).await;
        let answer = call(
            &server.base,
            reqwest::Method::POST,
            COLLECTION,
            token(&ops),
            json_body(&provider_body(
                &name,
                &format!("{marker}-{i}"),
                &client_secret,
                &url,
            )),
        )
        .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        created.push((name, url));
    }
    // New secrets by PATCH and by PUT: neither the old nor the new one may be stored in clear.
    let patched = secret();
    needles.push(patched.clone());
    let answer = call(
        &server.base,
        reqwest::Method::PATCH,
        &format!("{COLLECTION}corp0/"),
        token(&admin),
        json_body(&json!({"client_secret": patched})),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let replaced = secret();
    needles.push(replaced.clone());
    let answer = call(
        &server.base,
        reqwest::Method::PUT,
        &format!("{COLLECTION}corp1/"),
        token(&admin),
        json_body(&provider_body(
            "corp1",
            "Replaced",
            &replaced,
            &created[1].1,
        )),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // Every token works (so each is really stored, as a hash).
    for key in [&admin, &ops, &viewer] {
        let answer = call(
            &server.base,
            reqwest::Method::GET,
            COLLECTION,
            token(key),
            None,
        )
        .await;
        assert_eq!(answer.status, 200);
    }

    let check = |when: &str| match db.url() {
        idp_store::DatabaseUrl::Sqlite(file) => {
            let dir = file.parent().unwrap();
            let mut marker_seen = false;
            let mut files = Vec::new();
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                marker_seen |= !found_in(&bytes, std::slice::from_ref(&marker)).is_empty();
                let leaked = found_in(&bytes, &needles);
                assert!(
                    leaked.is_empty(),
                    "{when}: {} holds in plaintext: {leaked:?}",
                    path.display()
                );
                files.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
            assert!(
                marker_seen,
                "{when}: the search is blind: no label found in {files:?}"
            );
            println!("{when}: searched {files:?}");
        }
        idp_store::DatabaseUrl::Postgres(url) => {
            let output = Command::new("pg_dump")
                .arg("--dbname")
                .arg(url)
                .output()
                .expect("pg_dump runs (it is needed for this test)");
            assert!(
                output.status.success(),
                "pg_dump failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(
                !found_in(&output.stdout, std::slice::from_ref(&marker)).is_empty(),
                "{when}: the search is blind: no label in the dump"
            );
            let leaked = found_in(&output.stdout, &needles);
            assert!(
                leaked.is_empty(),
                "{when}: pg_dump holds in plaintext: {leaked:?}"
            );
        }
    };
    check("while the server runs");
    let _ = server.terminate();
    check("after the server stopped");
}

// ---------------------------------------------------------------------------------------------
// 2b. Logs.

/// A request of a scenario: method, path, `Authorization`, body, and the status it must get.
type Step<'a> = (
    reqwest::Method,
    String,
    Option<reqwest::header::HeaderValue>,
    Option<(&'a str, Vec<u8>)>,
    u16,
);

async fn debug_logs_in_text_and_json_hold_no_client_secret_or_token_key(backend: Backend) {
    for format in ["text", "json"] {
        let db = TestDatabase::new(backend);
        let key = Key::Env(SecretKey::generate_base64());
        let idp = MockServer::start().await;
        let logs = tempfile::tempdir().unwrap();
        let log_path = logs.path().join("server.log");
        let mut cmd = command(&db, &key);
        cmd.env("RUST_LOG", "debug").env("IDP_LOG_FORMAT", format);
        let log_file = std::fs::File::create(&log_path).unwrap();
        let (server, admin) = Server::start(cmd, true, Stdio::from(log_file));
        let admin = admin.unwrap();
        let mut cli_logs = Vec::new();
        let mut cli = |args: &[&str]| {
            let mut cmd = command(&db, &key);
            cmd.env("RUST_LOG", "debug").env("IDP_LOG_FORMAT", format);
            let output = run(with_args(cmd, args));
            cli_logs.push((args.join(" "), output.stderr));
            output.stdout
        };
        let viewer = String::from_utf8(cli(&["token", "create", "--username", "viewer"]))
            .unwrap()
            .trim()
            .to_owned();
        let invalid = random_hex(20);
        let Key::Env(sealing_key) = &key else {
            unreachable!()
        };
        let mut needles = vec![
            admin.clone(),
            viewer.clone(),
            invalid.clone(),
            sealing_key.clone(),
        ];
        let mut secret_ = || {
            let s = secret();
            needles.push(s.clone());
            s
        };
        let base = server.base.clone();
        let url = serve_discovery(&idp, "corp").await;
        let (s1, s2, s3, s4, s5, s6, s7) = (
            secret_(),
            secret_(),
            secret_(),
            secret_(),
            secret_(),
            secret_(),
            secret_(),
        );
        let spaced = secret_();
        let one = format!("{COLLECTION}corp/");
        let post = reqwest::Method::POST;
        let steps: Vec<Step> = vec![
            (
                post.clone(),
                COLLECTION.into(),
                token(&admin),
                json_body(&provider_body("corp", "Corp", &s1, &url)),
                201,
            ),
            (
                reqwest::Method::PATCH,
                one.clone(),
                token(&admin),
                json_body(&json!({"client_secret": s2})),
                200,
            ),
            (
                reqwest::Method::PUT,
                one.clone(),
                token(&admin),
                json_body(&provider_body("corp", "Corp", &s3, &url)),
                200,
            ),
            (
                reqwest::Method::GET,
                COLLECTION.into(),
                token(&admin),
                None,
                200,
            ),
            (reqwest::Method::GET, one.clone(), token(&admin), None, 200),
            (
                reqwest::Method::GET,
                COLLECTION.into(),
                token(&viewer),
                None,
                200,
            ),
            (reqwest::Method::GET, COLLECTION.into(), None, None, 200),
            // Validation failures with a secret in the body.
            (
                post.clone(),
                COLLECTION.into(),
                token(&admin),
                json_body(
                    &json!({"provider": "Bad Name!", "label": "", "client_secret": s4, "discovery_url": "nope"}),
                ),
                400,
            ),
            (
                post.clone(),
                COLLECTION.into(),
                token(&admin),
                json_body(
                    &json!({"provider": "long", "label": "L", "client_id": "c", "client_secret": format!("{s5}{}", "x".repeat(201)), "discovery_url": url}),
                ),
                400,
            ),
            (
                post.clone(),
                COLLECTION.into(),
                token(&admin),
                Some((
                    "application/json",
                    format!("{{\"provider\": \"broken\", \"client_secret\": \"{s6}\",")
                        .into_bytes(),
                )),
                400,
            ),
            (
                reqwest::Method::PATCH,
                one.clone(),
                token(&admin),
                json_body(&json!({"client_secret": s7, "is_active": "maybe"})),
                400,
            ),
            // Authentication: valid, invalid, malformed.
            (
                reqwest::Method::GET,
                COLLECTION.into(),
                token(&invalid),
                None,
                401,
            ),
            (
                reqwest::Method::GET,
                COLLECTION.into(),
                Some(reqwest::header::HeaderValue::from_str(&format!("Token {spaced} x")).unwrap()),
                None,
                401,
            ),
            (
                post.clone(),
                format!("{COLLECTION}generate-mapping/"),
                token(&admin),
                json_body(&json!({"discovery_url": url})),
                200,
            ),
            (
                post.clone(),
                format!("{COLLECTION}generate-mapping/"),
                token(&viewer),
                json_body(&json!({"discovery_url": url})),
                403,
            ),
        ];
        for (method, path, auth, body, expected) in steps {
            let answer = call(&base, method, &path, auth, body).await;
            assert_eq!(answer.status, expected, "{}: {}", answer.what, answer.body);
        }
        cli(&["providers", "export", "--with-secrets"]);
        cli(&["token", "revoke", &viewer]);
        let _ = server.terminate();

        let log = std::fs::read(&log_path).unwrap();
        let text = String::from_utf8_lossy(&log);
        // Not blind: the requests were logged, at debug level.
        assert!(
            text.matches("idp_http::request").count() >= 10
                || text.matches("request").count() >= 15,
            "{format}: the request lines are missing:\n{text}"
        );
        assert!(
            text.contains("DEBUG") || text.contains("\"level\":\"DEBUG\""),
            "{format}: no debug line at RUST_LOG=debug"
        );
        if format == "json" {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                assert!(
                    serde_json::from_str::<Value>(line).is_ok(),
                    "not a JSON line: {line}"
                );
            }
        }
        let leaked = found_in(&log, &needles);
        assert!(
            leaked.is_empty(),
            "{format}: the server log holds {leaked:?}:\n{}",
            text.lines()
                .filter(|line| leaked.iter().any(|n| line.contains(n)))
                .collect::<Vec<_>>()
                .join("\n")
        );
        for (what, stderr) in &cli_logs {
            let leaked = found_in(stderr, &needles);
            assert!(
                leaked.is_empty(),
                "{format}: `idp-server {what}` logged {leaked:?}: {}",
                String::from_utf8_lossy(stderr)
            );
        }
        println!(
            "{format}: {} log lines, {} bytes, no secret",
            text.lines().count(),
            log.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2c. Error bodies.

async fn no_error_body_echoes_a_client_secret_or_token_key(backend: Backend) {
    let db = TestDatabase::new(backend);
    let key = Key::Env(SecretKey::generate_base64());
    let idp = MockServer::start().await;
    let (server, admin) = Server::start(command(&db, &key), true, Stdio::null());
    let admin = admin.unwrap();
    let viewer = create_token(&db, &key, "viewer", false);
    let base = &server.base;
    let url = serve_discovery(&idp, "corp").await;
    Mock::given(method("GET"))
        .and(path("/gone/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&idp)
        .await;
    let gone = format!("{}/gone/.well-known/openid-configuration", idp.uri());
    let stored = secret();
    let answer = call(
        base,
        reqwest::Method::POST,
        COLLECTION,
        token(&admin),
        json_body(&provider_body("corp", "Corp", &stored, &url)),
    )
    .await;
    assert_eq!(answer.status, 201);

    // (case, the secret or token it carries, the status it must get)
    let mut cases: Vec<(Answer, String, u16)> = Vec::new();
    let post = reqwest::Method::POST;
    let patch = reqwest::Method::PATCH;
    let one = format!("{COLLECTION}corp/");

    let s = secret();
    let too_long = format!("{s}{}", "x".repeat(201 - s.len()));
    assert_eq!(too_long.len(), 201);
    let mut body = provider_body("other", "Other", &too_long, &url);
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            token(&admin),
            json_body(&body),
        )
        .await,
        s.clone(),
        400,
    ));
    // The whole 201-character value must not come back either.
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            token(&admin),
            json_body(&body),
        )
        .await,
        too_long.clone(),
        400,
    ));

    let s = secret();
    body = json!({"provider": "Bad Name!", "label": "x".repeat(201), "client_id": "", "client_secret": s, "discovery_url": "not a url", "attribute_mapping": []});
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            token(&admin),
            json_body(&body),
        )
        .await,
        s,
        400,
    ));

    let s = secret();
    body = provider_body("nul", "Nul", &format!("{s}\u{0}"), &url);
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            token(&admin),
            json_body(&body),
        )
        .await,
        s,
        400,
    ));

    for shape in ["object", "list"] {
        let s = secret();
        let value = if shape == "object" {
            json!({ s.clone(): s.clone() })
        } else {
            json!([s.clone()])
        };
        body = json!({"provider": "typed", "label": "T", "client_id": "c", "client_secret": value, "discovery_url": url});
        cases.push((
            call(
                base,
                post.clone(),
                COLLECTION,
                token(&admin),
                json_body(&body),
            )
            .await,
            s,
            400,
        ));
    }

    let s = secret();
    body = provider_body("unreachable", "U", &s, &gone);
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            token(&admin),
            json_body(&body),
        )
        .await,
        s,
        400,
    ));

    let s = secret();
    body = provider_body("corp", "Again", &s, &url);
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            token(&admin),
            json_body(&body),
        )
        .await,
        s,
        400,
    ));

    for raw in [
        "{\"provider\": \"x\", \"client_secret\": \"SECRET\",",
        "{\"provider\": \"x\", \"client_secret\": SECRET}",
        "{\"client_secret\": \"SECRET\"} trailing",
        "[\"SECRET\"",
    ] {
        let s = secret();
        let bytes = raw.replace("SECRET", &s).into_bytes();
        cases.push((
            call(
                base,
                post.clone(),
                COLLECTION,
                token(&admin),
                Some(("application/json", bytes)),
            )
            .await,
            s,
            400,
        ));
    }

    let s = secret();
    let bytes = serde_json::to_vec(&provider_body("plain", "P", &s, &url)).unwrap();
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            token(&admin),
            Some(("text/plain", bytes)),
        )
        .await,
        s,
        415,
    ));

    let s = secret();
    let huge = provider_body("huge", &"x".repeat(70 * 1024), &s, &url);
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            token(&admin),
            json_body(&huge),
        )
        .await,
        s,
        413,
    ));

    let s = secret();
    cases.push((
        call(
            base,
            patch.clone(),
            &one,
            token(&admin),
            json_body(&json!({"client_secret": format!("{s}{}", "y".repeat(200))})),
        )
        .await,
        s,
        400,
    ));
    let s = secret();
    cases.push((
        call(
            base,
            patch.clone(),
            &one,
            token(&admin),
            json_body(&json!({"client_secret": s, "is_active": "maybe", "label": ""})),
        )
        .await,
        s,
        400,
    ));
    let s = secret();
    cases.push((
        call(
            base,
            reqwest::Method::PUT,
            &one,
            token(&admin),
            json_body(&json!({"client_secret": s})),
        )
        .await,
        s,
        400,
    ));
    let s = secret();
    let request_with_if_match = reqwest::Client::new()
        .patch(format!("{base}{one}"))
        .header("Authorization", format!("Token {admin}"))
        .header("If-Match", "\"999\"")
        .json(&json!({"client_secret": s}))
        .send()
        .await
        .unwrap();
    let status = request_with_if_match.status().as_u16();
    let headers = format!("{:?}", request_with_if_match.headers());
    let text = request_with_if_match.text().await.unwrap();
    cases.push((
        Answer {
            what: "PATCH with a stale If-Match".into(),
            status,
            headers,
            body: text,
        },
        s,
        412,
    ));
    // Non-staff and anonymous callers trying to write a secret.
    let s = secret();
    cases.push((
        call(
            base,
            patch.clone(),
            &one,
            token(&viewer),
            json_body(&json!({"client_secret": s})),
        )
        .await,
        s,
        403,
    ));
    let s = secret();
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            None,
            json_body(&provider_body("anon", "A", &s, &url)),
        )
        .await,
        s,
        401,
    ));
    let s = secret();
    cases.push((
        call(
            base,
            reqwest::Method::DELETE,
            COLLECTION,
            token(&admin),
            json_body(&json!({"client_secret": s})),
        )
        .await,
        s,
        405,
    ));

    // Token values in the header.
    let bad = random_hex(20);
    cases.push((
        call(base, reqwest::Method::GET, COLLECTION, token(&bad), None).await,
        bad,
        401,
    ));
    let bad = format!("tok-{}", random_hex(16));
    cases.push((
        call(base, reqwest::Method::GET, COLLECTION, token(&bad), None).await,
        bad,
        401,
    ));
    let bad = random_hex(20);
    cases.push((
        call(
            base,
            reqwest::Method::GET,
            COLLECTION,
            Some(reqwest::header::HeaderValue::from_str(&format!("Token {bad} {bad}")).unwrap()),
            None,
        )
        .await,
        bad,
        401,
    ));
    let bad = random_hex(20);
    let mut bytes = format!("Token {bad}").into_bytes();
    bytes.push(0xe9);
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            Some(reqwest::header::HeaderValue::from_bytes(&bytes).unwrap()),
            json_body(&json!({})),
        )
        .await,
        bad,
        401,
    ));
    let bad = random_hex(20);
    cases.push((
        call(
            base,
            post.clone(),
            COLLECTION,
            Some(reqwest::header::HeaderValue::from_str(&format!("Bearer {bad}")).unwrap()),
            json_body(&json!({})),
        )
        .await,
        bad,
        401,
    ));
    // A valid key must not come back in any error either.
    cases.push((
        call(
            base,
            patch.clone(),
            &one,
            token(&viewer),
            json_body(&json!({"label": "x"})),
        )
        .await,
        viewer.clone(),
        403,
    ));
    cases.push((
        call(
            base,
            patch.clone(),
            "/api/identity-providers/nope/",
            token(&admin),
            json_body(&json!({"label": "x"})),
        )
        .await,
        admin.clone(),
        404,
    ));
    // What non-staff and anonymous callers read never holds the stored secret.
    for who in [token(&viewer), None] {
        for path in [COLLECTION, one.as_str()] {
            cases.push((
                call(base, reqwest::Method::GET, path, who.clone(), None).await,
                stored.clone(),
                200,
            ));
        }
    }

    let mut problems = Vec::new();
    for (answer, needle, expected) in &cases {
        if answer.status != *expected {
            problems.push(format!(
                "{}: status {}, expected {expected}: {}",
                answer.what, answer.status, answer.body
            ));
        }
        if answer.body.contains(needle.as_str()) || answer.headers.contains(needle.as_str()) {
            problems.push(format!(
                "{}: the answer echoes {needle:?}: {}\n{}",
                answer.what, answer.body, answer.headers
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases failed:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

/// `IDP_EXPOSE_CLIENT_SECRET=false` removes `client_secret` from every response, staff included.
async fn expose_client_secret_false_keeps_secrets_out_of_every_response(backend: Backend) {
    let db = TestDatabase::new(backend);
    let key = Key::Env(SecretKey::generate_base64());
    let idp = MockServer::start().await;
    let staff = create_token(&db, &key, "ops", true);
    let mut cmd = command(&db, &key);
    cmd.env("IDP_EXPOSE_CLIENT_SECRET", "false");
    let (server, _) = Server::start(cmd, false, Stdio::null());
    let base = &server.base;
    let url = serve_discovery(&idp, "corp").await;
    let (s1, s2) = (secret(), secret());
    let one = format!("{COLLECTION}corp/");
    let answers = vec![
        (
            call(
                base,
                reqwest::Method::POST,
                COLLECTION,
                token(&staff),
                json_body(&provider_body("corp", "Corp", &s1, &url)),
            )
            .await,
            201,
        ),
        (
            call(
                base,
                reqwest::Method::PATCH,
                &one,
                token(&staff),
                json_body(&json!({"client_secret": s2})),
            )
            .await,
            200,
        ),
        (
            call(
                base,
                reqwest::Method::PUT,
                &one,
                token(&staff),
                json_body(&provider_body("corp", "Corp", &s1, &url)),
            )
            .await,
            200,
        ),
        (
            call(base, reqwest::Method::GET, &one, token(&staff), None).await,
            200,
        ),
        (
            call(base, reqwest::Method::GET, COLLECTION, token(&staff), None).await,
            200,
        ),
    ];
    for (answer, expected) in answers {
        assert_eq!(answer.status, expected, "{}: {}", answer.what, answer.body);
        assert!(
            !answer.body.contains(&s1) && !answer.body.contains(&s2),
            "{}: {}",
            answer.what,
            answer.body
        );
        assert!(
            !answer.body.contains("client_secret"),
            "{}: {}",
            answer.what,
            answer.body
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2d. Key rotation.

async fn rotate_key_with_a_key_file_reseals_every_row_then_drop_old_leaves_one_key(
    backend: Backend,
) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("keys").join("idp.key");
    let key = Key::File(key_file.clone());
    std::fs::create_dir_all(key_file.parent().unwrap()).unwrap();
    run(with_args(
        command(&db, &key),
        &[
            "secrets",
            "generate-key",
            "--output",
            key_file.to_str().unwrap(),
        ],
    ));
    let staff = create_token(&db, &key, "ops", true);
    let first = key_file_lines(&key_file);
    assert_eq!(first.len(), 1);
    let k1 = key_id(&first[0]);

    let idp = MockServer::start().await;
    let secrets = some_secrets(4);
    let (server, _) = Server::start(command(&db, &key), false, Stdio::null());
    create_providers(&server.base, &staff, &idp, &secrets).await;
    let _ = server.terminate();
    let before = raw_secrets(&db);
    assert_eq!(before.len(), secrets.len());
    for (name, sealed) in &before {
        assert_eq!(SecretBox::key_id_of(sealed), Some(k1.as_str()), "{name}");
    }

    // rotate-key: a new key on top of the file, every row re-sealed under it.
    let output = run(with_args(command(&db, &key), &["secrets", "rotate-key"]));
    let rotated = key_file_lines(&key_file);
    assert_eq!(rotated.len(), 2, "new key on top, old key kept");
    assert_eq!(rotated[1], first[0]);
    let k2 = key_id(&rotated[0]);
    assert_ne!(k2, k1);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&k2),
        "rotate-key names the new key id: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let only_new = SecretBox::new(SecretKey::from_base64(&rotated[0]).unwrap(), vec![]);
    let after = raw_secrets(&db);
    assert_eq!(after.len(), secrets.len());
    for ((name, sealed), (expected_name, plaintext)) in after.iter().zip(&secrets) {
        assert_eq!(name, expected_name);
        assert_eq!(SecretBox::key_id_of(sealed), Some(k2.as_str()), "{name}");
        assert_eq!(
            only_new.open(sealed).unwrap(),
            *plaintext,
            "{name} opens with the new key alone"
        );
    }

    // rotate-key --drop-old: one key left, and the server still serves every secret.
    run(with_args(
        command(&db, &key),
        &["secrets", "rotate-key", "--drop-old"],
    ));
    let last = key_file_lines(&key_file);
    assert_eq!(last.len(), 1, "only the new key is left: {last:?}");
    let k3 = key_id(&last[0]);
    assert!(k3 != k1 && k3 != k2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file stays private");
    }
    for (name, sealed) in raw_secrets(&db) {
        assert_eq!(SecretBox::key_id_of(&sealed), Some(k3.as_str()), "{name}");
    }
    let (server, _) = Server::start(command(&db, &key), false, Stdio::null());
    assert_served_secrets(&server.base, &staff, &secrets).await;
    let _ = server.terminate();
}

async fn rotate_key_with_env_keys_new_then_old_reseals_and_the_old_key_can_go(backend: Backend) {
    let db = TestDatabase::new(backend);
    let old = SecretKey::generate_base64();
    let new = SecretKey::generate_base64();
    let staff = create_token(&db, &Key::Env(old.clone()), "ops", true);
    let idp = MockServer::start().await;
    let secrets = some_secrets(3);
    let (server, _) = Server::start(command(&db, &Key::Env(old.clone())), false, Stdio::null());
    create_providers(&server.base, &staff, &idp, &secrets).await;
    let _ = server.terminate();
    for (name, sealed) in raw_secrets(&db) {
        assert_eq!(
            SecretBox::key_id_of(&sealed),
            Some(key_id(&old).as_str()),
            "{name}"
        );
    }

    let both = Key::Env(format!("{new},{old}"));
    // --drop-old is for key files; with IDP_SECRET_KEY it is refused, and nothing changes.
    let before = raw_secrets(&db);
    let refused = with_args(
        command(&db, &both),
        &["secrets", "rotate-key", "--drop-old"],
    )
    .output()
    .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("IDP_SECRET_KEY"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(raw_secrets(&db), before);

    let reseals = |db: &TestDatabase| {
        db.store()
            .all_audit_events(None)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == idp_store::AuditAction::Reseal)
            .collect::<Vec<_>>()
    };
    assert!(reseals(&db).is_empty());
    run(with_args(command(&db, &both), &["secrets", "rotate-key"]));
    // One re-seal event per row, by the system, naming the secret as changed and nothing more.
    let events = reseals(&db);
    assert_eq!(events.len(), secrets.len());
    for event in &events {
        assert_eq!(event.actor, "system");
        assert_eq!(
            event.changes,
            serde_json::json!([{"field": "client_secret", "changed": true}])
        );
    }
    let trail: String = db
        .store()
        .all_audit_events(None)
        .unwrap()
        .iter()
        .map(|e| e.to_json().to_string())
        .collect();
    let sealed_now: Vec<String> = raw_secrets(&db).into_iter().map(|(_, s)| s).collect();
    let mut needles: Vec<String> = secrets.iter().map(|(_, s)| s.clone()).collect();
    needles.extend(before.iter().map(|(_, sealed)| sealed.clone()));
    needles.extend(sealed_now);
    assert!(
        found_in(trail.as_bytes(), &needles).is_empty(),
        "a secret in the audit trail"
    );
    let new_id = key_id(&new);
    let only_new = SecretBox::new(ring_of(&new).remove(0), vec![]);
    for ((name, sealed), (_, plaintext)) in raw_secrets(&db).iter().zip(&secrets) {
        assert_eq!(
            SecretBox::key_id_of(sealed),
            Some(new_id.as_str()),
            "{name}"
        );
        assert_eq!(only_new.open(sealed).unwrap(), *plaintext);
    }
    // Running it again re-seals nothing and changes nothing.
    let settled = raw_secrets(&db);
    let again = run(with_args(command(&db, &both), &["secrets", "rotate-key"]));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("re-sealed 0"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(raw_secrets(&db), settled);
    assert_eq!(
        reseals(&db).len(),
        secrets.len(),
        "nothing re-sealed, nothing recorded"
    );

    // IDP_SECRET_KEY=NEW alone: the old key is gone, every secret still served.
    let (server, _) = Server::start(command(&db, &Key::Env(new.clone())), false, Stdio::null());
    assert_served_secrets(&server.base, &staff, &secrets).await;
    let _ = server.terminate();
}

async fn rotate_key_is_one_transaction_a_row_it_cannot_open_leaves_every_row_as_it_was(
    backend: Backend,
) {
    let db = TestDatabase::new(backend);
    let main = SecretKey::generate_base64();
    let foreign = SecretKey::generate_base64();
    let staff = create_token(&db, &Key::Env(main.clone()), "ops", true);
    let idp = MockServer::start().await;
    let secrets = some_secrets(3);
    let (server, _) = Server::start(command(&db, &Key::Env(main.clone())), false, Stdio::null());
    create_providers(&server.base, &staff, &idp, &secrets).await;
    let _ = server.terminate();
    // One more row, sealed under a key the rotation will not have; it comes last, so rows
    // before it would already be re-sealed were the rotation not one transaction.
    let (server, _) = Server::start(
        command(&db, &Key::Env(foreign.clone())),
        false,
        Stdio::null(),
    );
    create_providers(&server.base, &staff, &idp, &[("stray".into(), secret())]).await;
    let _ = server.terminate();
    let before = raw_secrets(&db);
    assert_eq!(before.len(), 4);
    assert_eq!(
        SecretBox::key_id_of(&before[3].1),
        Some(key_id(&foreign).as_str())
    );

    let new = SecretKey::generate_base64();
    let output = with_args(
        command(&db, &Key::Env(format!("{new},{main}"))),
        &["secrets", "rotate-key"],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "rotate-key succeeded with a row it cannot open"
    );
    assert!(
        stderr.contains(&key_id(&foreign)),
        "the error names the missing key id {}: {stderr}",
        key_id(&foreign)
    );
    assert_eq!(
        raw_secrets(&db),
        before,
        "a failed rotation changes no row at all"
    );
    assert!(
        db.store()
            .all_audit_events(None)
            .unwrap()
            .iter()
            .all(|e| e.action != idp_store::AuditAction::Reseal),
        "and records no re-seal"
    );
}

async fn a_database_whose_key_is_missing_fails_clearly_instead_of_returning_garbage(
    backend: Backend,
) {
    let db = TestDatabase::new(backend);
    let right = SecretKey::generate_base64();
    let wrong = SecretKey::generate_base64();
    let staff = create_token(&db, &Key::Env(right.clone()), "ops", true);
    let idp = MockServer::start().await;
    let secrets = some_secrets(2);
    let (server, _) = Server::start(command(&db, &Key::Env(right.clone())), false, Stdio::null());
    create_providers(&server.base, &staff, &idp, &secrets).await;
    let _ = server.terminate();
    let before = raw_secrets(&db);

    // The server with the wrong key: reading a provider fails, with the key id in the log.
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("server.log");
    let (server, _) = Server::start(
        command(&db, &Key::Env(wrong.clone())),
        false,
        Stdio::from(std::fs::File::create(&log_path).unwrap()),
    );
    for path in [COLLECTION.to_owned(), format!("{COLLECTION}idp0/")] {
        let answer = call(
            &server.base,
            reqwest::Method::GET,
            &path,
            token(&staff),
            None,
        )
        .await;
        assert!(
            answer.status >= 500,
            "GET {path} with a key ring that cannot open the secrets: {} {}",
            answer.status,
            answer.body
        );
        let body: Value = serde_json::from_str(&answer.body).expect("a JSON error body");
        assert!(body["detail"].is_string(), "{body}");
        assert!(body.get("client_secret").is_none());
        for (_, plaintext) in &secrets {
            assert!(!answer.body.contains(plaintext.as_str()));
        }
    }
    let ready = call(
        &server.base,
        reqwest::Method::GET,
        "/health/ready",
        None,
        None,
    )
    .await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(
        ready.body.contains(&key_id(&right)),
        "readiness names the key it lacks: {}",
        ready.body
    );
    let _ = server.terminate();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains(&key_id(&right)),
        "the log names the key id that is missing:\n{log}"
    );

    // rotate-key with the wrong key fails, says which key is missing, and changes nothing.
    let output = with_args(
        command(&db, &Key::Env(wrong.clone())),
        &["secrets", "rotate-key"],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains(&key_id(&right)), "{stderr}");
    assert_eq!(raw_secrets(&db), before);

    // Export with secrets cannot produce garbage either.
    let output = with_args(
        command(&db, &Key::Env(wrong)),
        &["providers", "export", "--with-secrets"],
    )
    .output()
    .unwrap();
    assert!(
        !output.status.success(),
        "export with the wrong key: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&key_id(&right)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Reads and writes against every instance while `rotate-key` and then `rotate-key --drop-old`
/// run: no answer is a 5xx, each instance follows the key file (new secrets sealed under the
/// newest key), stays ready, and a fresh start with the final file serves every secret. One
/// instance on SQLite, two sharing the database on PostgreSQL.
async fn rotate_key_while_instances_serve_answers_no_5xx_and_they_follow_the_key_file(
    backend: Backend,
) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("idp.key");
    std::fs::write(&key_file, format!("{}\n", SecretKey::generate_base64())).unwrap();
    let key = Key::File(key_file.clone());
    let staff = create_token(&db, &key, "ops", true);
    let idp = MockServer::start().await;
    let secrets = some_secrets(3);
    let instances = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    };
    let logs: Vec<PathBuf> = (0..instances)
        .map(|i| dir.path().join(format!("server{i}.log")))
        .collect();
    let servers: Vec<Server> = logs
        .iter()
        .map(|log| {
            let log = Stdio::from(std::fs::File::create(log).unwrap());
            Server::start(command(&db, &key), false, log).0
        })
        .collect();
    let bases: Vec<String> = servers.iter().map(|server| server.base.clone()).collect();
    create_providers(&bases[0], &staff, &idp, &secrets).await;

    // One writer per provider, each alternating instances: PATCH a new secret, read it back
    // from the instance that wrote it, read the list from every instance.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for (name, _) in &secrets {
        let (name, staff, bases, stop) = (name.clone(), staff.clone(), bases.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut round = 0usize;
            let mut last;
            loop {
                // The round that starts after the stop is the last: its write comes after the
                // final key file.
                let stopping = stop.load(std::sync::atomic::Ordering::Acquire);
                let base = &bases[round % bases.len()];
                last = secret();
                let path = format!("{COLLECTION}{name}/");
                let answers = [
                    call(
                        base,
                        reqwest::Method::PATCH,
                        &path,
                        token(&staff),
                        json_body(&json!({"client_secret": last})),
                    )
                    .await,
                    call(base, reqwest::Method::GET, &path, token(&staff), None).await,
                ];
                for answer in answers {
                    if answer.status != 200 {
                        failures.push(format!("{} {} {}", answer.what, answer.status, answer.body));
                    }
                }
                for other in &bases {
                    let answer =
                        call(other, reqwest::Method::GET, COLLECTION, token(&staff), None).await;
                    if answer.status != 200 {
                        failures.push(format!("{} {} {}", answer.what, answer.status, answer.body));
                    }
                }
                round += 1;
                if stopping {
                    break;
                }
            }
            (name, last, round, failures)
        }));
    }

    for args in [
        &["secrets", "rotate-key"][..],
        &["secrets", "rotate-key", "--drop-old"][..],
    ] {
        let rotate = with_args(command(&db, &key), args);
        tokio::task::spawn_blocking(move || run(rotate))
            .await
            .unwrap();
    }
    let final_keys = key_file_lines(&key_file);
    assert_eq!(final_keys.len(), 1, "{final_keys:?}");
    let final_id = key_id(&final_keys[0]);
    stop.store(true, std::sync::atomic::Ordering::Release);

    let mut latest = Vec::new();
    for task in load {
        let (name, last, rounds, failures) = task.await.unwrap();
        let logged = || {
            logs.iter()
                .map(|log| std::fs::read_to_string(log).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(
            failures.is_empty(),
            "{name} after {rounds} rounds: {failures:#?}\n{}",
            logged()
        );
        latest.push((name, last));
    }
    // The last writes came after the final key file: sealed under its key alone.
    for (name, sealed) in raw_secrets(&db) {
        assert_eq!(
            SecretBox::key_id_of(&sealed),
            Some(final_id.as_str()),
            "{name}"
        );
    }
    for base in &bases {
        let answer = call(base, reqwest::Method::GET, "/health/ready", None, None).await;
        assert_eq!(answer.status, 200, "{base}: {}", answer.body);
    }
    for server in servers {
        let _ = server.terminate();
    }
    // A fresh start with only the final key serves what the running instances wrote.
    let (server, _) = Server::start(command(&db, &key), false, Stdio::null());
    assert_served_secrets(&server.base, &staff, &latest).await;
    let _ = server.terminate();
}

/// `IDP_SECRET_KEY_FILE` naming a file that does not exist is an error before anything is
/// served or written, on every backend: a fresh key there could open none of the stored
/// secrets. `secrets generate-key --output` makes the file (0600) and never overwrites one.
async fn a_named_key_file_that_is_missing_stops_every_command_and_is_not_created(backend: Backend) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("missing.key");
    let key = Key::File(key_file.clone());
    let port = free_port().to_string();
    let bind = format!("127.0.0.1:{port}");
    for args in [
        &["serve", "--bind", bind.as_str()][..],
        &["migrate"][..],
        &["token", "create", "--username", "ops", "--staff"][..],
        &["providers", "export"][..],
        &["secrets", "rotate-key"][..],
    ] {
        let output = with_args(command(&db, &key), args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded: {stderr}");
        assert!(
            stderr.contains("missing.key") && stderr.contains("does not exist"),
            "{args:?}: {stderr}"
        );
        assert!(!key_file.exists(), "{args:?} created the key file");
        assert!(
            std::net::TcpStream::connect(&bind).is_err(),
            "{args:?} is listening"
        );
    }

    run(with_args(
        command(&db, &key),
        &[
            "secrets",
            "generate-key",
            "--output",
            key_file.to_str().unwrap(),
        ],
    ));
    let written = key_file_lines(&key_file);
    assert_eq!(written.len(), 1);
    SecretKey::from_base64(&written[0]).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let again = with_args(
        command(&db, &key),
        &[
            "secrets",
            "generate-key",
            "--output",
            key_file.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert!(!again.status.success(), "generate-key overwrote a key file");
    assert_eq!(key_file_lines(&key_file), written);
    // With the file in place, the same commands work.
    create_token(&db, &key, "ops", true);
}
