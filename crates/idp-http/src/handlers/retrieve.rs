//! `GET /api/identity-providers/{provider}/`.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::Caller;
use crate::error::{ApiError, NO_PROVIDER};
use crate::responses::BadToken;
use crate::snapshot::ReadModel;
use crate::state::AppState;

/// One provider: inactive ones are visible to staff only; others get 404 for them.
#[utoipa::path(
    get,
    path = "/api/identity-providers/{provider}/",
    operation_id = "identity_providers_retrieve",
    tag = "identity-providers",
    summary = "Retrieve an identity provider",
    description = "Inactive providers are visible to staff only; others get 404 for them. Served from the instance's snapshot in memory; `If-None-Match` with the current ETag answers 304, and `Accept-Encoding: gzip` compresses bodies over 1 KiB.",
    params(
        ("provider" = String, Path),
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "ETags the client holds; 304 when one is current"),
    ),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 200, description = "The provider", body = crate::json::IdentityProvider, headers(
            ("ETag" = String, description = "The version of the provider, for `If-Match`"),
        )),
        (status = 304, description = "`If-None-Match` names the current version"),
        BadToken,
        (status = 404, description = "No such provider, or an inactive one and the caller is not staff", body = crate::json::ErrorDetail),
    ),
)]
pub async fn retrieve(
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
    reads: web::Data<ReadModel>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    reads.current(state.settings.db_timeout).await?;
    let prepared = reads
        .retrieve(&path, caller.is_staff())?
        .ok_or(ApiError::NotFound(NO_PROVIDER))?;
    Ok(prepared.respond(&req, |_| {}))
}
