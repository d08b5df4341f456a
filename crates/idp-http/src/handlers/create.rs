//! `POST /api/identity-providers/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::{DUPLICATE_PROVIDER, NewProvider, ValidationErrors};
use idp_store::StoreError;

use super::{blocking, fetch_endpoints, provider_response, store_call};
use crate::AppState;
use crate::auth::authenticate;
use crate::body::json_body;
use crate::error::ApiError;

/// Creates a provider (staff only): validates the body, fetches the discovery document for the
/// endpoints, merges the per-provider defaults, stores it and answers 201. Nothing is stored
/// when any step fails.
#[utoipa::path(
    post,
    path = "/api/identity-providers/",
    operation_id = "identity_providers_create",
    tag = "identity-providers",
    summary = "Create an identity provider",
    description = "Staff only. The endpoints are read from the discovery document, which is fetched before anything is stored.",
    request_body = crate::json::IdentityProviderRequest,
    security(("tokenAuth" = [])),
    responses(
        (status = 201, description = "The provider created", body = crate::json::IdentityProvider, headers(
            ("ETag" = String, description = "The version of the provider, for `If-Match`"),
        )),
        (status = 400, description = "Validation failed, the discovery document could not be used, or the body is not JSON"),
        (status = 401, description = "No credentials, or an invalid or expired token", body = crate::json::ErrorDetail),
        (status = 403, description = "The caller is not staff", body = crate::json::ErrorDetail),
        (status = 413, description = "The body is too large", body = crate::json::ErrorDetail),
        (status = 415, description = "The body is not JSON", body = crate::json::ErrorDetail),
    ),
)]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state).await?;
    caller.require_staff()?;
    let body = json_body(&req, payload, &state.settings).await?;
    let name_taken = match NewProvider::requested_name(&body) {
        Some(name) => blocking(&state, move |store| store.provider_exists(&name)).await?,
        None => false,
    };
    let new = NewProvider::parse_unique(&body, &state.settings.provider_names, name_taken)?;
    let endpoints = fetch_endpoints(&req, &state, new.discovery_url(), new.verify_ssl()).await?;
    let provider = new.into_provider(endpoints);
    let inserted = store_call(&state, move |store| store.insert_provider(&provider)).await?;
    match inserted {
        Ok(stored) => Ok(provider_response(
            HttpResponse::Created(),
            &stored,
            &caller,
            &state,
        )),
        // Another request created the same provider after our check.
        Err(StoreError::Duplicate) => {
            Err(ValidationErrors::single("provider", DUPLICATE_PROVIDER).into())
        }
        Err(other) => Err(other.into()),
    }
}
