//! The relying party of the login flow: everything a program needs to log a person in with an
//! OpenID Provider, with no store and no HTTP server of its own.
//!
//! One login attempt goes like this (the HTTP layer's routes do exactly this; so does the
//! `login` example):
//!
//! 1. Read the provider's discovery document ([`DiscoveryClient`](crate::DiscoveryClient)) into
//!    [`ProviderLoginMetadata`], build a [`RelyingPartyConfig`] (the stored endpoints and client
//!    credentials, the discovered issuer, key set and algorithms) and a [`RelyingParty`].
//! 2. Make [`LoginSecrets`] (state, nonce, PKCE verifier), keep them, and send the browser to
//!    [`RelyingParty::authorization_url`] with the parameters (built by `idp-core`).
//! 3. On the callback, after checking `state`, call [`RelyingParty::complete`]: the callback's
//!    `iss` is checked (RFC 9207), the code exchanged (client authentication per
//!    `docs/decisions.md`, "Logging people in"), the ID token verified before anything else,
//!    userinfo fetched and bound to the ID token's subject. The result carries the tokens and the
//!    claims.
//!
//! Every call to the provider (token, userinfo, key set) goes through the SSRF guard with the
//! policy's `allow_networks`, to the checked address only, without proxy, without following
//! redirects, under the policy's time limit and body cap. No secret, code, token or claim value
//! appears in an error or a log line.
//!
//! ```no_run
//! use idp_oidc::DiscoveryClient;
//! use idp_oidc::rp::{Completion, LoginSecrets, ProviderLoginMetadata, RelyingParty, RelyingPartyConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let discovery = DiscoveryClient::new(Default::default());
//! let document = discovery
//!     .fetch_cached("https://idp.example.com/.well-known/openid-configuration", true)
//!     .await?;
//! let metadata = ProviderLoginMetadata::from_document(&document);
//! let rp = RelyingParty::new(RelyingPartyConfig::from_metadata("keycloak", "client", "secret", &metadata))?;
//!
//! let secrets = LoginSecrets::generate(true);
//! let challenge = secrets.pkce_challenge().unwrap_or_default();
//! let redirect_uri = "https://portal.example.com/api-auth/keycloak/complete/";
//! let url = rp.authorization_url([
//!     ("response_type", "code"),
//!     ("client_id", "client"),
//!     ("redirect_uri", redirect_uri),
//!     ("scope", "openid profile email"),
//!     ("state", secrets.state()),
//!     ("nonce", secrets.nonce()),
//!     ("code_challenge", &challenge),
//!     ("code_challenge_method", "S256"),
//! ]);
//! println!("log in at {url}");
//!
//! // ... the browser comes back with ?code=...&state=...&iss=...
//! let outcome = rp
//!     .complete(&Completion {
//!         code: "the code",
//!         iss: Some("https://idp.example.com"),
//!         redirect_uri,
//!         nonce: secrets.nonce(),
//!         pkce_verifier: secrets.pkce_verifier(),
//!     })
//!     .await?;
//! println!("signed in: {:?}", outcome.claims.get("sub"));
//! # Ok(())
//! # }
//! ```

mod call;
mod clock;
mod config;
mod error;
mod id_token;
mod jwks;
mod metadata;
mod party;
mod probe;
mod secrets;
mod token;
mod userinfo;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ClientAuthMethod, RelyingPartyConfig};
pub use error::{
    CallError, CallbackError, ConfigError, IdTokenError, LoginError, SendFailure, TokenError,
    UserinfoError,
};
pub use id_token::{LEEWAY, VerifiedIdToken};
pub use jwks::{JwksCache, JwksSnapshot, MAX_AGE, REFETCH_INTERVAL};
pub use metadata::ProviderLoginMetadata;
pub use party::{Completion, LoginOutcome, RelyingParty};
pub use probe::{PROBE_CHECKS, ProbeCheck, ProbeStatus, ProbeTarget, probe};
pub use secrets::{LoginSecrets, pkce_challenge};
pub use token::TokenResponse;
