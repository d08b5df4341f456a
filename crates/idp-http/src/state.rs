//! What every handler shares: the store, the discovery client and the API's settings.

use std::time::Duration;

use actix_web::{HttpRequest, web};
use idp_core::ProviderNamePolicy;
use idp_oidc::DiscoveryClient;
use idp_store::Store;

use crate::error::ApiError;

/// How the API behaves, beyond where it stores and fetches.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Which provider names may be created.
    pub provider_names: ProviderNamePolicy,
    /// Whether staff see `client_secret` in responses.
    pub expose_client_secret: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a request may take to send its body before it is answered 408.
    /// [`serve`](crate::serve) sets it to
    /// [`ServerConfig::client_request_timeout`](crate::ServerConfig::client_request_timeout), so
    /// one limit covers head and body.
    pub body_timeout: Duration,
    /// How long a request waits for the database (a connection and its query) before it is
    /// answered 503, even when the database hangs rather than refuses.
    pub db_timeout: Duration,
    /// How often each instance checks the database for writes it was not told of (the fallback
    /// behind PostgreSQL notifications, and the only way on SQLite to see other processes'
    /// writes): the longest an instance can serve a provider as it was before another
    /// instance's write.
    pub snapshot_check_interval: Duration,
    /// The server's external base URL (`IDP_PUBLIC_URL`), from which absolute URLs are built;
    /// `None` builds them from the request's `Host` (see `public_url.rs`).
    pub public_url: Option<url::Url>,
    /// Whether `X-Forwarded-Host` and `X-Forwarded-Proto` count
    /// (`IDP_TRUST_FORWARDED_HEADERS`): only behind a proxy that sets them.
    pub trust_forwarded_headers: bool,
    /// How people log in (`/api-auth/`).
    pub login: crate::login::LoginSettings,
    /// The background refresher and the audit history's retention.
    pub refresh: RefreshSettings,
}

/// The background refresher and the audit history's retention.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefreshSettings {
    /// How often [`serve`](crate::serve) refreshes every active provider (`IDP_REFRESH_INTERVAL`,
    /// with jitter); `None` runs no refresher.
    pub interval: Option<Duration>,
    /// Audit events older than this are pruned at each refresh round
    /// (`IDP_AUDIT_RETENTION_DAYS`); `None` keeps them forever.
    pub audit_retention: Option<Duration>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            provider_names: ProviderNamePolicy::AnySlug,
            expose_client_secret: true,
            max_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(10),
            db_timeout: Duration::from_secs(5),
            snapshot_check_interval: Duration::from_secs(5),
            public_url: None,
            trust_forwarded_headers: false,
            login: crate::login::LoginSettings::default(),
            refresh: RefreshSettings::default(),
        }
    }
}

/// What every handler shares: the store, the discovery client and the settings.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Where providers, users and tokens live.
    pub store: Store,
    /// Fetches discovery documents through the SSRF guard.
    pub discovery: DiscoveryClient,
    /// API behaviour switches.
    pub settings: ApiSettings,
}

/// The app's state, for extractors (handlers take `web::Data<AppState>` instead). An app built
/// without it is a bug, answered 500.
pub(crate) fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(NoState))
}

#[derive(Debug, thiserror::Error)]
#[error("the app has no AppState")]
struct NoState;
