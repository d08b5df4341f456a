//! Logging people in with the stored providers (`/api-auth/`), and the signed-in user's profile
//! (`/api/users/me/`): one file per route.
//!
//! The routes compose `idp_core::login` (the pure rules, worded as the reference words them),
//! `idp_oidc::rp` (every call to the provider) and the store's login state; see
//! `docs/login.md` and `docs/decisions.md`, "Logging people in". Nothing of a login (states,
//! codes, tokens, ID tokens, claim values) is logged: log lines carry the provider and the
//! outcome only.

mod complete;
mod exchange;
mod failure;
mod init;
pub(crate) mod json;
mod logout;
mod me;
mod messages;
mod preview;
mod probe;
mod purge;
mod relying_party;
mod test_login;
mod users;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use idp_core::login::SyncFields;
use idp_oidc::rp::{Clock, JwksCache, SystemClock};

pub(crate) use complete::{__path_complete, complete};
pub(crate) use exchange::{__path_token_exchange, token_exchange};
pub(crate) use init::{__path_default_init, __path_init, default_init, init};
pub(crate) use logout::{__path_logout, logout};
pub(crate) use me::{__path_me, me};
pub(crate) use preview::{
    __path_preview_draft_mapping, __path_preview_mapping, preview_draft_mapping, preview_mapping,
};
pub(crate) use probe::{__path_probe_draft, __path_probe_provider, probe_draft, probe_provider};
pub use purge::purge_login_state_periodically;
pub(crate) use relying_party::stored_metadata;
pub(crate) use test_login::{
    __path_begin_test_login, __path_latest_test_login, begin_test_login, latest_test_login,
};

/// The cookie binding a login transaction to the browser that began it.
pub(crate) const BINDING_COOKIE: &str = "idp_login";
/// The path the binding cookie is sent to.
pub(crate) const COOKIE_PATH: &str = "/api-auth/";
/// How long a login may take from init to complete.
pub(crate) const TRANSACTION_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// How long an exchange code can be redeemed.
pub(crate) const EXCHANGE_CODE_TTL: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// How logins behave (`IDP_HOMEPORT_URL`, `IDP_DEFAULT_PROVIDER`, `IDP_LOGIN_TOKEN_TTL`,
/// `IDP_LOGIN_RATE_LIMIT`, `IDP_MATCH_BY_EMAIL`, `IDP_SYNC_FIELDS`, `IDP_ROLE_CLAIM`), and the
/// clock and key-set cache they run on.
#[derive(Clone, Debug)]
pub struct LoginSettings {
    /// The portal's URL: where logins return when a provider has no `allowed_redirects`, and
    /// where logouts and the default init's fallback send the browser.
    pub homeport_url: Option<String>,
    /// The provider `GET /api-auth/default/init/` logs in with.
    pub default_provider: Option<String>,
    /// How long the API token of a login works; `None` for no limit.
    pub token_ttl: Option<Duration>,
    /// `/api-auth/` requests per second per client address; 0 turns the limit off.
    pub rate_limit: u32,
    /// Whether a login that finds no user may take the one user with its verified email.
    pub match_by_email: bool,
    /// Which mapped fields a login writes.
    pub sync_fields: SyncFields,
    /// The claim holding roles (`staff`, `support`), a name or a JSON Pointer.
    pub role_claim: Option<String>,
    /// The time limit of every call to a provider during a login.
    pub provider_timeout: Duration,
    /// The key-set cache ID tokens are verified with; its clock is the logins' clock (expiry of
    /// transactions, codes, tokens and ID tokens, and the rate limit).
    pub jwks: JwksCache,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }
}

impl LoginSettings {
    /// The defaults, on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            homeport_url: None,
            default_provider: None,
            token_ttl: Some(Duration::from_secs(24 * 3600)),
            rate_limit: 10,
            match_by_email: false,
            sync_fields: SyncFields::default(),
            role_claim: None,
            provider_timeout: Duration::from_secs(10),
            jwks: JwksCache::new(clock),
        }
    }

    /// The logins' clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.jwks.clock()
    }

    /// Now, as the store keeps time (UTC, microseconds).
    pub(crate) fn now(&self) -> chrono::NaiveDateTime {
        let now = self.clock().now().naive_utc();
        let extra = i64::from(now.and_utc().timestamp_subsec_nanos() % 1000);
        now - chrono::TimeDelta::nanoseconds(extra)
    }
}

/// Registers `/api-auth/` (rate-limited per client address) and `/api/users/me/`.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api-auth")
            .wrap(actix_web::middleware::from_fn(crate::rate_limit::limit))
            .route("/default/init/", web::get().to(default_init))
            .route("/token-exchange/", web::post().to(token_exchange))
            .route("/logout/", web::post().to(logout))
            .route("/{provider}/init/", web::get().to(init))
            .route("/{provider}/complete/", web::get().to(complete)),
    )
    .route("/api/users/me/", web::get().to(me));
}
