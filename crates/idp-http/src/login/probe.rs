//! `POST /api/identity-providers/{provider}/probe/` and `POST /api/identity-providers/probe/`:
//! every check a provider should pass before users log in with it (`idp_oidc::rp::probe`).
//!
//! The answer is always 200 with one entry per check; a provider that cannot be reached or
//! answers nonsense gives `fail` entries. Nothing is stored. The client secret is sent to the
//! provider's token endpoint only, and never appears in the answer or the logs.

use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::{NewProvider, Provider};
use idp_oidc::rp::{ProbeStatus, ProbeTarget, probe};

use crate::auth::Staff;
use crate::body::JsonBody;
use crate::db::load_for_update;
use crate::error::ApiError;
use crate::public_url::base_url;
use crate::responses::{JsonBodyRefused, StaffOnly};
use crate::state::AppState;

/// Probes a stored provider (staff only; inactive providers too).
#[utoipa::path(
    post,
    path = "/api/identity-providers/{provider}/probe/",
    operation_id = "identity_providers_probe",
    tag = "identity-providers",
    summary = "Probe a provider",
    description = "Staff only. Checks, in this order: `discovery` (the document can be fetched), `issuer` (it matches the discovery URL), `https` (every URL, when `verify_ssl`), `endpoints` (authorization, token and key set present), `jwks` (reachable, no `none`, unique key ids, key types fitting the algorithms offered), `pkce` (S256 offered, when `enable_pkce`), `scopes` (`extra_scope` within `scopes_supported`), `claims` (the mapped claims within `claims_supported`) and `client_credentials` (a code exchange with an invalid code: `invalid_grant` passes, `invalid_client` or 401 fails). Every call goes through the SSRF guard. Nothing is stored; the secret is never shown.",
    params(("provider" = String, Path, description = "The provider's name")),
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "One entry per check, in order", body = Vec<super::json::ProbeCheck>),
        StaffOnly,
        (status = 404, description = "No such provider", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn probe_provider(
    _staff: Staff,
    path: web::Path<String>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let stored = load_for_update(&state, &path).await?;
    run(&req, &state, &stored.provider).await
}

/// Probes a provider's configuration before it is created.
#[utoipa::path(
    post,
    path = "/api/identity-providers/probe/",
    operation_id = "identity_providers_probe_draft",
    tag = "identity-providers",
    summary = "Probe a provider configuration before creating it",
    description = "Staff only. The body is a create body, read by the create rules (the name need not be free); the checks are those of a stored provider's probe. Nothing is stored.",
    request_body = crate::json::IdentityProviderRequest,
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "One entry per check, in order", body = Vec<super::json::ProbeCheck>),
        (status = 400, description = "The body is not a valid provider"),
        StaffOnly,
        JsonBodyRefused,
    ),
)]
pub(crate) async fn probe_draft(
    _staff: Staff,
    body: JsonBody,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let body = body.read().await?;
    let draft = NewProvider::parse(&body, &state.settings.provider_names)?;
    let provider = draft.into_provider(Default::default());
    run(&req, &state, &provider).await
}

async fn run(
    req: &HttpRequest,
    state: &AppState,
    provider: &Provider,
) -> Result<HttpResponse, ApiError> {
    let base = base_url(req, &state.settings)?;
    let redirect_uri = format!("{base}/api-auth/{}/complete/", provider.provider);
    let checks = probe(
        &state.discovery,
        &ProbeTarget::for_provider(provider, &redirect_uri),
    )
    .await;
    let count = |status| checks.iter().filter(|c| c.status == status).count();
    tracing::info!(
        provider = %provider.provider,
        pass = count(ProbeStatus::Pass),
        warn = count(ProbeStatus::Warn),
        fail = count(ProbeStatus::Fail),
        "provider probed"
    );
    Ok(HttpResponse::Ok().json(checks))
}
