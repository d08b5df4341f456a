//! What an operator meets around the API: the SSRF guard's cloud metadata rules (through the
//! server inside a loopback-only network namespace, and in `providers import`), files written
//! by the commands, and import limits.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use idp_store::Backend;
use idp_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::common;

use common::Server;

const BIN: &str = env!("CARGO_BIN_EXE_idp-server");
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const COLLECTION: &str = "/api/identity-providers/";

/// The environment of every command: the database, a fixed key, loopback discovery allowed.
fn command(db: &TestDatabase) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IDP_DATABASE_URL", db.url_string())
        .env("IDP_SECRET_KEY", KEY)
        .env("IDP_DISCOVERY_ALLOW_NETWORKS", "127.0.0.0/8")
        // The tests send bursts to the login routes.
        .env("IDP_LOGIN_RATE_LIMIT", "0")
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

fn with_args(mut command: Command, args: &[&str]) -> Command {
    command.args(args);
    command
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(idp_store::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(idp_store::Backend::Postgres).await } )* }
    };
}

on_both_backends!(
    import_refuses_metadata_and_guarded_urls_in_every_endpoint_without_fetching,
    export_with_secrets_replaces_the_output_with_a_private_file_and_never_follows_a_link,
    import_dry_run_changes_nothing_in_an_existing_database,
    import_refuses_files_over_the_size_limit_before_reading_them,
    a_repeated_authorization_header_is_401_on_every_route_in_any_order,
    every_answer_says_nosniff_and_the_docs_forbid_framing_and_answer_head,
    logs_hide_discovery_query_values_and_keep_client_faults_below_error,
    token_create_refuses_an_empty_username_and_zero_days,
    token_list_shows_ids_users_dates_and_last_use_but_never_keys_and_revoke_by_id_ends_one,
    users_list_set_staff_and_deactivate_change_what_tokens_may_do,
);

// ---------------------------------------------------------------------------------------------
// The SSRF guard and cloud metadata services.

/// Set in the copy of this test binary that runs inside the network namespace.
const IN_NAMESPACE: &str = "IDP_TEST_INSIDE_LOOPBACK_NAMESPACE";

/// Cloud metadata URLs are refused by the running server even where the operator allowed the
/// networks around them. Run inside a network namespace holding nothing but loopback (`unshare
/// -n`), so that a guard that let one through could not reach anything. PostgreSQL is reached
/// there through its Unix socket. Without `unshare` (or the socket), the test says it skipped.
#[test]
fn the_server_refuses_cloud_metadata_urls_inside_allowed_networks_on_sqlite() {
    in_loopback_namespace(
        "the_server_refuses_cloud_metadata_urls_inside_allowed_networks_on_sqlite",
        Backend::Sqlite,
    );
}

/// The same on PostgreSQL.
#[test]
fn the_server_refuses_cloud_metadata_urls_inside_allowed_networks_on_postgres() {
    in_loopback_namespace(
        "the_server_refuses_cloud_metadata_urls_inside_allowed_networks_on_postgres",
        Backend::Postgres,
    );
}

/// The PostgreSQL URL to use inside the namespace: the test server's Unix socket, when the
/// test server is on this host and has one.
fn postgres_socket_url() -> Option<String> {
    let admin = idp_store::testing::postgres_admin_url();
    let url = url::Url::parse(&admin).ok()?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let port = url.port().unwrap_or(5432);
    let dir = "/var/run/postgresql";
    let socket = Path::new(dir).join(format!(".s.PGSQL.{port}"));
    (local && socket.exists()).then(|| {
        format!(
            "postgres://{}@%2Fvar%2Frun%2Fpostgresql:{port}{}",
            url.username(),
            url.path()
        )
    })
}

fn in_loopback_namespace(test: &str, backend: Backend) {
    if std::env::var_os(IN_NAMESPACE).is_some() {
        return refuses_cloud_metadata_urls_inside_the_namespace(backend);
    }
    let mut unshare = Command::new("unshare");
    if backend == Backend::Postgres {
        let Some(url) = postgres_socket_url() else {
            println!(
                "skipped: PostgreSQL has no Unix socket on this host to reach from inside the namespace"
            );
            return;
        };
        unshare.env("IDP_TEST_POSTGRES_URL", url);
    }
    // The name the test harness knows the test by: its module path inside this binary.
    let test = match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::{test}"),
        None => test.to_owned(),
    };
    let test_binary = std::env::current_exe().unwrap();
    let script = r#"ip link set lo up && exec "$0" --exact "$1" --nocapture --test-threads 1"#;
    let output = unshare
        .args(["-n", "sh", "-c", script])
        .arg(&test_binary)
        .arg(&test)
        .env(IN_NAMESPACE, "1")
        .output();
    let output = match output {
        Ok(output) => output,
        Err(error) => {
            println!("skipped: unshare is unavailable ({error})");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success()
        && !stdout.contains("running 1 test")
        && (stderr.contains("unshare failed") || stderr.contains("Operation not permitted"))
    {
        println!(
            "skipped: unshare -n is not permitted here ({})",
            stderr.trim()
        );
        return;
    }
    assert!(
        output.status.success(),
        "inside the namespace:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the test ran inside the namespace:\n{stdout}"
    );
}

fn refuses_cloud_metadata_urls_inside_the_namespace(backend: Backend) {
    // Only loopback is up here: nothing else can be reached whatever the guard decides.
    let routes = std::fs::read_to_string("/proc/net/route").unwrap();
    assert_eq!(
        routes.lines().count(),
        1,
        "no route but loopback in the namespace: {routes}"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = TestDatabase::new(backend);
        let mut serve = command(&db);
        serve.env(
            "IDP_DISCOVERY_ALLOW_NETWORKS",
            "127.0.0.0/8,169.254.0.0/16,100.64.0.0/10,192.0.0.0/24,fd00::/8,168.63.0.0/16",
        );
        let (server, admin) = Server::start(serve, true, Stdio::null());
        let admin = admin.unwrap();
        let http = reqwest::Client::new();
        for (url, message) in [
            (
                "http://169.254.169.254/latest/meta-data/",
                "URL host resolves to a disallowed address (169.254.169.254).",
            ),
            (
                "http://[fd00:ec2::254]/latest/meta-data/",
                "URL host resolves to a disallowed address (fd00:ec2::254).",
            ),
            (
                "http://100.100.100.200/latest/meta-data/",
                "URL host resolves to a disallowed address (100.100.100.200).",
            ),
            (
                "http://192.0.0.192/opc/v2/instance/",
                "URL host resolves to a disallowed address (192.0.0.192).",
            ),
            (
                "http://metadata.google.internal/computeMetadata/v1/",
                "URL host is a cloud metadata service (metadata.google.internal).",
            ),
        ] {
            let response = http
                .post(format!("{}{COLLECTION}", server.base))
                .header("Authorization", format!("Token {admin}"))
                .json(&json!({
                    "provider": "meta",
                    "label": "Meta",
                    "client_id": "id",
                    "client_secret": "secret",
                    "discovery_url": url,
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{url}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body, json!({"discovery_url": [message]}), "{url}");
        }
        let list: Value = http
            .get(format!("{}{COLLECTION}", server.base))
            .header("Authorization", format!("Token {admin}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list, json!([]), "nothing was created");
        let _ = server.terminate();
    });
}

/// A provider export with the given endpoints.
fn exported(name: &str, discovery: &str, endpoints: [&str; 4]) -> Value {
    json!({
        "provider": name,
        "label": name.to_uppercase(),
        "client_id": format!("{name}-client"),
        "client_secret": "s3cret",
        "discovery_url": discovery,
        "auth_url": endpoints[0],
        "token_url": endpoints[1],
        "userinfo_url": endpoints[2],
        "logout_url": endpoints[3],
        "is_active": true,
    })
}

fn write_json(dir: &Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

/// `providers import` checks every URL of every entry with the guard's rules (nothing is
/// fetched: the addresses are literal or the names are refused before any lookup), and imports
/// nothing when one is refused. A network allowed explicitly lets its addresses through.
async fn import_refuses_metadata_and_guarded_urls_in_every_endpoint_without_fetching(
    backend: Backend,
) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let good = "https://idp.example.org";
    let endpoints = |i: usize, bad: &str| {
        let mut urls = [
            format!("{good}/auth"),
            format!("{good}/token"),
            format!("{good}/userinfo"),
            format!("{good}/logout"),
        ];
        urls[i] = bad.to_owned();
        urls
    };
    let fields = ["auth_url", "token_url", "userinfo_url", "logout_url"];
    for (bad, why) in [
        (
            "http://169.254.169.254/latest/meta-data/iam/",
            "URL host resolves to a disallowed address (169.254.169.254).",
        ),
        (
            "http://metadata.google.internal/computeMetadata/v1/token",
            "URL host is a cloud metadata service (metadata.google.internal).",
        ),
        (
            "http://[fd00:ec2::254]/latest/",
            "URL host resolves to a disallowed address (fd00:ec2::254).",
        ),
        (
            "http://100.100.100.200/latest/",
            "URL host resolves to a disallowed address (100.100.100.200).",
        ),
        (
            "http://192.0.0.192/opc/v2/",
            "URL host resolves to a disallowed address (192.0.0.192).",
        ),
    ] {
        for (i, field) in fields.iter().enumerate() {
            let urls = endpoints(i, bad);
            let urls = [&*urls[0], &*urls[1], &*urls[2], &*urls[3]];
            let file = write_json(
                dir.path(),
                "one.json",
                &json!([
                    exported(
                        "fine",
                        &format!("{good}/.well-known/openid-configuration"),
                        [
                            "https://idp.example.org/a",
                            "https://idp.example.org/t",
                            "https://idp.example.org/u",
                            "",
                        ]
                    ),
                    exported(
                        "bad",
                        &format!("{good}/.well-known/openid-configuration"),
                        urls
                    ),
                ]),
            );
            let output = with_args(command(&db), &["providers", "import"])
                .arg(&file)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{field} = {bad}: {stderr}");
            assert!(
                stderr.contains(&format!("entry 1 (bad): {field}: {why}")),
                "{field} = {bad}: {stderr}"
            );
        }
        let file = write_json(
            dir.path(),
            "discovery.json",
            &json!([exported(
                "bad",
                bad,
                [
                    "https://idp.example.org/a",
                    "https://idp.example.org/t",
                    "https://idp.example.org/u",
                    "",
                ]
            )]),
        );
        let output = with_args(command(&db), &["providers", "import"])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "discovery_url = {bad}: {stderr}");
        assert!(
            stderr.contains(&format!("discovery_url: {why}")),
            "discovery_url = {bad}: {stderr}"
        );
    }
    let store = db.store_with(idp_store::SecretBox::new(
        idp_store::SecretKey::from_base64(KEY).unwrap(),
        vec![],
    ));
    assert!(
        store.all_providers().unwrap().is_empty(),
        "nothing imported"
    );

    // Loopback is refused unless allowed; allowed, it imports (nothing is fetched).
    let loopback = write_json(
        dir.path(),
        "loopback.json",
        &json!([exported(
            "local",
            "http://127.0.0.1:9/.well-known/openid-configuration",
            [
                "http://127.0.0.1:9/auth",
                "http://127.0.0.1:9/token",
                "http://127.0.0.1:9/userinfo",
                ""
            ]
        )]),
    );
    let mut refused = with_args(command(&db), &["providers", "import"]);
    refused
        .arg(&loopback)
        .env("IDP_DISCOVERY_ALLOW_NETWORKS", "");
    let output = refused.output().unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("discovery_url: URL host resolves to a disallowed address (127.0.0.1)."),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut allowed = with_args(command(&db), &["providers", "import"]);
    allowed
        .arg(&loopback)
        .args(["--discovery-allow-networks", "127.0.0.0/8"]);
    run(allowed);
    assert_eq!(store.all_providers().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Files the commands write.

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// One provider, imported (nothing fetched): something to export.
fn seed_one(db: &TestDatabase, dir: &Path) {
    let file = write_json(
        dir,
        "seed.json",
        &json!([exported(
            "seeded",
            "https://idp.example.org/.well-known/openid-configuration",
            [
                "https://idp.example.org/a",
                "https://idp.example.org/t",
                "https://idp.example.org/u",
                ""
            ]
        )]),
    );
    run(with_args(command(db), &["providers", "import"]).tap_arg(&file));
}

/// `Command::arg` that returns the command.
trait TapArg {
    fn tap_arg(self, arg: impl AsRef<std::ffi::OsStr>) -> Self;
}

impl TapArg for Command {
    fn tap_arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.arg(arg);
        self
    }
}

/// `providers export --with-secrets --output F` writes a new 0600 file renamed over `F`: an
/// existing file's looser mode is not kept, and a symbolic link at `F` is replaced, its target
/// left as it was.
async fn export_with_secrets_replaces_the_output_with_a_private_file_and_never_follows_a_link(
    backend: Backend,
) {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    seed_one(&db, dir.path());
    let export = |output: &Path| {
        run(with_args(
            command(&db),
            &["providers", "export", "--with-secrets", "--output"],
        )
        .tap_arg(output));
    };

    let existing = dir.path().join("existing.json");
    std::fs::write(&existing, "old").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    export(&existing);
    assert_eq!(mode(&existing), 0o600);
    let text = std::fs::read_to_string(&existing).unwrap();
    assert!(text.contains("\"client_secret\": \"s3cret\""), "{text}");

    let target = dir.path().join("shared.txt");
    std::fs::write(&target, "not yours").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    export(&link);
    assert!(
        !std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced by the export"
    );
    assert_eq!(mode(&link), 0o600);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not yours");
    assert_eq!(mode(&target), 0o644);

    let fresh = dir.path().join("fresh.json");
    export(&fresh);
    assert_eq!(mode(&fresh), 0o600);
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

/// A SQLite database made by any command, and its `-wal` and `-shm` files while the server
/// runs, are readable by their owner only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sqlite_database_and_its_wal_and_shm_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("idp.sqlite3");
    let mut serve = Command::new(BIN);
    serve
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "IDP_DATABASE_URL",
            format!("sqlite://{}", db_path.display()),
        )
        .env("RUST_LOG", "warn");
    let (server, admin) = Server::start(serve, true, Stdio::null());
    let response = reqwest::Client::new()
        .get(format!("{}{COLLECTION}", server.base))
        .header("Authorization", format!("Token {}", admin.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for suffix in ["", "-wal", "-shm"] {
        let path = dir.path().join(format!("idp.sqlite3{suffix}"));
        assert!(path.exists(), "{}", path.display());
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    assert_eq!(mode(&dir.path().join("idp-secret.key")), 0o600);
    let _ = server.terminate();
}

// ---------------------------------------------------------------------------------------------
// Import: dry runs and size limits.

/// `--dry-run` on a SQLite database that does not exist creates nothing at all: no database,
/// no key file, no `-wal` file.
#[test]
fn import_dry_run_without_a_database_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_json(
        dir.path(),
        "providers.json",
        &json!([exported(
            "dry",
            "https://idp.example.org/.well-known/openid-configuration",
            [
                "https://idp.example.org/a",
                "https://idp.example.org/t",
                "https://idp.example.org/u",
                ""
            ]
        )]),
    );
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut dry = Command::new(BIN);
    dry.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "IDP_DATABASE_URL",
            format!("sqlite://{}", data.join("idp.sqlite3").display()),
        )
        .args(["providers", "import", "--dry-run"])
        .arg(&file);
    let output = run(dry);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "created\tdry\n");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("dry run, nothing written"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(&data).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// On an existing database, `--dry-run` reports what would change and changes nothing.
async fn import_dry_run_changes_nothing_in_an_existing_database(backend: Backend) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    seed_one(&db, dir.path());
    let store = db.store_with(idp_store::SecretBox::new(
        idp_store::SecretKey::from_base64(KEY).unwrap(),
        vec![],
    ));
    let before = store.all_providers().unwrap();
    let mut changed = exported(
        "seeded",
        "https://idp.example.org/.well-known/openid-configuration",
        [
            "https://idp.example.org/a",
            "https://idp.example.org/t",
            "https://idp.example.org/u",
            "",
        ],
    );
    changed["label"] = json!("Changed");
    let file = write_json(
        dir.path(),
        "dry.json",
        &json!([
            changed,
            exported(
                "another",
                "https://idp.example.org/.well-known/openid-configuration",
                [
                    "https://idp.example.org/a",
                    "https://idp.example.org/t",
                    "https://idp.example.org/u",
                    ""
                ]
            )
        ]),
    );
    let output = run(with_args(command(&db), &["providers", "import", "--dry-run"]).tap_arg(&file));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "updated\tseeded\ncreated\tanother\n"
    );
    assert_eq!(store.all_providers().unwrap(), before);
}

/// An import file over `--max-size` MiB (64 by default) is refused with a message naming the
/// limit and the flag; a raised limit lets it through to the JSON checks.
async fn import_refuses_files_over_the_size_limit_before_reading_them(backend: Backend) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    // Sparse: 65 MiB of nothing, costing no disk.
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(65 << 20).unwrap();
    let output = with_args(command(&db), &["providers", "import"])
        .tap_arg(&big)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("larger than 64 MiB") && stderr.contains("--max-size"),
        "{stderr}"
    );
    // Through standard input the limit holds as well.
    let small = dir.path().join("small.json");
    let file = std::fs::File::create(&small).unwrap();
    file.set_len(2 << 20).unwrap();
    let output = with_args(
        command(&db),
        &["providers", "import", "--max-size", "1", "-"],
    )
    .stdin(std::fs::File::open(&small).unwrap())
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("larger than 1 MiB"), "{stderr}");
    // Raised, the file is read and judged on its content.
    let output = with_args(command(&db), &["providers", "import", "--max-size", "3"])
        .tap_arg(&small)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(!stderr.contains("MiB"), "{stderr}");
    assert!(stderr.contains("not"), "{stderr}");
    let store = db.store_with(idp_store::SecretBox::new(
        idp_store::SecretKey::from_base64(KEY).unwrap(),
        vec![],
    ));
    assert!(store.all_providers().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Requests as clients send them.

/// Starts the server on a database holding one provider (imported, nothing fetched) and
/// returns it with a staff key and a non-staff key.
fn server_with_a_provider(
    db: &TestDatabase,
    dir: &Path,
    stderr: Stdio,
) -> (Server, String, String) {
    seed_one(db, dir);
    let key = |args: &[&str]| {
        let output = run(with_args(command(db), args));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let staff = key(&["token", "create", "--username", "ops", "--staff"]);
    let user = key(&["token", "create", "--username", "someone"]);
    let (server, _) = Server::start(command(db), false, stderr);
    (server, staff, user)
}

/// Two `Authorization` headers are 401 with one detail on every route, whichever comes first
/// and whatever they hold; nothing is changed, and nothing answers 5xx. One header still works.
async fn a_repeated_authorization_header_is_401_on_every_route_in_any_order(backend: Backend) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let (server, staff, user) = server_with_a_provider(&db, dir.path(), Stdio::null());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let valid = format!("Token {staff}");
    let others = [
        "Token 0000000000000000000000000000000000000000".to_owned(),
        format!("Token {user}"),
        valid.clone(),
        "Token".to_owned(),
        "Token a b".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
    ];
    let routes: [(reqwest::Method, &str); 9] = [
        (reqwest::Method::GET, "/api/identity-providers/"),
        (reqwest::Method::HEAD, "/api/identity-providers/"),
        (reqwest::Method::GET, "/api/identity-providers/seeded/"),
        (reqwest::Method::PATCH, "/api/identity-providers/seeded/"),
        (reqwest::Method::DELETE, "/api/identity-providers/seeded/"),
        (reqwest::Method::POST, "/api/identity-providers/"),
        (
            reqwest::Method::POST,
            "/api/identity-providers/discover_metadata/",
        ),
        (reqwest::Method::GET, "/api/users/me/"),
        (reqwest::Method::POST, "/api-auth/logout/"),
    ];
    for (method, path) in &routes {
        for other in &others {
            for order in [[&valid, other], [other, &valid]] {
                let response = http
                    .request(method.clone(), format!("{}{path}", server.base))
                    .header("Authorization", order[0].as_str())
                    .header("Authorization", order[1].as_str())
                    .json(&json!({"label": "Changed", "provider": "made", "discovery_url": "x"}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let what = format!("{method} {path} with {order:?}");
                assert_eq!(status, 401, "{what}");
                assert_eq!(response.headers()["www-authenticate"], "Token", "{what}");
                if *method != reqwest::Method::HEAD {
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(
                        body,
                        json!({"detail": "Invalid token header. Only one Authorization header is allowed."}),
                        "{what}"
                    );
                }
            }
        }
    }
    // Nothing changed, and one header is still enough.
    let response = http
        .get(format!("{}/api/identity-providers/seeded/", server.base))
        .header("Authorization", valid.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["label"], "SEEDED");
    let me = http
        .get(format!("{}/api/users/me/", server.base))
        .header("Authorization", valid.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "logout did not end the staff token");
    let _ = server.terminate();
}

/// `X-Content-Type-Options: nosniff` on every answer (API, errors, redirects, probes, metrics,
/// schema, docs); the docs pages carry a content security policy with `frame-ancestors 'none'`
/// that their own HTML satisfies (no inline script); `HEAD` on the docs answers as `GET` does,
/// without the body.
async fn every_answer_says_nosniff_and_the_docs_forbid_framing_and_answer_head(backend: Backend) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let (server, staff, _) = server_with_a_provider(&db, dir.path(), Stdio::null());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let send = |method: reqwest::Method, path: &str, key: Option<&str>| {
        let mut request = http.request(method, format!("{}{path}", server.base));
        if let Some(key) = key {
            request = request.header("Authorization", format!("Token {key}"));
        }
        request.send()
    };
    for (method, path, key, status) in [
        (
            reqwest::Method::GET,
            "/api/identity-providers/",
            Some(staff.as_str()),
            200,
        ),
        (
            reqwest::Method::GET,
            "/api/identity-providers/seeded/",
            None,
            200,
        ),
        (
            reqwest::Method::GET,
            "/api/identity-providers/missing/",
            None,
            404,
        ),
        (
            reqwest::Method::GET,
            "/api/identity-providers/",
            Some("0000000000000000000000000000000000000000"),
            401,
        ),
        (
            reqwest::Method::DELETE,
            "/api/identity-providers/seeded/",
            None,
            401,
        ),
        (
            reqwest::Method::PUT,
            "/api/identity-providers/",
            Some(staff.as_str()),
            405,
        ),
        (reqwest::Method::GET, "/api/identity-providers", None, 308),
        (reqwest::Method::GET, "/nowhere", None, 404),
        (reqwest::Method::GET, "/health/live", None, 200),
        (reqwest::Method::GET, "/health/ready", None, 200),
        (reqwest::Method::GET, "/metrics", None, 200),
        (reqwest::Method::GET, "/api/schema/", None, 200),
        (reqwest::Method::GET, "/api/docs/", None, 200),
        (reqwest::Method::GET, "/api/docs/swagger-ui.css", None, 200),
        (reqwest::Method::GET, "/api/docs/missing.js", None, 404),
        (reqwest::Method::GET, "/api-auth/nobody/init/", None, 403),
    ] {
        let response = send(method.clone(), path, key).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{method} {path}"
        );
    }

    for asset in [
        "/api/docs/",
        "/api/docs/index.html",
        "/api/docs/swagger-ui.css",
        "/api/docs/swagger-initializer.js",
    ] {
        let get = send(reqwest::Method::GET, asset, None).await.unwrap();
        assert_eq!(get.status(), 200, "{asset}");
        let csp = get.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{asset}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe"),
            "{csp}"
        );
        let content_type = get.headers()["content-type"].clone();
        let body = get.bytes().await.unwrap();
        let head = send(reqwest::Method::HEAD, asset, None).await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {asset}");
        assert_eq!(head.headers()["content-type"], content_type, "HEAD {asset}");
        assert_eq!(
            head.headers()["content-length"].to_str().unwrap(),
            body.len().to_string(),
            "HEAD {asset}"
        );
        assert!(head.headers().contains_key("content-security-policy"));
        assert!(head.bytes().await.unwrap().is_empty());
        if asset.ends_with('/') {
            // Every script of the page is a file of this origin: the policy does not break it.
            let html = String::from_utf8_lossy(&body).to_lowercase();
            let scripts = html.matches("<script").count();
            assert!(scripts > 0);
            assert_eq!(html.matches("<script src=").count(), scripts, "{html}");
            assert!(
                !html.contains("http://") && !html.contains("https://"),
                "{html}"
            );
        }
    }
    let head = send(reqwest::Method::HEAD, "/api/schema/", None)
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let _ = server.terminate();
}

/// JSON logs: a discovery URL's query values never reach a log line or an error body (its
/// parameter names do); `latency_ms` is a number; the route label is the API's path with
/// `{provider}`; a request the HTTP layer cannot parse is answered 400 and logged below ERROR.
async fn logs_hide_discovery_query_values_and_keep_client_faults_below_error(backend: Backend) {
    use std::io::{Read, Write};
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    seed_one(&db, dir.path());
    let staff = String::from_utf8(
        run(with_args(
            command(&db),
            &["token", "create", "--username", "ops", "--staff"],
        ))
        .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let mut serve = command(&db);
    serve.env("IDP_LOG_FORMAT", "json").env(
        "RUST_LOG",
        "debug,actix_server=info,mio=info,h2=info,hyper=info,reqwest=info,rustls=info",
    );
    let (server, _) = Server::start(
        serve,
        false,
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    // A loopback server that answers 404 to everything.
    let idp = wiremock::MockServer::start().await;
    let secret_value = "SECRETVALUE0123456789";
    let url = format!(
        "{}/tenant/.well-known/openid-configuration?access_token={secret_value}&tenant=x",
        idp.uri()
    );
    let http = reqwest::Client::new();
    let response = http
        .post(format!(
            "{}/api/identity-providers/discover_metadata/",
            server.base
        ))
        .header("Authorization", format!("Token {staff}"))
        .json(&json!({"discovery_url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(!body.contains(secret_value), "{body}");
    assert!(
        body.contains("/tenant/.well-known/openid-configuration?access_token=***&tenant=***"),
        "{body}"
    );
    let response = http
        .post(format!("{}{COLLECTION}", server.base))
        .header("Authorization", format!("Token {staff}"))
        .json(&json!({
            "provider": "tenant", "label": "T", "client_id": "c", "client_secret": "s",
            "discovery_url": url,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(!response.text().await.unwrap().contains(secret_value));
    let retrieved = http
        .get(format!("{}/api/identity-providers/seeded/", server.base))
        .header("X-Request-Id", "retrieve-1")
        .send()
        .await
        .unwrap();
    assert_eq!(retrieved.status(), 200);
    // A request head the HTTP layer cannot parse.
    let address = server.base.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .write_all(
                b"GET /api/identity-providers/ HTTP/1.1\r\nHost: x\r\nBad\x01Header: y\r\n\r\n",
            )
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let _ = server.terminate();

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(secret_value), "{text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let errors: Vec<&Value> = lines
        .iter()
        .filter(|line| line["level"] == "ERROR")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|line| line["target"] == "idp_http::request")
        .collect();
    assert!(requests.len() >= 3, "{text}");
    for line in &requests {
        assert!(line["latency_ms"].is_number(), "{line}");
    }
    let retrieve = requests
        .iter()
        .find(|line| line["request_id"] == "retrieve-1")
        .expect("the retrieve is logged");
    assert_eq!(retrieve["route"], "/api/identity-providers/{provider}/");
    // The failed fetch is logged with the URL as messages show it.
    assert!(
        text.contains("access_token=***") || text.contains("/tenant/.well-known"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tokens and users from the command line.

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn failing(command: Command) -> String {
    let mut command = command;
    let output = command.output().unwrap();
    assert!(!output.status.success(), "{command:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `token create` refuses an empty (or blank) user name and `--expires-in 0`, creating nothing.
async fn token_create_refuses_an_empty_username_and_zero_days(backend: Backend) {
    let db = TestDatabase::new(backend);
    for (args, expected) in [
        (
            &["token", "create", "--username", ""][..],
            "--username must not be empty",
        ),
        (
            &["token", "create", "--username", "  "][..],
            "--username must not be empty",
        ),
        (&["token", "create", "--username", " ops"][..], "spaces"),
        (
            &["token", "create", "--username", "ops", "--expires-in", "0"][..],
            "--expires-in",
        ),
    ] {
        let stderr = failing(with_args(command(&db), args));
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let users = run(with_args(command(&db), &["users", "list"]));
    assert_eq!(
        stdout_of(&users),
        "USER\tSTAFF\tACTIVE\n",
        "nobody was created"
    );
    let tokens = run(with_args(command(&db), &["token", "list"]));
    assert_eq!(stdout_of(&tokens).lines().count(), 1);
}

/// `token list` shows each token's id, user, creation, expiry, last use (written by the server
/// when it stops, and about once a minute while it runs) and never a key; `token revoke --id`
/// ends exactly that token.
async fn token_list_shows_ids_users_dates_and_last_use_but_never_keys_and_revoke_by_id_ends_one(
    backend: Backend,
) {
    let db = TestDatabase::new(backend);
    let create = |args: &[&str]| {
        stdout_of(&run(with_args(command(&db), args)))
            .trim()
            .to_owned()
    };
    let used = create(&["token", "create", "--username", "ops", "--staff"]);
    let idle = create(&[
        "token",
        "create",
        "--username",
        "someone",
        "--expires-in",
        "7",
    ]);
    let (server, _) = Server::start(command(&db), false, Stdio::null());
    for _ in 0..2 {
        let response = reqwest::Client::new()
            .get(format!("{}{COLLECTION}", server.base))
            .header("Authorization", format!("Token {used}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert!(server.terminate().success());

    let listed = stdout_of(&run(with_args(command(&db), &["token", "list"])));
    assert!(
        !listed.contains(&used) && !listed.contains(&idle),
        "{listed}"
    );
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|line| line.split('\t').collect())
        .collect();
    assert_eq!(
        rows[0],
        ["ID", "USER", "CREATED", "EXPIRES", "LAST USED", "LOGIN"]
    );
    assert_eq!(rows.len(), 3, "{listed}");
    let ops = rows
        .iter()
        .find(|row| row[1] == "ops")
        .expect("ops is listed");
    let someone = rows
        .iter()
        .find(|row| row[1] == "someone")
        .expect("someone is listed");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(ops[2].starts_with(&today), "{listed}");
    assert_eq!(ops[3], "never");
    assert!(ops[4].starts_with(&today), "the use was recorded: {listed}");
    assert_eq!(someone[3].len(), 19, "an expiry date: {listed}");
    assert_eq!(someone[4], "-", "never used: {listed}");

    let ops_id = ops[0].to_owned();
    run(with_args(
        command(&db),
        &["token", "revoke", "--id", &ops_id],
    ));
    let listed = stdout_of(&run(with_args(command(&db), &["token", "list"])));
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        !listed
            .lines()
            .any(|line| line.starts_with(&format!("{ops_id}\t")))
    );
    let stderr = failing(with_args(
        command(&db),
        &["token", "revoke", "--id", &ops_id],
    ));
    assert!(stderr.contains("no token has the id"), "{stderr}");
    let (server, _) = Server::start(command(&db), false, Stdio::null());
    let response = reqwest::Client::new()
        .get(format!("{}{COLLECTION}", server.base))
        .header("Authorization", format!("Token {used}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "the revoked token no longer works");
    let _ = server.terminate();
}

/// `users list` shows who is staff and active; `users set-staff` and `users deactivate` change
/// what that user's tokens may do, and name an unknown user in their error.
async fn users_list_set_staff_and_deactivate_change_what_tokens_may_do(backend: Backend) {
    let db = TestDatabase::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let (server, _staff, user) = server_with_a_provider(&db, dir.path(), Stdio::null());
    let listed = stdout_of(&run(with_args(command(&db), &["users", "list"])));
    assert_eq!(
        listed,
        "USER\tSTAFF\tACTIVE\nops\tyes\tyes\nsomeone\tno\tyes\n"
    );
    let http = reqwest::Client::new();
    let delete = || {
        http.delete(format!("{}/api/identity-providers/missing/", server.base))
            .header("Authorization", format!("Token {user}"))
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), 403);
    run(with_args(command(&db), &["users", "set-staff", "someone"]));
    assert!(
        stdout_of(&run(with_args(command(&db), &["users", "list"]))).contains("someone\tyes\tyes")
    );
    // Another process changed the user: this server sees it within its check interval.
    let mut status = 0;
    for _ in 0..200 {
        status = delete().await.unwrap().status().as_u16();
        if status == 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 404, "staff now");
    run(with_args(command(&db), &["users", "deactivate", "someone"]));
    assert!(
        stdout_of(&run(with_args(command(&db), &["users", "list"]))).contains("someone\tyes\tno")
    );
    let mut body = Value::Null;
    for _ in 0..200 {
        let response = delete().await.unwrap();
        if response.status() == 401 {
            body = response.json().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(body, json!({"detail": "User inactive or deleted."}));
    run(with_args(
        command(&db),
        &["users", "deactivate", "someone", "--active", "true"],
    ));
    run(with_args(
        command(&db),
        &["users", "set-staff", "someone", "--staff", "false"],
    ));
    assert!(
        stdout_of(&run(with_args(command(&db), &["users", "list"]))).contains("someone\tno\tyes")
    );
    for args in [
        &["users", "set-staff", "nobody"][..],
        &["users", "deactivate", "nobody"][..],
    ] {
        let stderr = failing(with_args(command(&db), args));
        assert!(
            stderr.contains("no user is named \"nobody\""),
            "{args:?}: {stderr}"
        );
    }
    let _ = server.terminate();
}

/// `inspect` takes the allow-list as `--discovery-allow-networks`, as the server does; the old
/// `--allow-networks` still works but is not shown. An https URL on a server speaking plain
/// HTTP is reported as that, never as a certificate problem, with or without `--insecure`.
#[test]
fn inspect_names_the_allow_list_as_the_server_does_and_plain_http_is_not_a_certificate_problem() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let idp = runtime.block_on(wiremock::MockServer::start());
    let url = runtime.block_on(common::serve_discovery(&idp, "inspected"));
    let inspect = |args: &[&str]| {
        let output = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("inspect")
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, _, stderr) = inspect(&[&url]);
    assert!(!ok && stderr.contains("disallowed address"), "{stderr}");
    for flag in ["--discovery-allow-networks", "--allow-networks"] {
        let (ok, stdout, stderr) = inspect(&[&url, flag, "127.0.0.0/8"]);
        assert!(ok, "{flag}: {stderr}");
        assert!(
            stdout.contains("authorization_endpoint"),
            "{flag}: {stdout}"
        );
    }
    let (_, help, _) = inspect(&["--help"]);
    assert!(help.contains("--discovery-allow-networks"), "{help}");
    assert!(!help.contains("--allow-networks"), "{help}");

    let https = url.replacen("http://", "https://", 1);
    for insecure in [true, false] {
        let mut args = vec![https.as_str(), "--discovery-allow-networks", "127.0.0.0/8"];
        if insecure {
            args.push("--insecure");
        }
        let (ok, _, stderr) = inspect(&args);
        assert!(!ok);
        assert!(stderr.contains("does not speak TLS"), "{args:?}: {stderr}");
        assert!(
            !stderr.to_lowercase().contains("certificate"),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}
