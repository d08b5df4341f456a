//! `POST /api/identity-providers/discover_metadata/` and `/generate-mapping/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::DiscoveryRequest;
use idp_oidc::{DiscoveryDocument, FetchError};

use super::{discovery_error, observe_discovery};
use crate::AppState;
use crate::auth::authenticate;
use crate::body::json_body;
use crate::error::ApiError;

/// Reads a provider's discovery document (staff only) and reports its claims, scopes,
/// endpoints, the user fields with suggested and available claims, and suggested scopes.
#[utoipa::path(
    post,
    path = "/api/identity-providers/discover_metadata/",
    operation_id = "identity_providers_discover_metadata",
    tag = "identity-providers",
    summary = "Discover OIDC provider metadata",
    description = "Fetches OIDC discovery metadata from the provider and returns supported claims, scopes, and suggested mappings to Waldur User fields. Use this to configure attribute_mapping when setting up a new identity provider.",
    request_body = crate::json::DiscoverMetadataRequestRequest,
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "What the discovery document offers and the suggested claims per user field", body = crate::json::DiscoverMetadataResponse),
        (status = 400, description = "Validation failed, or the discovery document could not be fetched or used (`{\"discovery_url\": [...]}`)"),
        (status = 401, description = "No credentials, or an invalid or expired token", body = crate::json::ErrorDetail),
        (status = 403, description = "The caller is not staff", body = crate::json::ErrorDetail),
        (status = 413, description = "The body is too large", body = crate::json::ErrorDetail),
        (status = 415, description = "The body is not JSON", body = crate::json::ErrorDetail),
    ),
)]
pub async fn discover_metadata(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let document = fetch(&req, payload, &state, FetchError::action_message).await?;
    let report = document
        .metadata_report()
        .map_err(|error| discovery_error(error.action_message()))?;
    Ok(HttpResponse::Ok().json(report))
}

/// Suggests an `attribute_mapping` and `extra_scope` from a provider's discovery document
/// (staff only). The endpoints are not required here.
#[utoipa::path(
    post,
    path = "/api/identity-providers/generate-mapping/",
    operation_id = "identity_providers_generate_mapping",
    tag = "identity-providers",
    summary = "Generate default attribute mapping",
    description = "Generates a suggested attribute_mapping configuration based on the claims supported by an OIDC provider. This can be used as a starting point when creating a new identity provider.",
    request_body = crate::json::DiscoverMetadataRequestRequest,
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "The suggested mapping and scopes", body = inline(crate::json::GeneratedMapping)),
        (status = 400, description = "Validation failed, or the discovery document could not be fetched or used (`{\"discovery_url\": [...]}`)"),
        (status = 401, description = "No credentials, or an invalid or expired token", body = crate::json::ErrorDetail),
        (status = 403, description = "The caller is not staff", body = crate::json::ErrorDetail),
        (status = 413, description = "The body is too large", body = crate::json::ErrorDetail),
        (status = 415, description = "The body is not JSON", body = crate::json::ErrorDetail),
    ),
)]
pub async fn generate_mapping(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // The reference words every fetch failure of this action "Unable to fetch discovery
    // document: ...".
    let document = fetch(&req, payload, &state, FetchError::mapping_message).await?;
    let mapping = document
        .generate_mapping()
        .map_err(|error| discovery_error(error.mapping_message()))?;
    Ok(HttpResponse::Ok().json(mapping))
}

async fn fetch(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    message: fn(&FetchError) -> String,
) -> Result<std::sync::Arc<DiscoveryDocument>, ApiError> {
    let caller = authenticate(req, state).await?;
    caller.require_staff()?;
    let body = json_body(req, payload, &state.settings).await?;
    let request = DiscoveryRequest::parse(&body)?;
    let outcome = state
        .discovery
        .fetch_cached(&request.discovery_url, request.verify_ssl)
        .await;
    observe_discovery(req, &outcome);
    outcome.map_err(|error| {
        tracing::info!(%error, "discovery failed");
        discovery_error(message(&error))
    })
}
