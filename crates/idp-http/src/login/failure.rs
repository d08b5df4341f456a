//! How a login step ends: its outcome (a metrics label from a fixed set) and, when it failed,
//! the answer. Each step is counted and logged once, with the provider and the outcome only.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::json;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// The outcome of one login step, a metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Init sent the browser to the provider.
    Started,
    /// The default init had no usable provider and sent the browser to the portal.
    Fallback,
    /// Complete signed the user in.
    Success,
    /// No provider of that name.
    NotDefined,
    /// The provider is inactive.
    Disabled,
    /// No transaction for this browser and state (missing, wrong, replayed, expired, other
    /// provider, missing cookie).
    InvalidState,
    /// The provider sent `?error=` to the callback.
    ProviderRefused,
    /// The callback has no `code`.
    MissingCode,
    /// The return URL or Referer is not allowed.
    RedirectRefused,
    /// PKCE is on and the transaction kept no verifier.
    PkceFailed,
    /// The provider's discovery document could not be read.
    DiscoveryFailed,
    /// The stored configuration cannot make a relying party.
    ConfigurationInvalid,
    /// The callback's `iss` was refused.
    IssuerRefused,
    /// The code exchange failed.
    TokenFailed,
    /// The ID token was refused.
    IdTokenRefused,
    /// The userinfo call failed or named another subject.
    UserinfoFailed,
    /// The claims hold no lookup value.
    IdentityMissing,
    /// The user is inactive.
    UserDeactivated,
    /// Several users match.
    AmbiguousUser,
    /// An exchange code was redeemed.
    Exchanged,
    /// An exchange code was unknown, replayed or expired.
    ExchangeRefused,
    /// A login token was ended.
    LoggedOut,
    /// An admin test login ended (with its report, whatever it found).
    Tested,
    /// A bad request (malformed code, bad `Host`).
    BadRequest,
    /// The server failed (database, bug).
    Error,
}

impl Outcome {
    /// The label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::Fallback => "fallback",
            Outcome::Success => "success",
            Outcome::NotDefined => "not_defined",
            Outcome::Disabled => "disabled",
            Outcome::InvalidState => "invalid_state",
            Outcome::ProviderRefused => "provider_refused",
            Outcome::MissingCode => "missing_code",
            Outcome::RedirectRefused => "redirect_refused",
            Outcome::PkceFailed => "pkce_failed",
            Outcome::DiscoveryFailed => "discovery_failed",
            Outcome::ConfigurationInvalid => "configuration_invalid",
            Outcome::IssuerRefused => "issuer_refused",
            Outcome::TokenFailed => "token_failed",
            Outcome::IdTokenRefused => "id_token_refused",
            Outcome::UserinfoFailed => "userinfo_failed",
            Outcome::IdentityMissing => "identity_missing",
            Outcome::UserDeactivated => "user_deactivated",
            Outcome::AmbiguousUser => "ambiguous_user",
            Outcome::Exchanged => "exchanged",
            Outcome::ExchangeRefused => "exchange_refused",
            Outcome::LoggedOut => "logged_out",
            Outcome::Tested => "tested",
            Outcome::BadRequest => "bad_request",
            Outcome::Error => "error",
        }
    }
}

/// How a failed step is answered.
#[derive(Debug)]
pub(crate) enum Answer {
    /// `{"detail": ...}` with this status (401 and 403 without `WWW-Authenticate`, as the
    /// reference's login views answer).
    Detail(StatusCode, String),
    /// A 302 to a page of the portal (`login_failed`).
    Redirect(String),
    /// Any other API error (field errors, 400, 503, 500).
    Api(ApiError),
}

/// A failed login step.
#[derive(Debug, thiserror::Error)]
#[error("login step failed: {}", .outcome.as_str())]
pub(crate) struct Failure {
    /// The metrics label.
    pub(crate) outcome: Outcome,
    /// The answer.
    pub(crate) answer: Answer,
}

impl Failure {
    /// 401 `{"detail": "<provider> error: <message>"}`, the reference's `OAuthException`.
    pub(crate) fn provider(
        outcome: Outcome,
        provider: &str,
        message: impl std::fmt::Display,
    ) -> Self {
        Self {
            outcome,
            answer: Answer::Detail(
                StatusCode::UNAUTHORIZED,
                format!("{provider} error: {message}"),
            ),
        }
    }

    /// `{"detail": ...}` with `status`.
    pub(crate) fn detail(outcome: Outcome, status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            outcome,
            answer: Answer::Detail(status, detail.into()),
        }
    }

    /// A 302 to `location`.
    pub(crate) fn redirect(outcome: Outcome, location: String) -> Self {
        Self {
            outcome,
            answer: Answer::Redirect(location),
        }
    }

    /// 403 `Identity provider is not defined.`
    pub(crate) fn not_defined() -> Self {
        Self::detail(
            Outcome::NotDefined,
            StatusCode::FORBIDDEN,
            "Identity provider is not defined.",
        )
    }

    /// 403 `Identity provider is disabled.`
    pub(crate) fn disabled() -> Self {
        Self::detail(
            Outcome::Disabled,
            StatusCode::FORBIDDEN,
            "Identity provider is disabled.",
        )
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        let outcome = match error {
            ApiError::Validation(_) | ApiError::BadRequest(_) => Outcome::BadRequest,
            _ => Outcome::Error,
        };
        Self {
            outcome,
            answer: Answer::Api(error),
        }
    }
}

impl From<idp_store::StoreError> for Failure {
    fn from(error: idp_store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl ResponseError for Failure {
    fn status_code(&self) -> StatusCode {
        match &self.answer {
            Answer::Detail(status, _) => *status,
            Answer::Redirect(_) => StatusCode::FOUND,
            Answer::Api(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match &self.answer {
            Answer::Detail(status, detail) => {
                HttpResponse::build(*status).json(json!({ "detail": detail }))
            }
            Answer::Redirect(location) => redirect(location),
            Answer::Api(error) => error.error_response(),
        }
    }
}

/// A 302 to `location`, uncached.
pub(crate) fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Counts and logs a finished step. `provider` is the stored provider's name, or `None` when
/// the name is not a stored provider (counted as `unknown`, so made-up names add no labels).
pub(crate) fn record(
    req: &HttpRequest,
    step: &'static str,
    provider: Option<&str>,
    outcome: Outcome,
) {
    let provider = provider.unwrap_or("unknown");
    if let Some(metrics) = req.app_data::<web::Data<Metrics>>() {
        metrics.observe_login(provider, outcome.as_str());
    }
    tracing::info!(
        target: "idp_http::login",
        step,
        provider,
        outcome = outcome.as_str(),
        "login step"
    );
}

/// Records how a step ended and passes its answer on.
pub(crate) fn finish(
    req: &HttpRequest,
    step: &'static str,
    provider: Option<&str>,
    result: Result<(HttpResponse, Outcome), Failure>,
) -> Result<HttpResponse, Failure> {
    match result {
        Ok((response, outcome)) => {
            record(req, step, provider, outcome);
            Ok(response)
        }
        Err(failure) => {
            record(req, step, provider, failure.outcome);
            Err(failure)
        }
    }
}
