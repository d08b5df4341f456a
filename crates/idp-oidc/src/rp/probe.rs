//! Probing a provider before users hit it: discovery, issuer, TLS, endpoints, keys, PKCE,
//! scopes, claims and the client's credentials, one [`ProbeCheck`] each, in a fixed order.
//!
//! Every call goes through the same guarded, pinned, time-limited client a login uses, and the
//! credentials are checked with the login's own code exchange ([`RelyingParty::exchange_code`])
//! with a deliberately invalid code, so a probe and a login never disagree about the client.
//! A failure of any kind is a `fail` entry, never an error. No check's detail quotes the client
//! secret, a token, or a URL's credentials.

use serde::Serialize;
use serde_json::{Map, Value};
use url::Url;

use crate::client::DiscoveryClient;
use crate::document::DiscoveryDocument;
use crate::rp::call;
use crate::rp::config::RelyingPartyConfig;
use crate::rp::error::{CallError, TokenError};
use crate::rp::jwks::JwksCache;
use crate::rp::metadata::ProviderLoginMetadata;
use crate::rp::party::RelyingParty;
use crate::rp::secrets::LoginSecrets;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    /// As it should be.
    Pass,
    /// Logins may work, but something deserves a look.
    Warn,
    /// Logins will fail, or are unsafe.
    Fail,
    /// Not checked: it does not apply, or an earlier check failed.
    Skipped,
}

/// One check and its outcome: `{"check", "status", "detail"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeCheck {
    /// The check's name (see [`PROBE_CHECKS`]).
    pub check: &'static str,
    /// Its outcome.
    pub status: ProbeStatus,
    /// What was found, for people; never a secret.
    pub detail: String,
}

/// The checks, in the order a probe answers them.
pub const PROBE_CHECKS: [&str; 9] = [
    "discovery",
    "issuer",
    "https",
    "endpoints",
    "jwks",
    "pkce",
    "scopes",
    "claims",
    "client_credentials",
];

/// What a probe checks: a provider's configuration, stored or drafted.
#[derive(Clone)]
pub struct ProbeTarget {
    /// The provider's name (it decides the client authentication for `tara`).
    pub provider: String,
    /// The discovery document's URL.
    pub discovery_url: String,
    /// Whether TLS certificates are verified (and https is required everywhere).
    pub verify_ssl: bool,
    /// The client id.
    pub client_id: String,
    /// The client secret; never shown.
    pub client_secret: String,
    /// Whether logins use PKCE.
    pub enable_pkce: bool,
    /// The scopes asked for besides `openid`, whitespace-separated.
    pub extra_scope: Option<String>,
    /// The top-level claims the mapping reads.
    pub mapped_claims: Vec<String>,
    /// The token endpoint to use instead of the discovered one (a stored provider's, which a
    /// login uses).
    pub token_url: Option<String>,
    /// The `redirect_uri` the credentials check sends.
    pub redirect_uri: String,
}

impl ProbeTarget {
    /// The target of a provider's configuration: its client, discovery URL, PKCE, scopes and
    /// the claims its mapping reads (without `email_verified`, which no mapping names). The
    /// stored token endpoint, when set, is the one a login uses.
    pub fn for_provider(provider: &idp_core::Provider, redirect_uri: &str) -> Self {
        let mapping = idp_core::login::MappingConfig::from(provider);
        Self {
            provider: provider.provider.clone(),
            discovery_url: provider.discovery_url.clone(),
            verify_ssl: provider.verify_ssl,
            client_id: provider.client_id.clone(),
            client_secret: provider.client_secret.clone(),
            enable_pkce: provider.enable_pkce,
            extra_scope: provider.extra_scope.clone(),
            mapped_claims: idp_core::login::claims_read(&mapping, None)
                .into_iter()
                .filter(|claim| claim != "email_verified")
                .collect(),
            token_url: Some(provider.endpoints.token_url.clone()).filter(|url| !url.is_empty()),
            redirect_uri: redirect_uri.to_owned(),
        }
    }
}

impl std::fmt::Debug for ProbeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeTarget")
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .field("enable_pkce", &self.enable_pkce)
            .finish_non_exhaustive()
    }
}

struct Checks(Vec<ProbeCheck>);

impl Checks {
    fn push(&mut self, check: &'static str, status: ProbeStatus, detail: impl Into<String>) {
        self.0.push(ProbeCheck {
            check,
            status,
            detail: detail.into(),
        });
    }

    fn skip_rest(&mut self, why: &str) {
        for check in PROBE_CHECKS.iter().skip(self.0.len()) {
            self.push(check, ProbeStatus::Skipped, why);
        }
    }
}

/// Runs every check against the provider, through `client`'s SSRF guard and limits.
pub async fn probe(client: &DiscoveryClient, target: &ProbeTarget) -> Vec<ProbeCheck> {
    use ProbeStatus::{Fail, Pass, Skipped, Warn};
    let mut checks = Checks(Vec::with_capacity(PROBE_CHECKS.len()));
    let document = match client.fetch(&target.discovery_url, target.verify_ssl).await {
        Ok(document) => {
            checks.push(
                "discovery",
                Pass,
                format!(
                    "The discovery document was fetched ({} keys).",
                    document.fields().len()
                ),
            );
            document
        }
        Err(error) => {
            checks.push(
                "discovery",
                Fail,
                format!(
                    "The discovery document could not be read: {}.",
                    chain(&error)
                ),
            );
            checks.skip_rest("The discovery document could not be read.");
            return checks.0;
        }
    };
    let metadata = ProviderLoginMetadata::from_document(&document);
    let (status, detail) = issuer(&document, &target.discovery_url);
    checks.push("issuer", status, detail);
    let (status, detail) = https(&document, target);
    checks.push("https", status, detail);
    let (status, detail) = endpoints(&document);
    checks.push("endpoints", status, detail);
    let (status, detail) = jwks(client, &document, target).await;
    checks.push("jwks", status, detail);
    let offered = strings(&document, "code_challenge_methods_supported");
    let (status, detail) = match (target.enable_pkce, offered) {
        (false, _) => (Skipped, "PKCE is off for this provider.".to_owned()),
        (true, None) => (
            Warn,
            "The provider does not list code_challenge_methods_supported; logins will send S256 \
             and fail if it is not supported."
                .to_owned(),
        ),
        (true, Some(methods)) if methods.iter().any(|m| m == "S256") => {
            (Pass, "The provider offers PKCE with S256.".to_owned())
        }
        (true, Some(methods)) => (
            Fail,
            format!(
                "PKCE is on, but the provider offers only: {}.",
                list_or_none(&methods)
            ),
        ),
    };
    checks.push("pkce", status, detail);
    let (status, detail) = scopes(&document, target.extra_scope.as_deref());
    checks.push("scopes", status, detail);
    let (status, detail) = claims(&document, &target.mapped_claims);
    checks.push("claims", status, detail);
    let (status, detail) = credentials(client, &metadata, target).await;
    checks.push("client_credentials", status, detail);
    checks.0
}

/// The error and its causes, in one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn strings(document: &DiscoveryDocument, key: &str) -> Option<Vec<String>> {
    document.get(key).and_then(Value::as_array).map(|items| {
        items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn issuer(document: &DiscoveryDocument, discovery_url: &str) -> (ProbeStatus, String) {
    use ProbeStatus::{Fail, Pass};
    let Some(issuer) = document.get("issuer").and_then(Value::as_str) else {
        return (
            Fail,
            "The document has no issuer; no ID token can be accepted.".to_owned(),
        );
    };
    let expected = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let given = without_credentials(discovery_url);
    if given.split(['?', '#']).next() == Some(expected.as_str()) {
        (
            Pass,
            format!("The issuer {issuer} is the discovery URL's prefix."),
        )
    } else {
        (
            Fail,
            format!(
                "The issuer {issuer} does not match the discovery URL (expected it at \
                 {expected}); ID tokens are checked against the issuer."
            ),
        )
    }
}

fn without_credentials(url: &str) -> String {
    match Url::parse(url) {
        Ok(url) => call::redacted(&url),
        Err(_) => url.to_owned(),
    }
}

const URL_KEYS: [&str; 6] = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "end_session_endpoint",
];

fn https(document: &DiscoveryDocument, target: &ProbeTarget) -> (ProbeStatus, String) {
    use ProbeStatus::{Fail, Pass, Skipped, Warn};
    if !target.verify_ssl {
        return (
            Skipped,
            "verify_ssl is off: certificates are not checked.".to_owned(),
        );
    }
    let mut urls = vec![("discovery_url", target.discovery_url.as_str())];
    urls.extend(
        URL_KEYS
            .iter()
            .filter_map(|key| Some((*key, document.get(key)?.as_str()?))),
    );
    if let Some(token_url) = &target.token_url {
        urls.push(("token_url", token_url));
    }
    let (mut plain, mut loopback) = (Vec::new(), Vec::new());
    for (key, url) in urls {
        match Url::parse(url) {
            Ok(url) if url.scheme() == "https" => {}
            Ok(url) if is_loopback(&url) => loopback.push(key),
            _ => plain.push(key),
        }
    }
    if !plain.is_empty() {
        (Fail, format!("Not https: {}.", plain.join(", ")))
    } else if !loopback.is_empty() {
        (
            Warn,
            format!(
                "Plain http on a loopback address (for development only): {}.",
                loopback.join(", ")
            ),
        )
    } else {
        (Pass, "Every URL is https.".to_owned())
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(host)) => host == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn endpoints(document: &DiscoveryDocument) -> (ProbeStatus, String) {
    use ProbeStatus::{Fail, Pass, Warn};
    let present = |key: &str| {
        document
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|value| !value.is_empty())
    };
    let missing: Vec<&str> = ["authorization_endpoint", "token_endpoint", "jwks_uri"]
        .into_iter()
        .filter(|key| !present(key))
        .collect();
    if !missing.is_empty() {
        return (Fail, format!("Missing: {}.", missing.join(", ")));
    }
    if let Some(types) = strings(document, "response_types_supported")
        && !types.iter().any(|t| t == "code")
    {
        return (
            Fail,
            "response_types_supported does not include code.".to_owned(),
        );
    }
    if !present("userinfo_endpoint") {
        return (
            Warn,
            "No userinfo_endpoint: the claims are the ID token's alone.".to_owned(),
        );
    }
    (
        Pass,
        "authorization_endpoint, token_endpoint, userinfo_endpoint and jwks_uri are present."
            .to_owned(),
    )
}

/// The key type an algorithm needs, or `None` for HMAC (the client secret) and unknown ones.
fn key_type(alg: &str) -> Option<&'static str> {
    match alg.get(..2) {
        Some("RS" | "PS") => Some("RSA"),
        Some("ES") => Some("EC"),
        Some("Ed") => Some("OKP"),
        _ => None,
    }
}

async fn jwks(
    client: &DiscoveryClient,
    document: &DiscoveryDocument,
    target: &ProbeTarget,
) -> (ProbeStatus, String) {
    use ProbeStatus::{Fail, Pass, Warn};
    let Some(uri) = document.get("jwks_uri").and_then(Value::as_str) else {
        return (Fail, "The document has no jwks_uri.".to_owned());
    };
    let Ok(url) = Url::parse(uri) else {
        return (Fail, "jwks_uri is not a URL.".to_owned());
    };
    let answer = match call::send(client.policy(), target.verify_ssl, &url, |http| {
        http.get(url.clone())
    })
    .await
    {
        Ok(answer) => answer,
        Err(error) => {
            return (
                Fail,
                format!("The key set could not be fetched: {}.", chain(&error)),
            );
        }
    };
    if let Err(error) = answer.require_ok() {
        return (Fail, format!("The key set could not be fetched: {error}."));
    }
    let keys = match answer.json_object() {
        Ok(object) => match object.get("keys") {
            Some(Value::Array(keys)) => keys.clone(),
            _ => return (Fail, "The key set has no list of keys.".to_owned()),
        },
        Err(error) => return (Fail, format!("The key set is unusable: {error}.")),
    };
    let objects: Vec<&Map<String, Value>> = keys.iter().filter_map(Value::as_object).collect();
    let text = |key: &Map<String, Value>, name: &str| {
        key.get(name).and_then(Value::as_str).map(str::to_owned)
    };
    if objects.len() != keys.len() {
        return (Fail, "A key of the set is not an object.".to_owned());
    }
    if objects
        .iter()
        .any(|key| text(key, "alg").as_deref() == Some("none"))
    {
        return (Fail, "A key names the algorithm none.".to_owned());
    }
    let signing: Vec<&&Map<String, Value>> = objects
        .iter()
        .filter(|key| text(key, "use").is_none_or(|u| u == "sig"))
        .collect();
    let mut kids: Vec<String> = signing.iter().filter_map(|key| text(key, "kid")).collect();
    kids.sort();
    let duplicates: Vec<&String> = kids
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect();
    if !duplicates.is_empty() {
        let mut duplicates: Vec<String> = duplicates.into_iter().cloned().collect();
        duplicates.dedup();
        return (
            Fail,
            format!("Key ids are not unique: {}.", duplicates.join(", ")),
        );
    }
    if signing.len() > 1 && kids.len() < signing.len() {
        return (
            Warn,
            "Several signing keys, not all with a kid: tokens cannot name their key.".to_owned(),
        );
    }
    let algs = strings(document, "id_token_signing_alg_values_supported").unwrap_or_default();
    if algs.iter().any(|alg| alg == "none") {
        return (
            Fail,
            "id_token_signing_alg_values_supported offers none.".to_owned(),
        );
    }
    let types: Vec<String> = signing.iter().filter_map(|key| text(key, "kty")).collect();
    let needed: Vec<&String> = algs.iter().filter(|alg| key_type(alg).is_some()).collect();
    let unmatched: Vec<&str> = needed
        .iter()
        .filter(|alg| !types.iter().any(|t| Some(t.as_str()) == key_type(alg)))
        .map(|alg| alg.as_str())
        .collect();
    if !needed.is_empty() && unmatched.len() == needed.len() {
        return (
            Fail,
            format!(
                "No key fits the algorithms offered ({}); the key types are: {}.",
                algs.join(", "),
                list_or_none(&types)
            ),
        );
    }
    if signing.is_empty() && !needed.is_empty() {
        return (Fail, "The key set has no signing key.".to_owned());
    }
    if !unmatched.is_empty() {
        return (
            Warn,
            format!("No key for the algorithms: {}.", unmatched.join(", ")),
        );
    }
    (
        Pass,
        format!(
            "{} signing key(s) with unique ids, fitting the algorithms offered ({}).",
            signing.len(),
            list_or_none(&algs)
        ),
    )
}

fn scopes(document: &DiscoveryDocument, extra_scope: Option<&str>) -> (ProbeStatus, String) {
    use ProbeStatus::{Pass, Skipped, Warn};
    let Some(supported) = strings(document, "scopes_supported") else {
        return (
            Skipped,
            "The provider does not list scopes_supported.".to_owned(),
        );
    };
    let asked: Vec<&str> = std::iter::once("openid")
        .chain(extra_scope.unwrap_or("").split_whitespace())
        .collect();
    let missing: Vec<&str> = asked
        .iter()
        .copied()
        .filter(|scope| !supported.iter().any(|s| s == scope))
        .collect();
    if missing.is_empty() {
        (
            Pass,
            format!("Every scope asked for is offered: {}.", asked.join(" ")),
        )
    } else {
        (
            Warn,
            format!("Not in scopes_supported: {}.", missing.join(", ")),
        )
    }
}

fn claims(document: &DiscoveryDocument, mapped: &[String]) -> (ProbeStatus, String) {
    use ProbeStatus::{Pass, Skipped, Warn};
    let Some(supported) = strings(document, "claims_supported") else {
        return (
            Skipped,
            "The provider does not list claims_supported.".to_owned(),
        );
    };
    let missing: Vec<&str> = mapped
        .iter()
        .filter(|claim| !supported.contains(claim))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        (
            Pass,
            format!(
                "Every claim the mapping reads is offered ({}).",
                mapped.len()
            ),
        )
    } else {
        (
            Warn,
            format!("Not in claims_supported: {}.", missing.join(", ")),
        )
    }
}

async fn credentials(
    client: &DiscoveryClient,
    metadata: &ProviderLoginMetadata,
    target: &ProbeTarget,
) -> (ProbeStatus, String) {
    use ProbeStatus::{Fail, Pass, Warn};
    let mut config = RelyingPartyConfig::from_metadata(
        &target.provider,
        &target.client_id,
        &target.client_secret,
        metadata,
    );
    if let Some(token_url) = target.token_url.as_ref().filter(|url| !url.is_empty()) {
        config.token_url = token_url.clone();
    }
    if config.auth_url.is_empty() {
        // The code exchange does not use it; a relying party needs one.
        config.auth_url = config.token_url.clone();
    }
    config.verify_ssl = target.verify_ssl;
    config.policy = client.policy().clone();
    let party = match RelyingParty::with_jwks_cache(config, JwksCache::default()) {
        Ok(party) => party,
        Err(error) => return (Fail, format!("No code exchange is possible: {error}.")),
    };
    // A code no provider issued, and a fresh verifier: only the client's authentication can
    // be judged from the answer.
    let secrets = LoginSecrets::generate(target.enable_pkce);
    let code = format!("probe-{}", secrets.state());
    let exchange = party
        .exchange_code(&code, &target.redirect_uri, secrets.pkce_verifier())
        .await;
    let auth = party.config().client_auth.as_str();
    match exchange {
        Err(TokenError::Call(CallError::ErrorResponse { error, status, .. }))
            if error == "invalid_grant" =>
        {
            (
                Pass,
                format!(
                    "The token endpoint accepted the client ({auth}) and refused the invalid \
                     code (HTTP {status} invalid_grant)."
                ),
            )
        }
        Err(TokenError::Call(CallError::ErrorResponse { error, status, .. }))
            if error == "invalid_client" || status == 401 =>
        {
            (
                Fail,
                format!(
                    "The token endpoint refused the client id or secret ({auth}): HTTP {status} \
                     {}.",
                    printable(&error)
                ),
            )
        }
        Err(TokenError::Call(CallError::Status { status: 401, .. })) => (
            Fail,
            format!("The token endpoint refused the client id or secret ({auth}): HTTP 401."),
        ),
        Err(TokenError::Call(error @ (CallError::Refused(_) | CallError::Send { .. }))) => (
            Fail,
            format!(
                "The token endpoint could not be reached: {}.",
                chain(&error)
            ),
        ),
        Err(TokenError::Call(CallError::ErrorResponse { error, status, .. })) => (
            Warn,
            format!(
                "Expected invalid_grant for an invalid code; the token endpoint answered HTTP \
                 {status} {}.",
                printable(&error)
            ),
        ),
        Err(error) => (
            Warn,
            format!(
                "Expected invalid_grant for an invalid code; the token endpoint answered: {}.",
                chain(&error)
            ),
        ),
        Ok(_) => (
            Warn,
            "The token endpoint issued tokens for a code it never issued.".to_owned(),
        ),
    }
}

/// A provider's error code, shown without control characters and at most 100 characters long.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(100).collect()
}
