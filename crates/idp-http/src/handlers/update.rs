//! `PUT` and `PATCH /api/identity-providers/{provider}/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::{ProviderUpdate, UpdateKind};
use idp_store::{StoreError, StoredProvider};

use super::{fetch_endpoints, if_match, provider_response, save_login_metadata};
use crate::auth::Staff;
use crate::body::JsonBody;
use crate::db::{load_for_update, store_call};
use crate::error::{ApiError, NO_PROVIDER};
use crate::responses::{JsonBodyRefused, StaffOnly};
use crate::snapshot::ReadModel;
use crate::state::AppState;

/// How often an update without `If-Match` is applied on a fresh read when another write got in
/// between; the last attempt writes whatever the row holds then.
const MAX_ATTEMPTS: usize = 5;

/// `PUT`: replaces the writable fields and fetches the discovery document again.
#[utoipa::path(
    put,
    path = "/api/identity-providers/{provider}/",
    operation_id = "identity_providers_update",
    tag = "identity-providers",
    summary = "Update an identity provider",
    description = "Staff only. Replaces the writable fields and fetches the discovery document again. With `If-Match`, the update applies only to the version named.",
    params(
        ("provider" = String, Path),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag the update applies to; 412 when the provider has changed since"),
    ),
    request_body = crate::json::IdentityProviderRequest,
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "The provider updated", body = crate::json::IdentityProvider, headers(
            ("ETag" = String, description = "The new version of the provider"),
        )),
        (status = 400, description = "Validation failed, the discovery document could not be used, or the body is not JSON"),
        StaffOnly,
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
        (status = 412, description = "`If-Match` does not name the current version", body = crate::json::ErrorDetail),
        JsonBodyRefused,
    ),
)]
pub async fn put(
    path: web::Path<String>,
    staff: Staff,
    body: JsonBody,
    state: web::Data<AppState>,
    reads: web::Data<ReadModel>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    update(
        req,
        &staff,
        path.into_inner(),
        body,
        state,
        reads,
        UpdateKind::Replace,
    )
    .await
}

/// `PATCH`: changes the fields given; the discovery document is fetched again only when
/// `discovery_url` is among them.
#[utoipa::path(
    patch,
    path = "/api/identity-providers/{provider}/",
    operation_id = "identity_providers_partial_update",
    tag = "identity-providers",
    summary = "Partially update an identity provider",
    description = "Staff only. Changes the fields given; the discovery document is fetched again only when `discovery_url` is among them. With `If-Match`, the update applies only to the version named.",
    params(
        ("provider" = String, Path),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag the update applies to; 412 when the provider has changed since"),
    ),
    request_body = crate::json::PatchedIdentityProviderRequest,
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "The provider updated", body = crate::json::IdentityProvider, headers(
            ("ETag" = String, description = "The new version of the provider"),
        )),
        (status = 400, description = "Validation failed, the discovery document could not be used, or the body is not JSON"),
        StaffOnly,
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
        (status = 412, description = "`If-Match` does not name the current version", body = crate::json::ErrorDetail),
        JsonBodyRefused,
    ),
)]
pub async fn patch(
    path: web::Path<String>,
    staff: Staff,
    body: JsonBody,
    state: web::Data<AppState>,
    reads: web::Data<ReadModel>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    update(
        req,
        &staff,
        path.into_inner(),
        body,
        state,
        reads,
        UpdateKind::Partial,
    )
    .await
}

/// Applies an update for a staff caller. The reference reads the body only once the provider is
/// found and `If-Match` agrees, so 404 and 412 come before any complaint about the body.
///
/// When the snapshot already holds the provider (at the version `If-Match` names), the body is
/// read first, and an update that needs no discovery document is read, changed and written back
/// in one transaction that checks existence and version itself. Otherwise, and whenever the body
/// is refused, the database is asked first, so the order of the answers stays the reference's.
async fn update(
    req: HttpRequest,
    staff: &Staff,
    name: String,
    body: JsonBody,
    state: web::Data<AppState>,
    reads: web::Data<ReadModel>,
    kind: UpdateKind,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let parse = |body: &serde_json::Value| {
        ProviderUpdate::parse(body, &name, kind, &state.settings.provider_names)
            .map_err(ApiError::from)
    };
    let known = reads
        .version_hint(&name)
        .is_some_and(|version| expected.is_none_or(|expected| expected == version));
    let (changes, mut stored) = if known {
        match body.read().await.and_then(|body| parse(&body)) {
            Ok(changes) if changes.discovery_url().is_none() => {
                return update_in_place(&req, staff, name, changes, expected, &state).await;
            }
            changes => {
                let stored = load_checked(&state, &name, expected).await?;
                (changes?, stored)
            }
        }
    } else {
        let stored = load_checked(&state, &name, expected).await?;
        (parse(&body.read().await?)?, stored)
    };
    let (endpoints, metadata) = match changes.discovery_url() {
        Some(url) => {
            let verify_ssl = changes.verify_ssl().unwrap_or(stored.provider.verify_ssl);
            let (endpoints, metadata) = fetch_endpoints(&req, &state, url, verify_ssl).await?;
            (Some(endpoints), Some(metadata))
        }
        None => (None, None),
    };
    for attempt in 1..=MAX_ATTEMPTS {
        let mut provider = stored.provider.clone();
        changes.clone().apply(&mut provider, endpoints.clone());
        // Compare-and-swap on the version read; the last attempt of a request without
        // `If-Match` writes unconditionally, as a plain PUT or PATCH always did.
        let version = (expected.is_some() || attempt < MAX_ATTEMPTS).then_some(stored.version);
        let context = crate::audit::context(&req, staff);
        let outcome = store_call(&state, move |store| {
            store.update_provider_by(&provider, version, &context)
        })
        .await?;
        match outcome {
            Ok(updated) => {
                if let Some(metadata) = metadata {
                    save_login_metadata(&state, &name, metadata).await?;
                }
                return Ok(provider_response(
                    HttpResponse::Ok(),
                    &updated,
                    true,
                    &state,
                ));
            }
            Err(StoreError::NotFound) => return Err(ApiError::NotFound(NO_PROVIDER)),
            Err(StoreError::Conflict) if expected.is_some() => {
                return Err(ApiError::PreconditionFailed);
            }
            // Someone else wrote in between: apply this request on top of their write.
            Err(StoreError::Conflict) => stored = load_for_update(&state, &name).await?,
            Err(other) => return Err(other.into()),
        }
    }
    // Only reachable if the row was deleted and created again under our last write.
    Err(ApiError::PreconditionFailed)
}

/// The stored provider `name`, 404 when there is none and 412 when `expected` names another
/// version.
async fn load_checked(
    state: &AppState,
    name: &str,
    expected: Option<i64>,
) -> Result<StoredProvider, ApiError> {
    let stored = load_for_update(state, name).await?;
    if expected.is_some_and(|version| version != stored.version) {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(stored)
}

/// Applies `changes` (which need no discovery document) in one transaction of the store: the
/// row is read under the write lock, changed and written back, so nothing is retried.
async fn update_in_place(
    req: &HttpRequest,
    staff: &Staff,
    name: String,
    changes: ProviderUpdate,
    expected: Option<i64>,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let context = crate::audit::context(req, staff);
    let outcome = store_call(state, move |store| {
        store.modify_provider_by(&name, expected, &context, |provider| {
            changes.apply(provider, None);
        })
    })
    .await?;
    match outcome {
        Ok(updated) => Ok(provider_response(HttpResponse::Ok(), &updated, true, state)),
        Err(StoreError::NotFound) => Err(ApiError::NotFound(NO_PROVIDER)),
        Err(StoreError::Conflict) => Err(ApiError::PreconditionFailed),
        Err(other) => Err(other.into()),
    }
}
