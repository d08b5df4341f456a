//! `POST /api/identity-providers/discover_metadata/` and `/generate-mapping/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::DiscoveryRequest;
use idp_oidc::DiscoveryDocument;

use super::discovery_error;
use crate::AppState;
use crate::auth::authenticate;
use crate::body::json_body;
use crate::error::ApiError;

/// Reads a provider's discovery document (staff only) and reports its claims, scopes,
/// endpoints, the user fields with suggested and available claims, and suggested scopes.
pub async fn discover_metadata(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let document = fetch(&req, payload, &state).await?;
    let report = document
        .metadata_report()
        .map_err(|error| discovery_error(error.action_message()))?;
    Ok(HttpResponse::Ok().json(report))
}

/// Suggests an `attribute_mapping` and `extra_scope` from a provider's discovery document
/// (staff only). The endpoints are not required here.
pub async fn generate_mapping(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let document = fetch(&req, payload, &state).await?;
    let mapping = document
        .generate_mapping()
        .map_err(|error| discovery_error(error.action_message()))?;
    Ok(HttpResponse::Ok().json(mapping))
}

async fn fetch(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<std::sync::Arc<DiscoveryDocument>, ApiError> {
    let caller = authenticate(req, state).await?;
    caller.require_staff()?;
    let body = json_body(req, payload, state.settings.max_body_bytes).await?;
    let request = DiscoveryRequest::parse(&body)?;
    state
        .discovery
        .fetch_cached(&request.discovery_url, request.verify_ssl)
        .await
        .map_err(|error| {
            tracing::info!(%error, "discovery failed");
            discovery_error(error.action_message())
        })
}
