//! The HTTP surface of the identity-provider registry, built on actix-web.
//!
//! It serves the Identity Providers API wire-compatibly with the reference system: routes,
//! `Token` authentication, the permission table, header-based pagination and the
//! Django-REST-Framework-shaped error bodies. It is the only crate that speaks HTTP status
//! codes; the domain rules live in `idp-core`, storage in `idp-store` and discovery in
//! `idp-oidc`.

mod auth;
mod body;
mod error;
mod handlers;
mod health;
mod json;
mod metrics;
pub mod openapi;
mod pagination;
mod request_log;
mod routes;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use idp_core::ProviderNamePolicy;
use idp_oidc::DiscoveryClient;
use idp_store::Store;

pub use error::ApiError;
pub use metrics::Metrics;
pub use routes::configure;

/// How the API behaves, beyond where it stores and fetches.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Which provider names may be created.
    pub provider_names: ProviderNamePolicy,
    /// Whether staff see `client_secret` in responses.
    pub expose_client_secret: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a request may take to send its body before it is answered 408. [`serve`] sets
    /// it to [`ServerConfig::client_request_timeout`], so one limit covers head and body.
    pub body_timeout: Duration,
    /// How long a request waits for the database (a connection and its query) before it is
    /// answered 503, even when the database hangs rather than refuses.
    pub db_timeout: Duration,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            provider_names: ProviderNamePolicy::AnySlug,
            expose_client_secret: true,
            max_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(10),
            db_timeout: Duration::from_secs(5),
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

/// Server-level limits.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// How long a client may take to send its request head and body.
    pub client_request_timeout: Duration,
    /// How long in-flight requests may take to finish at shutdown.
    pub shutdown_timeout: Duration,
    /// Threads each worker may run blocking database work on. Every such task holds a pooled
    /// connection, so more threads than connections only wait, and each costs memory.
    pub blocking_threads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            workers: 0,
            client_request_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            blocking_threads: 8,
        }
    }
}

/// Builds the server on an already bound listener (port 0 in tests). The returned server runs
/// when awaited and stops gracefully on SIGTERM and SIGINT.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    config: &ServerConfig,
) -> std::io::Result<Server> {
    let mut state = state;
    state.settings.body_timeout = config.client_request_timeout;
    let data = web::Data::new(state);
    let metrics = web::Data::new(Metrics::new());
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(metrics.clone())
            .wrap(actix_web::middleware::from_fn(request_log::log_request))
            .configure(health::configure)
            .configure(openapi::configure)
            .configure(configure)
    })
    .client_request_timeout(config.client_request_timeout)
    .client_disconnect_timeout(Duration::from_secs(5))
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .worker_max_blocking_threads(config.blocking_threads.max(1));
    if config.workers > 0 {
        server = server.workers(config.workers);
    }
    Ok(server.listen(listener)?.run())
}
