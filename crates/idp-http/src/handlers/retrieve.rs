//! `GET /api/identity-providers/{provider}/`.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{find_provider, provider_response};
use crate::AppState;
use crate::auth::authenticate;
use crate::error::ApiError;

/// One provider: inactive ones are visible to staff only; others get 404 for them.
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
