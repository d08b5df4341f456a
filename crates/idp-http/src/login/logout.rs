//! `POST /api-auth/logout/`: ends the API token used, and says where to end the provider's
//! session.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::Provider;
use idp_core::login::{homeport_login_url, logout_url};
use serde_json::json;

use super::failure::{Failure, Outcome, finish};
use super::init::load_provider;
use crate::auth::Caller;
use crate::db::blocking;
use crate::error::ApiError;
use crate::state::AppState;

/// Logs out: deletes the token used. When the token came from a login with a provider that has
/// a logout endpoint and `enable_post_logout_redirect`, answers that endpoint's URL with
/// `post_logout_redirect_uri`, `client_id` and `id_token_hint`; else 204.
#[utoipa::path(
    post,
    path = "/api-auth/logout/",
    operation_id = "api_auth_logout",
    tag = "api-auth",
    summary = "Log out",
    description = "Logout from the system. If single logout is supported, returns logout URL.",
    security(("tokenAuth" = [])),
    responses(
        (status = 200, description = "The token is deleted; the browser should visit the provider's logout URL", body = super::json::Logout),
        (status = 204, description = "The token is deleted"),
        (status = 401, description = "No credentials, or an invalid or expired token", body = crate::json::ErrorDetail),
        (status = 429, description = "Too many requests from this address", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn logout(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Failure> {
    let (Caller::User(_), Some(key)) = (caller, presented_key(&req)) else {
        return Err(ApiError::Unauthenticated(
            "Authentication credentials were not provided.".into(),
        )
        .into());
    };
    let login = {
        let key = key.clone();
        blocking(&state, move |store| store.token_login(&key)).await?
    };
    // Deleted through the store's one revocation path.
    blocking(&state, move |store| store.revoke_token(&key)).await?;
    let login = login.unwrap_or(idp_store::TokenLogin {
        provider: None,
        id_token: None,
    });
    let provider = match &login.provider {
        Some(name) => load_provider(&state, name, false).await?,
        None => None,
    };
    let url = provider.as_ref().and_then(|stored| {
        let after = post_logout_redirect_uri(&state, &stored.provider)?;
        logout_url(&stored.provider, &after, login.id_token.as_deref())
    });
    let label = provider
        .as_ref()
        .map(|stored| stored.provider.provider.clone());
    let response = match url {
        Some(url) => HttpResponse::Ok().json(json!({ "logout_url": url })),
        None => HttpResponse::NoContent().finish(),
    };
    finish(
        &req,
        "logout",
        label.as_deref(),
        Ok((response, Outcome::LoggedOut)),
    )
}

/// `<portal>/login/`: the portal is `IDP_HOMEPORT_URL`, else the provider's first allowed
/// redirect.
fn post_logout_redirect_uri(state: &AppState, provider: &Provider) -> Option<String> {
    let portal = state
        .settings
        .login
        .homeport_url
        .clone()
        .or_else(|| provider.allowed_redirects.first().cloned())?;
    Some(homeport_login_url(&portal))
}

/// The key of `Authorization: Token <key>` (the caller extractor has checked its form).
fn presented_key(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let mut parts = value.split_whitespace();
    let keyword = parts.next()?;
    keyword
        .eq_ignore_ascii_case("token")
        .then(|| parts.next().map(str::to_owned))
        .flatten()
}
