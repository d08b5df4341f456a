//! `POST /api/identity-providers/{provider}/preview-mapping/` and
//! `POST /api/identity-providers/preview-mapping/`: what a login with these claims would do.
//!
//! Both run the login's own code ([`login_trace`] and [`find_user`]), so a preview never
//! disagrees with a login. Nothing is stored and nothing is logged but the provider and the
//! outcome: the answer holds claim values, for the staff caller only.

use actix_web::{HttpResponse, web};
use idp_core::Provider;
use idp_core::login::{MappingTrace, email_match_query, parse_draft_preview, parse_preview};
use serde::Serialize;
use serde_json::{Map, Value};

use super::users::{find_user, login_trace};
use crate::auth::Staff;
use crate::body::JsonBody;
use crate::db::load_for_update;
use crate::error::ApiError;
use crate::responses::{JsonBodyRefused, StaffOnly};
use crate::state::AppState;

/// The user a login would sign in.
#[derive(Debug, Serialize)]
struct MatchedUser {
    /// The user's name.
    username: String,
    /// Whether the user may log in.
    is_active: bool,
    /// `lookup` (by `user_field`) or `email` (by verified email, with email match-making on).
    matched_by: &'static str,
}

/// A preview: the mapping trace, then the user a login would sign in.
#[derive(Debug, Serialize)]
struct Preview {
    /// The provider whose mapping this is.
    provider: String,
    /// The mapping, as a login computes it.
    #[serde(flatten)]
    trace: MappingTrace,
    /// The existing user a login would sign in; `null` when it would create one or refuse.
    user: Option<MatchedUser>,
    /// The message a login with these claims would fail with, or `null`.
    login_error: Option<String>,
}

/// Previews a stored provider's mapping (staff only; inactive providers too).
#[utoipa::path(
    post,
    path = "/api/identity-providers/{provider}/preview-mapping/",
    operation_id = "identity_providers_preview_mapping",
    tag = "identity-providers",
    summary = "Preview a provider's claim mapping",
    description = "Staff only. Maps the claims given as a login with this provider maps the claims of its ID token and userinfo: for each mapped user field (in the catalogue's order) the value, the claim that gave it and every claim skipped with its reason; the lookup; `details`; the roles; the claims nothing reads; and the existing user a login would sign in. Nothing is stored.",
    params(("provider" = String, Path, description = "The provider's name")),
    request_body = super::json::PreviewMappingRequest,
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "What a login with these claims would do", body = super::json::MappingPreview),
        (status = 400, description = "The claims are not an object, nest too deep, or the body has other keys"),
        StaffOnly,
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
        JsonBodyRefused,
    ),
)]
pub(crate) async fn preview_mapping(
    _staff: Staff,
    path: web::Path<String>,
    body: JsonBody,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let stored = load_for_update(&state, &path).await?;
    let claims = parse_preview(&body.read().await?)?;
    respond(&state, &stored.provider, &claims).await
}

/// Previews a draft mapping, with the named provider's defaults merged as on create.
#[utoipa::path(
    post,
    path = "/api/identity-providers/preview-mapping/",
    operation_id = "identity_providers_preview_draft_mapping",
    tag = "identity-providers",
    summary = "Preview a draft claim mapping",
    description = "Staff only. As the preview of a stored provider, with the mapping given in the body (`user_field`, `user_claim`, `attribute_mapping`, `extra_fields`, read by the create rules) and the defaults of the provider named by `provider` filling in what the body leaves out, as a create would. Nothing is stored.",
    request_body = super::json::PreviewDraftMappingRequest,
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "What a login with these claims would do", body = super::json::MappingPreview),
        (status = 400, description = "The claims or the draft are invalid, or the body has other keys"),
        StaffOnly,
        JsonBodyRefused,
    ),
)]
pub(crate) async fn preview_draft_mapping(
    _staff: Staff,
    body: JsonBody,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let draft = parse_draft_preview(&body.read().await?)?;
    respond(&state, &draft.provider, &draft.claims).await
}

async fn respond(
    state: &AppState,
    provider: &Provider,
    claims: &Map<String, Value>,
) -> Result<HttpResponse, ApiError> {
    let preview = preview(state, provider, claims).await?;
    tracing::info!(provider = %provider.provider, "mapping previewed");
    Ok(HttpResponse::Ok().json(preview))
}

/// The preview of `claims` with `provider`'s mapping, as the preview operations answer it.
pub(super) async fn preview(
    state: &AppState,
    provider: &Provider,
    claims: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let settings = &state.settings.login;
    let trace = login_trace(settings, provider, claims);
    let (user, login_error) = match trace.lookup.value() {
        Err(error) => (None, Some(error.to_string())),
        Ok(value) => {
            let email = email_match_query(&trace, settings.match_by_email).map(str::to_owned);
            let found = find_user(state, &trace.lookup.field, value, email).await?;
            let user = found.user.map(|user| MatchedUser {
                username: user.profile.username,
                is_active: user.profile.is_active,
                matched_by: if found.by_email { "email" } else { "lookup" },
            });
            (user, found.refusal.map(|refusal| refusal.to_string()))
        }
    };
    serde_json::to_value(Preview {
        provider: provider.provider.clone(),
        trace,
        user,
        login_error,
    })
    .map_err(ApiError::internal)
}
