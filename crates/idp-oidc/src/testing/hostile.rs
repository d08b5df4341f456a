//! A hostile OpenID Provider on loopback: it publishes a discovery document and a key set, and
//! answers the token and userinfo endpoints with whatever the test sets, right or wrong.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::rp::{ProviderLoginMetadata, RelyingPartyConfig};
use crate::testing::keys::KeyPair;
use crate::testing::loopback_policy;

/// The client the provider's default tokens are for.
pub const CLIENT_ID: &str = "registry-client";
/// That client's secret.
pub const CLIENT_SECRET: &str = "registry-secret";
/// The subject of the provider's default tokens and userinfo.
pub const SUBJECT: &str = "user-7f3a";
/// The access token the default token reply hands out.
pub const ACCESS_TOKEN: &str = "access-token-of-the-hostile-provider";

/// One canned answer: status, body, content type and an optional delay.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
    delay: Option<Duration>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            body: body.to_string().into_bytes(),
            content_type: "application/json",
            delay: None,
        }
    }

    /// Any other answer.
    pub fn raw(status: u16, content_type: &'static str, body: &str) -> Self {
        Self {
            status,
            body: body.as_bytes().to_vec(),
            content_type,
            delay: None,
        }
    }

    /// The same answer, after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn template(&self) -> ResponseTemplate {
        let template =
            ResponseTemplate::new(self.status).set_body_raw(self.body.clone(), self.content_type);
        match self.delay {
            Some(delay) => template.set_delay(delay),
            None => template,
        }
    }
}

struct State {
    discovery: Value,
    jwks: Value,
    token: Reply,
    userinfo: Reply,
}

/// A hostile OpenID Provider on `127.0.0.1`, stopped when dropped.
///
/// It starts with one RSA key ([`HostileProvider::key`]) published at `/jwks`, a discovery
/// document at `/.well-known/openid-configuration` listing `RS256` and `EdDSA`, a token endpoint
/// answering 503 until a reply is set, and a userinfo endpoint answering [`SUBJECT`]'s claims.
pub struct HostileProvider {
    server: MockServer,
    key: KeyPair,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for HostileProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileProvider")
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

impl HostileProvider {
    /// Starts the provider.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let issuer = server.uri();
        let key = KeyPair::rsa("rsa-1");
        let state = Arc::new(Mutex::new(State {
            discovery: json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/auth"),
                "token_endpoint": format!("{issuer}/token"),
                "userinfo_endpoint": format!("{issuer}/userinfo"),
                "jwks_uri": format!("{issuer}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "authorization_response_iss_parameter_supported": true,
            }),
            jwks: json!({"keys": [key.public_jwk()]}),
            token: Reply::raw(503, "text/plain", "no token reply set"),
            userinfo: Reply::json(200, &default_userinfo()),
        }));
        let provider = Self { server, key, state };
        provider
            .serve("GET", "/.well-known/openid-configuration", |state| {
                Reply::json(200, &state.discovery)
            })
            .await;
        provider
            .serve("GET", "/jwks", |state| Reply::json(200, &state.jwks))
            .await;
        provider
            .serve("POST", "/token", |state| state.token.clone())
            .await;
        provider
            .serve("GET", "/userinfo", |state| state.userinfo.clone())
            .await;
        provider
    }

    async fn serve(&self, verb: &str, route: &str, reply: fn(&State) -> Reply) {
        let state = self.state.clone();
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(move |_: &Request| {
                reply(&state.lock().unwrap_or_else(PoisonError::into_inner)).template()
            })
            .mount(&self.server)
            .await;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The issuer: `http://127.0.0.1:<port>`.
    pub fn issuer(&self) -> String {
        self.server.uri()
    }

    /// The discovery document's URL.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer())
    }

    /// The key set's URL.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.issuer())
    }

    /// The RSA key published from the start (`kid` `rsa-1`).
    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    /// The discovery document as served now.
    pub fn discovery(&self) -> Value {
        self.state().discovery.clone()
    }

    /// Changes the discovery document (e.g. to list `HS256`).
    pub fn edit_discovery(&self, edit: impl FnOnce(&mut Map<String, Value>)) {
        if let Some(document) = self.state().discovery.as_object_mut() {
            edit(document);
        }
    }

    /// The login metadata of the served document.
    pub fn metadata(&self) -> ProviderLoginMetadata {
        let document = crate::DiscoveryDocument::from_value(self.discovery())
            .unwrap_or_else(|error| panic!("the hostile provider's document: {error}"));
        ProviderLoginMetadata::from_document(&document)
    }

    /// A configuration for [`CLIENT_ID`] from the served discovery document, with a policy that
    /// lets calls reach loopback.
    pub fn config(&self) -> RelyingPartyConfig {
        let mut config = RelyingPartyConfig::from_metadata(
            "hostile",
            CLIENT_ID,
            CLIENT_SECRET,
            &self.metadata(),
        );
        config.policy = loopback_policy();
        config
    }

    /// Publishes exactly these keys at `/jwks` (a rotation, or a set without the signing key).
    pub fn publish(&self, keys: &[&KeyPair]) {
        let keys: Vec<Value> = keys.iter().map(|key| key.public_jwk()).collect();
        self.state().jwks = json!({ "keys": keys });
    }

    /// Serves any body at `/jwks`.
    pub fn publish_raw(&self, jwks: Value) {
        self.state().jwks = jwks;
    }

    /// Sets the token endpoint's answer.
    pub fn reply_to_token(&self, reply: Reply) {
        self.state().token = reply;
    }

    /// Sets the userinfo endpoint's answer.
    pub fn reply_to_userinfo(&self, reply: Reply) {
        self.state().userinfo = reply;
    }

    /// Makes the token endpoint hand out [`ACCESS_TOKEN`], a refresh token and `id_token`.
    pub fn issue(&self, id_token: Option<&str>) {
        self.reply_to_token(Reply::json(200, &token_body(id_token)));
    }

    /// Valid ID token claims for [`CLIENT_ID`] and `nonce`, issued at `now`, expiring five minutes
    /// later, with profile claims and a nested `realm_access.roles`.
    pub fn claims(&self, now: DateTime<Utc>, nonce: &str) -> Map<String, Value> {
        let claims = json!({
            "iss": self.issuer(),
            "sub": SUBJECT,
            "aud": CLIENT_ID,
            "exp": (now + TimeDelta::minutes(5)).timestamp(),
            "iat": now.timestamp(),
            "nonce": nonce,
            "email": "ada@example.org",
            "email_verified": true,
            "given_name": "Ada",
            "realm_access": {"roles": ["staff", "user"]},
            "urn:example:department": "research",
        });
        match claims {
            Value::Object(claims) => claims,
            _ => Map::new(),
        }
    }

    /// Every request the provider received at `route` (e.g. `/token`), oldest first.
    pub async fn requests_to(&self, route: &str) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|request| request.url.path() == route)
            .collect()
    }
}

/// A 200 token answer with [`ACCESS_TOKEN`], a refresh token and, when given, an ID token.
pub fn token_body(id_token: Option<&str>) -> Value {
    let mut body = json!({
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "refresh_token": "refresh-token-of-the-hostile-provider",
    });
    if let (Some(id_token), Some(object)) = (id_token, body.as_object_mut()) {
        object.insert("id_token".into(), json!(id_token));
    }
    body
}

/// The userinfo the provider answers by default: [`SUBJECT`] with profile claims.
pub fn default_userinfo() -> Value {
    json!({
        "sub": SUBJECT,
        "email": "ada@example.org",
        "email_verified": true,
        "given_name": "Ada",
        "family_name": "Lovelace",
        "realm_access": {"roles": ["staff", "user", "from-userinfo"]},
    })
}
