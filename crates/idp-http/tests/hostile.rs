//! Hostile input against the real server (`docs/decisions.md`, "Errors": every bad input is a
//! 4xx, never a 5xx).
//!
//! The app runs in-process on `127.0.0.1:0`, once on a SQLite and once on a PostgreSQL test
//! database, and a seeded generator sends it requests over raw TCP from many connections at
//! once: odd methods, paths with percent-encoded junk, `page`/`page_size` junk, junk
//! `Authorization`, `Content-Type`, `If-Match` and framing headers, invalid UTF-8 and NUL bytes,
//! and bodies with wrong types, huge numbers, deep nesting and long strings. No answer may be a
//! 5xx, no request may hang, and the server must be alive at the end (`GET /health/live` → 200).
//!
//! `IDP_HOSTILE_REQUESTS` sets the number of requests per backend (default
//! [`DEFAULT_REQUESTS`]; `cargo xtask fuzz` runs 100,000), `IDP_HOSTILE_SEED` the seed (printed
//! at the end, with the index of any failing request so it can be replayed).
//!
//! No request may make the server reach anything but this machine: the app's fetch policy has no
//! `allow_networks`, so the SSRF guard refuses loopback, link-local and the other local ranges,
//! and every discovery URL generated names such a host (`127.0.0.1`, `localhost`, `[::1]`,
//! `169.254.169.254`, ...) or is not a URL. Before a body is sent, [`is_local_only`] reads it as
//! the server will and refuses any discovery URL whose host could be resolved or reached
//! elsewhere (public names, private ranges); such a body is replaced and counted.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use idp_core::{
    Access, FieldRule, NewProvider, PROVIDER_FIELDS, ProviderEndpoints, ProviderField,
    ProviderNamePolicy,
};
use idp_http::{ApiSettings, AppState, ServerConfig};
use idp_oidc::{DiscoveryClient, FetchPolicy, guard};
use idp_store::testing::TestDatabase;
use idp_store::{Backend, Store};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// Requests per backend when `IDP_HOSTILE_REQUESTS` is not set: about 15 s per backend
/// on a 2-core machine (both backends at once).
const DEFAULT_REQUESTS: usize = 10_000;
/// The seed when `IDP_HOSTILE_SEED` is not set.
const DEFAULT_SEED: u64 = 0x05ee_d1d9_0001;
/// Client connections sending at once.
const CONNECTIONS: usize = 32;
/// Longest wait for an answer; the server's own request timeout is 10 s.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_never_get_a_5xx_on_sqlite() {
    hostile(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_never_get_a_5xx_on_postgres() {
    hostile(Backend::Postgres).await;
}

// ----- The app --------------------------------------------------------------------------------

/// What the generator needs to know about the running app.
struct Context {
    port: u16,
    staff: String,
    user: String,
    inactive: String,
}

/// Providers that exist before the run, so that retrieve, update and delete reach the store.
/// Their discovery URLs are never fetched (only a URL in a request body is), and are loopback
/// ones all the same.
const STORED: [(&str, bool); 4] = [
    ("generic", true),
    ("keycloak", true),
    ("eduteams", true),
    ("inactive-one", false),
];

fn seed_providers(store: &Store) {
    for (name, active) in STORED {
        let body = serde_json::json!({
            "provider": name,
            "client_id": format!("{name}-client"),
            "client_secret": format!("{name}-secret"),
            "discovery_url": "http://127.0.0.1:9/.well-known/openid-configuration",
            "label": name,
            "is_active": active,
        });
        let provider = NewProvider::parse(&body, &ProviderNamePolicy::AnySlug)
            .expect("a valid provider")
            .into_provider(ProviderEndpoints {
                auth_url: "http://127.0.0.1:9/auth".into(),
                token_url: "http://127.0.0.1:9/token".into(),
                userinfo_url: "http://127.0.0.1:9/userinfo".into(),
                logout_url: String::new(),
            });
        store.insert_provider(&provider).expect("insert a provider");
    }
}

/// Starts the app on `backend` (as `tests/api/helpers.rs` does, but with a fetch policy that
/// lets nothing local through) and returns its address, the tokens and the database.
async fn spawn_app(backend: Backend) -> (Context, TestDatabase) {
    let db = tokio::task::spawn_blocking(move || TestDatabase::new(backend))
        .await
        .expect("the database task");
    let store = db.store();
    let staff_user = store.ensure_user("staff", true).expect("a staff user");
    let staff = store.create_token(&staff_user, None).expect("a token").key;
    let plain_user = store.ensure_user("user", false).expect("a user");
    let user = store.create_token(&plain_user, None).expect("a token").key;
    let gone_user = store.ensure_user("gone", false).expect("a user");
    let inactive = store.create_token(&gone_user, None).expect("a token").key;
    store.set_user_active("gone", false).expect("deactivate");
    seed_providers(&store);
    // No `allow_networks`: the guard refuses every loopback and link-local address, and a
    // short timeout bounds anything else.
    let policy = FetchPolicy {
        timeout: Duration::from_secs(2),
        ..FetchPolicy::default()
    };
    assert!(policy.allow_networks.is_empty());
    let state = AppState {
        store,
        discovery: DiscoveryClient::new(policy),
        settings: ApiSettings::default(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("a local address").port();
    let config = ServerConfig {
        workers: 2,
        ..ServerConfig::default()
    };
    let server = idp_http::serve(listener, state, &config).expect("the server");
    tokio::spawn(server);
    let context = Context {
        port,
        staff,
        user,
        inactive,
    };
    (context, db)
}

// ----- The run --------------------------------------------------------------------------------

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| {
        let v = v.trim().replace('_', "");
        v.strip_prefix("0x")
            .map_or_else(|| v.parse().ok(), |hex| u64::from_str_radix(hex, 16).ok())
    })
}

/// What the run saw.
#[derive(Default)]
struct Tally {
    sent: AtomicUsize,
    by_class: [AtomicUsize; 6],
    no_answer: AtomicUsize,
    timeouts: AtomicUsize,
    replaced_bodies: AtomicUsize,
    bytes: AtomicU64,
    /// Requests answered with a 5xx or not answered in time: index, what happened, the request.
    failures: Mutex<Vec<(usize, String, Vec<u8>)>>,
}

impl Tally {
    fn fail(&self, index: usize, what: String, request: &[u8]) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() < 50 {
            failures.push((index, what, request.to_vec()));
        }
    }
}

async fn hostile(backend: Backend) {
    let requests = env_number("IDP_HOSTILE_REQUESTS").map_or(DEFAULT_REQUESTS, |n| n as usize);
    let seed = env_number("IDP_HOSTILE_SEED").unwrap_or(DEFAULT_SEED);
    let (context, db) = spawn_app(backend).await;
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    eprintln!(
        "hostile[{name}]: {requests} requests from seed {seed:#x} (IDP_HOSTILE_SEED) on port {}",
        context.port
    );
    let started = Instant::now();
    let (context, tally) = tokio::task::spawn_blocking(move || {
        let tally = Tally::default();
        run(&context, seed, requests, &tally);
        (context, tally)
    })
    .await
    .expect("the client threads");
    let elapsed = started.elapsed();

    let (alive, metrics) =
        tokio::task::spawn_blocking(move || (check_alive(&context), scrape_metrics(&context)))
            .await
            .expect("the liveness check");
    drop(db);

    let count = |i: usize| tally.by_class[i].load(Ordering::Relaxed);
    let server_errors = count(5);
    let sent = tally.sent.load(Ordering::Relaxed);
    eprintln!(
        "hostile[{name}]: {sent} requests in {:.1} s ({:.0}/s, {} MB sent): 1xx {}, 2xx {}, 3xx {}, \
         4xx {}, 5xx {server_errors}, closed without an answer {}, timed out {}, bodies replaced \
         by the loopback check {}",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        tally.bytes.load(Ordering::Relaxed) / 1_000_000,
        count(1),
        count(2),
        count(3),
        count(4),
        tally.no_answer.load(Ordering::Relaxed),
        tally.timeouts.load(Ordering::Relaxed),
        tally.replaced_bodies.load(Ordering::Relaxed),
    );
    let failures = tally
        .failures
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    for (index, what, request) in failures.iter().take(10) {
        eprintln!(
            "hostile[{name}]: request #{index} (seed {seed:#x}) got {what}:\n{}\n",
            shown(request)
        );
    }
    let fetches = |outcome: &str| metrics.fetches.get(outcome).copied().unwrap_or(0);
    eprintln!(
        "hostile[{name}]: discovery fetches refused by the SSRF guard {}, failed to connect {}, \
         succeeded {}, unusable {}; {} distinct method labels in /metrics",
        fetches("refused"),
        fetches("unreachable"),
        fetches("ok"),
        fetches("invalid"),
        metrics.methods.len(),
    );
    assert_eq!(sent, requests, "every request was sent");
    // Every discovery URL names a local host the guard refuses: no fetch got past it.
    assert_eq!(
        (fetches("ok"), fetches("unreachable")),
        (0, 0),
        "a discovery fetch got past the SSRF guard"
    );
    assert!(
        failures.is_empty(),
        "{} requests got a 5xx or no answer in time; seed {seed:#x}, first indexes {:?}",
        failures.len(),
        failures.iter().map(|f| f.0).take(10).collect::<Vec<_>>()
    );
    assert_eq!(server_errors, 0);
    assert_eq!(tally.timeouts.load(Ordering::Relaxed), 0);
    assert!(
        alive.is_ok(),
        "the server is not alive at the end: {alive:?}"
    );
    println!("hostile: {sent} requests, {server_errors} responses 5xx, server alive ({name})");
}

/// The request as text, invalid bytes escaped, long ones cut.
fn shown(request: &[u8]) -> String {
    let cut = &request[..request.len().min(1500)];
    let mut text = String::from_utf8_lossy(cut).escape_debug().to_string();
    if request.len() > cut.len() {
        text.push_str(&format!("... ({} bytes)", request.len()));
    }
    text
}

/// Sends `requests` requests from [`CONNECTIONS`] threads; each request is made from the seed
/// and its index alone, so the same seed sends the same requests whatever the scheduling.
fn run(context: &Context, seed: u64, requests: usize, tally: &Tally) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..CONNECTIONS {
            scope.spawn(|| {
                let mut connection: Option<BufReader<TcpStream>> = None;
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= requests {
                        break;
                    }
                    let request = generate(seed, index, context);
                    if !request.local_only {
                        tally.replaced_bodies.fetch_add(1, Ordering::Relaxed);
                    }
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                    tally
                        .bytes
                        .fetch_add(request.bytes.len() as u64, Ordering::Relaxed);
                    send(context.port, &mut connection, &request, tally);
                }
            });
        }
    });
}

fn connect(port: u16) -> std::io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port)))?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    stream.set_write_timeout(Some(ANSWER_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(BufReader::new(stream))
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn record(tally: &Tally, request: &Request, status: u16) {
    let class = usize::from(status / 100).min(5);
    tally.by_class[class].fetch_add(1, Ordering::Relaxed);
    if status >= 500 {
        tally.fail(request.index, format!("status {status}"), &request.bytes);
    }
}

/// Sends one request. Well-framed requests reuse a keep-alive connection and read exactly one
/// answer; the others go on a connection of their own, closed for writing once sent so the
/// server never waits for more, and every answer on it is read until the server closes it.
fn send(
    port: u16,
    connection: &mut Option<BufReader<TcpStream>>,
    request: &Request,
    tally: &Tally,
) {
    if request.close {
        *connection = None;
        let mut stream = match connect(port) {
            Ok(stream) => stream,
            Err(error) => return tally.fail(request.index, format!("connect: {error}"), &[]),
        };
        // The server may answer and close before reading everything (413, 431, 400).
        let _ = stream.get_mut().write_all(&request.bytes);
        let _ = stream.get_ref().shutdown(Shutdown::Write);
        let mut answered = false;
        loop {
            match read_answer(&mut stream, request.head) {
                Ok(Some((status, _))) => {
                    answered = true;
                    record(tally, request, status);
                }
                Ok(None) => break,
                Err(error) if is_timeout(&error) => {
                    tally.timeouts.fetch_add(1, Ordering::Relaxed);
                    tally.fail(request.index, "no answer in time".into(), &request.bytes);
                    break;
                }
                // A reset after the answer, or an answer cut short: nothing more to read.
                Err(_) => break,
            }
        }
        if !answered {
            tally.no_answer.fetch_add(1, Ordering::Relaxed);
        }
        return;
    }
    for attempt in 0..2 {
        let stream = match connection {
            Some(stream) => stream,
            None => match connect(port) {
                Ok(stream) => connection.insert(stream),
                Err(error) => return tally.fail(request.index, format!("connect: {error}"), &[]),
            },
        };
        let reused = attempt == 0;
        let written = stream.get_mut().write_all(&request.bytes);
        let answer = written.and_then(|()| read_answer(stream, request.head));
        match answer {
            Ok(Some((status, keep))) => {
                record(tally, request, status);
                if !keep {
                    *connection = None;
                }
                return;
            }
            Err(error) if is_timeout(&error) => {
                *connection = None;
                tally.timeouts.fetch_add(1, Ordering::Relaxed);
                return tally.fail(request.index, "no answer in time".into(), &request.bytes);
            }
            // The server closed an idle keep-alive connection: once more on a new one.
            Ok(None) | Err(_) if reused => *connection = None,
            Ok(None) | Err(_) => {
                *connection = None;
                tally.no_answer.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// Reads one final answer (skipping `100 Continue`): its status and whether the connection
/// stays open. `None` when the server closed the connection before answering.
fn read_answer(
    reader: &mut BufReader<TcpStream>,
    head: bool,
) -> std::io::Result<Option<(u16, bool)>> {
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not a status line: {text:?}")))?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        let mut keep = text.starts_with("HTTP/1.1");
        loop {
            let mut header = Vec::new();
            if reader.read_until(b'\n', &mut header)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let header = String::from_utf8_lossy(&header);
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim().to_ascii_lowercase();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().ok(),
                "transfer-encoding" => chunked = value.contains("chunked"),
                "connection" if value.contains("close") => keep = false,
                "connection" if value.contains("keep-alive") => keep = true,
                _ => {}
            }
        }
        if (100..200).contains(&status) {
            continue;
        }
        if head || status == 204 || status == 304 {
            return Ok(Some((status, keep)));
        }
        if chunked {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size)?;
                let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(std::io::Error::other)?;
                let mut chunk = vec![0; size + 2];
                reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
            }
        } else if let Some(length) = length {
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
        } else {
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest)?;
            keep = false;
        }
        return Ok(Some((status, keep)));
    }
}

/// `GET /health/live` → 200, `GET /health/ready` → 200, and a staff list still answers 200.
fn check_alive(context: &Context) -> Result<(), String> {
    let get = |path: &str, auth: Option<&str>| -> Result<u16, String> {
        let mut stream = connect(context.port).map_err(|e| format!("connect: {e}"))?;
        let auth = auth.map_or(String::new(), |key| {
            format!("Authorization: Token {key}\r\n")
        });
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{auth}Connection: close\r\n\r\n",
            context.port
        );
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(|e| format!("write: {e}"))?;
        match read_answer(&mut stream, false) {
            Ok(Some((status, _))) => Ok(status),
            Ok(None) => Err(format!("{path}: closed without an answer")),
            Err(error) => Err(format!("{path}: {error}")),
        }
    };
    for (path, auth) in [
        ("/health/live", None),
        ("/health/ready", None),
        ("/api/identity-providers/", Some(context.staff.as_str())),
    ] {
        let status = get(path, auth)?;
        if status != 200 {
            return Err(format!("{path}: {status}"));
        }
    }
    Ok(())
}

/// What `/metrics` tells about the run.
#[derive(Debug, Default)]
struct Scraped {
    /// Discovery fetches by outcome.
    fetches: std::collections::BTreeMap<String, u64>,
    /// The distinct `method` labels of the request counter.
    methods: std::collections::BTreeSet<String>,
}

/// Reads `/metrics` (Prometheus text format).
fn scrape_metrics(context: &Context) -> Scraped {
    let mut scraped = Scraped::default();
    let Ok(mut stream) = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], context.port)))
    else {
        return scraped;
    };
    let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        context.port
    );
    let mut answer = Vec::new();
    if stream.write_all(request.as_bytes()).is_err() || stream.read_to_end(&mut answer).is_err() {
        return scraped;
    }
    let text = String::from_utf8_lossy(&answer);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("idp_discovery_fetches_total{outcome=\"")
            && let Some((outcome, count)) = rest.split_once("\"} ")
        {
            let count = count.trim().parse().unwrap_or(0);
            scraped.fetches.insert(outcome.to_owned(), count);
        }
        if line.starts_with("idp_http_requests_total{")
            && let Some((_, rest)) = line.split_once("method=\"")
            && let Some((method, _)) = rest.split_once('"')
        {
            scraped.methods.insert(method.to_owned());
        }
    }
    scraped
}

// ----- The generator --------------------------------------------------------------------------

/// One request, as bytes on the wire.
struct Request {
    index: usize,
    bytes: Vec<u8>,
    /// `HEAD`: the answer has no body.
    head: bool,
    /// Framing the server may not read as one request: sent on a connection of its own.
    close: bool,
    /// False when the generated body was replaced by the loopback check.
    local_only: bool,
}

/// Hosts a discovery URL may name: each is loopback, link-local, multicast, reserved or
/// unspecified (refused by the guard with no `allow_networks`), or `localhost` (resolved from
/// `/etc/hosts`). Never a public name or a private-range address.
const LOCAL_HOSTS: [&str; 16] = [
    "127.0.0.1",
    "127.0.0.2",
    "127.1",
    "2130706433",
    "0x7f000001",
    "localhost",
    "LOCALHOST",
    "0.0.0.0",
    "0",
    "169.254.169.254",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[fe80::1]",
    "224.0.0.1",
];

/// Hosts that make a URL invalid, so nothing is fetched.
const INVALID_HOSTS: [&str; 8] = [
    "",
    "[::1",
    "[zz]",
    "exa mple",
    "%00",
    "@",
    "[::1]x",
    "[127.0.0.1]",
];

/// Every key a provider body may carry: the writable fields in the API's order, then the
/// read-only ones, from the field definition.
static FIELDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let writable = ProviderField::api_order().filter(|f| f.access != Access::ReadOnly);
    let read_only = PROVIDER_FIELDS
        .iter()
        .filter(|f| f.access == Access::ReadOnly);
    writable.chain(read_only).map(|f| f.name).collect()
});

/// Whether the field definition reads `field` as a boolean.
fn is_boolean_field(field: &str) -> bool {
    PROVIDER_FIELDS.iter().any(|f| {
        f.name == field
            && matches!(
                f.access,
                Access::Writable {
                    rule: FieldRule::Boolean,
                    ..
                }
            )
    })
}

const USER_FIELDS: [&str; 6] = [
    "first_name",
    "last_name",
    "email",
    "civil_number",
    "organization",
    "nope",
];

const NUMBERS: [&str; 16] = [
    "0",
    "-0",
    "1",
    "1.0",
    "0.5",
    "1e16",
    "1E400",
    "-1e999",
    "1e-400",
    "123456789012345678901234567890",
    "9007199254740993",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "0.000001",
    "2.5e-5",
];

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    *items.choose(rng).expect("a non-empty list")
}

/// A name for a provider path or body: stored, unknown, odd or junk.
fn provider_name(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0..=4 => pick(rng, &STORED).0.to_owned(),
        5 => pick(rng, &["tara", "no-such", "a", "x_y-z", "0"]).to_string(),
        6 => "a".repeat(rng.random_range(30..40)),
        7 => {
            let n = rng.random_range(1..12);
            percent_junk(rng, n)
        }
        8 => pick(
            rng,
            &[
                "%2e%2e",
                "%2F",
                "..",
                "a%00b",
                "%ff%fe",
                "GENERIC",
                "generic%20",
            ],
        )
        .to_string(),
        _ => "n".repeat(rng.random_range(200..3000)),
    }
}

/// `%XX` sequences of any byte, and some plain characters.
fn percent_junk(rng: &mut StdRng, length: usize) -> String {
    let mut out = String::new();
    for _ in 0..length {
        if rng.random_bool(0.7) {
            out.push_str(&format!("%{:02X}", rng.random::<u8>()));
        } else {
            out.push(pick(
                rng,
                &['a', '-', '_', '.', '~', '!', '$', '(', '\'', '*'],
            ));
        }
    }
    out
}

fn path(rng: &mut StdRng, close: &mut bool) -> String {
    const API: &str = "/api/identity-providers";
    match rng.random_range(0..100) {
        0..=29 => format!("{API}/"),
        30..=49 => format!("{API}/{}/", provider_name(rng)),
        50..=57 => format!("{API}/discover_metadata/"),
        58..=65 => format!("{API}/generate-mapping/"),
        66..=69 => API.to_owned(),
        70..=72 => format!("{API}/{}", provider_name(rng)),
        73..=75 => format!("{API}/{}/{}/", provider_name(rng), percent_junk(rng, 3)),
        76..=77 => format!("{API}/{}.json/", provider_name(rng)),
        78 => "/health/live".into(),
        79 => "/health/ready".into(),
        80 => "/metrics".into(),
        81 => "/api/schema/".into(),
        82 => format!("/api/docs/{}", percent_junk(rng, 4)),
        83 => pick(
            rng,
            &[
                "/api/docs/",
                "/api/docs/index.html",
                "/api/docs/swagger-initializer.js",
                "/api/docs/../../etc/passwd",
                "/api/docs/%2e%2e/%2e%2e/",
            ],
        )
        .to_string(),
        84 => "/".into(),
        85 => format!("/{}", percent_junk(rng, 16)),
        86 => pick(
            rng,
            &[
                "//api//identity-providers//",
                "/api/identity-providers/./",
                "/api/identity-providers/../",
                "/api/identity-providers/%2e/",
                "/api/./identity-providers/",
                "/API/IDENTITY-PROVIDERS/",
                "/api/identity-providers/?",
                "/api/identity-providers/#x",
            ],
        )
        .to_string(),
        87 => format!(
            "http://127.0.0.1/api/identity-providers/{}/",
            provider_name(rng)
        ),
        88 => {
            *close = true;
            pick(rng, &["*", "", "api", "/a b/", "/\u{0}/", "/é/"]).to_string()
        }
        89 => format!("{API}/{}/", "x".repeat(rng.random_range(5_000..40_000))),
        _ => format!("{API}/{}/", {
            let n = rng.random_range(1..60);
            percent_junk(rng, n)
        }),
    }
}

fn query(rng: &mut StdRng) -> String {
    if rng.random_bool(0.6) {
        return String::new();
    }
    let value = |rng: &mut StdRng| -> String {
        match rng.random_range(0..4) {
            0 => pick(
                rng,
                &[
                    "1",
                    "2",
                    "last",
                    "LAST",
                    "0",
                    "-1",
                    "",
                    "1e3",
                    "NaN",
                    "+1",
                    "%201",
                    "1.5",
                    "9223372036854775807",
                    "9223372036854775808",
                    "-9223372036854775808",
                    "300",
                    "301",
                    "%D9%A3",
                    "%00",
                    "%ff",
                ],
            )
            .to_string(),
            1 => "9".repeat(rng.random_range(19..400)),
            2 => {
                let n = rng.random_range(1..8);
                percent_junk(rng, n)
            }
            _ => rng.random::<i64>().to_string(),
        }
    };
    let mut params = Vec::new();
    for _ in 0..rng.random_range(1..5) {
        let param = match rng.random_range(0..8) {
            0..=2 => format!("page={}", value(rng)),
            3..=5 => format!("page_size={}", value(rng)),
            6 => format!("{}={}", percent_junk(rng, 3), value(rng)),
            _ => pick(
                rng,
                &[
                    "",
                    "=",
                    "&",
                    "page",
                    "page_size=",
                    "%",
                    "%zz",
                    "format=yaml",
                    "a=b=c",
                ],
            )
            .to_string(),
        };
        params.push(param);
    }
    format!("?{}", params.join("&"))
}

/// A discovery URL that is never fetched beyond this machine: a local host, or not a URL.
fn discovery_url(rng: &mut StdRng) -> String {
    let scheme = match rng.random_range(0..10) {
        0..=4 => "http",
        5..=7 => "https",
        _ => pick(rng, &["HTTP", "ftp", "javascript", "file", "", "ht tp"]),
    };
    let host = if rng.random_bool(0.85) {
        pick(rng, &LOCAL_HOSTS)
    } else {
        pick(rng, &INVALID_HOSTS)
    };
    let userinfo = if rng.random_bool(0.1) {
        "user:pass@"
    } else {
        ""
    };
    let port = match rng.random_range(0..6) {
        0 => String::new(),
        1 => ":80".into(),
        2 => format!(":{}", rng.random_range(0..70_000)),
        3 => pick(rng, &[":", ":abc", ":-1", ":99999999999"]).to_string(),
        _ => format!(":{}", rng.random_range(1..65_536)),
    };
    let path = match rng.random_range(0..5) {
        0 => String::new(),
        1 => format!("/{}", {
            let n = rng.random_range(1..20);
            percent_junk(rng, n)
        }),
        2 => format!("/{}", "p".repeat(rng.random_range(150..3000))),
        _ => "/.well-known/openid-configuration".into(),
    };
    let tail = pick(rng, &["", "", "?a=1", "#f", "?%00", "?x=%ff#%zz"]);
    match rng.random_range(0..20) {
        0 => pick(
            rng,
            &[
                "",
                "   ",
                "not a url",
                "http:/127.0.0.1",
                "http:///127.0.0.1/x",
            ],
        )
        .to_string(),
        1 => format!("{scheme}:{host}{path}"),
        _ => format!("{scheme}://{userinfo}{host}{port}{path}{tail}"),
    }
}

/// A redirect origin breaking each rule in turn. Only local hosts: a string may land under
/// `discovery_url`.
fn redirect(rng: &mut StdRng) -> String {
    pick(
        rng,
        &[
            "https://localhost",
            "HTTP://LOCALHOST:3000/",
            "http://127.0.0.1",
            "https://*.127.0.0.1",
            "http://0.0.0.0",
            "https://127.0.0.1/app",
            "https://[::1]?a=1",
            "https://localhost#top",
            "ftp://127.0.0.1",
            "not a url",
            "https://[::1]:8443",
            "https://İ.0.0.1",
        ],
    )
    .to_string()
}

/// A JSON string literal holding text of any kind the rules look at.
fn json_string(rng: &mut StdRng, out: &mut Vec<u8>) {
    let text: String = match rng.random_range(0..16) {
        0 => String::new(),
        1 => "   ".into(),
        2 => "a".repeat(rng.random_range(190..260)),
        3 => "é".repeat(rng.random_range(90..110)),
        4 => "x".repeat(rng.random_range(1_000..20_000)),
        5 => pick(rng, &["true", "False", "yes", "off", "1", "0", "maybe"]).to_string(),
        6 => pick(
            rng,
            &["generic", "tara", "keycloak", "eduteams", "Bad Name", "a/b"],
        )
        .to_string(),
        7 => discovery_url(rng),
        8 => redirect(rng),
        9 => pick(rng, &USER_FIELDS).to_string(),
        10 => "İK\u{2028}\u{feff}😀".into(),
        _ => {
            let mut s = String::new();
            for _ in 0..rng.random_range(0..12) {
                s.push(pick(
                    rng,
                    &['a', 'Z', '9', ' ', '-', '_', '.', '/', ':', 'é'],
                ));
            }
            s
        }
    };
    out.push(b'"');
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buffer = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
    // Escapes the parser must decode, or refuse: NUL, escape characters, a lone surrogate.
    if rng.random_bool(0.1) {
        out.extend_from_slice(pick(
            rng,
            &[
                &b"\\u0000"[..],
                b"\\u001b[31m",
                b"\\ud800",
                b"\\udc00x",
                b"\\ud83d\\ude00",
                b"\\x41",
                b"\\u00",
                b"\x00",
                b"\xff\xfe",
                b"\xc0\xaf",
                b"\xed\xa0\x80",
            ],
        ));
    }
    out.push(b'"');
}

/// A JSON value of any type, nested up to `depth`.
fn json_value(rng: &mut StdRng, depth: u32, out: &mut Vec<u8>) {
    let choice = if depth == 0 {
        rng.random_range(0..6)
    } else {
        rng.random_range(0..9)
    };
    match choice {
        0 => out.extend_from_slice(b"null"),
        1 => out.extend_from_slice(pick(rng, &[&b"true"[..], b"false"])),
        2 => out.extend_from_slice(pick(rng, &NUMBERS).as_bytes()),
        3 => out.extend_from_slice(rng.random::<i64>().to_string().as_bytes()),
        4 | 5 => json_string(rng, out),
        6 => {
            out.push(b'[');
            for i in 0..rng.random_range(0..5) {
                if i > 0 {
                    out.push(b',');
                }
                json_value(rng, depth - 1, out);
            }
            out.push(b']');
        }
        7 => json_object(rng, depth - 1, &USER_FIELDS, out),
        _ => json_object(rng, depth - 1, &FIELDS, out),
    }
}

fn json_object(rng: &mut StdRng, depth: u32, keys: &[&str], out: &mut Vec<u8>) {
    out.push(b'{');
    for i in 0..rng.random_range(0..6) {
        if i > 0 {
            out.push(b',');
        }
        if rng.random_bool(0.85) {
            out.extend_from_slice(format!("\"{}\"", pick(rng, keys)).as_bytes());
        } else {
            json_string(rng, out);
        }
        out.push(b':');
        json_value(rng, depth, out);
    }
    out.push(b'}');
}

/// A value for one field: the right type with a good or bad value, or any other type.
fn field_value(rng: &mut StdRng, field: &str, out: &mut Vec<u8>) {
    if rng.random_bool(0.4) {
        return json_value(rng, 3, out);
    }
    let list = |rng: &mut StdRng, out: &mut Vec<u8>, item: fn(&mut StdRng) -> String| {
        out.push(b'[');
        for i in 0..rng.random_range(0..4) {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(Value::String(item(rng)).to_string().as_bytes());
        }
        out.push(b']');
    };
    match field {
        "discovery_url" => {
            out.extend_from_slice(Value::String(discovery_url(rng)).to_string().as_bytes())
        }
        "allowed_redirects" => list(rng, out, redirect),
        "protected_fields" => list(rng, out, |rng| pick(rng, &USER_FIELDS).to_string()),
        "attribute_mapping" => json_object(rng, 1, &USER_FIELDS, out),
        "provider" => {
            out.extend_from_slice(Value::String(provider_name(rng)).to_string().as_bytes())
        }
        field if is_boolean_field(field) => out.extend_from_slice(
            pick(
                rng,
                &["true", "false", "\"no\"", "1", "0", "2", "\"\"", "null"],
            )
            .as_bytes(),
        ),
        _ => json_string(rng, out),
    }
}

/// An object with the real field names: a create, update or discovery request, with some
/// fields missing, wrong or unknown.
fn field_object(rng: &mut StdRng, out: &mut Vec<u8>) {
    let fields: Vec<&str> = match rng.random_range(0..4) {
        0 => vec![
            "provider",
            "client_id",
            "client_secret",
            "discovery_url",
            "label",
        ],
        1 => vec!["discovery_url", "verify_ssl"],
        2 => vec![
            "label",
            "is_active",
            "allowed_redirects",
            "attribute_mapping",
        ],
        _ => (0..rng.random_range(0..10))
            .map(|_| pick(rng, &FIELDS))
            .collect(),
    };
    out.push(b'{');
    let mut first = true;
    for field in fields {
        if rng.random_bool(0.1) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(format!("\"{field}\":").as_bytes());
        field_value(rng, field, out);
    }
    if rng.random_bool(0.1) {
        out.extend_from_slice(if first {
            b"\"unknown\":1"
        } else {
            b",\"unknown\":1"
        });
    }
    out.push(b'}');
}

/// What a request path aims at, for bodies that get past validation to the discovery fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aim {
    Collection,
    Detail,
    Action,
    Other,
}

fn aim(path: &str) -> Aim {
    let path = path.split('?').next().unwrap_or_default();
    match path.strip_prefix("/api/identity-providers/") {
        Some("") => Aim::Collection,
        Some("discover_metadata/" | "generate-mapping/") => Aim::Action,
        Some(name)
            if STORED
                .iter()
                .any(|(stored, _)| name == format!("{stored}/")) =>
        {
            Aim::Detail
        }
        _ => Aim::Other,
    }
}

/// A body that passes validation but for its discovery URL (local, or not a URL), so that the
/// request reaches the SSRF guard; sometimes with one field changed.
fn focused_body(rng: &mut StdRng, aim: Aim) -> Vec<u8> {
    let mut body = serde_json::json!({ "discovery_url": discovery_url(rng) });
    let object = body.as_object_mut().expect("an object");
    if rng.random_bool(0.3) {
        object.insert("verify_ssl".into(), Value::Bool(rng.random()));
    }
    if matches!(aim, Aim::Collection | Aim::Detail) {
        let provider = match rng.random_range(0..4) {
            0 => pick(rng, &STORED).0.to_owned(),
            1 => pick(rng, &["keycloak", "eduteams", "tara"]).to_owned(),
            _ => format!("p{:x}", rng.random::<u32>()),
        };
        for (key, value) in [
            ("provider", provider.as_str()),
            ("client_id", "client"),
            ("client_secret", "secret"),
            ("label", "Label"),
        ] {
            object.insert(key.into(), Value::String(value.into()));
        }
    }
    let mut out = serde_json::to_vec(&body).expect("a body");
    if rng.random_bool(0.2) && out.len() > 1 {
        // One more field, of any kind, before the closing brace.
        out.pop();
        let field = pick(rng, &FIELDS);
        out.extend_from_slice(format!(",\"{field}\":").as_bytes());
        field_value(rng, field, &mut out);
        out.push(b'}');
    }
    out
}

fn body(rng: &mut StdRng, aim: Aim) -> Vec<u8> {
    let focused = match aim {
        Aim::Action => 0.5,
        Aim::Collection => 0.4,
        Aim::Detail => 0.3,
        Aim::Other => 0.0,
    };
    if rng.random_bool(focused) {
        return focused_body(rng, aim);
    }
    let mut out = Vec::new();
    match rng.random_range(0..40) {
        0..=17 => field_object(rng, &mut out),
        18..=23 => json_value(rng, 4, &mut out),
        24 => {}
        25 => out.extend_from_slice(b" \r\n\t"),
        26 => {
            let depth = rng.random_range(100..50_000);
            let (open, close) = pick(rng, &[(b'[', b']'), (b'{', b'}')]);
            if open == b'{' {
                for _ in 0..depth {
                    out.extend_from_slice(b"{\"a\":");
                }
                out.push(b'1');
            } else {
                out.extend(std::iter::repeat_n(open, depth));
            }
            if rng.random_bool(0.5) {
                out.extend(std::iter::repeat_n(close, depth));
            }
        }
        27 => {
            out.extend_from_slice(b"{\"client_id\":");
            out.extend(std::iter::repeat_n(b'9', rng.random_range(20..100_000)));
            out.push(b'}');
        }
        28 => out.extend(std::iter::repeat_n(b' ', 70_000)),
        29 => {
            out.extend_from_slice(b"{\"label\":\"");
            out.extend(std::iter::repeat_n(b'a', rng.random_range(60_000..70_000)));
            out.extend_from_slice(b"\"}");
        }
        30 => {
            for _ in 0..rng.random_range(0..512) {
                out.push(rng.random());
            }
        }
        31 => out.extend_from_slice(pick(
            rng,
            &[
                &b"provider=generic&label=x"[..],
                b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--",
                b"<xml/>",
                b"\xef\xbb\xbf{}",
                b"{\"a\":1}{\"b\":2}",
                b"{\"a\":1,}",
                b"[1,2",
                b"nul",
                b"\"\\ud800\"",
                b"{\"label\": NaN}",
                b"{\"label\": Infinity}",
                b"{\"label\": 0x10}",
                b"{'label': 'x'}",
                b"\x00\x00\x00{",
                b"\xfe\xff\x00{",
                b"{\"provider\":\"generic\",\"provider\":7}",
            ],
        )),
        _ => {
            // A good-looking body with bytes changed: invalid UTF-8, NUL, truncation.
            field_object(rng, &mut out);
            for _ in 0..rng.random_range(1..4) {
                if out.is_empty() {
                    break;
                }
                let at = rng.random_range(0..out.len());
                match rng.random_range(0..3) {
                    0 => out[at] = pick(rng, &[0x00, 0xff, 0xc0, 0x80, b'"', b'\\']),
                    1 => out.truncate(at),
                    _ => out.insert(at, 0),
                }
            }
        }
    }
    out
}

/// Whether the server, reading `body` as it does (JSON; blank is `{}`), can only be asked to
/// fetch a discovery URL on this machine: any `discovery_url` string is either not a URL the
/// guard parses, or names a literal address the guard refuses, or `localhost`.
fn is_local_only(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return true;
    };
    let Some(Value::String(url)) = value.get("discovery_url") else {
        return true;
    };
    [url.as_str(), url.trim()]
        .iter()
        .all(|url| match guard::parse_url(url) {
            Err(_) => true,
            Ok(url) => match url.host() {
                None => true,
                Some(url::Host::Ipv4(ip)) => guard::is_refused(ip.into()),
                Some(url::Host::Ipv6(ip)) => guard::is_refused(ip.into()),
                Some(url::Host::Domain(domain)) => domain == "localhost",
            },
        })
}

fn authorization(
    rng: &mut StdRng,
    context: &Context,
    prefer_staff: bool,
    close: &mut bool,
) -> Option<Vec<u8>> {
    let staff = &context.staff;
    if prefer_staff && rng.random_bool(0.6) {
        return Some(format!("Token {staff}").into_bytes());
    }
    let value: Vec<u8> = match rng.random_range(0..100) {
        0..=24 => return None,
        25..=59 => format!("Token {staff}").into_bytes(),
        60..=67 => format!("Token {}", context.user).into_bytes(),
        68..=69 => format!("Token {}", context.inactive).into_bytes(),
        70 => format!("token {staff}").into_bytes(),
        71 => format!("TOKEN   {staff}  ").into_bytes(),
        72 => format!("Token\t{staff}").into_bytes(),
        73 => format!("Token {staff} extra").into_bytes(),
        74 => b"Token".to_vec(),
        75 => b"Token ".to_vec(),
        76 => format!("Token {:040x}", rng.random::<u128>()).into_bytes(),
        77 => format!("Token {}", &staff[..staff.len() / 2]).into_bytes(),
        78 => format!("Token {}", "a".repeat(rng.random_range(41..9_000))).into_bytes(),
        79 => b"Bearer eyJhbGciOiJub25lIn0.e30.".to_vec(),
        80 => b"Basic dXNlcjpwYXNz".to_vec(),
        81 => b"Token \xff\xfe\x80".to_vec(),
        82 => b"\x80\x81\x82".to_vec(),
        83 => b"Token %00%ff".to_vec(),
        84 => format!("Token {}", staff.to_uppercase()).into_bytes(),
        85 => format!("Token {staff}, Token {staff}").into_bytes(),
        86 => b"Token ' OR 1=1 --".to_vec(),
        87 => {
            // Control characters are not allowed in a header value.
            *close = true;
            format!("Token {staff}\x00").into_bytes()
        }
        _ => {
            let mut junk = b"Token ".to_vec();
            for _ in 0..rng.random_range(0..64) {
                junk.push(rng.random_range(0x20..0xff));
            }
            junk
        }
    };
    Some(value)
}

fn content_type(rng: &mut StdRng) -> Option<Vec<u8>> {
    match rng.random_range(0..100) {
        0..=14 => None,
        15..=64 => Some(b"application/json".to_vec()),
        _ => Some(
            pick(
                rng,
                &[
                    &b"application/json; charset=utf-8"[..],
                    b"application/JSON",
                    b"application/problem+json",
                    b"application/vnd.api+json; x=y",
                    b"text/plain",
                    b"application/x-www-form-urlencoded",
                    b"multipart/form-data; boundary=x",
                    b"application/xml",
                    b"",
                    b";",
                    b"application/json;;;charset",
                    b"*/*",
                    b"application/",
                    b"+json",
                    b"\xff\xfe",
                    b"application/json; charset=utf-16",
                    b"text/html; charset=\x80",
                ],
            )
            .to_vec(),
        ),
    }
}

/// Extra headers: `If-Match`, request ids, encodings, expectations, many or huge headers.
fn extra_headers(rng: &mut StdRng, headers: &mut Vec<(Vec<u8>, Vec<u8>)>, close: &mut bool) {
    let mut add =
        |name: &str, value: &[u8]| headers.push((name.as_bytes().to_vec(), value.to_vec()));
    if rng.random_bool(0.1) {
        add(
            "If-Match",
            pick(
                rng,
                &[
                    &b"*"[..],
                    b"\"1\"",
                    b"W/\"2\"",
                    b"junk",
                    b"\"99999999999999999999\"",
                    b"\"-1\"",
                    b"\"\"",
                    b"\xff",
                ],
            ),
        );
    }
    if rng.random_bool(0.05) {
        add(
            "X-Request-Id",
            pick(
                rng,
                &[
                    &b"abc-123"[..],
                    b"\xff\xfe",
                    b"a b",
                    b"<script>",
                    &[b'a'; 100],
                ],
            ),
        );
    }
    if rng.random_bool(0.05) {
        add(
            "Content-Encoding",
            pick(
                rng,
                &[
                    &b"gzip"[..],
                    b"deflate",
                    b"br",
                    b"zstd",
                    b"identity",
                    b"junk",
                ],
            ),
        );
    }
    if rng.random_bool(0.03) {
        add("Expect", b"100-continue");
    }
    if rng.random_bool(0.05) {
        add(
            "Accept",
            pick(
                rng,
                &[
                    &b"text/html"[..],
                    b"application/yaml",
                    b"\xff",
                    b"*/*;q=abc",
                ],
            ),
        );
    }
    if rng.random_bool(0.02) {
        for i in 0..rng.random_range(50..200) {
            add(&format!("X-Junk-{i}"), b"v");
        }
        *close = true;
    }
    if rng.random_bool(0.01) {
        add("X-Big", &vec![b'a'; rng.random_range(8_000..80_000)]);
        *close = true;
    }
    if rng.random_bool(0.02) {
        add(
            "Connection",
            pick(rng, &[&b"close"[..], b"keep-alive", b"upgrade", b"\xff"]),
        );
        *close = true;
    }
    if rng.random_bool(0.01) {
        add("Upgrade", b"h2c");
        *close = true;
    }
}

/// Builds request `index` of the run from `seed`.
fn generate(seed: u64, index: usize, context: &Context) -> Request {
    let mut rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let rng = &mut rng;
    let mut close = false;
    let path = path(rng, &mut close);
    let aim = aim(&path);
    // Writes where a write is served, often enough to reach the discovery fetch.
    let write = match aim {
        Aim::Action if rng.random_bool(0.6) => Some("POST"),
        Aim::Collection if rng.random_bool(0.3) => Some("POST"),
        Aim::Detail if rng.random_bool(0.3) => Some(pick(rng, &["PUT", "PATCH"])),
        _ => None,
    };
    let method: String = match (write, rng.random_range(0..100)) {
        (Some(method), _) => method.into(),
        (None, 0..=24) => "GET".into(),
        (None, 25..=54) => "POST".into(),
        (None, 55..=62) => "PUT".into(),
        (None, 63..=72) => "PATCH".into(),
        (None, 73..=77) => "DELETE".into(),
        (None, 78..=83) => "HEAD".into(),
        (None, 84..=88) => "OPTIONS".into(),
        (None, 89..=94) => pick(
            rng,
            &[
                "TRACE", "PROPFIND", "FOO", "get", "PoSt", "M-SEARCH", "CONNECT",
            ],
        )
        .to_string(),
        (None, 95) => format!("X{:08x}", rng.random::<u32>()),
        (None, 96) => "X".repeat(rng.random_range(100..2_000)),
        (None, _) => {
            close = true;
            pick(rng, &["", "GE T", "G\u{0}T", "GET\u{7f}", "é"]).to_string()
        }
    };
    let head = method == "HEAD";
    let target = format!("{path}{}", query(rng));
    let version = if rng.random_bool(0.97) {
        "HTTP/1.1"
    } else {
        close = true;
        pick(
            rng,
            &[
                "HTTP/1.0",
                "HTTP/2.0",
                "HTTP/9.9",
                "http/1.1",
                "HTTP/1.1 x",
                "",
            ],
        )
    };
    let with_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH") || rng.random_bool(0.05);
    let mut body = if with_body {
        Some(body(rng, aim))
    } else {
        None
    };
    let local_only = body.as_deref().is_none_or(is_local_only);
    if !local_only {
        body = Some(b"{}".to_vec());
    }

    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    match rng.random_range(0..100) {
        0..=89 => headers.push((
            b"Host".to_vec(),
            format!("127.0.0.1:{}", context.port).into(),
        )),
        90..=93 => {}
        _ => headers.push((
            b"Host".to_vec(),
            pick(
                rng,
                &[
                    &b""[..],
                    b"evil.example",
                    b"a:b:c",
                    b"[::1",
                    b"\xff",
                    &[b'h'; 300],
                ],
            )
            .to_vec(),
        )),
    }
    if let Some(value) = authorization(rng, context, write.is_some(), &mut close) {
        headers.push((b"Authorization".to_vec(), value));
    }
    if body.is_some()
        && let Some(value) = content_type(rng)
    {
        headers.push((b"Content-Type".to_vec(), value));
    }
    extra_headers(rng, &mut headers, &mut close);

    // Framing of the body: usually right, sometimes chunked, missing or contradictory.
    let mut payload = Vec::new();
    match &body {
        None => {
            if rng.random_bool(0.1) {
                headers.push((b"Content-Length".to_vec(), b"0".to_vec()));
            }
        }
        Some(body) => match rng.random_range(0..100) {
            0..=84 => {
                headers.push((b"Content-Length".to_vec(), body.len().to_string().into()));
                payload.extend_from_slice(body);
            }
            85..=92 => {
                headers.push((b"Transfer-Encoding".to_vec(), b"chunked".to_vec()));
                for chunk in body.chunks(rng.random_range(1..4096)) {
                    payload.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    payload.extend_from_slice(chunk);
                    payload.extend_from_slice(b"\r\n");
                }
                payload.extend_from_slice(b"0\r\n\r\n");
            }
            _ => {
                close = true;
                let length = body.len();
                let wrong: Vec<u8> = match rng.random_range(0..6) {
                    0 => (length + rng.random_range(1..100)).to_string().into(),
                    1 => length
                        .saturating_sub(rng.random_range(1..10))
                        .to_string()
                        .into(),
                    2 => pick(
                        rng,
                        &[
                            &b"abc"[..],
                            b"-1",
                            b"+5",
                            b" 5",
                            b"1e3",
                            b"99999999999999999999999",
                        ],
                    )
                    .to_vec(),
                    3 => {
                        headers.push((b"Transfer-Encoding".to_vec(), b"chunked".to_vec()));
                        length.to_string().into()
                    }
                    4 => {
                        headers.push((b"Content-Length".to_vec(), b"0".to_vec()));
                        length.to_string().into()
                    }
                    _ => Vec::new(),
                };
                if !wrong.is_empty() {
                    headers.push((b"Content-Length".to_vec(), wrong));
                }
                payload.extend_from_slice(body);
            }
        },
    }

    let newline: &[u8] = if rng.random_bool(0.02) {
        close = true;
        b"\n"
    } else {
        b"\r\n"
    };
    let mut bytes = Vec::with_capacity(256 + payload.len());
    bytes.extend_from_slice(method.as_bytes());
    bytes.push(b' ');
    bytes.extend_from_slice(target.as_bytes());
    if !version.is_empty() {
        bytes.push(b' ');
        bytes.extend_from_slice(version.as_bytes());
    }
    bytes.extend_from_slice(newline);
    for (name, value) in headers {
        bytes.extend_from_slice(&name);
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(&value);
        bytes.extend_from_slice(newline);
    }
    bytes.extend_from_slice(newline);
    bytes.extend_from_slice(&payload);
    Request {
        index,
        bytes,
        head,
        close,
        local_only,
    }
}

/// The generator's own guarantees: the same seed gives the same requests, and no body it makes
/// could send the server beyond this machine.
#[test]
fn the_generator_is_deterministic_and_stays_on_this_machine() {
    let context = Context {
        port: 1,
        staff: "a".repeat(40),
        user: "b".repeat(40),
        inactive: "c".repeat(40),
    };
    let mut replaced = 0;
    for index in 0..3_000 {
        let one = generate(7, index, &context);
        let two = generate(7, index, &context);
        assert_eq!(one.bytes, two.bytes, "request {index} is not reproducible");
        if !one.local_only {
            replaced += 1;
        }
    }
    assert_eq!(
        replaced, 0,
        "the generator made bodies naming hosts off this machine"
    );
    for url in [
        "https://idp.example.com/x",
        "http://10.0.0.1/x",
        "http://192.168.1.1/",
        "http://[2001:db8::1]/",
        "http://8.8.8.8/",
    ] {
        let body = serde_json::json!({ "discovery_url": url }).to_string();
        assert!(!is_local_only(body.as_bytes()), "{url}");
    }
    for host in LOCAL_HOSTS {
        let body = serde_json::json!({ "discovery_url": format!("http://{host}/x") }).to_string();
        assert!(is_local_only(body.as_bytes()), "{host}");
    }
}
