//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db::store_call;
use crate::error::Chain;
use crate::snapshot::ReadModel;
use crate::state::AppState;

/// `GET /health/live`: the process is up and serving.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /health/ready`: the providers are loaded into memory (waiting for the first load for up
/// to the database timeout), the database answers, and every stored client secret is sealed
/// under a key this instance holds; 503 with the reason when not.
pub async fn ready(state: web::Data<AppState>, reads: web::Data<ReadModel>) -> HttpResponse {
    if !reads.wait_loaded(state.settings.db_timeout).await {
        return HttpResponse::ServiceUnavailable()
            .json(json!({"status": "unavailable", "reason": "the providers are not loaded yet"}));
    }
    let checked = store_call(&state, |store| {
        store.ping()?;
        store.missing_secret_keys()
    })
    .await;
    match checked {
        Ok(Ok(missing)) if missing.is_empty() => {
            HttpResponse::Ok().json(json!({"status": "ready"}))
        }
        Ok(Ok(missing)) => {
            let reason = format!(
                "stored client secrets are sealed under keys this instance does not hold: {}",
                missing.join(", ")
            );
            tracing::warn!(%reason, "not ready");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "reason": reason}))
        }
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
