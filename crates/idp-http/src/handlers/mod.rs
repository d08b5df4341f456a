//! Request handlers, one file per verb.

pub mod create;
pub mod delete;
pub mod discover;
pub mod fallback;
pub mod history;
pub mod list;
pub mod refresh;
pub mod retrieve;
pub mod update;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::ValidationErrors;
use idp_oidc::FetchError;
use idp_store::{StoredLoginMetadata, StoredProvider};

use crate::discovery_messages::create_message;
use crate::error::{ApiError, Chain};
use crate::metrics::{Metrics, discovery_outcome};
use crate::state::AppState;

/// The strong ETag of a row version.
pub(crate) fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header names: `None` when absent or `*`; 412 when it names none
/// of ours.
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text);
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map(Some)
        .ok_or(ApiError::PreconditionFailed)
}

/// A provider as staff (`staff`) or anyone else may see it, with its ETag.
pub(crate) fn provider_response(
    mut builder: actix_web::HttpResponseBuilder,
    stored: &StoredProvider,
    staff: bool,
    state: &AppState,
) -> HttpResponse {
    let body = stored
        .provider
        .view(staff, state.settings.expose_client_secret);
    builder
        .insert_header((header::ETAG, etag(stored.version)))
        .json(body)
}

/// A discovery failure as the `{"discovery_url": [...]}` validation error.
pub(crate) fn discovery_error(message: String) -> ApiError {
    ApiError::Validation(ValidationErrors::single("discovery_url", message))
}

/// Fetches the endpoints of a provider's discovery document for create and update, and what a
/// login needs from the same document (stored beside the provider, see [`save_login_metadata`]).
pub(crate) async fn fetch_endpoints(
    req: &HttpRequest,
    state: &AppState,
    url: &str,
    verify_ssl: bool,
) -> Result<(idp_core::ProviderEndpoints, StoredLoginMetadata), ApiError> {
    let outcome: Result<_, FetchError> = async {
        let document = state.discovery.fetch(url, verify_ssl).await?;
        let metadata = crate::login::stored_metadata(&document, state.settings.login.now());
        Ok((document.provider_endpoints()?, metadata))
    }
    .await;
    observe_discovery(req, &outcome);
    outcome.map_err(|error| discovery_failed(&error, create_message))
}

/// Stores the login metadata of a provider just written.
pub(crate) async fn save_login_metadata(
    state: &AppState,
    provider: &str,
    metadata: StoredLoginMetadata,
) -> Result<(), ApiError> {
    let provider = provider.to_owned();
    crate::db::blocking(state, move |store| {
        store.save_login_metadata(&provider, &metadata)
    })
    .await
}

/// Logs a discovery failure with its causes and words it for the client with `message`.
pub(crate) fn discovery_failed(error: &FetchError, message: fn(&FetchError) -> String) -> ApiError {
    tracing::info!(error = %Chain(error), "discovery failed");
    discovery_error(message(error))
}

/// Counts a discovery fetch in the metrics, when the app has them.
pub(crate) fn observe_discovery<T>(req: &HttpRequest, outcome: &Result<T, FetchError>) {
    if let Some(metrics) = req.app_data::<web::Data<Metrics>>() {
        metrics.observe_discovery(discovery_outcome(outcome));
    }
}

/// `Allow`-style list for an OPTIONS answer.
pub(crate) fn options_response(allow: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ALLOW, HeaderValue::from_static(allow)))
        .json(serde_json::json!({
            "name": "Identity Provider",
            "renders": ["application/json"],
            "parses": ["application/json"],
        }))
}
