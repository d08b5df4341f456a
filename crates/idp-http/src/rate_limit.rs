//! The per-address rate limit of the `/api-auth/` routes (`IDP_LOGIN_RATE_LIMIT` requests per
//! second, the reference's `oauth` throttle), on the `governor` crate's GCRA limiter. Time comes
//! from the logins' clock, so tests set it instead of waiting.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use governor::clock::{Clock as GovernorClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use idp_oidc::rp::Clock;
use serde_json::json;

use crate::state::AppState;

/// The logins' clock as `governor` reads time: nanoseconds since the Unix epoch.
#[derive(Clone, Debug)]
struct LoginClock(Arc<dyn Clock>);

impl GovernorClock for LoginClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().timestamp_nanos_opt().unwrap_or_default();
        Nanos::from(u64::try_from(nanos).unwrap_or_default())
    }
}

/// Requests per second per client address, shared by every worker.
pub struct LoginRateLimiter {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, LoginClock, NoOpMiddleware<Nanos>>,
    clock: LoginClock,
    checks: AtomicU64,
}

/// Every this many checks, addresses whose limit has fully recovered are forgotten, so the
/// table does not grow without bound.
const FORGET_EVERY: u64 = 4096;

impl std::fmt::Debug for LoginRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRateLimiter").finish_non_exhaustive()
    }
}

impl LoginRateLimiter {
    /// `per_second` requests per second per address (bursts of as many), on `clock`; `None` for
    /// 0 (no limit).
    pub fn new(per_second: u32, clock: Arc<dyn Clock>) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        let clock = LoginClock(clock);
        let limiter = RateLimiter::dashmap_with_clock(Quota::per_second(rate), clock.clone());
        Some(Self {
            limiter,
            clock,
            checks: AtomicU64::new(0),
        })
    }

    /// Whole seconds until `address` may send again, or `None` when it may now (which counts
    /// the request).
    fn wait(&self, address: IpAddr) -> Option<u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        let refused = self.limiter.check_key(&address).err()?;
        let wait = refused.earliest_possible().duration_since(self.clock.now());
        Some(Duration::from(wait).as_secs_f64().ceil().max(1.0) as u64)
    }
}

/// The client's address: the connection's peer, or with `IDP_TRUST_FORWARDED_HEADERS` the last
/// `X-Forwarded-For` entry (the address the trusted proxy saw).
fn client_address(req: &ServiceRequest) -> Option<IpAddr> {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.settings.trust_forwarded_headers);
    if trusted {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.peer_addr().map(|addr| addr.ip())
}

/// DRF's throttle answer: 429, `Retry-After`, and "Expected available in N second(s)."
fn throttled(seconds: u64) -> HttpResponse {
    let unit = if seconds == 1 { "second" } else { "seconds" };
    HttpResponse::TooManyRequests()
        .insert_header((header::RETRY_AFTER, seconds.to_string()))
        .json(json!({
            "detail": format!("Request was throttled. Expected available in {seconds} {unit}.")
        }))
}

/// The middleware: answers 429 to an address over its limit; passes everything through when
/// the app has no limiter (`IDP_LOGIN_RATE_LIMIT=0`).
pub(crate) async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limiter = req
        .app_data::<web::Data<Option<LoginRateLimiter>>>()
        .cloned();
    if let (Some(limiter), Some(address)) = (limiter, client_address(&req))
        && let Some(limiter) = limiter.as_ref().as_ref()
        && let Some(seconds) = limiter.wait(address)
    {
        let (req, _) = req.into_parts();
        return Ok(ServiceResponse::new(req, throttled(seconds)));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
