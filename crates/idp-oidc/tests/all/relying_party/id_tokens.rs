//! ID token verification: the one valid token passes; every forgery and wrong claim is refused.

use chrono::TimeDelta;
use idp_oidc::rp::{IdTokenError, LoginError};
use idp_oidc::testing::{CLIENT_ID, CLIENT_SECRET, KeyPair, SUBJECT, sign_hs256, unsigned};
use serde_json::{Map, Value, json};

use super::{NONCE, Setup, chain};

/// Completes a login whose token response carries `token`, and returns the ID token's refusal.
async fn refusal_of(setup: &Setup, token: &str) -> IdTokenError {
    setup.provider.issue(Some(token));
    match setup.complete(&setup.rp()).await {
        Err(LoginError::IdToken(error)) => error,
        other => panic!("expected an ID token refusal, got {other:?}"),
    }
}

/// Whether a refusal is the expected one.
type Expectation = fn(&IdTokenError) -> bool;

fn claims(setup: &Setup) -> Map<String, Value> {
    setup.provider.claims(super::start_time(), NONCE)
}

#[tokio::test]
async fn a_valid_token_gives_every_claim_overlaid_by_userinfo() {
    let setup = Setup::new().await;
    setup.issue_signed(&claims(&setup));
    let outcome = setup
        .complete(&setup.rp())
        .await
        .unwrap_or_else(|error| panic!("{}", chain(&error)));
    let id_token = outcome
        .id_token
        .as_ref()
        .map(|token| token.claims().clone());
    let id_token = id_token.unwrap_or_default();
    // The ID token's own claims, nested and non-standard ones included.
    assert_eq!(id_token["sub"], SUBJECT);
    assert_eq!(id_token["realm_access"]["roles"], json!(["staff", "user"]));
    assert_eq!(id_token["urn:example:department"], "research");
    assert_eq!(id_token["nonce"], NONCE);
    // Userinfo wins where both have a claim; the ID token fills in the rest.
    assert_eq!(
        outcome.claims["realm_access"]["roles"],
        json!(["staff", "user", "from-userinfo"])
    );
    assert_eq!(outcome.claims["family_name"], "Lovelace");
    assert_eq!(outcome.claims["urn:example:department"], "research");
    assert_eq!(
        outcome.tokens.access_token().secret(),
        idp_oidc::testing::ACCESS_TOKEN
    );
    assert!(outcome.tokens.refresh_token().is_some());
    let shown = format!("{outcome:?}");
    assert!(!shown.contains("research") && !shown.contains(idp_oidc::testing::ACCESS_TOKEN));
}

#[tokio::test]
async fn a_signature_by_another_key_under_the_published_kid_is_refused() {
    let setup = Setup::new().await;
    let impostor = KeyPair::rsa(setup.provider.key().kid());
    let error = refusal_of(&setup, &impostor.sign(&claims(&setup))).await;
    assert!(matches!(error, IdTokenError::BadSignature), "{error:?}");
}

#[tokio::test]
async fn an_unsigned_token_is_refused_before_any_key_set_fetch() {
    let setup = Setup::new().await;
    let error = refusal_of(&setup, &unsigned(&claims(&setup))).await;
    assert!(
        matches!(error, IdTokenError::DisallowedAlgorithm { ref alg } if alg == "none"),
        "{error:?}"
    );
    assert_eq!(setup.jwks_fetches().await, 0);
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_never_passes() {
    let setup = Setup::new().await;
    let key = setup.provider.key();
    let forged = sign_hs256(
        key.public_pem().as_bytes(),
        Some(key.kid()),
        &claims(&setup),
    );
    // Discovery does not list HS256: refused by algorithm.
    let error = refusal_of(&setup, &forged).await;
    assert!(
        matches!(error, IdTokenError::DisallowedAlgorithm { ref alg } if alg == "HS256"),
        "{error:?}"
    );
    // Discovery lists HS256: the MAC is checked with the client secret, never a JWKS key.
    setup.provider.edit_discovery(|document| {
        document.insert(
            "id_token_signing_alg_values_supported".into(),
            json!(["RS256", "HS256"]),
        );
    });
    let error = refusal_of(&setup, &forged).await;
    assert!(matches!(error, IdTokenError::BadSignature), "{error:?}");
    let jwk_bytes = setup.provider.key().public_jwk().to_string();
    let forged = sign_hs256(jwk_bytes.as_bytes(), None, &claims(&setup));
    let error = refusal_of(&setup, &forged).await;
    assert!(matches!(error, IdTokenError::BadSignature), "{error:?}");
}

#[tokio::test]
async fn hs256_keyed_with_the_client_secret_passes_only_when_discovery_lists_it() {
    let setup = Setup::new().await;
    let token = sign_hs256(CLIENT_SECRET.as_bytes(), None, &claims(&setup));
    let error = refusal_of(&setup, &token).await;
    assert!(
        matches!(error, IdTokenError::DisallowedAlgorithm { .. }),
        "{error:?}"
    );
    setup.provider.edit_discovery(|document| {
        document.insert(
            "id_token_signing_alg_values_supported".into(),
            json!(["HS256"]),
        );
    });
    setup.provider.issue(Some(&token));
    let outcome = setup.complete(&setup.rp()).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    // An empty client secret would let anyone make the MAC.
    let empty = sign_hs256(b"", None, &claims(&setup));
    setup.provider.issue(Some(&empty));
    let outcome = setup
        .complete(&setup.rp_with(|c| c.client_secret.clear()))
        .await;
    assert!(
        matches!(
            outcome,
            Err(LoginError::IdToken(
                IdTokenError::DisallowedAlgorithm { .. }
            ))
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn wrong_issuer_audience_or_authorized_party_is_refused() {
    let setup = Setup::new().await;
    let key = setup.provider.key();
    let with = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut claims = claims(&setup);
        edit(&mut claims);
        key.sign(&claims)
    };
    let cases: Vec<(String, Expectation)> = vec![
        (
            with(&|c| {
                c.insert(
                    "iss".into(),
                    json!(format!("{}/", c["iss"].as_str().unwrap_or_default())),
                );
            }),
            |e| matches!(e, IdTokenError::WrongIssuer),
        ),
        (
            with(&|c| {
                c.insert("aud".into(), json!("another-client"));
            }),
            |e| matches!(e, IdTokenError::WrongAudience),
        ),
        (
            with(&|c| {
                c.insert("aud".into(), json!([CLIENT_ID, "another-client"]));
            }),
            |e| matches!(e, IdTokenError::WrongAuthorizedParty),
        ),
        (
            with(&|c| {
                c.insert("aud".into(), json!([CLIENT_ID, "another-client"]));
                c.insert("azp".into(), json!("another-client"));
            }),
            |e| matches!(e, IdTokenError::WrongAuthorizedParty),
        ),
        (
            with(&|c| {
                c.insert("azp".into(), json!("another-client"));
            }),
            |e| matches!(e, IdTokenError::WrongAuthorizedParty),
        ),
    ];
    for (token, expected) in cases {
        let error = refusal_of(&setup, &token).await;
        assert!(expected(&error), "{error:?}");
    }
    // Several audiences are fine when azp names this client.
    let token = with(&|c| {
        c.insert("aud".into(), json!([CLIENT_ID, "another-client"]));
        c.insert("azp".into(), json!(CLIENT_ID));
    });
    setup.provider.issue(Some(&token));
    assert!(setup.complete(&setup.rp()).await.is_ok());
}

#[tokio::test]
async fn expiry_and_issue_time_allow_120_seconds_of_skew_and_no_more() {
    let setup = Setup::new().await;
    let now = super::start_time();
    let at = |exp: TimeDelta, iat: TimeDelta, nbf: Option<TimeDelta>| {
        let mut claims = claims(&setup);
        claims.insert("exp".into(), json!((now + exp).timestamp()));
        claims.insert("iat".into(), json!((now + iat).timestamp()));
        if let Some(nbf) = nbf {
            claims.insert("nbf".into(), json!((now + nbf).timestamp()));
        }
        setup.provider.key().sign(&claims)
    };
    let seconds = TimeDelta::seconds;
    for token in [
        at(seconds(-100), seconds(-400), None),
        at(seconds(600), seconds(100), None),
        at(seconds(600), seconds(0), Some(seconds(100))),
    ] {
        setup.provider.issue(Some(&token));
        let outcome = setup.complete(&setup.rp()).await;
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    let error = refusal_of(&setup, &at(seconds(-121), seconds(-400), None)).await;
    assert!(matches!(error, IdTokenError::Expired), "{error:?}");
    let error = refusal_of(&setup, &at(seconds(600), seconds(121), None)).await;
    assert!(matches!(error, IdTokenError::NotYetValid), "{error:?}");
    let error = refusal_of(&setup, &at(seconds(600), seconds(0), Some(seconds(121)))).await;
    assert!(matches!(error, IdTokenError::NotYetValid), "{error:?}");
}

#[tokio::test]
async fn the_nonce_must_be_the_one_sent() {
    let setup = Setup::new().await;
    let mut wrong = claims(&setup);
    wrong.insert("nonce".into(), json!("another-nonce"));
    let error = refusal_of(&setup, &setup.provider.key().sign(&wrong)).await;
    assert!(matches!(error, IdTokenError::WrongNonce), "{error:?}");
    let mut missing = claims(&setup);
    missing.remove("nonce");
    let error = refusal_of(&setup, &setup.provider.key().sign(&missing)).await;
    assert!(matches!(error, IdTokenError::WrongNonce), "{error:?}");
}

#[tokio::test]
async fn ed25519_tokens_verify_against_the_published_key() {
    let setup = Setup::new().await;
    let ed = KeyPair::ed25519("ed-1");
    setup.provider.publish(&[setup.provider.key(), &ed]);
    setup.provider.issue(Some(&ed.sign(&claims(&setup))));
    let outcome = setup.complete(&setup.rp()).await;
    let token = outcome.ok().and_then(|outcome| outcome.id_token);
    assert_eq!(token.as_ref().map(|t| t.algorithm()), Some("EdDSA"));
    assert_eq!(token.as_ref().and_then(|t| t.key_id()), Some("ed-1"));
}

#[tokio::test]
async fn malformed_tokens_and_payloads_are_refused() {
    let setup = Setup::new().await;
    for token in ["not-a-jwt", "a.b.c", ""] {
        let error = refusal_of(&setup, token).await;
        assert!(
            matches!(error, IdTokenError::Malformed),
            "{token}: {error:?}"
        );
    }
    let mut without_sub = claims(&setup);
    without_sub.remove("sub");
    let error = refusal_of(&setup, &setup.provider.key().sign(&without_sub)).await;
    assert!(matches!(error, IdTokenError::Malformed), "{error:?}");
}

#[tokio::test]
async fn refusals_name_no_claim_value() {
    let setup = Setup::new().await;
    let mut claims = claims(&setup);
    claims.insert("iss".into(), json!("https://evil.example.com/issuer-value"));
    claims.insert("aud".into(), json!("audience-value"));
    setup.issue_signed(&claims);
    let error = setup.complete(&setup.rp()).await.err();
    let text = error.as_ref().map(|e| chain(e)).unwrap_or_default();
    assert!(!text.is_empty());
    for value in ["evil.example.com", "audience-value", SUBJECT, NONCE] {
        assert!(!text.contains(value), "{text}");
    }
}
