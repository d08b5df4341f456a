//! The real OpenID Provider (npm `oidc-provider`, a certified implementation) in
//! `fixtures/oidc-provider`, run with Node.js, and a browser login driven over HTTP.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};

/// How long one start of the provider may take to print its ready line (a limit, not a
/// measurement: a provider that starts sooner is used at once). Node.js 20 now and then stalls
/// for good while it starts (its main thread waits on a lock, seen about once in forty
/// starts on a busy machine), so a start that is not ready by then is killed and tried again.
const START_LIMIT: Duration = Duration::from_secs(20);

/// How many times a start is tried before the provider counts as unable to run.
const START_ATTEMPTS: usize = 5;

/// What to do when the provider cannot run.
pub const SETUP_HINT: &str = "the real OpenID Provider needs Node.js and its npm packages: run \
    `cargo xtask test` (which installs them) or `npm ci --prefix fixtures/oidc-provider`";

/// A client registered at the real provider.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// `redirect_uris`.
    pub redirect_uris: Vec<String>,
    /// `token_endpoint_auth_method`: `client_secret_basic` or `client_secret_post`.
    pub token_endpoint_auth_method: String,
    /// Whether the provider refuses this client's authorization requests without PKCE.
    pub pkce_required: bool,
    /// `id_token_signed_response_alg` (`RS256`, `ES256` or `EdDSA`; the provider's default
    /// when `None`).
    pub id_token_signed_response_alg: Option<String>,
}

impl RegisteredClient {
    fn metadata(&self) -> Value {
        let mut metadata = json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": self.redirect_uris,
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "pkce_required": self.pkce_required,
        });
        if let (Some(alg), Some(object)) =
            (&self.id_token_signed_response_alg, metadata.as_object_mut())
        {
            object.insert("id_token_signed_response_alg".into(), json!(alg));
        }
        metadata
    }
}

/// A running `oidc-provider` on `127.0.0.1`, ended when dropped.
pub struct RealProvider {
    child: Child,
    issuer: String,
}

impl std::fmt::Debug for RealProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealProvider")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// The folder of the provider's script: `IDP_OIDC_PROVIDER_DIR`, else `fixtures/oidc-provider`
/// of this workspace.
pub fn fixture_dir() -> PathBuf {
    std::env::var_os("IDP_OIDC_PROVIDER_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/oidc-provider"),
        PathBuf::from,
    )
}

impl RealProvider {
    /// Starts `node server.mjs` with these clients and waits for its ready line.
    ///
    /// Fails, with a message saying how to install it, when Node.js or the npm packages are
    /// missing.
    pub fn start(clients: &[RegisteredClient]) -> Result<Self, String> {
        let dir = fixture_dir();
        if !dir
            .join("node_modules/oidc-provider/package.json")
            .is_file()
        {
            return Err(format!(
                "{} has no node_modules/oidc-provider: {SETUP_HINT}",
                dir.display()
            ));
        }
        let clients = Value::Array(clients.iter().map(RegisteredClient::metadata).collect());
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Self::start_once(&dir, &clients)? {
                Ok(provider) => return Ok(provider),
                Err(failure) => failures.push(failure),
            }
        }
        Err(format!(
            "the OpenID Provider did not start in {START_ATTEMPTS} attempts:\n{}\n{SETUP_HINT}",
            failures.join("\n")
        ))
    }

    /// One start: the provider, or why it was not ready in time (it is killed then). The outer
    /// error is for what no retry mends (no `node`).
    fn start_once(dir: &std::path::Path, clients: &Value) -> Result<Result<Self, String>, String> {
        let mut child = Command::new("node")
            .arg("server.mjs")
            .arg("--clients")
            .arg(clients.to_string())
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot run node ({error}): {SETUP_HINT}"))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.stderr.take() {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut text = stderr.lock().unwrap_or_else(PoisonError::into_inner);
                    text.push_str(&line);
                    text.push('\n');
                }
            });
        }
        let (ready, issuer) = mpsc::channel();
        if let Some(pipe) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(issuer) = line.strip_prefix("ready ") {
                        let _ = ready.send(issuer.trim().to_owned());
                    }
                }
            });
        }
        let mut provider = Self {
            child,
            issuer: String::new(),
        };
        Ok(match issuer.recv_timeout(START_LIMIT) {
            Ok(issuer) => {
                provider.issuer = issuer;
                Ok(provider)
            }
            Err(_) => {
                let status = provider.child.try_wait().ok().flatten();
                let stderr = stderr
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                // Dropping the provider kills the process.
                Err(format!(
                    "not ready after {} s (exit: {status:?}); its stderr:\n{stderr}",
                    START_LIMIT.as_secs()
                ))
            }
        })
    }

    /// The issuer, `http://127.0.0.1:<port>`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The discovery document's URL.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }
}

impl Drop for RealProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
