//! `POST /api/identity-providers/discover_metadata/` and `/generate-mapping/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::DiscoveryRequest;
use idp_oidc::{DiscoveryDocument, FetchError};

use super::{discovery_failed, observe_discovery};
use crate::auth::Staff;
use crate::body::JsonBody;
use crate::discovery_messages::{action_message, mapping_message};
use crate::error::ApiError;
use crate::responses::{JsonBodyRefused, StaffOnly};
use crate::state::AppState;

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
        StaffOnly,
        JsonBodyRefused,
    ),
)]
pub async fn discover_metadata(
    _staff: Staff,
    body: JsonBody,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let document = fetch(&req, body, &state, action_message).await?;
    let report = document
        .metadata_report()
        .map_err(|error| discovery_failed(&error, action_message))?;
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
        StaffOnly,
        JsonBodyRefused,
    ),
)]
pub async fn generate_mapping(
    _staff: Staff,
    body: JsonBody,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // The reference words every fetch failure of this action "Unable to fetch discovery
    // document: ...".
    let document = fetch(&req, body, &state, mapping_message).await?;
    let mapping = document
        .generate_mapping()
        .map_err(|error| discovery_failed(&error, mapping_message))?;
    Ok(HttpResponse::Ok().json(mapping))
}

/// Reads the request and fetches the document it names (cached), wording a failure with
/// `message`.
async fn fetch(
    req: &HttpRequest,
    body: JsonBody,
    state: &AppState,
    message: fn(&FetchError) -> String,
) -> Result<std::sync::Arc<DiscoveryDocument>, ApiError> {
    let request = DiscoveryRequest::parse(&body.read().await?)?;
    let outcome = state
        .discovery
        .fetch_cached(&request.discovery_url, request.verify_ssl)
        .await;
    observe_discovery(req, &outcome);
    outcome.map_err(|error| discovery_failed(&error, message))
}
