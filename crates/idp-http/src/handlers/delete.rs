//! `DELETE /api/identity-providers/{provider}/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_store::StoreError;

use super::{if_match, store_call};
use crate::AppState;
use crate::auth::authenticate;
use crate::error::{ApiError, NO_PROVIDER};

/// Deletes a provider (staff only): 204, or 404 when unknown, or 412 when `If-Match` names an
/// older version.
#[utoipa::path(
    delete,
    path = "/api/identity-providers/{provider}/",
    operation_id = "identity_providers_destroy",
    tag = "identity-providers",
    summary = "Delete an identity provider",
    description = "Staff only. With `If-Match`, deletes only the version named.",
    params(
        ("provider" = String, Path),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag the deletion applies to; 412 when the provider has changed since"),
    ),
    security(("tokenAuth" = [])),
    responses(
        (status = 204, description = "No response body"),
        (status = 401, description = "No credentials, or an invalid or expired token", body = crate::json::ErrorDetail),
        (status = 403, description = "The caller is not staff", body = crate::json::ErrorDetail),
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
        (status = 412, description = "`If-Match` does not name the current version", body = crate::json::ErrorDetail),
    ),
)]
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state).await?;
    caller.require_staff()?;
    let expected = if_match(&req)?;
    let name = path.into_inner();
    let outcome = store_call(&state, move |store| store.delete_provider(&name, expected)).await;
    match outcome? {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(StoreError::NotFound) => Err(ApiError::NotFound(NO_PROVIDER)),
        Err(StoreError::Conflict) => Err(ApiError::PreconditionFailed),
        Err(other) => Err(other.into()),
    }
}
