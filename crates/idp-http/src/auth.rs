//! `Authorization: Token <key>` authentication and the permission rules, as extractors: a
//! handler that takes [`Caller`] serves anyone (a bad token is still 401), and one that takes
//! [`Staff`] serves staff only (401 for anonymous callers, 403 for other users).
//!
//! actix-web extracts a handler's arguments together: while a token is being looked up, the
//! next argument's extraction runs. So no argument beside these fails for a reason of its own
//! (the body is read later, by the handler; see [`crate::body::JsonBody`]), and the permission
//! answer comes before any other, as in the reference.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use idp_store::{Authentication, User};

use crate::db::read;
use crate::error::ApiError;
use crate::state::{AppState, app_state};

/// The fingerprint of the token a request authenticated with (see
/// [`idp_store::token_fingerprint`]), kept in the request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct TokenFingerprint(pub(crate) String);

/// What an authentication extractor resolves to.
type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

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
    pub fn into_staff(self) -> Result<Staff, ApiError> {
        match self {
            Caller::Anonymous => Err(ApiError::Unauthenticated(
                "Authentication credentials were not provided.".into(),
            )),
            Caller::User(user) if user.is_staff => Ok(Staff(user)),
            Caller::User(_) => Err(ApiError::Forbidden),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            authenticate(&req, &state).await
        })
    }
}

/// A staff user: extracting it answers 401 to anonymous callers and 403 to other users.
#[derive(Debug, Clone)]
pub struct Staff(User);

impl Deref for Staff {
    type Target = User;

    fn deref(&self) -> &User {
        &self.0
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move { caller.await?.into_staff() })
    }
}

/// The 401 detail of a request with more than one `Authorization` header.
pub(crate) const REPEATED_AUTHORIZATION: &str =
    "Invalid token header. Only one Authorization header is allowed.";

/// Authenticates the request. A bad `Token` header fails with 401 even where anonymous access
/// is allowed, and so does a repeated `Authorization` header, whatever its schemes: which of
/// several credentials counts must not depend on how a proxy orders or merges them.
async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(Caller::Anonymous);
    };
    if values.next().is_some() {
        return Err(ApiError::Unauthenticated(REPEATED_AUTHORIZATION.into()));
    }
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
    // For the audit history: the token as its fingerprint, never its key.
    actix_web::HttpMessage::extensions_mut(req)
        .insert(TokenFingerprint(idp_store::token_fingerprint(&key)));
    // A cached token check costs no database call (see `Store::authenticate_cached`).
    let checked = match state.store.authenticate_cached(&key) {
        Some(checked) => checked,
        None => read(state, move |store| store.authenticate(&key)).await?,
    };
    match checked {
        Authentication::User(user) => Ok(Caller::User(user)),
        Authentication::Invalid => Err(ApiError::Unauthenticated("Invalid token.".into())),
        Authentication::Expired => Err(ApiError::Unauthenticated("Token has expired.".into())),
        Authentication::Inactive => Err(ApiError::Unauthenticated(
            "User inactive or deleted.".into(),
        )),
    }
}
