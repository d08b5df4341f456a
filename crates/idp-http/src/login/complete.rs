//! `GET /api-auth/{provider}/complete/`: the provider's callback ends a login.
//!
//! The order matters (`docs/decisions.md`, "Logging people in"): the provider is checked, the
//! transaction is consumed and its state compared, the provider's `?error=` is handled, `code`
//! must be there, and the redirect target is checked, all before anything is sent to the
//! provider or any user is created or changed.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use idp_core::Provider;
use idp_core::ValidationErrors;
use idp_core::login::{
    LoginError, check_state, choose_redirect_origin, login_completed_url, login_failed_url,
    pkce_verifier_for_exchange,
};
use idp_oidc::rp::Completion;
use idp_store::{LoginTransaction, login_hash};

use super::failure::{Answer, Failure, Outcome, finish, redirect};
use super::init::{cookie_path, load_provider, query_param, stored_name};
use super::messages::rp_failure;
use super::relying_party::relying_party;
use super::test_login::complete_test;
use super::users::sign_in;
use super::{BINDING_COOKIE, EXCHANGE_CODE_TTL, LoginSettings};
use crate::db::blocking;
use crate::error::{ApiError, Chain};
use crate::state::AppState;

/// Ends a login: checks the callback, exchanges the code, verifies the ID token, reads
/// userinfo, signs the user in (found, created or updated as the provider's mapping says) and
/// sends the browser to `<origin>/oauth_login_completed/<provider>/?code=<exchange code>`.
#[utoipa::path(
    get,
    path = "/api-auth/{provider}/complete/",
    operation_id = "api_auth_complete_retrieve",
    tag = "api-auth",
    summary = "Complete a login with an identity provider",
    description = "The provider's callback. Needs the cookie set by `init` and the `state` it sent; each login completes at most once. On success, redirects to `<origin>/oauth_login_completed/<provider>/?code=<code>`, where the portal exchanges the code for a token at `/api-auth/token-exchange/`.",
    params(
        ("provider" = String, Path, description = "The provider's name"),
        ("state" = Option<String>, Query, description = "The state sent by init"),
        ("code" = Option<String>, Query, description = "The authorization code"),
        ("iss" = Option<String>, Query, description = "The issuer of the authorization response (RFC 9207)"),
        ("error" = Option<String>, Query, description = "The provider's error, when the login failed there"),
        ("error_description" = Option<String>, Query, description = "The provider's description of its error"),
    ),
    security(("tokenAuth" = []), ()),
    responses(
        (status = 302, description = "To the portal: `oauth_login_completed` with the exchange code, or `login_failed` with the provider's message", headers(
            ("Location" = String, description = "Where the browser goes"),
        )),
        (status = 400, description = "No `code`, or the `Host` header is not `host[:port]`"),
        (status = 401, description = "The login failed: `<provider> error: <what failed>`", body = crate::json::ErrorDetail),
        (status = 403, description = "The provider is not defined or disabled", body = crate::json::ErrorDetail),
        (status = 429, description = "Too many requests from this address", body = crate::json::ErrorDetail),
    ),
)]
pub(crate) async fn complete(
    path: web::Path<String>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, Failure> {
    let name = path.into_inner();
    let found = load_provider(&state, &name, true).await;
    let label = stored_name(&found);
    let result = async {
        let stored = found?.ok_or_else(Failure::not_defined)?;
        // An admin's test login also works for an inactive provider.
        if let Some(transaction) = take_test(&req, &state, &stored.provider.provider).await? {
            return complete_test(&req, &state, &stored.provider, &transaction).await;
        }
        if !stored.provider.is_active {
            return Err(Failure::disabled());
        }
        run(&req, &state, &stored.provider).await
    }
    .await;
    finish(&req, "complete", label.as_deref(), result)
}

async fn run(
    req: &HttpRequest,
    state: &AppState,
    provider: &Provider,
) -> Result<(HttpResponse, Outcome), Failure> {
    let name = provider.provider.as_str();
    let settings = &state.settings.login;
    let transaction = take_transaction(req, state, name).await?;

    if let Some(error) = query_param(req, "error") {
        return Err(provider_refused(
            provider,
            &transaction,
            settings,
            &error,
            req,
        ));
    }
    let code = match query_param(req, "code") {
        None => return Err(field_error("code", "This field may not be null.")),
        Some(code) if code.trim().is_empty() => {
            return Err(field_error("code", "This field may not be blank."));
        }
        Some(code) => code,
    };
    let origin = origin(provider, &transaction, settings)
        .map_err(|message| Failure::provider(Outcome::RedirectRefused, name, message))?;
    // A verifier kept by init is always sent; with PKCE on, one must have been kept.
    let pkce = provider.enable_pkce || transaction.pkce_verifier.is_some();
    let verifier = pkce_verifier_for_exchange(pkce, transaction.pkce_verifier.as_deref())
        .map_err(|error| Failure::provider(Outcome::PkceFailed, name, error))?;

    let rp = relying_party(req, state, provider).await?;
    let iss = query_param(req, "iss");
    let outcome = rp
        .complete(&Completion {
            code: &code,
            iss: iss.as_deref(),
            redirect_uri: &transaction.redirect_uri,
            nonce: &transaction.nonce,
            pkce_verifier: verifier,
        })
        .await
        .map_err(|error| {
            // The relying party's errors quote no secret, code, token or claim value.
            tracing::info!(provider = name, error = %Chain(&error), "the provider refused a login");
            let (outcome, message) = rp_failure(&error);
            Failure::provider(outcome, name, message)
        })?;

    let user_id = sign_in(state, provider, &outcome.claims).await?;
    let now = settings.now();
    let provider_name = name.to_owned();
    let id_token = outcome.tokens.id_token().map(str::to_owned);
    let code = blocking(state, move |store| {
        store.create_exchange_code(
            user_id,
            &provider_name,
            id_token.as_deref(),
            now,
            EXCHANGE_CODE_TTL,
        )
    })
    .await?;
    let mut response = redirect(&login_completed_url(&origin, name, &code));
    expire_binding_cookie(&mut response, &cookie_path(&state.settings));
    Ok((response, Outcome::Success))
}

/// The cookie's binding value, when the request has the cookie.
fn binding(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == BINDING_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// Consumes the admin test login whose state the callback returned, if there is one; it must
/// be this provider's and not expired, else the reference's "Invalid auth state."
async fn take_test(
    req: &HttpRequest,
    state: &AppState,
    name: &str,
) -> Result<Option<LoginTransaction>, Failure> {
    let Some(returned) = query_param(req, "state").filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let taken = blocking(state, move |store| store.take_test_transaction(&returned)).await?;
    let now = state.settings.login.now();
    match taken {
        None => Ok(None),
        Some(transaction) if transaction.provider == name && transaction.expires_at > now => {
            Ok(Some(transaction))
        }
        Some(_) => Err(Failure::provider(
            Outcome::InvalidState,
            name,
            LoginError::InvalidState,
        )),
    }
}

/// Consumes the transaction bound to this browser (and any with the returned state), and
/// checks it: a `login` transaction of this provider, not expired, whose state is the one
/// returned (compared in constant time). Anything else is the reference's "Invalid auth state."
async fn take_transaction(
    req: &HttpRequest,
    state: &AppState,
    name: &str,
) -> Result<LoginTransaction, Failure> {
    let returned = query_param(req, "state");
    let binding = binding(req);
    let lookup_state = returned.clone();
    let taken = blocking(state, move |store| {
        store.take_login_transaction(binding.as_deref(), lookup_state.as_deref())
    })
    .await?;
    let now = state.settings.login.now();
    let returned_hash = returned.as_deref().map(login_hash);
    match taken {
        Some(transaction)
            if check_state(Some(&transaction.state_hash), returned_hash.as_deref()).is_ok()
                && transaction.kind == "login"
                && transaction.provider == name
                && transaction.expires_at > now =>
        {
            Ok(transaction)
        }
        _ => Err(Failure::provider(
            Outcome::InvalidState,
            name,
            LoginError::InvalidState,
        )),
    }
}

/// The origin the login returns to: `allowed_redirects` (or `IDP_HOMEPORT_URL`) and the
/// return URL or Referer, by the reference's rules.
fn origin(
    provider: &Provider,
    transaction: &LoginTransaction,
    settings: &LoginSettings,
) -> Result<String, String> {
    let home = settings.homeport_url.as_deref();
    if provider.allowed_redirects.is_empty() && home.is_none() {
        return Err(
            "No portal to return to: the provider has no allowed redirects and no \
                    portal URL is configured."
                .to_owned(),
        );
    }
    choose_redirect_origin(
        &provider.allowed_redirects,
        home.unwrap_or_default(),
        transaction.return_url.as_deref(),
        transaction.referrer.as_deref(),
    )
    .map_err(|error| error.to_string())
}

/// The provider's error callback: to the portal's `login_failed` page when the origin is known,
/// else 401 with the provider's error.
fn provider_refused(
    provider: &Provider,
    transaction: &LoginTransaction,
    settings: &LoginSettings,
    error: &str,
    req: &HttpRequest,
) -> Failure {
    let description = query_param(req, "error_description").filter(|text| !text.is_empty());
    match origin(provider, transaction, settings) {
        Ok(origin) => {
            let message = description.as_deref().unwrap_or(error);
            Failure::redirect(Outcome::ProviderRefused, login_failed_url(&origin, message))
        }
        Err(_) => {
            let message = match &description {
                Some(description) => format!("{error} ({description})"),
                None => error.to_owned(),
            };
            Failure::provider(Outcome::ProviderRefused, &provider.provider, message)
        }
    }
}

fn field_error(field: &str, message: &str) -> Failure {
    Failure {
        outcome: Outcome::MissingCode,
        answer: Answer::Api(ApiError::Validation(ValidationErrors::single(
            field, message,
        ))),
    }
}

/// The binding is spent: the browser may drop its cookie.
fn expire_binding_cookie(response: &mut HttpResponse, path: &str) {
    let cookie = format!("{BINDING_COOKIE}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax");
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
