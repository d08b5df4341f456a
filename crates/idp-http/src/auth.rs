//! `Authorization: Token <key>` authentication and the permission rules.

use actix_web::HttpRequest;
use actix_web::http::header;
use idp_store::{Authentication, User};

use crate::AppState;
use crate::error::ApiError;
use crate::handlers::read;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No credentials, or credentials of a scheme this API does not use.
    Anonymous,
    /// A user with a valid token.
    User(User),
}

impl Caller {
    /// True for staff users.
    pub fn is_staff(&self) -> bool {
        matches!(self, Caller::User(user) if user.is_staff)
    }

    /// Staff only: 401 for anonymous callers, 403 for others.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        match self {
            Caller::Anonymous => Err(ApiError::Unauthenticated(
                "Authentication credentials were not provided.".into(),
            )),
            Caller::User(user) if user.is_staff => Ok(()),
            Caller::User(_) => Err(ApiError::Forbidden),
        }
    }
}

/// Authenticates the request. A bad `Token` header fails with 401 even where anonymous access
/// is allowed.
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let Ok(value) = value.to_str() else {
        // Bytes outside visible ASCII: not something any of our schemes can carry.
        let is_token =
            value.as_bytes().len() >= 5 && value.as_bytes()[..5].eq_ignore_ascii_case(b"token");
        return if is_token {
            Err(ApiError::Unauthenticated(
                "Invalid token. Token string should not contain invalid characters.".into(),
            ))
        } else {
            Ok(Caller::Anonymous)
        };
    };
    let mut parts = value.split_whitespace();
    match parts.next() {
        Some(keyword) if keyword.eq_ignore_ascii_case("token") => {}
        _ => return Ok(Caller::Anonymous),
    }
    let key = match (parts.next(), parts.next()) {
        (None, _) => {
            return Err(ApiError::Unauthenticated(
                "Invalid token. No credentials provided.".into(),
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::Unauthenticated(
                "Invalid token. Token string should not contain spaces.".into(),
            ));
        }
        (Some(key), None) => key.to_owned(),
    };
    match read(state, move |store| store.authenticate(&key)).await? {
        Authentication::User(user) => Ok(Caller::User(user)),
        Authentication::Invalid => Err(ApiError::Unauthenticated("Invalid token.".into())),
        Authentication::Expired => Err(ApiError::Unauthenticated("Token has expired.".into())),
        Authentication::Inactive => Err(ApiError::Unauthenticated(
            "User inactive or deleted.".into(),
        )),
    }
}
