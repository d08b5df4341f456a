//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db::store_call;
use crate::error::Chain;
use crate::state::AppState;

/// `GET /health/live`: the process is up and serving.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /health/ready`: the database answers; 503 with the reason when it does not.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match store_call(&state, |store| store.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Ok(Err(error)) => {
            tracing::warn!(error = %Chain(&error), "not ready");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "reason": format!("database: {error}")}))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(
            json!({"status": "unavailable", "reason": "the database did not answer in time"}),
        ),
    }
}

/// Registers `/health/live`, `/health/ready` and `/metrics`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready))
        .route("/metrics", web::get().to(crate::metrics::metrics));
}
