//! `GET /api/identity-providers/{provider}/`.

use actix_web::{HttpResponse, web};

use super::provider_response;
use crate::auth::Caller;
use crate::db::find_provider;
use crate::error::ApiError;
use crate::responses::BadToken;
use crate::state::AppState;

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
        BadToken,
        (status = 404, description = "No such provider, or an inactive one and the caller is not staff", body = crate::json::ErrorDetail),
    ),
)]
pub async fn retrieve(
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.is_staff();
    let stored = find_provider(&state, &path, staff).await?;
    Ok(provider_response(
        HttpResponse::Ok(),
        &stored,
        staff,
        &state,
    ))
}
