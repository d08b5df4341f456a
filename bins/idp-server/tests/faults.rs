//! The `idp-server` binary under faults: its PostgreSQL server going away and coming back, and
//! the server itself killed with SIGKILL in the middle of a write load on SQLite.
//!
//! The PostgreSQL test runs its own private PostgreSQL instance (initdb in a temporary directory,
//! on a free loopback port) and stops that one, never the machine's shared cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use idp_store::Backend;
use idp_store::testing::TestDatabase;
use serde_json::{Value, json};
use wiremock::MockServer;

mod common;

use common::{Server, free_port, serve_discovery};

const BIN: &str = env!("CARGO_BIN_EXE_idp-server");
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const COLLECTION: &str = "/api/identity-providers/";

/// The environment of every command: the database, a fixed key, loopback discovery allowed.
fn command(database_url: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IDP_DATABASE_URL", database_url)
        .env("IDP_SECRET_KEY", KEY)
        .env("IDP_DISCOVERY_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("RUST_LOG", "warn");
    command
}

// ---------------------------------------------------------------------------------------------
// A private PostgreSQL instance.

/// A PostgreSQL server of this test's own, in a temporary directory, on a free loopback port.
/// Dropping it stops it and deletes its directory.
struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
}

fn postgres_bin_dir() -> PathBuf {
    let preferred = PathBuf::from("/usr/lib/postgresql/15/bin");
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if has_tools(&preferred) {
        return preferred;
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path().join("bin"))
                .filter(|dir| has_tools(dir))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "this test needs the PostgreSQL server programs (initdb, pg_ctl, postgres) in \
             /usr/lib/postgresql/15/bin to run a private PostgreSQL instance it can stop; \
             install them (apt-get install postgresql-15)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PrivatePostgres {
    fn start() -> Self {
        let bin = postgres_bin_dir();
        let as_postgres_user = is_root();
        let dir = tempfile::Builder::new()
            .prefix("idp-faults-pg-")
            .tempdir_in("/tmp")
            .unwrap();
        if as_postgres_user {
            // PostgreSQL refuses to run as root: the directory belongs to `postgres`.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the PostgreSQL directory failed");
        }
        let port = free_port();
        let postgres = Self {
            bin,
            dir,
            port,
            as_postgres_user,
        };
        let output = postgres
            .tool("initdb")
            .arg("-D")
            .arg(postgres.data())
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "--encoding=UTF8",
            ])
            .output()
            .expect("initdb runs");
        assert!(
            output.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        postgres.start_server();
        postgres
    }

    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -h 127.0.0.1 -F -c max_connections=40",
            self.port,
            self.dir.path().display()
        );
        let output = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("postgres.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl runs");
        let log = std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default();
        assert!(
            output.status.success(),
            "pg_ctl start failed: {}{}\n{log}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `pg_ctl stop -m immediate`: the server and its backends die at once, as in a crash.
    fn stop_server(&self) -> bool {
        self.tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "30", "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl PrivatePostgres {
    /// The postmaster and all its children (the backends of every connection).
    fn processes(&self) -> Vec<u32> {
        let pid_file =
            std::fs::read_to_string(self.data().join("postmaster.pid")).unwrap_or_default();
        let Some(postmaster) = pid_file
            .lines()
            .next()
            .and_then(|l| l.trim().parse::<u32>().ok())
        else {
            return Vec::new();
        };
        let mut pids = vec![postmaster];
        for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // `pid (comm) state ppid ...`; comm may hold spaces, so read after the last ')'.
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|ppid| ppid.parse::<u32>().ok());
            if parent == Some(postmaster) {
                pids.push(pid);
            }
        }
        pids
    }

    fn signal(&self, signal: &str) {
        let pids: Vec<String> = self.processes().iter().map(u32::to_string).collect();
        if !pids.is_empty() {
            let _ = Command::new("kill")
                .arg(signal)
                .args(&pids)
                .stderr(Stdio::null())
                .status();
        }
    }

    /// SIGSTOP to every PostgreSQL process: the server hangs with its sockets open, as behind
    /// a network partition or on a stalled disk.
    ///
    /// The postmaster is stopped first, alone: a backend it forks while its children are being
    /// listed (a pool making a connection in the background) would otherwise escape the signal
    /// and keep answering, and a "hung" server would answer within milliseconds.
    fn freeze(&self) {
        if let Some(&postmaster) = self.processes().first() {
            let _ = Command::new("kill")
                .args(["-STOP", &postmaster.to_string()])
                .status();
        }
        self.signal("-STOP");
    }

    fn thaw(&self) {
        self.signal("-CONT");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.thaw();
        self.stop_server();
        // The TempDir deletes the directory.
    }
}

// ---------------------------------------------------------------------------------------------

/// One request's outcome: status, body and how long it took.
struct Answer {
    status: u16,
    body: String,
    elapsed: Duration,
}

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let started = Instant::now();
    let mut request = http.request(method.clone(), url);
    if let Some(key) = auth {
        request = request.header("Authorization", format!("Token {key}"));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("{method} {url}: no answer: {error}"));
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    Answer {
        status,
        body,
        elapsed: started.elapsed(),
    }
}

/// A request sent during an outage: method, URL, token, body and the status it must get.
type OutageRequest<'a> = (reqwest::Method, String, Option<&'a str>, Option<Value>, u16);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_reads_from_memory_writes_answer_503_quickly_and_the_server_recovers_without_restart()
 {
    let postgres = tokio::task::spawn_blocking(PrivatePostgres::start)
        .await
        .unwrap();
    let idp = MockServer::start().await;
    let discovery_url = serve_discovery(&idp, "corp").await;
    let mut cmd = command(&postgres.url());
    cmd.env("IDP_DB_TIMEOUT", "1");
    let (mut server, admin_key) = Server::start(cmd, true, Stdio::null());
    let admin = admin_key.unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let collection = format!("{}{COLLECTION}", server.base);
    let one = format!("{collection}corp/");
    let body = json!({"provider": "corp", "label": "Corp", "client_id": "c", "client_secret": "s", "discovery_url": discovery_url});
    let created = send(
        &http,
        reqwest::Method::POST,
        &collection,
        Some(&admin),
        Some(body),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let ready = send(
        &http,
        reqwest::Method::GET,
        &format!("{}/health/ready", server.base),
        None,
        None,
    )
    .await;
    assert_eq!(ready.status, 200, "{}", ready.body);

    // PostgreSQL dies (the pool still holds connections to it).
    let stopped = {
        let pg = &postgres;
        tokio::task::block_in_place(|| pg.stop_server())
    };
    assert!(stopped, "the private PostgreSQL did not stop");

    let mut problems = Vec::new();
    let mut slowest = Duration::ZERO;
    for round in 0..3 {
        // Reads are served from memory and keep working; writes need the database.
        let requests: Vec<OutageRequest<'_>> = vec![
            (reqwest::Method::GET, collection.clone(), None, None, 200),
            (
                reqwest::Method::GET,
                collection.clone(),
                Some(&admin),
                None,
                200,
            ),
            (reqwest::Method::HEAD, collection.clone(), None, None, 200),
            (reqwest::Method::GET, one.clone(), None, None, 200),
            (
                reqwest::Method::PATCH,
                one.clone(),
                Some(&admin),
                Some(json!({"label": "During the outage"})),
                503,
            ),
            (
                reqwest::Method::POST,
                collection.clone(),
                Some(&admin),
                Some(
                    json!({"provider": "other", "label": "O", "client_id": "c", "client_secret": "s", "discovery_url": discovery_url}),
                ),
                503,
            ),
            (
                reqwest::Method::DELETE,
                one.clone(),
                Some(&admin),
                None,
                503,
            ),
        ];
        for (method, url, auth, body, expected) in requests {
            let answer = send(&http, method.clone(), &url, auth, body).await;
            let what = format!(
                "round {round}: {method} {url} ({})",
                if auth.is_some() { "staff" } else { "anonymous" }
            );
            slowest = slowest.max(answer.elapsed);
            if answer.elapsed > Duration::from_secs(3) {
                problems.push(format!(
                    "{what} took {:?} (IDP_DB_TIMEOUT=1)",
                    answer.elapsed
                ));
            }
            if answer.status != expected {
                problems.push(format!(
                    "{what}: status {}, expected {expected}: {}",
                    answer.status, answer.body
                ));
                continue;
            }
            if expected == 200 {
                if method != reqwest::Method::HEAD && !answer.body.contains("\"Corp\"") {
                    problems.push(format!("{what}: the provider is missing: {}", answer.body));
                }
                continue;
            }
            let detail: Option<Value> = serde_json::from_str(&answer.body).ok();
            let ok = detail
                .as_ref()
                .and_then(Value::as_object)
                .is_some_and(|o| o.len() == 1 && o.get("detail").is_some_and(Value::is_string));
            if !ok {
                problems.push(format!(
                    "{what}: 503 body is not {{\"detail\": ...}}: {}",
                    answer.body
                ));
            }
        }
        let ready = send(
            &http,
            reqwest::Method::GET,
            &format!("{}/health/ready", server.base),
            None,
            None,
        )
        .await;
        let ready_body: Value = serde_json::from_str(&ready.body).unwrap_or(Value::Null);
        if ready.status != 503
            || ready_body["status"] != "unavailable"
            || !ready_body["reason"].is_string()
            || ready.elapsed > Duration::from_secs(3)
        {
            problems.push(format!(
                "round {round}: /health/ready answered {} in {:?}: {}",
                ready.status, ready.elapsed, ready.body
            ));
        }
        let live = send(
            &http,
            reqwest::Method::GET,
            &format!("{}/health/live", server.base),
            None,
            None,
        )
        .await;
        if live.status != 200 || live.elapsed > Duration::from_secs(1) {
            problems.push(format!(
                "round {round}: /health/live answered {} in {:?}",
                live.status, live.elapsed
            ));
        }
        server.assert_running();
    }
    println!("during the outage: 21 API requests answered, the slowest in {slowest:?}");
    assert!(
        problems.is_empty(),
        "during the outage:\n{}",
        problems.join("\n")
    );

    // PostgreSQL comes back; the same server process serves again by itself.
    {
        let pg = &postgres;
        tokio::task::block_in_place(|| pg.start_server());
    }
    let back = Instant::now();
    let deadline = back + Duration::from_secs(20);
    loop {
        let answer = send(&http, reqwest::Method::GET, &collection, None, None).await;
        if answer.status == 200 {
            let list: Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(
                list[0]["provider"], "corp",
                "the provider written before the outage is there"
            );
            assert_eq!(
                list[0]["label"], "Corp",
                "no write was made during the outage"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {} 20 s after PostgreSQL came back: {}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "served again {:?} after PostgreSQL restarted",
        back.elapsed()
    );
    server.assert_running();
    let ready = send(
        &http,
        reqwest::Method::GET,
        &format!("{}/health/ready", server.base),
        None,
        None,
    )
    .await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let patched = send(
        &http,
        reqwest::Method::PATCH,
        &one,
        Some(&admin),
        Some(json!({"label": "After"})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    // Every pooled connection works again, not only the first: a burst of parallel requests.
    let mut burst = Vec::new();
    for _ in 0..12 {
        let http = http.clone();
        let url = one.clone();
        let admin = admin.clone();
        burst.push(tokio::spawn(async move {
            send(&http, reqwest::Method::GET, &url, Some(&admin), None).await
        }));
    }
    for task in burst {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    // A write the server was not part of (another instance's, here straight in SQL) reaches
    // it through the listener's new connection: no stale answer once PostgreSQL is back.
    let url = postgres.url();
    tokio::task::spawn_blocking(move || {
        use diesel::connection::SimpleConnection;
        use diesel::{Connection, PgConnection};
        let mut conn = PgConnection::establish(&url).unwrap();
        conn.batch_execute(
            "UPDATE identity_providers SET label = 'Written elsewhere' WHERE provider = 'corp'",
        )
        .unwrap();
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = send(&http, reqwest::Method::GET, &one, None, None).await;
        if answer.body.contains("Written elsewhere") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "another instance's write is not served 20 s after it: {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// SIGKILL during a write load on SQLite.

/// One write sent for a provider, in the order sent (one client per provider, so its writes
/// never overlap), and its outcome.
#[derive(Debug, Clone)]
struct Write {
    label: String,
    /// The row version the 2xx answer's ETag named; `None` when no answer came.
    acknowledged: Option<i64>,
}

/// What the load did: per provider, its writes in order; and any answers other than 201/200.
#[derive(Debug, Default)]
struct Journal {
    providers: BTreeMap<String, Vec<Write>>,
    unexpected: Vec<String>,
}

fn etag_version(response: &reqwest::Response) -> Option<i64> {
    response
        .headers()
        .get("etag")?
        .to_str()
        .ok()?
        .trim_matches('"')
        .parse()
        .ok()
}

/// One client: creates its providers one after another and patches each a few times, every
/// write waiting for the previous one's answer, until the server stops answering.
async fn write_client(
    http: reqwest::Client,
    base: String,
    admin: String,
    discovery_url: String,
    prefix: String,
    stop: Arc<AtomicBool>,
) -> Journal {
    let mut journal = Journal::default();
    let collection = format!("{base}{COLLECTION}");
    'providers: for n in 0.. {
        let name = format!("{prefix}p{n}");
        let mut writes = Vec::new();
        for step in 0..4 {
            if stop.load(Ordering::Relaxed) {
                journal.providers.insert(name, writes);
                break 'providers;
            }
            let label = format!("{name}-v{step}");
            let request = if step == 0 {
                http.post(&collection).json(&json!({
                    "provider": name, "label": label, "client_id": "c",
                    "client_secret": format!("{name}-secret"), "discovery_url": discovery_url,
                }))
            } else {
                http.patch(format!("{collection}{name}/"))
                    .json(&json!({"label": label}))
            };
            let outcome = request
                .header("Authorization", format!("Token {admin}"))
                .send()
                .await;
            match outcome {
                Ok(response) => {
                    let expected = if step == 0 { 201 } else { 200 };
                    let status = response.status().as_u16();
                    let version = etag_version(&response);
                    let text = response.text().await.unwrap_or_default();
                    if status != expected || version.is_none() {
                        journal.unexpected.push(format!(
                            "{name} step {step}: {status} (ETag {version:?}): {text}"
                        ));
                        writes.push(Write {
                            label,
                            acknowledged: None,
                        });
                        journal.providers.insert(name, writes);
                        break 'providers;
                    }
                    writes.push(Write {
                        label,
                        acknowledged: version,
                    });
                }
                Err(_) => {
                    // Sent, never answered: it may or may not have been applied.
                    writes.push(Write {
                        label,
                        acknowledged: None,
                    });
                    journal.providers.insert(name, writes);
                    break 'providers;
                }
            }
        }
        journal.providers.insert(name, writes);
    }
    journal
}

/// Checks the rows after the crash against what was acknowledged; returns (acknowledged writes,
/// lost writes, in-flight writes that were applied), and every violation found.
fn audit(
    journal: &Journal,
    rows: &BTreeMap<String, (String, i64)>,
) -> (usize, usize, usize, Vec<String>) {
    let mut acknowledged = 0;
    let mut lost = 0;
    let mut applied_in_flight = 0;
    let mut problems = Vec::new();
    for (name, writes) in &journal.providers {
        let acked: Vec<usize> = (0..writes.len())
            .filter(|&i| writes[i].acknowledged.is_some())
            .collect();
        acknowledged += acked.len();
        // Writes to one provider were sequential: all acknowledged ones come first, then at most
        // one that was sent and never answered.
        assert!(
            writes.iter().skip(acked.len()).count() <= 1,
            "{name}: {writes:?}"
        );
        let row = rows.get(name);
        match (acked.last(), row) {
            (None, None) => {}
            (None, Some((label, version))) => {
                // Only the unanswered create can have made it.
                if writes.first().map(|w| &w.label) != Some(label) || *version != 1 {
                    problems.push(format!(
                        "{name}: only an unanswered create was sent, yet the row is ({label}, v{version})"
                    ));
                } else {
                    applied_in_flight += 1;
                }
            }
            (Some(&last), None) => {
                lost += acked.len();
                problems.push(format!(
                    "{name}: {} acknowledged write(s), the last {:?}, but the row is gone",
                    acked.len(),
                    writes[last]
                ));
            }
            (Some(&last), Some((label, version))) => {
                let acked_version = writes[last].acknowledged.unwrap();
                let in_flight = writes.get(last + 1);
                if *label == writes[last].label && *version == acked_version {
                    // The state of the last acknowledged write.
                } else if in_flight.is_some_and(|w| w.label == *label)
                    && *version == acked_version + 1
                {
                    applied_in_flight += 1;
                } else {
                    // Which acknowledged writes does the row still reflect?
                    let reflected = writes
                        .iter()
                        .position(|w| w.label == *label)
                        .map_or(0, |i| i + 1);
                    lost += acked.len().saturating_sub(reflected).max(1);
                    problems.push(format!(
                        "{name}: the row is ({label}, v{version}) but the last acknowledged write \
                         was {:?} (v{acked_version}), the next one sent {in_flight:?}",
                        writes[last].label
                    ));
                }
            }
        }
    }
    for name in rows.keys() {
        if !journal.providers.contains_key(name) {
            problems.push(format!("{name}: a row nobody wrote"));
        }
    }
    (acknowledged, lost, applied_in_flight, problems)
}

/// Every provider row as staff read it through the API: name -> (label, version from ETag).
async fn read_rows(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
) -> BTreeMap<String, (String, i64)> {
    let mut rows = BTreeMap::new();
    let mut page = 1;
    loop {
        let response = http
            .get(format!("{base}{COLLECTION}?page={page}&page_size=300"))
            .header("Authorization", format!("Token {admin}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let total: usize = response.headers()["x-result-count"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let list: Vec<Value> = response.json().await.unwrap();
        for item in &list {
            let name = item["provider"].as_str().unwrap().to_owned();
            // The version is only in the detail's ETag.
            let detail = http
                .get(format!("{base}{COLLECTION}{name}/"))
                .header("Authorization", format!("Token {admin}"))
                .send()
                .await
                .unwrap();
            assert_eq!(detail.status(), 200, "{name}");
            let version = etag_version(&detail).expect("an ETag");
            let body: Value = detail.json().await.unwrap();
            rows.insert(name, (body["label"].as_str().unwrap().to_owned(), version));
        }
        if rows.len() >= total || list.is_empty() {
            break;
        }
        page += 1;
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigkill_during_write_load_loses_no_acknowledged_write() {
    let db = TestDatabase::new(Backend::Sqlite);
    let url = db.url_string();
    let idp = MockServer::start().await;
    let discovery_url = serve_discovery(&idp, "corp").await;
    let (mut server, admin_key) = Server::start(command(&url), true, Stdio::null());
    let admin = admin_key.unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let mut journal = Journal::default();
    let mut total_acknowledged = 0;
    let mut total_lost = 0;
    for round in 0..2 {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..8)
            .map(|client| {
                tokio::spawn(write_client(
                    http.clone(),
                    server.base.clone(),
                    admin.clone(),
                    discovery_url.clone(),
                    format!("r{round}c{client}"),
                    stop.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        // Mid-load: every client has a write in flight or about to be sent.
        tokio::task::block_in_place(|| server.kill_9());
        stop.store(true, Ordering::Relaxed);
        for client in clients {
            let part = client.await.unwrap();
            journal.providers.extend(part.providers);
            journal.unexpected.extend(part.unexpected);
        }
        assert!(
            journal.unexpected.is_empty(),
            "answers other than 201/200 during the load:\n{}",
            journal.unexpected.join("\n")
        );

        // Restart on the same file and compare.
        let (restarted, key) = Server::start(command(&url), false, Stdio::null());
        assert!(key.is_none());
        server = restarted;
        let rows = read_rows(&http, &server.base, &admin).await;
        let (acknowledged, lost, applied_in_flight, problems) = audit(&journal, &rows);
        let sent: usize = journal.providers.values().map(Vec::len).sum();
        println!(
            "after SIGKILL {}: writes sent {sent}, acknowledged {acknowledged}, lost {lost}, \
             unanswered but applied {applied_in_flight}, providers stored {}",
            round + 1,
            rows.len()
        );
        assert!(
            acknowledged >= 20,
            "the load was too small to prove anything: {acknowledged} acknowledged writes"
        );
        assert!(
            problems.is_empty(),
            "after SIGKILL {}:\n{}",
            round + 1,
            problems.join("\n")
        );
        total_acknowledged = acknowledged;
        total_lost = lost;
    }
    println!("writes acknowledged: {total_acknowledged}, writes lost: {total_lost}");
    assert_eq!(total_lost, 0);
}

/// The audit above is what makes the SIGKILL test meaningful: it must flag rows that lost
/// acknowledged writes and accept only the states a crash can leave.
#[test]
fn the_crash_audit_flags_lost_writes_and_accepts_only_possible_states() {
    let write = |label: &str, acknowledged: Option<i64>| Write {
        label: label.to_owned(),
        acknowledged,
    };
    let mut journal = Journal::default();
    journal.providers.insert(
        "a".into(),
        vec![
            write("a-v0", Some(1)),
            write("a-v1", Some(2)),
            write("a-v2", None),
        ],
    );
    journal
        .providers
        .insert("b".into(), vec![write("b-v0", None)]);
    let rows = |a: Option<(&str, i64)>, b: Option<(&str, i64)>| {
        let mut rows = BTreeMap::new();
        if let Some((label, version)) = a {
            rows.insert("a".to_owned(), (label.to_owned(), version));
        }
        if let Some((label, version)) = b {
            rows.insert("b".to_owned(), (label.to_owned(), version));
        }
        rows
    };
    // Possible: the last acknowledged state, or the unanswered write applied on top of it.
    for (a, b) in [
        (Some(("a-v1", 2)), None),
        (Some(("a-v2", 3)), None),
        (Some(("a-v1", 2)), Some(("b-v0", 1))),
    ] {
        let (acknowledged, lost, _, problems) = audit(&journal, &rows(a, b));
        assert_eq!((acknowledged, lost), (2, 0));
        assert!(problems.is_empty(), "{a:?} {b:?}: {problems:?}");
    }
    // Impossible: an acknowledged write undone, a row gone, a version that skipped, a stranger.
    for (a, b) in [
        (Some(("a-v0", 1)), None),
        (None, None),
        (Some(("a-v1", 3)), None),
        (Some(("a-v2", 2)), None),
        (Some(("a-v1", 2)), Some(("b-v0", 2))),
    ] {
        let (_, _, _, problems) = audit(&journal, &rows(a, b));
        assert!(!problems.is_empty(), "{a:?} {b:?} passed the audit");
    }
    let mut stranger = rows(Some(("a-v1", 2)), None);
    stranger.insert("c".into(), ("c".into(), 1));
    assert!(!audit(&journal, &stranger).3.is_empty());
}

/// PostgreSQL that hangs instead of refusing (every process stopped with SIGSTOP, sockets open):
/// requests still get 503 within the database timeout instead of hanging, and the server serves
/// again once PostgreSQL resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_postgres_reads_from_memory_writes_answer_503_within_the_db_timeout_and_the_server_recovers()
 {
    let postgres = tokio::task::spawn_blocking(PrivatePostgres::start)
        .await
        .unwrap();
    let idp = MockServer::start().await;
    let discovery_url = serve_discovery(&idp, "corp").await;
    let mut cmd = command(&postgres.url());
    cmd.env("IDP_DB_TIMEOUT", "1");
    let (mut server, admin_key) = Server::start(cmd, true, Stdio::null());
    let admin = admin_key.unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let collection = format!("{}{COLLECTION}", server.base);
    let body = json!({"provider": "corp", "label": "Corp", "client_id": "c", "client_secret": "s", "discovery_url": discovery_url});
    let created = send(
        &http,
        reqwest::Method::POST,
        &collection,
        Some(&admin),
        Some(body),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    // Several pooled connections, idle, to a server that is about to hang.
    let mut warm = Vec::new();
    for _ in 0..6 {
        let http = http.clone();
        let url = collection.clone();
        warm.push(tokio::spawn(async move {
            http.get(&url).send().await.map(|r| r.status().as_u16())
        }));
    }
    for task in warm {
        assert_eq!(task.await.unwrap().unwrap(), 200);
    }

    postgres.freeze();
    let frozen = Instant::now();
    // All at once, each given 5 s. Reads are served from memory and answer 200 as before the
    // outage; a write needs the database and answers 503 within the database timeout (1 s), and
    // so does readiness.
    let retrieve = format!("{collection}corp/");
    let patch = json!({"label": "Corp during the outage"});
    let mut waiting = Vec::new();
    for (what, method, url, key, body, expected) in [
        (
            "GET list",
            reqwest::Method::GET,
            collection.clone(),
            None,
            None,
            200,
        ),
        (
            "GET list",
            reqwest::Method::GET,
            collection.clone(),
            None,
            None,
            200,
        ),
        (
            "GET retrieve",
            reqwest::Method::GET,
            retrieve.clone(),
            None,
            None,
            200,
        ),
        (
            "GET retrieve as staff",
            reqwest::Method::GET,
            retrieve.clone(),
            Some(admin.clone()),
            None,
            200,
        ),
        (
            "PATCH",
            reqwest::Method::PATCH,
            retrieve.clone(),
            Some(admin.clone()),
            Some(patch.clone()),
            503,
        ),
        (
            "GET /health/ready",
            reqwest::Method::GET,
            format!("{}/health/ready", server.base),
            None,
            None,
            503,
        ),
    ] {
        let http = http.clone();
        waiting.push(tokio::spawn(async move {
            let started = Instant::now();
            let mut request = http.request(method, &url);
            if let Some(key) = key {
                request = request.header("Authorization", format!("Token {key}"));
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let outcome = tokio::time::timeout(Duration::from_secs(5), request.send()).await;
            let elapsed = started.elapsed();
            match outcome {
                Ok(Ok(response))
                    if response.status() == expected && elapsed <= Duration::from_secs(3) =>
                {
                    let text = response.text().await.unwrap_or_default();
                    (expected == 200 && !text.contains("\"Corp\""))
                        .then(|| format!("{what}: 200 without the provider: {text}"))
                }
                Ok(Ok(response)) => Some(format!(
                    "{what}: {} after {elapsed:?}, expected {expected}",
                    response.status()
                )),
                Ok(Err(error)) => Some(format!("{what}: failed after {elapsed:?}: {error}")),
                Err(_) => Some(format!("{what}: no answer within {elapsed:?}")),
            }
        }));
    }
    let mut problems = Vec::new();
    for task in waiting {
        problems.extend(task.await.unwrap());
    }
    let live = send(
        &http,
        reqwest::Method::GET,
        &format!("{}/health/live", server.base),
        None,
        None,
    )
    .await;
    if live.status != 200 {
        problems.push(format!("/health/live: {}", live.status));
    }
    println!("PostgreSQL hung for {:?}", frozen.elapsed());
    postgres.thaw();

    // Once PostgreSQL resumes, writes work again and reads show them at once.
    let after = json!({"label": "Corp after the outage"});
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let patched = tokio::time::timeout(
            Duration::from_secs(5),
            http.patch(&retrieve)
                .header("Authorization", format!("Token {admin}"))
                .json(&after)
                .send(),
        )
        .await;
        if let Ok(Ok(response)) = &patched
            && response.status() == 200
        {
            break;
        }
        if Instant::now() > deadline {
            problems.push("writes not served again within 20 s after PostgreSQL resumed".into());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let read = send(&http, reqwest::Method::GET, &retrieve, None, None).await;
    if !read.body.contains("Corp after the outage") {
        problems.push(format!(
            "the write is not read back: {} {}",
            read.status, read.body
        ));
    }
    assert!(
        problems.is_empty(),
        "with PostgreSQL hung (IDP_DB_TIMEOUT=1):\n{}",
        problems.join("\n")
    );
    server.assert_running();
}
