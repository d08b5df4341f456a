//! `DELETE /api/identity-providers/{provider}/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_store::StoreError;

use super::if_match;
use crate::AppState;
use crate::auth::authenticate;
use crate::error::{ApiError, NO_PROVIDER};

/// Deletes a provider (staff only): 204, or 404 when unknown, or 412 when `If-Match` names an
/// older version.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state).await?;
    caller.require_staff()?;
    let expected = if_match(&req)?;
    let store = state.store.clone();
    let name = path.into_inner();
    let outcome = web::block(move || store.delete_provider(&name, expected)).await;
    match outcome.map_err(|_| ApiError::Internal("blocking task failed".into()))? {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(StoreError::NotFound) => Err(ApiError::NotFound(NO_PROVIDER)),
        Err(StoreError::Conflict) => Err(ApiError::PreconditionFailed),
        Err(other) => Err(other.into()),
    }
}
