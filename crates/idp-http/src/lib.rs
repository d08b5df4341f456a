//! The HTTP surface of the identity-provider registry, built on actix-web.
//!
//! It serves the Identity Providers API wire-compatibly with the reference system: routes,
//! `Token` authentication, the permission table, header-based pagination and the
//! Django-REST-Framework-shaped error bodies. It is the only crate that speaks HTTP status
//! codes; the domain rules live in `idp-core`, storage in `idp-store` and discovery in
//! `idp-oidc`.

mod audit;
mod auth;
mod body;
mod db;
mod discovery_messages;
mod error;
mod handlers;
mod health;
mod json;
mod login;
mod metrics;
pub mod openapi;
mod pagination;
mod public_url;
mod rate_limit;
mod refresh;
mod representation;
mod request_log;
mod responses;
mod routes;
mod snapshot;
mod state;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

pub use error::ApiError;
pub use login::{LoginSettings, purge_login_state_periodically};
pub use metrics::Metrics;
pub use public_url::{invalid_host_detail, is_host_and_port};
pub use rate_limit::LoginRateLimiter;
pub use refresh::{RefreshOutcome, Refresher, RoundReport, refresh_provider};
pub use routes::configure;
pub use state::{ApiSettings, AppState, RefreshSettings};

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
/// when awaited and stops gracefully on SIGTERM and SIGINT. The login routes' rate limiter is
/// made here, shared by every worker.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    config: &ServerConfig,
) -> std::io::Result<Server> {
    let mut state = state;
    state.settings.body_timeout = config.client_request_timeout;
    // Reads are served from memory (docs/decisions.md, "Reads from memory"); the first load
    // starts now, and readiness waits for it.
    let reads = web::Data::from(snapshot::ReadModel::start(
        state.store.clone(),
        state.settings.expose_client_secret,
        state.settings.snapshot_check_interval,
    ));
    let limiter = web::Data::new(LoginRateLimiter::new(
        state.settings.login.rate_limit,
        state.settings.login.clock().clone(),
    ));
    let metrics = Metrics::new();
    if let Some(interval) = state.settings.refresh.interval {
        refresh::Refresher::new(state.clone(), Some(metrics.clone())).spawn(interval);
    }
    let data = web::Data::new(state);
    let metrics = web::Data::new(metrics);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(reads.clone())
            .app_data(metrics.clone())
            .app_data(limiter.clone())
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
