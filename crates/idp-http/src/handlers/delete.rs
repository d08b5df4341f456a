//! `DELETE /api/identity-providers/{provider}/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_store::StoreError;

use super::if_match;
use crate::auth::Staff;
use crate::db::store_call;
use crate::error::{ApiError, NO_PROVIDER};
use crate::responses::StaffOnly;
use crate::state::AppState;

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
        StaffOnly,
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
        (status = 412, description = "`If-Match` does not name the current version", body = crate::json::ErrorDetail),
    ),
)]
pub async fn delete(
    path: web::Path<String>,
    staff: Staff,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let name = path.into_inner();
    let context = crate::audit::context(&req, &staff);
    let outcome = store_call(&state, move |store| {
        store.delete_provider_by(&name, expected, &context)
    })
    .await;
    match outcome? {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(StoreError::NotFound) => Err(ApiError::NotFound(NO_PROVIDER)),
        Err(StoreError::Conflict) => Err(ApiError::PreconditionFailed),
        Err(other) => Err(other.into()),
    }
}
