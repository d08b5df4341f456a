//! `GET /api/identity-providers/{provider}/`.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{find_provider, provider_response};
use crate::AppState;
use crate::auth::authenticate;
use crate::error::ApiError;

/// One provider: inactive ones are visible to staff only; others get 404 for them.
#[utoipa::path(
    get,
    path = "/api/identity-providers/{provider}/",
    operation_id = "identity_providers_retrieve",
    tag = "identity-providers",
    summary = "Retrieve an identity provider",
    description = "Inactive providers are visible to staff only; others get 404 for them.",
    params(("provider" = String, Path)),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 200, description = "The provider", body = crate::json::IdentityProvider, headers(
            ("ETag" = String, description = "The version of the provider, for `If-Match`"),
        )),
        (status = 401, description = "The `Authorization` header names an invalid or expired token", body = crate::json::ErrorDetail),
        (status = 404, description = "No such provider, or an inactive one and the caller is not staff", body = crate::json::ErrorDetail),
    ),
)]
pub async fn retrieve(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state).await?;
    let stored = find_provider(&state, &path, &caller).await?;
    Ok(provider_response(
        HttpResponse::Ok(),
        &stored,
        &caller,
        &state,
    ))
}
