//! The userinfo call, as the reference makes it, with the subject check the reference lacks.

use openidconnect::AccessToken;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::{Map, Value};

use crate::rp::call;
use crate::rp::error::{CallError, SendFailure, UserinfoError};
use crate::rp::party::RelyingParty;

/// GETs the userinfo endpoint with the access token as a Bearer token, requires exactly 200 and a
/// JSON object, and, when `expected_subject` is given (the ID token's `sub`), requires the same
/// `sub` (OpenID Connect Core §5.3.2).
pub(crate) async fn fetch(
    party: &RelyingParty,
    userinfo_url: &url::Url,
    access_token: &AccessToken,
    expected_subject: Option<&str>,
) -> Result<Map<String, Value>, UserinfoError> {
    let config = party.config();
    // A token with bytes a header cannot carry could never be sent.
    let mut bearer =
        HeaderValue::from_str(&format!("Bearer {}", access_token.secret())).map_err(|_| {
            UserinfoError::Call(CallError::Send {
                kind: SendFailure::Other,
                source: None,
            })
        })?;
    bearer.set_sensitive(true);
    let answer = call::send(&config.policy, config.verify_ssl, userinfo_url, |client| {
        client
            .get(userinfo_url.clone())
            .header(AUTHORIZATION, bearer)
    })
    .await
    .map_err(UserinfoError::Call)?;
    answer.require_ok().map_err(UserinfoError::Call)?;
    let claims = answer.json_object().map_err(UserinfoError::Call)?;
    if let Some(expected) = expected_subject
        && claims.get("sub").and_then(Value::as_str) != Some(expected)
    {
        return Err(UserinfoError::SubjectMismatch);
    }
    Ok(claims)
}
