//! The words of a failed completion: `idp_oidc::rp` says what happened, this module words it as
//! the reference does (`docs/login-relying-party.md`, "Errors"), and words the failures the
//! reference does not have in its style. Nothing here quotes a code, token or claim value.

use idp_oidc::rp::{
    CallError, CallbackError, IdTokenError, LoginError as RpError, TokenError, UserinfoError,
};

use super::failure::Outcome;

/// The message of a failed completion (without the `<provider> error: ` prefix), and its
/// outcome.
pub(crate) fn rp_failure(error: &RpError) -> (Outcome, String) {
    match error {
        RpError::Callback(error) => (Outcome::IssuerRefused, callback(error).to_owned()),
        RpError::Token(TokenError::Call(call)) => (
            Outcome::TokenFailed,
            call_message(
                call,
                "Unable to send authentication request.",
                "Unable to parse JSON in authentication response.",
            ),
        ),
        RpError::Token(TokenError::NoAccessToken) => (
            Outcome::TokenFailed,
            "Authentication response does not contain token.".to_owned(),
        ),
        RpError::Token(TokenError::IdTokenNotAString) => (
            Outcome::TokenFailed,
            "Authentication response contains an ID token that is not a string.".to_owned(),
        ),
        RpError::IdToken(error) => (Outcome::IdTokenRefused, id_token(error).to_owned()),
        RpError::Userinfo(UserinfoError::Call(call)) => (
            Outcome::UserinfoFailed,
            call_message(
                call,
                "Unable to send user info request.",
                "Unable to parse JSON in user info response.",
            ),
        ),
        RpError::Userinfo(UserinfoError::SubjectMismatch) => (
            Outcome::UserinfoFailed,
            "User info subject does not match the ID token subject.".to_owned(),
        ),
    }
}

/// A call that got no usable answer, as the reference's `check_response` words it.
fn call_message(error: &CallError, unable_to_send: &str, not_json: &str) -> String {
    match error {
        CallError::Refused(_) | CallError::Send { .. } => unable_to_send.to_owned(),
        CallError::ErrorResponse {
            error, description, ..
        } => match description.as_deref().filter(|text| !text.is_empty()) {
            Some(description) => format!("{error} ({description})"),
            None => error.clone(),
        },
        CallError::Status { status, reason } => {
            format!("Message: {reason}, status code: {status}")
        }
        CallError::TooLarge { .. } | CallError::NotJson(_) | CallError::NotAnObject => {
            not_json.to_owned()
        }
    }
}

fn callback(error: &CallbackError) -> &'static str {
    match error {
        CallbackError::IssuerMismatch => "Authorization response comes from another issuer.",
        CallbackError::IssuerMissing => "Authorization response does not contain the issuer.",
    }
}

fn id_token(error: &IdTokenError) -> String {
    let text = match error {
        IdTokenError::Malformed => "ID token is malformed.",
        IdTokenError::Unsupported => "ID token uses an unsupported format.",
        IdTokenError::DisallowedAlgorithm { alg } => {
            return format!("ID token signing algorithm {alg} is not allowed.");
        }
        IdTokenError::NoIssuer => "Unable to verify ID token: the provider has no issuer.",
        IdTokenError::NoKeySet => "Unable to verify ID token: the provider has no key set.",
        IdTokenError::KeySet(_) => "Unable to fetch the provider's key set.",
        IdTokenError::UnknownKey { .. } => "ID token is signed with an unknown key.",
        IdTokenError::AmbiguousKey => "ID token does not name its key and several keys match.",
        IdTokenError::BadSignature => "ID token signature is invalid.",
        IdTokenError::WrongIssuer => "ID token issuer is invalid.",
        IdTokenError::WrongAudience => "ID token audience is invalid.",
        IdTokenError::WrongAuthorizedParty => "ID token authorized party is invalid.",
        IdTokenError::Expired => "ID token has expired.",
        IdTokenError::NotYetValid => "ID token is not valid yet.",
        IdTokenError::WrongNonce => "ID token nonce is invalid.",
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_answers_are_worded_as_the_reference() {
        let error = |call| rp_failure(&RpError::Token(TokenError::Call(call))).1;
        assert_eq!(
            error(CallError::ErrorResponse {
                status: 400,
                reason: "Bad Request".into(),
                error: "invalid_grant".into(),
                description: Some("Invalid authorization code".into()),
            }),
            "invalid_grant (Invalid authorization code)"
        );
        assert_eq!(
            error(CallError::ErrorResponse {
                status: 400,
                reason: "Bad Request".into(),
                error: "invalid_grant".into(),
                description: None,
            }),
            "invalid_grant"
        );
        assert_eq!(
            error(CallError::Status {
                status: 502,
                reason: "Bad Gateway".into(),
            }),
            "Message: Bad Gateway, status code: 502"
        );
        assert_eq!(
            error(CallError::NotAnObject),
            "Unable to parse JSON in authentication response."
        );
        assert_eq!(
            error(CallError::Send {
                kind: idp_oidc::rp::SendFailure::Timeout,
                source: None,
            }),
            "Unable to send authentication request."
        );
    }
}
