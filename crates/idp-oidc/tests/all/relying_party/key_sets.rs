//! The key-set cache: fetched on first use, refetched once on an unknown key, then not again
//! within the minute; its key ids and change times are visible.

use chrono::TimeDelta;
use idp_oidc::rp::{CallError, IdTokenError, LoginError, REFETCH_INTERVAL};
use idp_oidc::testing::KeyPair;
use serde_json::json;

use super::{NONCE, Setup};

async fn verify(setup: &Setup, token: &str) -> Result<(), IdTokenError> {
    setup.rp().verify_id_token(token, NONCE).await.map(|_| ())
}

#[tokio::test]
async fn an_unknown_key_is_refetched_once_a_minute_at_most() {
    let setup = Setup::new().await;
    let claims = setup.provider.claims(super::start_time(), NONCE);
    let known = setup.provider.key().sign(&claims);
    assert!(verify(&setup, &known).await.is_ok());
    assert!(verify(&setup, &known).await.is_ok());
    assert_eq!(setup.jwks_fetches().await, 1, "fetched on first use only");

    // A token under a key the provider does not publish: one refetch, then a refusal.
    let rotated = KeyPair::rsa("rsa-2");
    let unknown = rotated.sign(&claims);
    let error = verify(&setup, &unknown).await.err();
    assert!(
        matches!(
            error,
            Some(IdTokenError::UnknownKey {
                refetch_refused: false
            })
        ),
        "{error:?}"
    );
    assert_eq!(setup.jwks_fetches().await, 2);

    // The provider rotates to that key, but within the minute no refetch is allowed.
    setup.provider.publish(&[&rotated]);
    setup
        .clock
        .advance(REFETCH_INTERVAL - TimeDelta::seconds(1));
    let error = verify(&setup, &unknown).await.err();
    assert!(
        matches!(
            error,
            Some(IdTokenError::UnknownKey {
                refetch_refused: true
            })
        ),
        "{error:?}"
    );
    assert_eq!(setup.jwks_fetches().await, 2);

    // A minute after the last refetch, the next unknown key fetches again and the token passes.
    setup.clock.advance(TimeDelta::seconds(1));
    let claims = setup.provider.claims(setup_now(&setup), NONCE);
    assert!(verify(&setup, &rotated.sign(&claims)).await.is_ok());
    assert_eq!(setup.jwks_fetches().await, 3);
    // The old key is gone from the set now.
    let error = verify(&setup, &setup.provider.key().sign(&claims))
        .await
        .err();
    assert!(
        matches!(error, Some(IdTokenError::UnknownKey { .. })),
        "{error:?}"
    );
}

fn setup_now(setup: &Setup) -> chrono::DateTime<chrono::Utc> {
    use idp_oidc::rp::Clock;
    setup.clock.now()
}

#[tokio::test]
async fn the_cache_reports_key_ids_and_when_they_changed() {
    let setup = Setup::new().await;
    let uri = setup.provider.jwks_uri();
    assert_eq!(setup.jwks.snapshot(&uri, true), None);
    let claims = setup.provider.claims(super::start_time(), NONCE);
    assert!(
        verify(&setup, &setup.provider.key().sign(&claims))
            .await
            .is_ok()
    );
    let first = setup.jwks.snapshot(&uri, true);
    assert_eq!(
        first.as_ref().map(|s| s.key_ids.clone()),
        Some(vec!["rsa-1".to_owned()])
    );
    assert_eq!(
        first.as_ref().map(|s| s.changed_at),
        Some(super::start_time())
    );

    // Fetched again unchanged: the change time stays.
    setup.clock.advance(TimeDelta::minutes(5));
    let url = url::Url::parse(&uri).unwrap_or_else(|e| panic!("{e}"));
    let policy = idp_oidc::testing::loopback_policy();
    let again = setup.jwks.refresh(&url, true, &policy).await.ok();
    assert_eq!(
        again.as_ref().map(|s| s.changed_at),
        Some(super::start_time())
    );
    assert_eq!(again.as_ref().map(|s| s.fetches), Some(2));

    // Rotated: new ids, new change time.
    let next = KeyPair::ed25519("ed-2");
    setup.provider.publish(&[setup.provider.key(), &next]);
    setup.clock.advance(TimeDelta::minutes(5));
    let rotated = setup.jwks.refresh(&url, true, &policy).await.ok();
    assert_eq!(
        rotated.as_ref().map(|s| s.key_ids.clone()),
        Some(vec!["ed-2".to_owned(), "rsa-1".to_owned()])
    );
    assert_eq!(
        rotated.as_ref().map(|s| s.changed_at),
        Some(super::start_time() + TimeDelta::minutes(10))
    );
}

#[tokio::test]
async fn a_key_set_older_than_an_hour_is_fetched_again() {
    let setup = Setup::new().await;
    let claims = setup.provider.claims(super::start_time(), NONCE);
    let token = setup.provider.key().sign(&claims);
    assert!(verify(&setup, &token).await.is_ok());
    // The provider withdrew its key; an hour later the cache notices.
    setup.provider.publish(&[&KeyPair::ed25519("ed-3")]);
    setup.clock.advance(TimeDelta::minutes(59));
    let claims = setup.provider.claims(setup_now(&setup), NONCE);
    let token = setup.provider.key().sign(&claims);
    assert!(verify(&setup, &token).await.is_ok());
    setup.clock.advance(TimeDelta::minutes(2));
    let claims = setup.provider.claims(setup_now(&setup), NONCE);
    let token = setup.provider.key().sign(&claims);
    let error = verify(&setup, &token).await.err();
    assert!(
        matches!(error, Some(IdTokenError::UnknownKey { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_missing_or_broken_key_set_refuses_the_token() {
    let setup = Setup::new().await;
    let claims = setup.provider.claims(super::start_time(), NONCE);
    let token = setup.provider.key().sign(&claims);
    setup.provider.issue(Some(&token));
    let outcome = setup.complete(&setup.rp_with(|c| c.jwks_uri = None)).await;
    assert!(
        matches!(outcome, Err(LoginError::IdToken(IdTokenError::NoKeySet))),
        "{outcome:?}"
    );
    setup
        .provider
        .publish_raw(json!(["not", "a", "key", "set"]));
    let error = verify(&setup, &token).await.err();
    assert!(
        matches!(error, Some(IdTokenError::KeySet(CallError::NotAnObject))),
        "{error:?}"
    );
    let outcome = setup.complete(&setup.rp_with(|c| c.issuer = None)).await;
    assert!(
        matches!(outcome, Err(LoginError::Callback(_))),
        "an iss parameter cannot be checked without an issuer: {outcome:?}"
    );
}
