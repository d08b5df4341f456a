//! ID token verification (`docs/decisions.md`, "Logging people in"), with the `openidconnect`
//! crate's verifier at its core.
//!
//! What the crate does here: parsing (`CoreIdToken`), the signature against a key set or, for
//! HS*, the client secret (`IdTokenVerifier::new_confidential_client`, which never uses a JWKS
//! key for an HS algorithm, so an HS256 token keyed with an RSA public key cannot pass), the
//! `alg` allow-list (`set_allowed_algs`), `iss`, `aud`, `exp` (with `set_time_fn`) and `nonce`.
//!
//! What is done around it, and why:
//! * The header is read first, so a disallowed `alg` is refused before any key set is fetched,
//!   and HS* is allowed only when discovery lists it and the client secret is not empty (the
//!   crate allows what it is told).
//! * Key sets come from [`JwksCache`](crate::rp::JwksCache), because the crate never refetches
//!   one; an unknown key triggers one rate-limited refetch and one more verification.
//! * Leeway: the crate has none, so its clock is set [`LEEWAY`] back for `exp`; `iat` and `nbf`
//!   are checked here against the clock plus [`LEEWAY`].
//! * `azp`: the crate leaves it unchecked and refuses every extra audience by default. Extra
//!   audiences are accepted (`set_other_audience_verifier_fn`) and `azp` is required to be the
//!   client id when there are several audiences, and whenever it is present (OpenID Connect Core
//!   §3.1.3.7 steps 4 and 5). This is the fix issue #210 asks for without `|_| true` alone.
//! * Raw claims: the crate's typed claims drop nothing it knows, but re-serialising them is not
//!   the provider's JSON. The verified payload segment is decoded here into a JSON object with
//!   every claim, nested and non-standard ones included; a repeated claim name is refused, so the
//!   object cannot disagree with what the crate checked.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, ClientSecret, JsonWebKeySet, JwsSigningAlgorithm, Nonce,
    SignatureVerificationError,
};
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::rp::error::IdTokenError;
use crate::rp::party::RelyingParty;

/// The clock skew tolerated on `exp`, `iat` and `nbf`.
pub const LEEWAY: TimeDelta = TimeDelta::seconds(120);

/// The asymmetric algorithms always allowed (ES512 is absent: the crate cannot verify P-521).
const ASYMMETRIC: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The same decoding the crate uses for the token's segments.
const SEGMENT: GeneralPurpose =
    GeneralPurpose::new(&URL_SAFE, NO_PAD.with_decode_allow_trailing_bits(true));

/// A verified ID token's claims. `Debug` shows claim names, never values.
#[derive(Clone)]
pub struct VerifiedIdToken {
    claims: Map<String, Value>,
    subject: String,
    algorithm: String,
    key_id: Option<String>,
}

impl fmt::Debug for VerifiedIdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedIdToken")
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl VerifiedIdToken {
    /// Every claim of the token, as the provider sent it.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The claims, taken.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }

    /// `sub`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The `alg` it was signed with, e.g. `RS256`.
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The `kid` of the key it named, if any.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    enc: Option<Value>,
}

/// Verifies `token` for `party`, expecting `nonce`.
pub(crate) async fn verify(
    party: &RelyingParty,
    token: &str,
    nonce: &str,
) -> Result<VerifiedIdToken, IdTokenError> {
    let config = party.config();
    let issuer = party.issuer().ok_or(IdTokenError::NoIssuer)?.clone();
    let header = header(token)?;
    if header.enc.is_some() {
        return Err(IdTokenError::Unsupported);
    }
    let allowed = allowed_algorithms(&config.id_token_signing_algs, &config.client_secret);
    let alg = match serde_json::from_value::<CoreJwsSigningAlgorithm>(Value::String(
        header.alg.clone(),
    )) {
        Ok(alg) if allowed.contains(&alg) => alg,
        Ok(_) => {
            return Err(IdTokenError::DisallowedAlgorithm {
                alg: header.alg.clone(),
            });
        }
        Err(_) => {
            return Err(IdTokenError::DisallowedAlgorithm {
                alg: "unknown".to_owned(),
            });
        }
    };
    let parsed = CoreIdToken::from_str(token).map_err(|_| IdTokenError::Malformed)?;
    let now = party.clock().now();
    let nonce = Nonce::new(nonce.to_owned());
    let checked = |keys: &CoreJsonWebKeySet| {
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(config.client_id.clone()),
            ClientSecret::new(config.client_secret.clone()),
            issuer.clone(),
            JsonWebKeySet::new(keys.keys().clone()),
        )
        .set_allowed_algs(allowed.iter().cloned())
        .set_other_audience_verifier_fn(|_| true)
        .set_time_fn(move || now - LEEWAY);
        parsed.claims(&verifier, &nonce).map(|claims| {
            (
                claims.subject().as_str().to_owned(),
                claims.audiences().len(),
                claims.authorized_party().map(|azp| azp.as_str().to_owned()),
                claims.issue_time(),
            )
        })
    };

    let (subject, audiences, azp, issued) = if alg.uses_shared_secret() {
        checked(&JsonWebKeySet::new(Vec::new())).map_err(refusal)?
    } else {
        let jwks_uri = party.jwks_uri().ok_or(IdTokenError::NoKeySet)?;
        let keys = party
            .jwks()
            .keys(jwks_uri, config.verify_ssl, &config.policy)
            .await
            .map_err(IdTokenError::KeySet)?;
        match checked(&keys.set) {
            Err(error) if is_unknown_key(&error) && !keys.fresh => {
                let refetched = party
                    .jwks()
                    .refetch_for_unknown_key(jwks_uri, config.verify_ssl, &config.policy, &keys.set)
                    .await
                    .map_err(IdTokenError::KeySet)?;
                match refetched {
                    Some(set) => checked(&set).map_err(refusal)?,
                    None => {
                        return Err(IdTokenError::UnknownKey {
                            refetch_refused: true,
                        });
                    }
                }
            }
            other => other.map_err(refusal)?,
        }
    };

    if azp.as_deref().is_some_and(|azp| azp != config.client_id) || (audiences > 1 && azp.is_none())
    {
        return Err(IdTokenError::WrongAuthorizedParty);
    }
    if issued > now + LEEWAY {
        return Err(IdTokenError::NotYetValid);
    }
    let claims = payload(token)?;
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_f64()
            .and_then(|seconds| DateTime::<Utc>::from_timestamp(seconds.floor() as i64, 0))
            .ok_or(IdTokenError::Malformed)?;
        if nbf > now + LEEWAY {
            return Err(IdTokenError::NotYetValid);
        }
    }
    Ok(VerifiedIdToken {
        claims,
        subject,
        algorithm: header.alg,
        key_id: header.kid,
    })
}

/// The asymmetric algorithms, plus the HS algorithms discovery lists when there is a secret to
/// key them with (an empty secret would let anyone sign).
fn allowed_algorithms(listed: &[String], secret: &str) -> HashSet<CoreJwsSigningAlgorithm> {
    let mut allowed: HashSet<_> = ASYMMETRIC.into_iter().collect();
    if !secret.is_empty() {
        for (name, alg) in [
            ("HS256", CoreJwsSigningAlgorithm::HmacSha256),
            ("HS384", CoreJwsSigningAlgorithm::HmacSha384),
            ("HS512", CoreJwsSigningAlgorithm::HmacSha512),
        ] {
            if listed.iter().any(|listed| listed == name) {
                allowed.insert(alg);
            }
        }
    }
    allowed
}

fn is_unknown_key(error: &ClaimsVerificationError) -> bool {
    matches!(
        error,
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)
    )
}

/// The crate's refusal as ours; its texts name claim values, so none of them is kept.
fn refusal(error: ClaimsVerificationError) -> IdTokenError {
    use SignatureVerificationError as Signature;
    match error {
        ClaimsVerificationError::Expired(_) => IdTokenError::Expired,
        ClaimsVerificationError::InvalidAudience(_) => IdTokenError::WrongAudience,
        ClaimsVerificationError::InvalidIssuer(_) => IdTokenError::WrongIssuer,
        ClaimsVerificationError::InvalidNonce(_) => IdTokenError::WrongNonce,
        ClaimsVerificationError::Unsupported(_) => IdTokenError::Unsupported,
        ClaimsVerificationError::SignatureVerification(error) => match error {
            Signature::NoMatchingKey => IdTokenError::UnknownKey {
                refetch_refused: false,
            },
            Signature::AmbiguousKeyId(_) => IdTokenError::AmbiguousKey,
            Signature::DisallowedAlg(_) | Signature::UnsupportedAlg(_) | Signature::NoSignature => {
                IdTokenError::DisallowedAlgorithm {
                    alg: "unknown".to_owned(),
                }
            }
            _ => IdTokenError::BadSignature,
        },
        _ => IdTokenError::Malformed,
    }
}

fn segments(token: &str) -> Result<[&str; 3], IdTokenError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok([header, payload, signature]),
        _ => Err(IdTokenError::Malformed),
    }
}

fn header(token: &str) -> Result<Header, IdTokenError> {
    let [header, ..] = segments(token)?;
    let bytes = SEGMENT
        .decode(header)
        .map_err(|_| IdTokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed)
}

/// The payload as a JSON object, refusing a repeated claim name.
fn payload(token: &str) -> Result<Map<String, Value>, IdTokenError> {
    let [_, payload, _] = segments(token)?;
    let bytes = SEGMENT
        .decode(payload)
        .map_err(|_| IdTokenError::Malformed)?;
    serde_json::from_slice::<UniqueObject>(&bytes)
        .map(|object| object.0)
        .map_err(|_| IdTokenError::Malformed)
}

/// A JSON object whose keys are all different.
struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Unique;
        impl<'de> Visitor<'de> for Unique {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with distinct keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueObject, A::Error> {
                let mut object = Map::new();
                while let Some((key, value)) = access.next_entry::<String, Value>()? {
                    if object.contains_key(&key) {
                        return Err(de::Error::custom("a claim is repeated"));
                    }
                    object.insert(key, value);
                }
                Ok(UniqueObject(object))
            }
        }
        deserializer.deserialize_map(Unique)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        SEGMENT.encode(json)
    }

    #[test]
    fn repeated_claims_are_refused() {
        let token = format!(
            "{}.{}.sig",
            encode(r#"{"alg":"RS256"}"#),
            encode(r#"{"sub":"a","sub":"b"}"#)
        );
        assert!(matches!(payload(&token), Err(IdTokenError::Malformed)));
        let token = format!(
            "{}.{}.sig",
            encode(r#"{"alg":"RS256"}"#),
            encode(r#"{"sub":"a","realm_access":{"roles":["x"]}}"#)
        );
        let claims = payload(&token).unwrap_or_default();
        assert_eq!(claims["realm_access"]["roles"][0], "x");
    }

    #[test]
    fn hs_algorithms_need_discovery_and_a_secret() {
        let listed = vec!["RS256".to_owned(), "HS256".to_owned()];
        let with_secret = allowed_algorithms(&listed, "secret");
        assert!(with_secret.contains(&CoreJwsSigningAlgorithm::HmacSha256));
        assert!(!with_secret.contains(&CoreJwsSigningAlgorithm::HmacSha384));
        assert!(!allowed_algorithms(&listed, "").contains(&CoreJwsSigningAlgorithm::HmacSha256));
        let unlisted = allowed_algorithms(&["RS256".to_owned()], "secret");
        assert!(!unlisted.contains(&CoreJwsSigningAlgorithm::HmacSha256));
        assert!(!unlisted.contains(&CoreJwsSigningAlgorithm::None));
        assert!(unlisted.contains(&CoreJwsSigningAlgorithm::EdDsa));
    }

    #[test]
    fn tokens_need_exactly_three_segments() {
        assert!(matches!(segments("a.b"), Err(IdTokenError::Malformed)));
        assert!(matches!(segments("a.b.c.d"), Err(IdTokenError::Malformed)));
        assert!(segments("a.b.").is_ok());
    }
}
