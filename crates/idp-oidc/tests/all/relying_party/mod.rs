//! The relying party against a hostile OpenID Provider on loopback: every way a provider can
//! answer wrong must end in the right refusal, and the one right answer in verified claims.

mod id_tokens;
mod key_sets;
mod token_endpoint;
mod userinfo;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use idp_oidc::rp::{
    Completion, JwksCache, LoginError, LoginOutcome, ManualClock, RelyingParty, RelyingPartyConfig,
};
use idp_oidc::testing::HostileProvider;

/// The nonce every test login sends.
pub const NONCE: &str = "n0nce-of-this-login-attempt-0123456789abcdef";
/// The code every test login exchanges.
pub const CODE: &str = "the-authorization-code";
/// The PKCE verifier every test login sends.
pub const VERIFIER: &str = "pkce-verifier-0123456789-0123456789-0123456789";
/// Where the provider sends the browser back.
pub const REDIRECT_URI: &str = "https://registry.example.com/api-auth/hostile/complete/";

/// A fixed moment the tests' clock starts at.
pub fn start_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).unwrap_or_default()
}

/// A provider and a relying party for it whose clock the test holds.
pub struct Setup {
    /// The provider.
    pub provider: HostileProvider,
    /// The clock the relying parties judge times by.
    pub clock: ManualClock,
    /// The key-set cache the relying parties share.
    pub jwks: JwksCache,
}

impl Setup {
    /// A fresh provider, a clock at [`start_time`] and an empty key-set cache.
    pub async fn new() -> Self {
        let clock = ManualClock::new(start_time());
        Self {
            provider: HostileProvider::start().await,
            jwks: JwksCache::new(Arc::new(clock.clone())),
            clock,
        }
    }

    /// A relying party for the provider's current discovery document.
    pub fn rp(&self) -> RelyingParty {
        self.rp_with(|_| {})
    }

    /// A relying party whose configuration `edit` changed first.
    pub fn rp_with(&self, edit: impl FnOnce(&mut RelyingPartyConfig)) -> RelyingParty {
        let mut config = self.provider.config();
        edit(&mut config);
        RelyingParty::with_jwks_cache(config, self.jwks.clone())
            .unwrap_or_else(|error| panic!("configuration: {error}"))
    }

    /// A completion with the test's code, nonce and verifier and the provider's `iss`.
    pub async fn complete(&self, rp: &RelyingParty) -> Result<LoginOutcome, LoginError> {
        let issuer = self.provider.issuer();
        rp.complete(&Completion {
            code: CODE,
            iss: Some(&issuer),
            redirect_uri: REDIRECT_URI,
            nonce: NONCE,
            pkce_verifier: Some(VERIFIER),
        })
        .await
    }

    /// Signs `claims` with the provider's key and makes the token endpoint hand it out.
    pub fn issue_signed(&self, claims: &serde_json::Map<String, serde_json::Value>) {
        self.provider.issue(Some(&self.provider.key().sign(claims)));
    }

    /// How many times the key set was fetched.
    pub async fn jwks_fetches(&self) -> usize {
        self.provider.requests_to("/jwks").await.len()
    }
}

/// The error and all its sources, joined, as a log line would show them.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
