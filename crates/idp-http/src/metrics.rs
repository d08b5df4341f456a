//! Prometheus metrics: requests by route, method and status, latency, discovery fetches by
//! outcome, login steps by provider and outcome, and database pool use.

use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::state::AppState;

/// The server's metrics, in a registry of their own.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    discovery: IntCounterVec,
    pool: IntGaugeVec,
    logins: IntCounterVec,
    refreshes: IntCounterVec,
    check_age: GaugeVec,
    key_rotations: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "idp_http_requests_total",
                "HTTP requests answered, by route, method and status.",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "idp_http_request_duration_seconds",
                "Time to answer an HTTP request.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["route", "method"],
        )
        .expect("valid metric");
        let discovery = IntCounterVec::new(
            Opts::new(
                "idp_discovery_fetches_total",
                "Discovery document fetches, by outcome.",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new(
                "idp_db_pool_connections",
                "Database pool connections, by state (in_use, idle, max).",
            ),
            &["state"],
        )
        .expect("valid metric");
        let logins = IntCounterVec::new(
            Opts::new(
                "idp_login_outcomes_total",
                "Steps of the login flow, by provider (`unknown` for names that are not stored \
                 providers) and outcome.",
            ),
            &["provider", "outcome"],
        )
        .expect("valid metric");
        let refreshes = IntCounterVec::new(
            Opts::new(
                "idp_provider_refresh_total",
                "Refreshes of a provider's discovery document and key set by this instance, by \
                 provider and outcome (success, failure).",
            ),
            &["provider", "outcome"],
        )
        .expect("valid metric");
        let check_age = GaugeVec::new(
            Opts::new(
                "idp_provider_last_good_check_age_seconds",
                "Seconds since a provider's discovery document and key set were last read \
                 successfully (by any instance).",
            ),
            &["provider"],
        )
        .expect("valid metric");
        let key_rotations = IntGaugeVec::new(
            Opts::new(
                "idp_provider_key_rotations",
                "How many times a provider's key ids changed, as the refreshes saw them.",
            ),
            &["provider"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(discovery.clone()),
            Box::new(pool.clone()),
            Box::new(logins.clone()),
            Box::new(refreshes.clone()),
            Box::new(check_age.clone()),
            Box::new(key_rotations.clone()),
        ] {
            registry
                .register(collector)
                .expect("metrics are registered once");
        }
        Self {
            registry,
            requests,
            latency,
            discovery,
            pool,
            logins,
            refreshes,
            check_age,
            key_rotations,
        }
    }

    /// Counts one refresh of `provider` (a stored provider's name).
    pub(crate) fn observe_refresh(&self, provider: &str, outcome: &crate::refresh::RefreshOutcome) {
        let outcome = match outcome {
            crate::refresh::RefreshOutcome::Success { .. } => "success",
            crate::refresh::RefreshOutcome::Failure { .. } => "failure",
            _ => return,
        };
        self.refreshes.with_label_values(&[provider, outcome]).inc();
    }

    /// Sets the per-provider gauges from the recorded checks: only providers that exist have
    /// a check, so the label values stay bounded.
    fn set_checks(&self, checks: &[idp_store::ProviderCheck], now: chrono::NaiveDateTime) {
        self.check_age.reset();
        self.key_rotations.reset();
        for check in checks {
            if let Some(at) = check.last_success_at {
                let age = (now - at).num_milliseconds() as f64 / 1000.0;
                self.check_age
                    .with_label_values(&[check.provider.as_str()])
                    .set(age.max(0.0));
            }
            self.key_rotations
                .with_label_values(&[check.provider.as_str()])
                .set(check.key_rotations);
        }
    }

    /// Counts one step of a login. `provider` must be a stored provider's name or `unknown`,
    /// and `outcome` one of a fixed set, so the label values stay bounded.
    pub fn observe_login(&self, provider: &str, outcome: &str) {
        self.logins.with_label_values(&[provider, outcome]).inc();
    }

    /// Counts one answered request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// Counts one discovery fetch: `ok`, `refused` (SSRF guard), `unreachable` or `invalid`.
    pub fn observe_discovery(&self, outcome: &str) {
        self.discovery.with_label_values(&[outcome]).inc();
    }

    fn render(&self, state: &AppState) -> String {
        let (in_use, idle, max) = state.store.pool_state();
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(in_use));
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool.with_label_values(&["max"]).set(i64::from(max));
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// The outcome label of a discovery fetch.
pub fn discovery_outcome<T>(result: &Result<T, idp_oidc::FetchError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(error) if error.is_guard() => "refused",
        Err(error) if error.is_transport() => "unreachable",
        Err(_) => "invalid",
    }
}

/// `GET /metrics`.
pub async fn metrics(metrics: web::Data<Metrics>, state: web::Data<AppState>) -> HttpResponse {
    // The checks come from the database; without it, the other metrics are still served.
    match crate::db::blocking(&state, |store| store.provider_checks()).await {
        Ok(checks) => metrics.set_checks(&checks, state.settings.login.now()),
        Err(error) => tracing::warn!(?error, "provider checks not read for the metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(&state))
}
