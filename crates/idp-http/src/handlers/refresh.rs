//! `POST /api/identity-providers/{provider}/refresh/` and
//! `GET /api/identity-providers/{provider}/status/` (staff only).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::auth::Staff;
use crate::db::blocking;
use crate::error::{ApiError, NO_PROVIDER};
use crate::metrics::Metrics;
use crate::refresh::{RefreshOutcome, check_json, refresh_provider};
use crate::responses::StaffOnly;
use crate::state::AppState;

/// Reads the provider's discovery document and key set again now.
#[utoipa::path(
    post,
    path = "/api/identity-providers/{provider}/refresh/",
    operation_id = "identity_providers_refresh",
    tag = "identity-providers",
    summary = "Refresh a provider from its discovery document",
    description = "Staff only. Reads the discovery document and the key set (`jwks_uri`) again now, through the same SSRF guard as create. Endpoints that changed are written (audited as `refresh` by the caller) and listed in `changes`; nothing is written when nothing changed. A failure (unreachable, not JSON, endpoints missing, a refused address) is recorded in the provider's status and answered 400, as `discover_metadata` answers a document it cannot use; the stored configuration is left as it was. No body is read.",
    params(("provider" = String, Path)),
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "The refresh worked: what changed, and the check", body = crate::json::RefreshReport),
        StaffOnly,
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
        (status = 409, description = "The provider's discovery URL changed during the refresh; nothing was written", body = crate::json::ErrorDetail),
        (status = 400, description = "The document or key set could not be used; recorded, nothing else changed", body = crate::json::RefreshFailure),
    ),
)]
pub async fn refresh(
    path: web::Path<String>,
    staff: Staff,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let context = crate::audit::context(&req, &staff);
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let outcome = refresh_provider(
        &state,
        metrics.as_ref().map(|m| m.get_ref()),
        &name,
        context,
    )
    .await?;
    Ok(match outcome {
        RefreshOutcome::Success {
            changes,
            keys_rotated,
            check,
        } => HttpResponse::Ok().json(json!({
            "changes": changes,
            "keys_rotated": keys_rotated,
            "status": check_json(&name, Some(&check)),
        })),
        RefreshOutcome::Failure { error, check } => HttpResponse::BadRequest().json(json!({
            "detail": error,
            "status": check_json(&name, Some(&check)),
        })),
        RefreshOutcome::Missing => return Err(ApiError::NotFound(NO_PROVIDER)),
        RefreshOutcome::Changed => HttpResponse::Conflict().json(json!({
            "detail": "The provider's discovery URL changed during the refresh; nothing was written.",
        })),
    })
}

/// The provider's last check.
#[utoipa::path(
    get,
    path = "/api/identity-providers/{provider}/status/",
    operation_id = "identity_providers_status",
    tag = "identity-providers",
    summary = "A provider's last refresh check",
    description = "Staff only. When the discovery document and key set were last read (by a refresh through the API or the background refresher), how that went, the last error, what the last good check found changed (`drift`), the key ids and when they last changed. Never checked: the times are null.",
    params(("provider" = String, Path)),
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "The last check", body = crate::json::ProviderStatus),
        StaffOnly,
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
    ),
)]
pub async fn status(
    path: web::Path<String>,
    _staff: Staff,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let owned = name.clone();
    let (exists, check) = blocking(&state, move |store| {
        Ok((
            store.provider_exists(&owned)?,
            store.provider_check(&owned)?,
        ))
    })
    .await?;
    if !exists {
        return Err(ApiError::NotFound(NO_PROVIDER));
    }
    Ok(HttpResponse::Ok().json(check_json(&name, check.as_ref())))
}
