//! `spawn_app()`: a fresh database, the app on port 0, tokens, and a loopback discovery server.

use std::net::TcpListener;

use idp_core::ProviderNamePolicy;
use idp_http::{ApiSettings, AppState, ServerConfig};
use idp_oidc::{DiscoveryClient, FetchPolicy};
use idp_store::testing::TestDatabase;
use idp_store::{Backend, Store};
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
