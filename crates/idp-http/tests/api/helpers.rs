//! `spawn_app()`: a fresh database, the app on port 0, tokens, and a loopback discovery server.

use std::net::TcpListener;

use idp_core::{NewProvider, Provider, ProviderEndpoints, ProviderNamePolicy};
use idp_http::{ApiSettings, AppState, ServerConfig};
use idp_oidc::{DiscoveryClient, FetchPolicy};
use idp_store::testing::TestDatabase;
use idp_store::{Backend, Store, StoredProvider};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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

/// A running app and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The app's store, for checking what was (not) written.
    pub store: Store,
    /// A staff user's token key.
    pub staff: String,
    /// A non-staff user's token key.
    pub user: String,
    /// The loopback identity provider serving discovery documents.
    pub idp: MockServer,
    http: reqwest::Client,
    _db: TestDatabase,
}

/// Starts the app with default settings on `backend`.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, ApiSettings::default()).await
}

/// Starts the app with the given API settings on `backend`.
pub async fn spawn_app_with(backend: Backend, settings: ApiSettings) -> TestApp {
    let db = tokio::task::spawn_blocking(move || TestDatabase::new(backend))
        .await
        .unwrap();
    let store = db.store();
    let staff_user = store.ensure_user("staff", true).unwrap();
    let staff = store.create_token(&staff_user, None).unwrap().key;
    let plain_user = store.ensure_user("user", false).unwrap();
    let user = store.create_token(&plain_user, None).unwrap().key;
    let policy = FetchPolicy {
        allow_networks: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        ..FetchPolicy::default()
    };
    let state = AppState {
        store: store.clone(),
        discovery: DiscoveryClient::new(policy),
        settings,
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = ServerConfig {
        workers: 2,
        ..ServerConfig::default()
    };
    let server = idp_http::serve(listener, state, &config).unwrap();
    tokio::spawn(server);
    let idp = MockServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        store,
        staff,
        user,
        idp,
        http,
        _db: db,
    }
}

/// Settings restricting provider names to the reference's three.
pub fn waldur_names() -> ApiSettings {
    ApiSettings {
        provider_names: ProviderNamePolicy::from_setting("waldur").unwrap(),
        ..ApiSettings::default()
    }
}

/// Which credentials a request carries.
#[derive(Clone, Copy, Debug)]
pub enum As<'a> {
    /// No `Authorization` header.
    Anonymous,
    /// `Authorization: Token <key>`.
    Token(&'a str),
    /// The raw `Authorization` header.
    Header(&'a str),
}

impl TestApp {
    /// Sends a request with an optional JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        who: As<'_>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        request = match who {
            As::Anonymous => request,
            As::Token(key) => request.header("Authorization", format!("Token {key}")),
            As::Header(value) => request.header("Authorization", value),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the app answers")
    }

    /// Sends raw bytes with a content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Token {}", self.staff))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("the app answers")
    }

    /// The HTTP client, for requests the helpers do not build.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `GET` as staff.
    pub async fn get_staff(&self, path: &str) -> Response {
        self.request(Method::GET, path, As::Token(&self.staff), None)
            .await
    }

    /// `POST /api/identity-providers/` as staff.
    pub async fn create(&self, body: &Value) -> Response {
        self.request(
            Method::POST,
            "/api/identity-providers/",
            As::Token(&self.staff),
            Some(body),
        )
        .await
    }

    /// Serves `document` at `/<name>/.well-known/openid-configuration` on the loopback IdP and
    /// returns its URL.
    pub async fn serve_document(&self, name: &str, document: Value) -> String {
        let route = format!("/{name}/.well-known/openid-configuration");
        Mock::given(method("GET"))
            .and(path(route.clone()))
            .respond_with(ResponseTemplate::new(200).set_body_json(document))
            .mount(&self.idp)
            .await;
        format!("{}{route}", self.idp.uri())
    }

    /// Serves a minimal valid discovery document for `name` and returns its URL.
    pub async fn serve_idp(&self, name: &str) -> String {
        let document = idp_document(&self.idp.uri(), name);
        self.serve_document(name, document).await
    }

    /// A valid create body for `name` whose discovery document is served by the loopback IdP.
    pub async fn new_provider_body(&self, name: &str, label: &str) -> Value {
        let discovery_url = self.serve_idp(name).await;
        json!({
            "provider": name,
            "client_id": format!("{name}-client"),
            "client_secret": format!("{name}-secret-value"),
            "discovery_url": discovery_url,
            "label": label,
        })
    }

    /// Creates a provider through the API and returns the 201 body.
    pub async fn create_provider(&self, name: &str, label: &str) -> Value {
        let body = self.new_provider_body(name, label).await;
        let response = self.create(&body).await;
        assert_eq!(response.status(), 201, "create {name}");
        response.json().await.unwrap()
    }

    /// How many providers the database holds, and each one's JSON as staff see it.
    pub fn snapshot(&self) -> Vec<Value> {
        self.store
            .all_providers()
            .unwrap()
            .iter()
            .map(|p| p.provider.to_json(true, true))
            .collect()
    }
}

/// A discovery document for a provider served under `base/name`.
pub fn idp_document(base: &str, name: &str) -> Value {
    json!({
        "issuer": format!("{base}/{name}"),
        "authorization_endpoint": format!("{base}/{name}/auth"),
        "token_endpoint": format!("{base}/{name}/token"),
        "userinfo_endpoint": format!("{base}/{name}/userinfo"),
        "end_session_endpoint": format!("{base}/{name}/logout"),
        "jwks_uri": format!("{base}/{name}/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "email", "given_name", "family_name"],
        "scopes_supported": ["openid", "email", "profile"],
    })
}

/// The keys of a JSON object, in order.
pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Reads a response's status and JSON body.
pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// The 404 body of an unknown (or, for non-staff, inactive) provider.
pub const NO_PROVIDER: &str = "No IdentityProvider matches the given query.";
/// The 401 detail of a request without credentials.
pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
/// The 403 detail of an authenticated caller who may not do this.
pub const FORBIDDEN: &str = "You do not have permission to perform this action.";
/// The collection's path.
pub const COLLECTION: &str = "/api/identity-providers/";

/// `{"detail": "<detail>"}`.
pub fn detail(detail: &str) -> Value {
    json!({ "detail": detail })
}

/// A complete provider value for inserting straight into the store (no API call, no discovery
/// fetch): active, the model defaults, endpoints on `https://<name>.example.com`.
///
/// The defaults are those of a create body for a name without per-provider defaults, so every
/// field of the definition gets its model default.
pub fn provider(name: &str, label: &str) -> Provider {
    let base = format!("https://{name}.example.com");
    let body = json!({
        "provider": "model-defaults",
        "client_id": "-",
        "client_secret": "-",
        "discovery_url": "https://idp.example.com/.well-known/openid-configuration",
        "label": "-",
    });
    let defaults = NewProvider::parse(&body, &ProviderNamePolicy::AnySlug)
        .unwrap_or_else(|errors| panic!("the model-defaults body is refused: {errors}"));
    Provider {
        provider: name.to_owned(),
        client_id: format!("{name}-client"),
        client_secret: format!("{name}-secret-value"),
        discovery_url: format!("{base}/.well-known/openid-configuration"),
        label: label.to_owned(),
        ..defaults.into_provider(ProviderEndpoints {
            auth_url: format!("{base}/auth"),
            token_url: format!("{base}/token"),
            userinfo_url: format!("{base}/userinfo"),
            logout_url: format!("{base}/logout"),
        })
    }
}

/// A request body.
#[derive(Clone, Debug)]
pub enum Body {
    /// No body at all.
    None,
    /// A JSON value, sent as `application/json`.
    Json(Value),
    /// Raw bytes with the given `Content-Type`.
    Raw(&'static str, Vec<u8>),
}

impl std::fmt::Display for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::None => f.write_str("no body"),
            Body::Json(value) => {
                let text = value.to_string();
                if text.chars().count() > 200 {
                    let short: String = text.chars().take(200).collect();
                    write!(f, "json {short}...")
                } else {
                    write!(f, "json {text}")
                }
            }
            Body::Raw(content_type, bytes) => {
                let text = String::from_utf8_lossy(bytes);
                let short: String = text.chars().take(80).collect();
                write!(f, "{content_type} ({} bytes) {short:?}", bytes.len())
            }
        }
    }
}

/// What a response body must be.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Exactly this JSON (object keys compared as a map, plus the top-level key order).
    Json(Value),
    /// An empty body (HEAD, 204, 308).
    Empty,
    /// `{"detail": "<text starting with the prefix>"}`.
    DetailStartingWith(&'static str),
    /// `{"detail": "<any string>"}`.
    AnyDetail,
    /// Anything: only the status (and headers) are checked.
    Anything,
}

/// One row of a request table: the request, the status and body it must get, and headers the
/// response must carry.
#[derive(Clone, Debug)]
pub struct Case<'a> {
    /// The HTTP method.
    pub method: Method,
    /// The path and query.
    pub path: String,
    /// Who sends it.
    pub who: As<'a>,
    /// The body sent.
    pub body: Body,
    /// The expected status.
    pub status: u16,
    /// The expected body.
    pub expect: Expect,
    /// Headers the response must carry, with their exact values.
    pub headers: Vec<(&'static str, String)>,
    /// A note printed with the row when it fails.
    pub note: String,
}

impl<'a> Case<'a> {
    /// A request without a body, expected to answer 200 with anything.
    pub fn new(method: Method, path: impl Into<String>, who: As<'a>) -> Self {
        Self {
            method,
            path: path.into(),
            who,
            body: Body::None,
            status: 200,
            expect: Expect::Anything,
            headers: Vec::new(),
            note: String::new(),
        }
    }

    /// Sends `body` as JSON.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    /// Sets `key` in the JSON body (which must be an object).
    pub fn json_with(mut self, key: &str, value: Value) -> Self {
        match &mut self.body {
            Body::Json(Value::Object(object)) => {
                object.insert(key.to_owned(), value);
            }
            _ => panic!("json_with needs a JSON object body"),
        }
        self
    }

    /// Sends raw bytes with a content type.
    pub fn raw(mut self, content_type: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Raw(content_type, bytes.into());
        self
    }

    /// Expects `status` and exactly the JSON `body`.
    pub fn answers(mut self, status: u16, body: Value) -> Self {
        self.status = status;
        self.expect = Expect::Json(body);
        self
    }

    /// Expects `status` with any body.
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self.expect = Expect::Anything;
        self
    }

    /// Expects `status` and the given body check.
    pub fn expect(mut self, status: u16, expect: Expect) -> Self {
        self.status = status;
        self.expect = expect;
        self
    }

    /// Expects a header with exactly this value.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A note shown when the row fails.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// 401 `Authentication credentials were not provided.` with `WWW-Authenticate: Token`.
    pub fn unauthenticated(self) -> Self {
        self.answers(401, detail(NOT_AUTHENTICATED))
    }

    /// 403 `You do not have permission to perform this action.`
    pub fn forbidden(self) -> Self {
        self.answers(403, detail(FORBIDDEN))
    }

    /// 404 `No IdentityProvider matches the given query.`
    pub fn no_provider(self) -> Self {
        self.answers(404, detail(NO_PROVIDER))
    }
}

/// How a table checks the database around each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effects {
    /// Rows may change the database (or not): nothing is compared.
    Allowed,
    /// No row may change the database; discovery fetches are allowed.
    NoWrites,
    /// No row may change the database or fetch a discovery document from the loopback IdP.
    NoWritesNoFetch,
}

impl TestApp {
    /// Sends a request with any kind of body.
    pub async fn send(&self, method: Method, path: &str, who: As<'_>, body: &Body) -> Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        request = match who {
            As::Anonymous => request,
            As::Token(key) => request.header("Authorization", format!("Token {key}")),
            As::Header(value) => request.header("Authorization", value),
        };
        request = match body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Raw(content_type, bytes) => request
                .header("Content-Type", *content_type)
                .body(bytes.clone()),
        };
        request.send().await.expect("the app answers")
    }

    /// Inserts a provider straight into the store, with no API call and no discovery fetch.
    /// A store of its own on the app's database, as another instance has: its writes reach the
    /// app's snapshot only through the database (a notification or the periodic check).
    pub fn other_instance(&self) -> Store {
        self._db.store_with(self.store.secrets().clone())
    }

    pub fn insert(&self, provider: &Provider) -> StoredProvider {
        self.store
            .insert_provider(provider)
            .expect("insert a provider")
    }

    /// The stored row of `name` (active or not), with its version.
    pub fn stored(&self, name: &str) -> Option<StoredProvider> {
        self.store
            .get_provider(name, false)
            .expect("read a provider")
    }

    /// How many requests the loopback IdP has received so far.
    pub async fn idp_requests(&self) -> usize {
        self.idp
            .received_requests()
            .await
            .map_or(0, |requests| requests.len())
    }

    fn who(&self, who: As<'_>) -> String {
        match who {
            As::Anonymous => "anonymous".to_owned(),
            As::Token(key) if key == self.staff => "staff".to_owned(),
            As::Token(key) if key == self.user => "non-staff".to_owned(),
            As::Token(key) => format!("Token {key}"),
            As::Header(value) => format!("Authorization: {value}"),
        }
    }

    /// Sends every row in order and checks its status, body and headers (and, per `effects`,
    /// that it changed nothing). Every failing row is listed before the test fails.
    pub async fn check(&self, cases: &[Case<'_>], effects: Effects) {
        let mut failures = Vec::new();
        for (index, case) in cases.iter().enumerate() {
            let before = (effects != Effects::Allowed).then(|| self.snapshot());
            let fetched_before = self.idp_requests().await;
            let response = self
                .send(case.method.clone(), &case.path, case.who, &case.body)
                .await;
            let mut problems = Vec::new();
            let status = response.status().as_u16();
            if status != case.status {
                problems.push(format!("status {status}, expected {}", case.status));
            }
            let mut headers = case.headers.clone();
            if case.status == 401 {
                headers.push(("www-authenticate", "Token".to_owned()));
            }
            for (name, value) in &headers {
                let got = response
                    .headers()
                    .get(*name)
                    .map(|v| v.to_str().unwrap_or("<bytes>"));
                if got != Some(value.as_str()) {
                    problems.push(format!("header {name}: {got:?}, expected {value:?}"));
                }
            }
            let text = response.text().await.unwrap_or_default();
            if let Some(problem) = body_problem(&case.expect, &text) {
                problems.push(problem);
            }
            if let Some(before) = before {
                let after = self.snapshot();
                if after != before {
                    problems.push(format!(
                        "the database changed: {} row(s) before, {} after: {}",
                        before.len(),
                        after.len(),
                        Value::Array(after)
                    ));
                }
            }
            if effects == Effects::NoWritesNoFetch {
                let fetched = self.idp_requests().await - fetched_before;
                if fetched > 0 {
                    problems.push(format!("{fetched} discovery fetch(es) were made"));
                }
            }
            if !problems.is_empty() {
                let note = if case.note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", case.note)
                };
                failures.push(format!(
                    "row {index}{note}: {} {} as {} with {}\n    got body {text}\n    {}",
                    case.method,
                    case.path,
                    self.who(case.who),
                    case.body,
                    problems.join("\n    ")
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} rows failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}

fn body_problem(expect: &Expect, text: &str) -> Option<String> {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    match expect {
        Expect::Anything => None,
        Expect::Empty => (!text.is_empty()).then(|| "expected an empty body".to_owned()),
        Expect::Json(expected) => match parsed {
            None => Some(format!("body is not JSON, expected {expected}")),
            Some(got) if got != *expected => Some(format!("expected body {expected}")),
            Some(got) => {
                let order =
                    |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
                (order(&got) != order(expected))
                    .then(|| format!("keys out of order, expected {:?}", order(expected)))
            }
        },
        Expect::DetailStartingWith(prefix) => {
            let ok = parsed.as_ref().and_then(Value::as_object).is_some_and(|o| {
                o.len() == 1
                    && o.get("detail")
                        .and_then(Value::as_str)
                        .is_some_and(|d| d.starts_with(prefix))
            });
            (!ok).then(|| format!("expected {{\"detail\": \"{prefix}...\"}}"))
        }
        Expect::AnyDetail => {
            let ok = parsed
                .as_ref()
                .and_then(Value::as_object)
                .is_some_and(|o| o.len() == 1 && o.get("detail").is_some_and(Value::is_string));
            (!ok).then(|| "expected {\"detail\": \"...\"}".to_owned())
        }
    }
}
