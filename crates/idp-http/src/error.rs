//! API errors and their DRF-shaped bodies.

use std::error::Error;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use idp_core::ValidationErrors;
use idp_store::StoreError;
use serde_json::json;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with field-keyed messages.
    #[error("validation failed")]
    Validation(ValidationErrors),
    /// 401: credentials missing (`WWW-Authenticate: Token` is sent).
    #[error("{0}")]
    Unauthenticated(String),
    /// 403.
    #[error("permission denied")]
    Forbidden,
    /// 404 with the given detail.
    #[error("{0}")]
    NotFound(&'static str),
    /// 405 for the method named.
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    /// 412: `If-Match` does not name the current version.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 408: the client took too long to send its body.
    #[error("request body timed out")]
    RequestTimeout,
    /// 413.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 415 for the content type named.
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    /// 400 `{"detail": ...}`, e.g. a body that is not JSON.
    #[error("{0}")]
    BadRequest(String),
    /// 503: the database cannot be reached in time.
    #[error("service unavailable")]
    Unavailable,
    /// 500: a bug or a broken database. The cause is logged with its whole chain and never
    /// returned.
    #[error("internal error")]
    Internal(#[source] Box<dyn Error + Send + Sync>),
}

impl ApiError {
    /// A 500 caused by `error`.
    pub(crate) fn internal(error: impl Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(error))
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(error = %Chain(&error), "database unavailable");
            ApiError::Unavailable
        } else {
            ApiError::internal(error)
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            ApiError::Validation(errors) => serde_json::to_value(errors).unwrap_or_default(),
            ApiError::Unauthenticated(detail) | ApiError::BadRequest(detail) => {
                json!({ "detail": detail })
            }
            ApiError::Forbidden => {
                json!({"detail": "You do not have permission to perform this action."})
            }
            ApiError::NotFound(detail) => json!({ "detail": detail }),
            ApiError::MethodNotAllowed(method) => {
                json!({"detail": format!("Method \"{method}\" not allowed.")})
            }
            ApiError::PreconditionFailed => json!({
                "detail": "The provider was changed since you read it: If-Match does not match its current ETag."
            }),
            ApiError::RequestTimeout => {
                json!({"detail": "The request body was not received in time."})
            }
            ApiError::PayloadTooLarge => json!({"detail": "Request body is too large."}),
            ApiError::UnsupportedMediaType(media) => {
                json!({"detail": format!("Unsupported media type \"{media}\" in request.")})
            }
            ApiError::Unavailable => {
                json!({"detail": "Service temporarily unavailable, try again later."})
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = %Chain(cause.as_ref()), "internal error");
                json!({"detail": "A server error occurred."})
            }
        };
        let mut response = HttpResponse::build(self.status_code()).json(body);
        if let ApiError::Unauthenticated(_) = self {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
        }
        if let ApiError::Unavailable = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// The 404 detail of an unknown provider.
pub const NO_PROVIDER: &str = "No IdentityProvider matches the given query.";

/// An error and its causes, one after the other (`error: cause: cause`), for log lines: the
/// top-level message alone rarely says what the database or the network actually reported.
pub(crate) struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_shows_every_cause_and_an_internal_body_shows_none() {
        let error = Outer(std::io::Error::other("the disk is on fire"));
        assert_eq!(Chain(&error).to_string(), "outer: the disk is on fire");
        let internal = ApiError::internal(error);
        assert_eq!(
            Chain(&internal).to_string(),
            "internal error: outer: the disk is on fire"
        );
        let response = internal.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .expect("the body is in memory")
            .expect("the body reads");
        assert_eq!(body, r#"{"detail":"A server error occurred."}"#);
    }
}
