//! Error responses several operations share, for their `#[utoipa::path]` attributes: each
//! operation names the groups that apply to it (`responses(..., StaffOnly, JsonBodyRefused)`)
//! instead of repeating the status codes, descriptions and bodies.
//!
//! The types only describe answers; the answers themselves are [`ApiError`](crate::ApiError)s.

#![expect(
    dead_code,
    reason = "the types document responses for the OpenAPI document and are never built"
)]

use utoipa::IntoResponses;

use crate::json::ErrorDetail;

/// What a staff-only operation answers to anyone else.
#[derive(IntoResponses)]
pub(crate) enum StaffOnly {
    /// No or bad credentials.
    #[response(
        status = 401,
        description = "No credentials, or an invalid or expired token"
    )]
    Unauthenticated(ErrorDetail),
    /// A user who is not staff.
    #[response(status = 403, description = "The caller is not staff")]
    Forbidden(ErrorDetail),
}

/// What an operation open to anonymous callers answers to a bad token: a token that is sent
/// must be valid.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "The `Authorization` header names an invalid or expired token"
)]
pub(crate) struct BadToken(ErrorDetail);

/// What an operation that reads a JSON body answers when the body is refused before parsing.
#[derive(IntoResponses)]
pub(crate) enum JsonBodyRefused {
    /// Over `max_body_bytes`.
    #[response(status = 413, description = "The body is too large")]
    TooLarge(ErrorDetail),
    /// A content type other than JSON.
    #[response(status = 415, description = "The body is not JSON")]
    NotJson(ErrorDetail),
}
