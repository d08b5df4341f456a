//! Why a login step failed.
//!
//! Every variant carries what the HTTP layer needs to word the reference's messages
//! (see `docs/login-relying-party.md`, "Errors"), and nothing more: no client secret, authorization
//! code, token or claim value appears in a message, a field or a source. `Display` is for humans
//! and logs; the HTTP layer words its own answers from the variants.

use std::fmt;

use crate::guard::GuardError;

/// Why a relying party could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The client id is empty.
    #[error("the client id is empty")]
    MissingClientId,
    /// An endpoint is not an absolute `http` or `https` URL.
    #[error("the {field} is not an absolute http or https URL")]
    InvalidUrl {
        /// The configuration field (`auth_url`, `token_url`, `userinfo_url`, `jwks_uri`).
        field: &'static str,
    },
    /// The issuer is not a URL.
    #[error("the issuer is not a URL")]
    InvalidIssuer,
}

/// How a request failed to get any answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailure {
    /// The call's time limit passed ([`FetchPolicy::timeout`](crate::FetchPolicy::timeout)).
    Timeout,
    /// No connection could be made (refused, unreachable, TLS handshake failed).
    Connect,
    /// The connection broke, or the request failed in another way.
    Other,
}

impl fmt::Display for SendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout => "timed out",
            Self::Connect => "no connection",
            Self::Other => "request failed",
        })
    }
}

/// Why a call to a provider endpoint (token, userinfo, key set) gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The SSRF guard refused the endpoint's URL (a refused address, or a host that does not
    /// resolve). Nothing was sent.
    #[error("the endpoint's address was refused")]
    Refused(#[source] GuardError),
    /// The request got no answer.
    #[error("the request could not be sent ({kind})")]
    Send {
        /// What went wrong.
        kind: SendFailure,
        /// reqwest's error with the URL removed; `None` when the time limit ended the call.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The status was not 200 and the body is a JSON object with a string `error` (RFC 6749
    /// §5.2). The reference shows `<error> (<error_description>)`.
    #[error("the provider answered HTTP {status} with error {error:?}")]
    ErrorResponse {
        /// The HTTP status code.
        status: u16,
        /// The status's canonical reason phrase.
        reason: String,
        /// The OAuth error code, as the provider sent it.
        error: String,
        /// `error_description`, when it is a string.
        description: Option<String>,
    },
    /// The status was not 200 and the body names no `error`. The reference shows
    /// `Message: <reason>, status code: <status>`.
    #[error("the provider answered HTTP {status} {reason}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The status's canonical reason phrase (empty when it has none).
        reason: String,
    },
    /// The body is longer than [`FetchPolicy::max_body_bytes`](crate::FetchPolicy::max_body_bytes);
    /// it was not read further.
    #[error("the response is larger than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A 200 answer whose body is not JSON.
    #[error("the response is not JSON")]
    NotJson(#[source] serde_json::Error),
    /// A 200 answer whose body is JSON but not an object (or, for a key set, not a JWK set).
    #[error("the response is not a JSON object of the expected shape")]
    NotAnObject,
}

impl CallError {
    /// Whether the call got no answer at all: the guard refused the address, or the request
    /// could not be sent. The reference words these "Unable to send … request."
    pub fn is_send_failure(&self) -> bool {
        matches!(self, Self::Refused(_) | Self::Send { .. })
    }
}

/// Why the code exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token request got no usable answer.
    #[error("the token request failed")]
    Call(#[source] CallError),
    /// A 200 JSON answer without a non-empty string `access_token` (or not an object at all).
    #[error("the token response does not contain an access token")]
    NoAccessToken,
    /// The answer has an `id_token` that is not a string.
    #[error("the token response's id_token is not a string")]
    IdTokenNotAString,
}

/// Why an ID token was refused (`docs/decisions.md`, "Logging people in"). The checks run in the
/// order of the variants that can be told apart before the signature is checked, then the
/// signature, then the claims.
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    /// Not a compact JWS with a JSON header and a JSON object payload holding the required
    /// claims (`iss`, `sub`, `aud`, `exp`, `iat`), or a payload with a repeated claim name.
    #[error("the ID token is not a well-formed signed JWT")]
    Malformed,
    /// An encrypted token, a nested JWT, `crit` header parameters or an unexpected `typ`.
    #[error("the ID token uses a JOSE feature this relying party does not support")]
    Unsupported,
    /// The header's `alg` is not allowed: `none`, an HS algorithm the provider's discovery does
    /// not list, or an algorithm outside RS*, PS*, ES256/384 and EdDSA.
    #[error("the ID token's signing algorithm {alg:?} is not allowed")]
    DisallowedAlgorithm {
        /// The header's `alg`, when it is a known algorithm name; `"unknown"` otherwise.
        alg: String,
    },
    /// The configuration has no issuer, so no ID token can be checked.
    #[error("the provider has no issuer to check ID tokens against")]
    NoIssuer,
    /// The configuration has no `jwks_uri`, so no asymmetric signature can be checked.
    #[error("the provider has no key set (jwks_uri) to check signatures with")]
    NoKeySet,
    /// The provider's key set could not be fetched or read.
    #[error("the provider's key set could not be fetched")]
    KeySet(#[source] CallError),
    /// No key of the key set fits the token's `kid` and `alg`, even after a refetch; or a refetch
    /// was refused because the key set was fetched for an unknown key less than a minute ago.
    #[error("no key in the provider's key set matches the ID token{}", if *.refetch_refused { " (refetch refused: too soon)" } else { "" })]
    UnknownKey {
        /// Whether the once-a-minute limit stopped a refetch.
        refetch_refused: bool,
    },
    /// Several keys fit the token and it names none of them.
    #[error("several keys in the provider's key set match the ID token")]
    AmbiguousKey,
    /// The signature does not verify with the key (or the client secret, for HS*).
    #[error("the ID token's signature is invalid")]
    BadSignature,
    /// `iss` is not the provider's issuer.
    #[error("the ID token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not contain the client id.
    #[error("the ID token is not meant for this client (aud)")]
    WrongAudience,
    /// `azp` is not the client id, or is missing although `aud` has several entries.
    #[error("the ID token's authorized party (azp) is not this client")]
    WrongAuthorizedParty,
    /// `exp` is more than the leeway in the past.
    #[error("the ID token has expired")]
    Expired,
    /// `iat` or `nbf` is more than the leeway in the future.
    #[error("the ID token is not valid yet")]
    NotYetValid,
    /// `nonce` is missing or not the one sent.
    #[error("the ID token's nonce is missing or not the one sent")]
    WrongNonce,
}

/// Why the userinfo call failed.
#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    /// The userinfo request got no usable answer.
    #[error("the user info request failed")]
    Call(#[source] CallError),
    /// The userinfo `sub` is missing or not the ID token's `sub` (OpenID Connect Core §5.3.2).
    #[error("the user info subject is not the ID token's subject")]
    SubjectMismatch,
}

/// Why the authorization response (the callback's query) is refused before any call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The `iss` parameter (RFC 9207) is not the provider's issuer, or the configuration has no
    /// issuer to compare it with.
    #[error("the authorization response comes from another issuer (iss)")]
    IssuerMismatch,
    /// The provider's discovery promises `iss` (`authorization_response_iss_parameter_supported`)
    /// and the response has none (RFC 9207 §2.4).
    #[error("the authorization response has no iss although the provider sends one")]
    IssuerMissing,
}

/// Why a whole login completion ([`RelyingParty::complete`](crate::rp::RelyingParty::complete))
/// failed: the first step that failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The callback's `iss` was refused.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// The code exchange failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The ID token was refused.
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// The userinfo call failed.
    #[error(transparent)]
    Userinfo(#[from] UserinfoError),
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn messages_chain_from_the_step_to_the_cause() {
        let error = LoginError::from(TokenError::Call(CallError::ErrorResponse {
            status: 400,
            reason: "Bad Request".into(),
            error: "invalid_grant".into(),
            description: Some("grant request is invalid".into()),
        }));
        assert_eq!(error.to_string(), "the token request failed");
        let cause = error.source().map(ToString::to_string);
        assert_eq!(
            cause.as_deref(),
            Some("the provider answered HTTP 400 with error \"invalid_grant\"")
        );
    }

    #[test]
    fn provider_text_is_escaped_in_messages() {
        let error = CallError::ErrorResponse {
            status: 401,
            reason: "Unauthorized".into(),
            error: "bad\nline".into(),
            description: None,
        };
        assert!(!error.to_string().contains('\n'));
    }
}
