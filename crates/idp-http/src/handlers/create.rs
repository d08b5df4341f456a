//! `POST /api/identity-providers/`.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::{FieldError, NewProvider, ValidationErrors};
use idp_store::StoreError;
use serde_json::Value;

use super::{blocking, fetch_endpoints, provider_response};
use crate::AppState;
use crate::auth::authenticate;
use crate::body::json_body;
use crate::error::ApiError;

const DUPLICATE: &str = "identity provider with this provider already exists.";

/// Creates a provider (staff only): validates the body, fetches the discovery document for the
/// endpoints, merges the per-provider defaults, stores it and answers 201. Nothing is stored
/// when any step fails.
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state).await?;
    caller.require_staff()?;
    let body = json_body(&req, payload, state.settings.max_body_bytes).await?;
    let new = match NewProvider::parse(&body, &state.settings.provider_names) {
        Ok(new) => new,
        Err(mut errors) => {
            // The uniqueness rule is a field rule: report it together with the others.
            if let Some(name) = requested_name(&body) {
                if provider_exists(&state, &name).await? {
                    errors.set("provider", FieldError::Messages(vec![DUPLICATE.into()]));
                }
            }
            return Err(errors.into());
        }
    };
    if provider_exists(&state, new.provider()).await? {
        return Err(ValidationErrors::single("provider", DUPLICATE).into());
    }
    let endpoints = fetch_endpoints(&state, new.discovery_url(), new.verify_ssl()).await?;
    let provider = new.into_provider(endpoints);
    let store = state.store.clone();
    let inserted = web::block(move || store.insert_provider(&provider))
        .await
        .map_err(|_| ApiError::Internal("blocking task failed".into()))?;
    match inserted {
        Ok(stored) => Ok(provider_response(
            HttpResponse::Created(),
            &stored,
            &caller,
            &state,
        )),
        // Another request created the same provider after our check.
        Err(StoreError::Duplicate) => Err(ValidationErrors::single("provider", DUPLICATE).into()),
        Err(other) => Err(other.into()),
    }
}

/// The `provider` a body names, as the field rules would read it, if it is a string at all.
fn requested_name(body: &Value) -> Option<String> {
    let name = match body.get("provider")? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!name.is_empty() && name.chars().count() <= 32).then_some(name)
}

async fn provider_exists(state: &AppState, name: &str) -> Result<bool, ApiError> {
    let store = state.store.clone();
    let name = name.to_owned();
    blocking(move || store.provider_exists(&name)).await
}
