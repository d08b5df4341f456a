//! `PUT` and `PATCH /api/identity-providers/{provider}/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::{ProviderUpdate, UpdateKind};
use idp_store::StoreError;

use super::{fetch_endpoints, find_provider, if_match, provider_response};
use crate::AppState;
use crate::auth::authenticate;
use crate::body::json_body;
use crate::error::{ApiError, NO_PROVIDER};

/// How often an update without `If-Match` is re-applied when another write got in between.
const MAX_RETRIES: usize = 8;

/// `PUT`: replaces the writable fields and fetches the discovery document again.
pub async fn put(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    update(req, path.into_inner(), payload, state, UpdateKind::Replace).await
}

/// `PATCH`: changes the fields given; the discovery document is fetched again only when
/// `discovery_url` is among them.
pub async fn patch(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    update(req, path.into_inner(), payload, state, UpdateKind::Partial).await
}

async fn update(
    req: HttpRequest,
    name: String,
    payload: web::Payload,
    state: web::Data<AppState>,
    kind: UpdateKind,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state).await?;
    caller.require_staff()?;
    let expected = if_match(&req)?;
    let mut stored = find_provider(&state, &name, &caller).await?;
    if expected.is_some_and(|version| version != stored.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let body = json_body(&req, payload, state.settings.max_body_bytes).await?;
    let changes = ProviderUpdate::parse(&body, &name, kind, &state.settings.provider_names)?;
    let endpoints = match changes.discovery_url() {
        Some(url) => {
            let verify_ssl = changes.verify_ssl().unwrap_or(stored.provider.verify_ssl);
            Some(fetch_endpoints(&state, url, verify_ssl).await?)
        }
        None => None,
    };
    for _ in 0..MAX_RETRIES {
        let mut provider = stored.provider.clone();
        changes.clone().apply(&mut provider, endpoints.clone());
        let store = state.store.clone();
        let version = stored.version;
        let outcome = web::block(move || store.update_provider(&provider, version))
            .await
            .map_err(|_| ApiError::Internal("blocking task failed".into()))?;
        match outcome {
            Ok(updated) => {
                return Ok(provider_response(
                    HttpResponse::Ok(),
                    &updated,
                    &caller,
                    &state,
                ));
            }
            Err(StoreError::NotFound) => return Err(ApiError::NotFound(NO_PROVIDER)),
            Err(StoreError::Conflict) if expected.is_some() => {
                return Err(ApiError::PreconditionFailed);
            }
            // Someone else wrote in between: apply this request on top of their write.
            Err(StoreError::Conflict) => stored = find_provider(&state, &name, &caller).await?,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Unavailable)
}
