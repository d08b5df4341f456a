//! Request handlers, one file per verb.

pub mod create;
pub mod delete;
pub mod discover;
pub mod fallback;
pub mod list;
pub mod retrieve;
pub mod update;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::ValidationErrors;
use idp_oidc::FetchError;
use idp_store::{Store, StoreError, StoredProvider};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// Runs store work on the blocking thread pool; a database that does not answer within the
/// configured time gets the request a 503 (the blocked thread finishes on its own later).
pub(crate) async fn store_call<T, F>(
    state: &AppState,
    work: F,
) -> Result<Result<T, StoreError>, ApiError>
where
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let store = state.store.clone();
    let call = web::block(move || work(&store));
    match actix_web::rt::time::timeout(state.settings.db_timeout, call).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(_)) => Err(ApiError::Internal("blocking task failed".into())),
        Err(_) => {
            tracing::warn!("the database did not answer in time");
            Err(ApiError::Unavailable)
        }
    }
}

/// Runs a read: in place on an embedded SQLite database (a lookup takes microseconds, less than
/// handing it to another thread), else like [`blocking`].
pub(crate) async fn read<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    if state.store.reads_in_place() {
        return work(&state.store.reader()).map_err(ApiError::from);
    }
    blocking(state, work).await
}

/// [`store_call`] with every store error mapped to its API error.
pub(crate) async fn blocking<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    store_call(state, work).await?.map_err(ApiError::from)
}

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

/// A provider as the caller may see it, with its ETag.
pub(crate) fn provider_response(
    mut builder: actix_web::HttpResponseBuilder,
    stored: &StoredProvider,
    caller: &Caller,
    state: &AppState,
) -> HttpResponse {
    let body = stored
        .provider
        .view(caller.is_staff(), state.settings.expose_client_secret);
    builder
        .insert_header((header::ETAG, etag(stored.version)))
        .json(body)
}

/// The stored provider `name`, as the caller may see it (inactive ones for staff only).
pub(crate) async fn find_provider(
    state: &AppState,
    name: &str,
    caller: &Caller,
) -> Result<StoredProvider, ApiError> {
    let name = name.to_owned();
    let active_only = !caller.is_staff();
    // The secret is opened only for callers who are shown it.
    let open_secret = caller.is_staff() && state.settings.expose_client_secret;
    blocking(state, move |store| {
        store.find_provider(&name, active_only, open_secret)
    })
    .await?
    .ok_or(ApiError::NotFound(crate::error::NO_PROVIDER))
}

/// The stored provider `name` with its secret, inactive ones included, for a write that stores
/// the whole row back.
pub(crate) async fn load_for_update(
    state: &AppState,
    name: &str,
) -> Result<StoredProvider, ApiError> {
    let name = name.to_owned();
    read(state, move |store| store.get_provider(&name, false))
        .await?
        .ok_or(ApiError::NotFound(crate::error::NO_PROVIDER))
}

/// A discovery failure as the `{"discovery_url": [...]}` validation error.
pub(crate) fn discovery_error(message: String) -> ApiError {
    ApiError::Validation(ValidationErrors::single("discovery_url", message))
}

/// Fetches the endpoints of a provider's discovery document for create and update.
pub(crate) async fn fetch_endpoints(
    req: &HttpRequest,
    state: &AppState,
    url: &str,
    verify_ssl: bool,
) -> Result<idp_core::ProviderEndpoints, ApiError> {
    let outcome: Result<_, FetchError> = async {
        let document = state.discovery.fetch(url, verify_ssl).await?;
        document.provider_endpoints()
    }
    .await;
    observe_discovery(req, &outcome);
    outcome.map_err(|error| {
        tracing::info!(%error, "discovery failed");
        discovery_error(error.create_message())
    })
}

/// Counts a discovery fetch in the metrics, when the app has them.
pub(crate) fn observe_discovery<T>(req: &HttpRequest, outcome: &Result<T, FetchError>) {
    if let Some(metrics) = req.app_data::<web::Data<crate::metrics::Metrics>>() {
        metrics.observe_discovery(crate::metrics::discovery_outcome(outcome));
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
