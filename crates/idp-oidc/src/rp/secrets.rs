//! The random values one login attempt sends and must remember: `state`, `nonce` and the PKCE
//! verifier, made with the `openidconnect` crate's types.

use std::fmt;

use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier};

/// Random bytes behind each value: 32 bytes are 43 base64url characters, the length of the
/// reference's `secrets.token_urlsafe(32)` and within PKCE's 43..=128.
const RANDOM_BYTES: u32 = 32;

/// The random values of one login attempt. `Debug` shows none of them.
///
/// The caller sends [`state`](Self::state), [`nonce`](Self::nonce) and, with PKCE,
/// [`pkce_challenge`](Self::pkce_challenge) in the authorization request (the parameters are
/// idp-core's), keeps all three (the state hashed) until the callback, and hands the nonce and
/// the verifier back to [`RelyingParty::complete`](crate::rp::RelyingParty::complete).
pub struct LoginSecrets {
    state: CsrfToken,
    nonce: Nonce,
    pkce_verifier: Option<PkceCodeVerifier>,
}

impl fmt::Debug for LoginSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginSecrets")
            .field("pkce", &self.pkce_verifier.is_some())
            .finish_non_exhaustive()
    }
}

impl LoginSecrets {
    /// Fresh values from a cryptographically secure generator; a PKCE verifier only when `pkce`.
    pub fn generate(pkce: bool) -> Self {
        Self {
            state: CsrfToken::new_random_len(RANDOM_BYTES),
            nonce: Nonce::new_random_len(RANDOM_BYTES),
            pkce_verifier: pkce.then(|| PkceCodeChallenge::new_random_sha256_len(RANDOM_BYTES).1),
        }
    }

    /// The `state` parameter: 43 base64url characters.
    pub fn state(&self) -> &str {
        self.state.secret()
    }

    /// The `nonce` parameter: 43 base64url characters.
    pub fn nonce(&self) -> &str {
        self.nonce.secret()
    }

    /// The PKCE `code_verifier` (43 base64url characters), when PKCE is on.
    pub fn pkce_verifier(&self) -> Option<&str> {
        self.pkce_verifier
            .as_ref()
            .map(|verifier| verifier.secret().as_str())
    }

    /// The PKCE `code_challenge` for `code_challenge_method=S256`, when PKCE is on.
    pub fn pkce_challenge(&self) -> Option<String> {
        self.pkce_verifier().and_then(pkce_challenge)
    }
}

/// The S256 `code_challenge` of a PKCE verifier: base64url(SHA-256(verifier)) without padding
/// (RFC 7636 §4.2). `None` when the verifier is not 43 to 128 characters long, which RFC 7636
/// §4.1 requires (and without which the crate's function would panic).
pub fn pkce_challenge(verifier: &str) -> Option<String> {
    if !(43..=128).contains(&verifier.len()) {
        return None;
    }
    let verifier = PkceCodeVerifier::new(verifier.to_owned());
    Some(
        PkceCodeChallenge::from_code_verifier_sha256(&verifier)
            .as_str()
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_base64url(text: &str) -> bool {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn values_are_43_base64url_characters_and_differ_each_time() {
        let first = LoginSecrets::generate(true);
        let second = LoginSecrets::generate(true);
        for value in [
            first.state(),
            first.nonce(),
            first.pkce_verifier().unwrap_or_default(),
        ] {
            assert_eq!(value.len(), 43);
            assert!(is_base64url(value));
        }
        assert_ne!(first.state(), second.state());
        assert_ne!(first.nonce(), second.nonce());
        assert_ne!(first.pkce_verifier(), second.pkce_verifier());
        assert_ne!(first.state(), first.nonce());
        assert!(LoginSecrets::generate(false).pkce_verifier().is_none());
    }

    #[test]
    fn the_challenge_is_rfc_7636s_s256() {
        // RFC 7636 Appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").as_deref(),
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        );
        assert_eq!(pkce_challenge("short"), None);
        let secrets = LoginSecrets::generate(true);
        assert_eq!(
            secrets.pkce_challenge(),
            secrets.pkce_verifier().and_then(pkce_challenge)
        );
    }

    #[test]
    fn debug_shows_no_value() {
        let secrets = LoginSecrets::generate(true);
        let shown = format!("{secrets:?}");
        assert!(!shown.contains(secrets.state()));
        assert!(!shown.contains(secrets.nonce()));
    }
}
