//! Resource limits of the HTTP surface: the request body cap, slow clients, and the bounded wait
//! for a database connection. The real app runs in-process on a loopback port, on a SQLite file
//! and on a PostgreSQL database.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use idp_http::{ApiSettings, AppState, ServerConfig};
use idp_oidc::{DiscoveryClient, FetchPolicy};
use idp_store::testing::TestDatabase;
use idp_store::{Backend, PoolConfig, SecretBox, SecretKey, Store};
use serde_json::{Value, json};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(idp_store::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(idp_store::Backend::Postgres).await } )*
        }
    };
}

on_both_backends!(
    body_over_64_kib_with_content_length_gets_413_json_detail_and_stores_nothing,
    chunked_body_over_64_kib_gets_413_json_detail_and_stores_nothing,
    client_sending_half_a_request_head_is_cut_off_while_others_are_served,
    client_stalling_in_its_body_is_cut_off_while_others_are_served,
    exhausted_pool_answers_503_json_detail_within_bounded_time_then_recovers,
);

const COLLECTION: &str = "/api/identity-providers/";
const LIMIT: usize = 64 * 1024;

/// A running app, its store and a staff token.
struct App {
    base: String,
    address: std::net::SocketAddr,
    store: Store,
    staff: String,
    http: reqwest::Client,
    _db: TestDatabase,
}

/// Starts the app on a fresh database of `backend`, with `pool` sizing and server `config`.
async fn spawn(backend: Backend, pool: PoolConfig, config: ServerConfig) -> App {
    let (db, store) = tokio::task::spawn_blocking(move || {
        let db = TestDatabase::new(backend);
        let key = SecretKey::from_base64(&SecretKey::generate_base64()).unwrap();
        let store = Store::open(db.url(), &pool, SecretBox::new(key, vec![])).unwrap();
        store.migrate().unwrap();
        (db, store)
    })
    .await
    .unwrap();
    let staff_user = store.ensure_user("staff", true).unwrap();
    let staff = store.create_token(&staff_user, None).unwrap().key;
    let policy = FetchPolicy {
        allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..FetchPolicy::default()
    };
    let state = AppState {
        store: store.clone(),
        discovery: DiscoveryClient::new(policy),
        settings: ApiSettings::default(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server = idp_http::serve(listener, state, &config).unwrap();
    tokio::spawn(server);
    App {
        base: format!("http://{address}"),
        address,
        store,
        staff,
        http: reqwest::Client::new(),
        _db: db,
    }
}

fn two_workers() -> ServerConfig {
    ServerConfig {
        workers: 2,
        ..ServerConfig::default()
    }
}

fn provider_count(app: &App) -> i64 {
    app.store.count_providers(false).unwrap()
}

/// A syntactically valid create body of about `size` bytes.
fn big_body(size: usize) -> Vec<u8> {
    let body = json!({
        "provider": "big",
        "client_id": "c",
        "client_secret": "s",
        "discovery_url": "http://127.0.0.1:9/.well-known/openid-configuration",
        "label": "x".repeat(size),
    });
    serde_json::to_vec(&body).unwrap()
}

/// Asserts `{"detail": "<string>"}` and returns the detail.
fn assert_detail(status: u16, text: &str, expected_status: u16) -> String {
    assert_eq!(status, expected_status, "body: {text}");
    let body: Value = serde_json::from_str(text)
        .unwrap_or_else(|_| panic!("the {status} body is not JSON: {text:?}"));
    let object = body.as_object().expect("a JSON object");
    assert_eq!(object.len(), 1, "only `detail`: {body}");
    object["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("detail is a string: {body}"))
        .to_owned()
}

async fn body_over_64_kib_with_content_length_gets_413_json_detail_and_stores_nothing(
    backend: Backend,
) {
    let app = spawn(backend, PoolConfig::default(), two_workers()).await;
    // Exactly the limit is still read (and fails later for another reason, not 413).
    let at_limit = {
        let mut body = big_body(LIMIT);
        body.truncate(LIMIT);
        body
    };
    let response = app
        .http
        .post(format!("{}{COLLECTION}", app.base))
        .header("Authorization", format!("Token {}", app.staff))
        .header("Content-Type", "application/json")
        .body(at_limit)
        .send()
        .await
        .unwrap();
    assert_ne!(
        response.status(),
        413,
        "a body of exactly 64 KiB is allowed"
    );

    for (method, path) in [
        (reqwest::Method::POST, COLLECTION.to_owned()),
        (
            reqwest::Method::POST,
            format!("{COLLECTION}discover_metadata/"),
        ),
        (
            reqwest::Method::POST,
            format!("{COLLECTION}generate-mapping/"),
        ),
    ] {
        for size in [LIMIT + 1, 200 * 1024, 2 * 1024 * 1024] {
            let body = big_body(size);
            assert!(body.len() > LIMIT);
            let response = app
                .http
                .request(method.clone(), format!("{}{path}", app.base))
                .header("Authorization", format!("Token {}", app.staff))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap_or_else(|error| {
                    panic!("{method} {path} with {size} bytes: no answer: {error:?}")
                });
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            let detail = assert_detail(status, &text, 413);
            assert_eq!(detail, "Request body is too large.");
        }
    }
    assert_eq!(provider_count(&app), 0, "nothing was stored");
}

async fn chunked_body_over_64_kib_gets_413_json_detail_and_stores_nothing(backend: Backend) {
    let app = spawn(backend, PoolConfig::default(), two_workers()).await;
    for total in [LIMIT + 1, 300 * 1024] {
        let bytes = big_body(total);
        // No length known up front: reqwest sends `Transfer-Encoding: chunked`.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            bytes.chunks(8 * 1024).map(|c| Ok(c.to_vec())).collect();
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let response = app
            .http
            .post(format!("{}{COLLECTION}", app.base))
            .header("Authorization", format!("Token {}", app.staff))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("chunked body of {total} bytes: no answer: {error:?}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let detail = assert_detail(status, &text, 413);
        assert_eq!(detail, "Request body is too large.");
    }

    // The same over a raw socket, so the framing is certainly chunked and carries no length.
    let app_address = app.address;
    let staff = app.staff.clone();
    let (status, text) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(app_address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let head = format!(
            "POST {COLLECTION} HTTP/1.1\r\nHost: {app_address}\r\nAuthorization: Token {staff}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let body = big_body(100 * 1024);
        for chunk in body.chunks(4096) {
            // The server may answer and stop reading once the limit is passed.
            if stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .and_then(|()| stream.write_all(chunk))
                .and_then(|()| stream.write_all(b"\r\n"))
                .is_err()
            {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
        read_response(&mut stream).expect("an answer to the chunked request")
    })
    .await
    .unwrap();
    let detail = assert_detail(status, &text, 413);
    assert_eq!(detail, "Request body is too large.");
    assert_eq!(provider_count(&app), 0, "nothing was stored");
}

/// Reads one HTTP/1.1 response (status and body, `Content-Length` or chunked or until close).
fn read_response(stream: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = find(&raw, b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("closed after {} bytes", raw.len()),
            ));
        }
        raw.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let mut body = raw[head_end + 4..].to_vec();
    if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < length {
            let n = stream.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buffer[..n]);
        }
        body.truncate(length);
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        while find(&body, b"0\r\n\r\n").is_none() {
            let n = stream.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buffer[..n]);
        }
        body = dechunk(&body);
    } else {
        loop {
            let n = stream.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buffer[..n]);
        }
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(data, b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..line_end])
                .split(';')
                .next()
                .unwrap_or("")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// What the server did to a stalled connection: closed it, or answered (with this status).
#[derive(Debug)]
enum CutOff {
    Closed,
    Answered(u16),
}

/// Waits until the server closes `stream` or writes an answer on it; `None` when it did neither
/// within `limit`.
fn wait_for_cut_off(stream: &mut TcpStream, limit: Duration) -> Option<(CutOff, Duration)> {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buffer = [0u8; 1024];
    match stream.read(&mut buffer) {
        Ok(0) => Some((CutOff::Closed, started.elapsed())),
        Ok(n) => {
            let text = String::from_utf8_lossy(&buffer[..n]);
            let status = text
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_default();
            Some((CutOff::Answered(status), started.elapsed()))
        }
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        // Reset by the server: cut off as well.
        Err(_) => Some((CutOff::Closed, started.elapsed())),
    }
}

/// Sends well-formed list requests while slow clients hold their connections: each must be
/// answered 200 quickly.
async fn others_are_served(app: &App, rounds: usize) {
    for round in 0..rounds {
        let started = Instant::now();
        let response = tokio::time::timeout(
            Duration::from_secs(2),
            app.http.get(format!("{}{COLLECTION}", app.base)).send(),
        )
        .await
        .unwrap_or_else(|_| panic!("round {round}: a normal client was not served within 2 s"))
        .unwrap();
        assert_eq!(response.status(), 200, "round {round}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "round {round}: {:?}",
            started.elapsed()
        );
    }
}

/// Opens `count` connections that each send `prefix` and then stall.
fn open_stalled(address: std::net::SocketAddr, count: usize, prefix: &[u8]) -> Vec<TcpStream> {
    (0..count)
        .map(|_| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(prefix).unwrap();
            stream
        })
        .collect()
}

async fn check_stalled_clients_are_cut_off(app: &App, prefix: Vec<u8>, what: &str) {
    let opened = Instant::now();
    let stalled = open_stalled(app.address, 40, &prefix);
    // Meanwhile, before and around the timeout, other clients are served.
    others_are_served(app, 5).await;
    let outcomes = tokio::task::spawn_blocking(move || {
        stalled
            .into_iter()
            .map(|mut stream| {
                let left = Duration::from_secs(6).saturating_sub(opened.elapsed());
                wait_for_cut_off(&mut stream, left.max(Duration::from_millis(1)))
                    .map(|(outcome, _)| (outcome, opened.elapsed()))
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (index, outcome) in outcomes.iter().enumerate() {
        match outcome {
            None => panic!(
                "{what}: stalled connection {index} was still open {:?} after it stalled \
                 (client_request_timeout is 1 s)",
                opened.elapsed()
            ),
            Some((CutOff::Answered(status), _)) => assert_eq!(
                *status, 408,
                "{what}: stalled connection {index} got an answer other than 408"
            ),
            Some((CutOff::Closed, _)) => {}
        }
    }
    let slowest = outcomes.iter().flatten().map(|(_, at)| *at).max().unwrap();
    println!("{what}: 40 stalled connections cut off, the last after {slowest:?}");
    others_are_served(app, 3).await;
}

async fn client_sending_half_a_request_head_is_cut_off_while_others_are_served(backend: Backend) {
    let config = ServerConfig {
        workers: 2,
        client_request_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let app = spawn(backend, PoolConfig::default(), config).await;
    let half_head = format!(
        "GET {COLLECTION} HTTP/1.1\r\nHost: {}\r\nAccept: appl",
        app.address
    );
    check_stalled_clients_are_cut_off(&app, half_head.into_bytes(), "half a request head").await;
}

/// `ServerConfig::client_request_timeout` is documented as the time a client may take "to send
/// its request head and body": a client that sends a complete head announcing a body and then
/// stops is cut off too, and nothing is stored.
async fn client_stalling_in_its_body_is_cut_off_while_others_are_served(backend: Backend) {
    let config = ServerConfig {
        workers: 2,
        client_request_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let app = spawn(backend, PoolConfig::default(), config).await;
    let head_and_part_of_body = format!(
        "POST {COLLECTION} HTTP/1.1\r\nHost: {}\r\nAuthorization: Token {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"provider\": \"slow\",",
        app.address, app.staff
    );
    check_stalled_clients_are_cut_off(
        &app,
        head_and_part_of_body.into_bytes(),
        "a complete head and part of the body",
    )
    .await;
    assert_eq!(provider_count(&app), 0, "nothing was stored");
}

async fn exhausted_pool_answers_503_json_detail_within_bounded_time_then_recovers(
    backend: Backend,
) {
    let pool = PoolConfig {
        max_size: 1,
        connection_timeout: Duration::from_millis(300),
    };
    let app = spawn(backend, pool, two_workers()).await;
    let list = format!("{}{COLLECTION}", app.base);
    assert_eq!(app.http.get(&list).send().await.unwrap().status(), 200);

    // Hold the pool's only connection for 2 s from a blocking thread.
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let store = app.store.clone();
    let holder = tokio::task::spawn_blocking(move || {
        store.with_connection(|_| {
            held_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        })
    });
    tokio::task::spawn_blocking(move || held_rx.recv_timeout(Duration::from_secs(5)))
        .await
        .unwrap()
        .expect("the holder got the connection");
    let hold_started = Instant::now();

    // Several at once: each waits its bounded time, none waits for the holder. Writes need
    // the pool; reads are served from memory and answer 200 meanwhile.
    let mut waiting = Vec::new();
    for path in [
        format!("{COLLECTION}someone/"),
        format!("{COLLECTION}other/"),
        COLLECTION.to_owned(),
        "/health/ready".to_owned(),
    ] {
        let http = app.http.clone();
        let url = format!("{}{path}", app.base);
        let staff = app.staff.clone();
        waiting.push(tokio::spawn(async move {
            let started = Instant::now();
            let request = if path.ends_with("someone/") || path.ends_with("other/") {
                http.delete(&url)
                    .header("Authorization", format!("Token {staff}"))
            } else {
                http.get(&url)
            };
            let response = request.send().await.unwrap();
            let elapsed = started.elapsed();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                path,
                status,
                retry_after,
                response.text().await.unwrap(),
                elapsed,
            )
        }));
    }
    for task in waiting {
        let (path, status, retry_after, text, elapsed) = task.await.unwrap();
        assert!(
            elapsed < Duration::from_millis(1500),
            "GET {path} took {elapsed:?} with the pool exhausted (timeout 300 ms)"
        );
        if path == COLLECTION {
            assert_eq!(status, 200, "reads are served from memory: {text}");
            continue;
        }
        if path == "/health/ready" {
            assert_eq!(status, 503, "{text}");
            let body: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(body["status"], "unavailable", "{body}");
        } else {
            let detail = assert_detail(status, &text, 503);
            assert_eq!(
                detail, "Service temporarily unavailable, try again later.",
                "GET {path}"
            );
            assert_eq!(retry_after.as_deref(), Some("1"), "GET {path}");
        }
    }
    assert!(
        hold_started.elapsed() < Duration::from_secs(2),
        "the 503s came while the connection was still held"
    );

    holder.await.unwrap().unwrap();
    for _ in 0..3 {
        let response = app.http.get(&list).send().await.unwrap();
        assert_eq!(response.status(), 200, "served again once the hold ended");
    }
    let response = app
        .http
        .get(format!("{}/health/ready", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
