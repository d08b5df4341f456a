//! Swagger UI at `/api/docs/`, rendered by a real headless Chromium against the real app.
//!
//! The UI's assets are compiled into the binary, so the page must render the Identity Providers
//! operations with no network at all. Chromium is `/usr/bin/chromium` (`.ci/run` installs it);
//! when it is missing this test fails rather than skip.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use idp_http::{ApiSettings, AppState, ServerConfig};
use idp_oidc::{DiscoveryClient, FetchPolicy};
use idp_store::Backend;
use idp_store::testing::TestDatabase;

const CHROMIUM: &str = "/usr/bin/chromium";

/// How long Chromium may take before the test gives up on it.
const CHROMIUM_DEADLINE: Duration = Duration::from_secs(120);

/// Starts the app on a loopback port with a fresh SQLite database; returns its base URL.
async fn spawn_app() -> (String, TestDatabase) {
    let db = tokio::task::spawn_blocking(|| TestDatabase::new(Backend::Sqlite))
        .await
        .unwrap();
    let state = AppState {
        store: db.store(),
        discovery: DiscoveryClient::new(FetchPolicy::default()),
        settings: ApiSettings::default(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = ServerConfig {
        workers: 2,
        ..ServerConfig::default()
    };
    let server = idp_http::serve(listener, state, &config).unwrap();
    tokio::spawn(server);
    (base, db)
}

/// Fails, never skips, when Chromium is not installed.
fn require_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install it (`apt-get install -y chromium`, as .ci/run does) to \
         run the Swagger UI test"
    );
}

/// Runs headless Chromium on `url` and returns the DOM after the page's scripts have run.
fn dump_dom(url: &str) -> String {
    require_chromium();
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=10000", "--dump-dom", url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {CHROMIUM}: {error}"));
    // Read the pipes on their own threads so a chatty Chromium never blocks on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CHROMIUM_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{CHROMIUM} did not finish within {CHROMIUM_DEADLINE:?}; stderr:\n{}",
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = out.join().unwrap().expect("Chromium's output is UTF-8");
    let stderr = err.join().unwrap_or_default();
    assert!(
        status.success(),
        "{CHROMIUM} failed with {status}; stderr:\n{stderr}"
    );
    dom
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_renders_the_identity_provider_operations() {
    require_chromium();
    let (base, _db) = spawn_app().await;

    // The document the page loads is there for anonymous callers, through the whole app.
    let schema = reqwest::get(format!("{base}/api/schema/")).await.unwrap();
    assert_eq!(schema.status(), 200);
    let schema: serde_json::Value = schema.json().await.unwrap();
    assert_eq!(
        schema,
        serde_json::to_value(idp_http::openapi::document()).unwrap()
    );

    let url = format!("{base}/api/docs/");
    let dom = tokio::task::spawn_blocking(move || dump_dom(&url))
        .await
        .unwrap();

    let missing: Vec<&str> = [
        // Swagger UI itself, from the binary.
        "swagger-ui",
        // Rendered from /api/schema/: the title, operation ids and paths.
        "Identity provider registry API",
        "identity_providers_list",
        "identity_providers_count",
        "identity_providers_create",
        "identity_providers_retrieve",
        "identity_providers_update",
        "identity_providers_partial_update",
        "identity_providers_destroy",
        "identity_providers_discover_metadata",
        "identity_providers_generate_mapping",
        "/api/identity-providers/discover_metadata/",
        "/api/identity-providers/generate-mapping/",
        "/api/identity-providers/{provider}/",
    ]
    .into_iter()
    .filter(|needle| !dom.contains(needle))
    .collect();
    assert!(
        missing.is_empty(),
        "Swagger UI at /api/docs/ did not render {missing:?}; the dumped DOM was:\n{}",
        &dom[..dom.len().min(4000)]
    );
    assert!(
        !dom.contains("Failed to load API definition"),
        "Swagger UI could not load /api/schema/"
    );
}

/// `/api/docs` without the slash is redirected to the UI, like every other path of the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_without_trailing_slash_redirect() {
    let (base, _db) = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(format!("{base}/api/docs")).send().await.unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/api/docs/");
    let page = client
        .get(format!("{base}/api/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
}
