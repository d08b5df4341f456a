//! The app with logins: a fresh database, the real server on a loopback port, a clock the test
//! holds, the server's logs captured, and a browser that keeps the login cookie.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use diesel::prelude::*;
use diesel::sql_types::Text;
use idp_core::{NewProvider, Provider, ProviderEndpoints, ProviderNamePolicy};
use idp_http::{ApiSettings, AppState, LoginSettings, ServerConfig};
use idp_oidc::DiscoveryClient;
use idp_oidc::rp::ManualClock;
use idp_oidc::testing::{CLIENT_ID, CLIENT_SECRET, HostileProvider, loopback_policy};
use idp_store::testing::TestDatabase;
use idp_store::{Backend, DbConnection, SecretBox, SecretKey, Store};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, Response};
use serde_json::Value;
use url::Url;

/// Generates one test per backend from `async fn name(backend: Backend)`.
#[macro_export]
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

/// The portal logins return to in these tests.
pub const PORTAL: &str = "https://portal.example.org";

/// Everything the servers of this test binary logged.
fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "idp_http=trace,idp_oidc=trace,idp_store=trace,actix_web=debug,actix_server=debug",
            ))
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("IDP_TEST_LOG").is_some() {
            let _ = std::io::stderr().write_all(bytes);
        }
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything the servers of this test binary logged so far.
pub fn logged() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap_or_else(PoisonError::into_inner))
        .into_owned()
}

/// Fails when any of `values` appears in what the servers logged.
pub fn assert_not_logged(values: &[&str]) {
    let logs = logged();
    assert!(logs.contains("login step"), "the login steps are logged");
    for value in values.iter().filter(|value| value.len() >= 8) {
        assert!(
            !logs.contains(value),
            "a login value reached the logs: {value}"
        );
    }
}

/// A running app for logins.
pub struct LoginApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The app's store.
    pub store: Store,
    /// The logins' clock.
    pub clock: ManualClock,
    /// A staff token.
    pub staff: String,
    http: reqwest::Client,
    _db: Arc<TestDatabase>,
}

/// Test settings: the portal as home, no rate limit, a clock at the current time.
pub fn settings(clock: &ManualClock) -> ApiSettings {
    let mut login = LoginSettings::with_clock(Arc::new(clock.clone()));
    login.homeport_url = Some(PORTAL.to_owned());
    login.rate_limit = 0;
    ApiSettings {
        login,
        // The machine is shared with other test suites: a slow database is not what is tested.
        db_timeout: std::time::Duration::from_secs(30),
        ..ApiSettings::default()
    }
}

/// An app on a fresh `backend` database with [`settings`] changed by `edit`.
pub async fn spawn(backend: Backend, edit: impl FnOnce(&mut ApiSettings)) -> LoginApp {
    let db = tokio::task::spawn_blocking(move || TestDatabase::new(backend))
        .await
        .expect("a test database");
    spawn_on(Arc::new(db), edit).await
}

/// An app on an existing database (a second instance shares it).
pub async fn spawn_on(db: Arc<TestDatabase>, edit: impl FnOnce(&mut ApiSettings)) -> LoginApp {
    log_buffer();
    // Instances sharing a database share its key ring, as in production.
    static KEY: OnceLock<String> = OnceLock::new();
    let key = KEY.get_or_init(SecretKey::generate_base64);
    let store = db.store_with(SecretBox::new(
        SecretKey::from_base64(key).expect("a key"),
        vec![],
    ));
    let clock = ManualClock::starting_now();
    let mut api = settings(&clock);
    edit(&mut api);
    let staff_user = store.ensure_user("staff", true).expect("a staff user");
    let staff = store.create_token(&staff_user, None).expect("a token").key;
    let state = AppState {
        store: store.clone(),
        discovery: DiscoveryClient::new(loopback_policy()),
        settings: api,
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let config = ServerConfig {
        workers: 2,
        ..ServerConfig::default()
    };
    tokio::spawn(idp_http::serve(listener, state, &config).expect("the server"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("a client");
    LoginApp {
        base,
        store,
        clock,
        staff,
        http,
        _db: db,
    }
}

/// A provider named `name` with the hostile provider's endpoints and client, active, PKCE on,
/// returning to [`PORTAL`].
pub fn hostile_provider(name: &str, idp: &HostileProvider) -> Provider {
    let issuer = idp.issuer();
    let body = serde_json::json!({
        "provider": name,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "discovery_url": idp.discovery_url(),
        "label": name,
        "enable_pkce": true,
        "extra_scope": "profile email",
        "allowed_redirects": [PORTAL],
        "attribute_mapping": {"first_name": "given_name", "last_name": "family_name", "email": "email"},
    });
    NewProvider::parse(&body, &ProviderNamePolicy::AnySlug)
        .unwrap_or_else(|errors| panic!("{errors}"))
        .into_provider(ProviderEndpoints {
            auth_url: format!("{issuer}/auth"),
            token_url: format!("{issuer}/token"),
            userinfo_url: format!("{issuer}/userinfo"),
            logout_url: format!("{issuer}/logout"),
        })
}

/// A login begun in a browser: the cookie and what the authorization URL carried.
#[derive(Debug, Clone)]
pub struct Begun {
    /// The provider's name.
    pub provider: String,
    /// The `Cookie` header to send back.
    pub cookie: String,
    /// The authorization URL.
    pub location: Url,
    /// The `Set-Cookie` header init sent.
    pub set_cookie: String,
}

impl Begun {
    /// A parameter of the authorization URL.
    pub fn param(&self, name: &str) -> Option<String> {
        param(&self.location, name)
    }

    /// The `state` sent.
    pub fn state(&self) -> String {
        self.param("state").expect("a state")
    }

    /// The `nonce` sent.
    pub fn nonce(&self) -> String {
        self.param("nonce").expect("a nonce")
    }
}

/// A query parameter of a URL.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The `Location` of a response, as a URL.
pub fn location(response: &Response) -> Url {
    let text = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("no Location in a {} answer", response.status()));
    Url::parse(text).unwrap_or_else(|error| panic!("Location {text}: {error}"))
}

/// A response's status and JSON body (`null` when empty).
pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    row: String,
}

impl LoginApp {
    /// A `GET` with optional extra headers.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = self.http.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("the app answers")
    }

    /// A `POST` with a JSON body and optional token.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Token {token}"));
        }
        request.send().await.expect("the app answers")
    }

    /// `POST` with a form-encoded body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("the app answers")
    }

    /// A request with a token.
    pub async fn with_token(&self, method: Method, path: &str, token: &str) -> Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Token {token}"))
            .send()
            .await
            .expect("the app answers")
    }

    /// Begins a login with `provider` (extra query `query`, e.g. `return_url=...`).
    pub async fn begin(&self, provider: &str, query: &str) -> Begun {
        let path = format!("/api-auth/{provider}/init/?{query}");
        let response = self.get(&path, &[]).await;
        assert_eq!(response.status(), 302, "init of {provider}");
        let set_cookie = response
            .headers()
            .get(SET_COOKIE)
            .and_then(|value| value.to_str().ok())
            .expect("init sets a cookie")
            .to_owned();
        let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
        Begun {
            provider: provider.to_owned(),
            cookie,
            location: location(&response),
            set_cookie,
        }
    }

    /// Calls complete with this query, as the browser that began `begun`.
    pub async fn complete(&self, begun: &Begun, query: &str) -> Response {
        let path = format!("/api-auth/{}/complete/?{query}", begun.provider);
        self.get(&path, &[(COOKIE.as_str(), &begun.cookie)]).await
    }

    /// The callback query of a successful authorization at the hostile provider.
    pub fn callback(&self, begun: &Begun, idp: &HostileProvider) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", "the-authorization-code")
            .append_pair("state", &begun.state())
            .append_pair("iss", &idp.issuer())
            .finish()
    }

    /// Exchanges a code; the 200's token.
    pub async fn exchange(&self, code: &str) -> String {
        let response = self
            .post_json(
                "/api-auth/token-exchange/",
                None,
                &serde_json::json!({"code": code}),
            )
            .await;
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// Every user, token and exchange code, as text: what a failed login must not change.
    pub fn database(&self) -> String {
        let sql = "SELECT username || '|' || is_active || '|' || is_staff || '|' || first_name \
                   || '|' || email || '|' || details || '|' || COALESCE(CAST(last_login AS TEXT), '') AS row \
                   FROM users UNION ALL SELECT 'token ' || key_hash AS row FROM api_tokens \
                   UNION ALL SELECT 'code ' || code_hash AS row FROM exchange_codes";
        let mut rows: Vec<String> = self
            .store
            .with_connection(|conn: &mut DbConnection| diesel::sql_query(sql).load::<Row>(conn))
            .expect("read the database")
            .into_iter()
            .map(|row| row.row)
            .collect();
        rows.sort();
        rows.join("\n")
    }
}
