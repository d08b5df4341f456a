//! `GET /api-auth/{provider}/init/` and `GET /api-auth/default/init/`: a login begins.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp_core::Provider;
use idp_core::login::{AuthorizationParams, authorization_url, default_init_fallback_url};
use idp_oidc::rp::LoginSecrets;
use idp_store::{NewLoginTransaction, StoredProvider};
use url::form_urlencoded;

use super::failure::{Failure, Outcome, finish, redirect};
use super::{BINDING_COOKIE, COOKIE_PATH, TRANSACTION_TTL};
use crate::db::{blocking, read};
use crate::public_url::{base_url, is_https};
use crate::state::{ApiSettings, AppState};

/// The provider `name` (its client secret opened only with `open_secret`), inactive ones
/// included; `None` when there is none.
pub(super) async fn load_provider(
    state: &AppState,
    name: &str,
    open_secret: bool,
) -> Result<Option<StoredProvider>, Failure> {
    let name = name.to_owned();
    Ok(read(state, move |store| {
        store.find_provider(&name, false, open_secret)
    })
    .await?)
}

/// The last value of a query parameter, when it is not empty.
pub(super) fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .last()
}

/// Begins a login: 302 to the provider's authorization endpoint, with `state`, `nonce` and (with
/// `enable_pkce`) an S256 challenge; the login transaction stored, and bound to this browser by
/// a cookie (`docs/decisions.md`, "Logging people in").
#[utoipa::path(
    get,
    path = "/api-auth/{provider}/init/",
    operation_id = "api_auth_init_retrieve",
    tag = "api-auth",
    summary = "Begin a login with an identity provider",
    description = "Redirects the browser to the provider's authorization endpoint. The login is bound to the browser by an HttpOnly cookie and must complete within 10 minutes. `return_url` (or, without it, the Referer) chooses the portal origin the login returns to; `ui_locales` is passed to the provider.",
    params(
        ("provider" = String, Path, description = "The provider's name"),
        ("return_url" = Option<String>, Query, description = "The portal URL to return to; its origin must be among the provider's allowed_redirects"),
        ("ui_locales" = Option<String>, Query, description = "Passed to the provider as is"),
    ),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 302, description = "To the provider's authorization endpoint", headers(
            ("Location" = String, description = "The authorization URL"),
            ("Set-Cookie" = String, description = "The login's browser binding"),
        )),
        (status = 400, description = "The `Host` header is not `host[:port]`", body = crate::json::ErrorDetail),
        (status = 403, description = "The provider is not defined or disabled", body = crate::json::ErrorDetail),
        (status = 429, description = "Too many requests from this address", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn init(
    path: web::Path<String>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Failure> {
    let name = path.into_inner();
    let found = load_provider(&state, &name, false).await;
    let label = stored_name(&found);
    let result = async {
        let stored = found?.ok_or_else(Failure::not_defined)?;
        if !stored.provider.is_active {
            return Err(Failure::disabled());
        }
        begin(&req, &state, &stored.provider).await
    }
    .await;
    finish(&req, "init", label.as_deref(), result)
}

/// Begins a login with `IDP_DEFAULT_PROVIDER`; without a usable one (unset, missing or
/// inactive), 302 to `<IDP_HOMEPORT_URL>/login/?disableAutoLogin`.
#[utoipa::path(
    get,
    path = "/api-auth/default/init/",
    operation_id = "api_auth_default_init_retrieve",
    tag = "api-auth",
    summary = "Begin a login with the default identity provider",
    description = "As `/api-auth/{provider}/init/` for the provider `IDP_DEFAULT_PROVIDER` names; when it names no active provider, redirects to the portal's login page with `disableAutoLogin`.",
    params(
        ("return_url" = Option<String>, Query, description = "The portal URL to return to"),
        ("ui_locales" = Option<String>, Query, description = "Passed to the provider as is"),
    ),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 302, description = "To the provider's authorization endpoint, or to the portal's login page", headers(
            ("Location" = String, description = "Where the browser goes"),
        )),
        (status = 400, description = "The `Host` header is not `host[:port]`", body = crate::json::ErrorDetail),
        (status = 403, description = "No default provider and no portal URL are configured", body = crate::json::ErrorDetail),
        (status = 429, description = "Too many requests from this address", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn default_init(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Failure> {
    let settings = &state.settings.login;
    let found = match &settings.default_provider {
        Some(name) => load_provider(&state, name, false).await,
        None => Ok(None),
    };
    let label = stored_name(&found);
    let result = async {
        match found? {
            Some(stored) if stored.provider.is_active => {
                begin(&req, &state, &stored.provider).await
            }
            _ => match &settings.homeport_url {
                Some(home) => Ok((
                    redirect(&default_init_fallback_url(home)),
                    Outcome::Fallback,
                )),
                None => Err(Failure::not_defined()),
            },
        }
    }
    .await;
    finish(&req, "default_init", label.as_deref(), result)
}

/// The stored provider's name, for the metrics: only names of stored providers become labels.
pub(super) fn stored_name(found: &Result<Option<StoredProvider>, Failure>) -> Option<String> {
    match found {
        Ok(Some(stored)) => Some(stored.provider.provider.clone()),
        _ => None,
    }
}

/// 32 random bytes as base64url: the browser binding.
fn random_binding() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

async fn begin(
    req: &HttpRequest,
    state: &AppState,
    provider: &Provider,
) -> Result<(HttpResponse, Outcome), Failure> {
    let base = base_url(req, &state.settings)?;
    let redirect_uri = format!("{base}/api-auth/{}/complete/", provider.provider);
    let return_url = query_param(req, "return_url").filter(|url| !url.is_empty());
    // The Referer is kept only when no return URL is given, as the reference does.
    let referrer = match &return_url {
        Some(_) => None,
        None => req
            .headers()
            .get(header::REFERER)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty())
            .map(str::to_owned),
    };
    let ui_locales = query_param(req, "ui_locales");
    let secrets = LoginSecrets::generate(provider.enable_pkce);
    let location = authorization_url(
        provider,
        &AuthorizationParams {
            redirect_uri: &redirect_uri,
            state: secrets.state(),
            nonce: secrets.nonce(),
            pkce_verifier: secrets.pkce_verifier().unwrap_or_default(),
            ui_locales: ui_locales.as_deref(),
        },
    );
    let binding = random_binding();
    let now = state.settings.login.now();
    let transaction = NewLoginTransaction {
        kind: "login".to_owned(),
        provider: provider.provider.clone(),
        state: secrets.state().to_owned(),
        binding: binding.clone(),
        nonce: secrets.nonce().to_owned(),
        pkce_verifier: secrets.pkce_verifier().map(str::to_owned),
        return_url,
        referrer,
        redirect_uri,
        created_at: now,
        expires_at: now + TRANSACTION_TTL,
    };
    blocking(state, move |store| {
        store.insert_login_transaction(&transaction)
    })
    .await?;
    let mut response = redirect(&location);
    let cookie = binding_cookie(&base, &state.settings, &binding);
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok((response, Outcome::Started))
}

/// `Set-Cookie` of the browser binding: HttpOnly, SameSite=Lax (the callback is a top-level
/// GET from the provider), Secure over https, sent only to `/api-auth/` (under the public URL's
/// path, when it has one), gone when the transaction expires.
fn binding_cookie(base: &str, settings: &ApiSettings, binding: &str) -> String {
    let secure = if is_https(base) { "; Secure" } else { "" };
    format!(
        "{BINDING_COOKIE}={binding}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        cookie_path(settings),
        TRANSACTION_TTL.num_seconds()
    )
}

/// `/api-auth/`, under the path of `IDP_PUBLIC_URL` when it has one.
pub(super) fn cookie_path(settings: &ApiSettings) -> String {
    let prefix = settings
        .public_url
        .as_ref()
        .map(|url| url.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    format!("{prefix}{COOKIE_PATH}")
}
