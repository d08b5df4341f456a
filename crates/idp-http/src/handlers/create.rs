//! `POST /api/identity-providers/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::{DUPLICATE_PROVIDER, NewProvider, ValidationErrors};
use idp_store::StoreError;

use super::{fetch_endpoints, provider_response, save_login_metadata};
use crate::auth::Staff;
use crate::body::JsonBody;
use crate::db::{blocking, store_call};
use crate::error::ApiError;
use crate::responses::{JsonBodyRefused, StaffOnly};
use crate::state::AppState;

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
        StaffOnly,
        JsonBodyRefused,
    ),
)]
pub async fn create(
    staff: Staff,
    body: JsonBody,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let body = body.read().await?;
    let name_taken = match NewProvider::requested_name(&body) {
        Some(name) => blocking(&state, move |store| store.provider_exists(&name)).await?,
        None => false,
    };
    let new = NewProvider::parse_unique(&body, &state.settings.provider_names, name_taken)?;
    let (endpoints, metadata) =
        fetch_endpoints(&req, &state, new.discovery_url(), new.verify_ssl()).await?;
    let provider = new.into_provider(endpoints);
    let context = crate::audit::context(&req, &staff);
    let inserted = store_call(&state, move |store| {
        store.insert_provider_by(&provider, &context)
    })
    .await?;
    match inserted {
        Ok(stored) => {
            save_login_metadata(&state, &stored.provider.provider, metadata).await?;
            Ok(provider_response(
                HttpResponse::Created(),
                &stored,
                true,
                &state,
            ))
        }
        // Another request created the same provider after our check.
        Err(StoreError::Duplicate) => {
            Err(ValidationErrors::single("provider", DUPLICATE_PROVIDER).into())
        }
        Err(other) => Err(other.into()),
    }
}
