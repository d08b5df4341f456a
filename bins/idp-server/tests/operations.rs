//! What an operator meets around the API: the SSRF guard's cloud metadata rules (through the
//! server inside a loopback-only network namespace, and in `providers import`), files written
//! by the commands, and import limits.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use idp_store::Backend;
use idp_store::testing::TestDatabase;
use serde_json::{Value, json};

mod common;

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
);

// ---------------------------------------------------------------------------------------------
// The SSRF guard and cloud metadata services.

/// Set in the copy of this test binary that runs inside the network namespace.
const IN_NAMESPACE: &str = "IDP_TEST_INSIDE_LOOPBACK_NAMESPACE";

/// Cloud metadata URLs are refused by the running server even where the operator allowed the
/// networks around them. Run inside a network namespace holding nothing but loopback (`unshare
/// -n`), so that a guard that let one through could not reach anything; SQLite only, since
/// PostgreSQL is outside the namespace. Without `unshare`, the test says it skipped.
#[test]
fn the_server_refuses_cloud_metadata_urls_inside_allowed_networks() {
    if std::env::var_os(IN_NAMESPACE).is_some() {
        return refuses_cloud_metadata_urls_inside_the_namespace();
    }
    let test_binary = std::env::current_exe().unwrap();
    let script = r#"ip link set lo up && exec "$0" --exact "$1" --nocapture --test-threads 1"#;
    let output = Command::new("unshare")
        .args(["-n", "sh", "-c", script])
        .arg(&test_binary)
        .arg("the_server_refuses_cloud_metadata_urls_inside_allowed_networks")
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

fn refuses_cloud_metadata_urls_inside_the_namespace() {
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
        let db = TestDatabase::new(Backend::Sqlite);
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
