//! The code exchange at the token endpoint, as the reference makes it, with the client
//! authentication of `docs/decisions.md`, "Logging people in".

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openidconnect::{AccessToken, RefreshToken};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use url::form_urlencoded;

use crate::rp::call;
use crate::rp::config::ClientAuthMethod;
use crate::rp::error::TokenError;
use crate::rp::party::RelyingParty;

/// What the token endpoint handed out. `Debug` shows which tokens there are, not their values.
#[derive(Clone)]
pub struct TokenResponse {
    access_token: AccessToken,
    refresh_token: Option<RefreshToken>,
    id_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("refresh_token", &self.refresh_token.is_some())
            .field("id_token", &self.id_token.is_some())
            .finish_non_exhaustive()
    }
}

impl TokenResponse {
    /// The access token, for the userinfo call (and the reference's `OIDC_ACCESS_TOKEN_ENABLED`).
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The refresh token, when the provider sent a string one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// The ID token as sent (compact JWS), when there is one; unverified until
    /// [`RelyingParty::verify_id_token`] says otherwise.
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_deref()
    }
}

/// The `Authorization` header of `client_secret_basic`: RFC 6749 §2.3.1 form-urlencodes the id
/// and the secret before they are joined and base64-encoded, so a `:` in either survives.
pub(crate) fn basic_authorization(client_id: &str, client_secret: &str) -> HeaderValue {
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let credentials = format!("{}:{}", encode(client_id), encode(client_secret));
    // Base64 text is always a valid header value.
    let mut value = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(credentials)))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// POSTs the code to the token endpoint and reads the answer as the reference does: exactly 200,
/// a JSON body, and a non-empty string `access_token`.
pub(crate) async fn exchange(
    party: &RelyingParty,
    code: &str,
    redirect_uri: &str,
    pkce_verifier: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let config = party.config();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code", code);
    if let Some(verifier) = pkce_verifier {
        form.append_pair("code_verifier", verifier);
    }
    if config.client_auth == ClientAuthMethod::ClientSecretPost {
        form.append_pair("client_id", &config.client_id)
            .append_pair("client_secret", &config.client_secret);
    }
    let body = form.finish();
    let url = party.token_url();
    let answer = call::send(&config.policy, config.verify_ssl, url, |client| {
        let request = client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        match config.client_auth {
            ClientAuthMethod::ClientSecretBasic => request.header(
                AUTHORIZATION,
                basic_authorization(&config.client_id, &config.client_secret),
            ),
            ClientAuthMethod::ClientSecretPost => request,
        }
    })
    .await
    .map_err(TokenError::Call)?;
    answer.require_ok().map_err(TokenError::Call)?;
    let Value::Object(fields) = answer.json().map_err(TokenError::Call)? else {
        return Err(TokenError::NoAccessToken);
    };
    let access_token = match fields.get("access_token") {
        Some(Value::String(token)) if !token.is_empty() => AccessToken::new(token.clone()),
        _ => return Err(TokenError::NoAccessToken),
    };
    let id_token = match fields.get("id_token") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) => Some(token.clone()),
        Some(_) => return Err(TokenError::IdTokenNotAString),
    };
    let refresh_token = fields
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .map(|token| RefreshToken::new(token.to_owned()));
    Ok(TokenResponse {
        access_token,
        refresh_token,
        id_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_urlencoded_first() {
        // RFC 6749 Appendix B: space is "+", and ":" "%" "/" are escaped.
        let header = basic_authorization("my client", "s3cr:t%/é");
        assert!(header.is_sensitive());
        let header = header.to_str().unwrap_or_default();
        let encoded = header.strip_prefix("Basic ").unwrap_or_default();
        let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap_or_default());
        assert_eq!(decoded.as_deref(), Ok("my+client:s3cr%3At%25%2F%C3%A9"));
        assert_eq!(
            basic_authorization("plain", "secret").to_str().ok(),
            Some(format!("Basic {}", STANDARD.encode("plain:secret")).as_str())
        );
    }
}
