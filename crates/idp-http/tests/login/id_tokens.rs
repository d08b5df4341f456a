//! ID tokens the provider gets wrong or forges: each is refused before userinfo is called or any
//! user is touched.

use chrono::TimeDelta;
use idp_oidc::rp::Clock;
use idp_oidc::testing::{CLIENT_ID, HostileProvider, KeyPair, sign_hs256, unsigned};
use idp_store::Backend;
use serde_json::{Map, Value, json};

use crate::helpers::{LoginApp, hostile_provider, spawn};
use crate::on_both_backends;
use crate::provider_failures::refused;

on_both_backends!(
    forged_and_mis_signed_id_tokens_are_refused,
    wrong_claims_are_refused,
    an_unknown_key_is_fetched_again_once_then_refused,
);

async fn setup(backend: Backend) -> (LoginApp, HostileProvider) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    app.store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    (app, idp)
}

/// The provider's valid claims for `nonce`, changed by `edit`.
fn claims(
    app: &LoginApp,
    idp: &HostileProvider,
    nonce: &str,
    edit: impl FnOnce(&mut Map<String, Value>),
) -> Map<String, Value> {
    let mut claims = idp.claims(app.clock.now(), nonce);
    edit(&mut claims);
    claims
}

async fn forged_and_mis_signed_id_tokens_are_refused(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let stranger = KeyPair::rsa("rsa-1");
    refused(
        &app,
        &idp,
        |nonce| idp.issue(Some(&stranger.sign(&claims(&app, &idp, nonce, |_| {})))),
        "ID token signature is invalid.",
    )
    .await;
    refused(
        &app,
        &idp,
        |nonce| idp.issue(Some(&unsigned(&claims(&app, &idp, nonce, |_| {})))),
        "ID token signing algorithm none is not allowed.",
    )
    .await;
    let pem = idp.key().public_pem().as_bytes().to_vec();
    refused(
        &app,
        &idp,
        |nonce| {
            idp.issue(Some(&sign_hs256(
                &pem,
                Some("rsa-1"),
                &claims(&app, &idp, nonce, |_| {}),
            )))
        },
        "ID token signing algorithm HS256 is not allowed.",
    )
    .await;
    refused(
        &app,
        &idp,
        |_| idp.issue(Some("not.a.jwt")),
        "ID token is malformed.",
    )
    .await;
    assert_eq!(
        idp.requests_to("/userinfo").await.len(),
        0,
        "userinfo is never called"
    );
}

/// A change to an ID token's claims.
type Edit = Box<dyn Fn(&mut Map<String, Value>)>;

async fn wrong_claims_are_refused(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|c| {
                c.insert("iss".into(), json!("https://elsewhere.example.org"));
            }),
            "ID token issuer is invalid.",
        ),
        (
            Box::new(|c| {
                c.insert("aud".into(), json!("another-client"));
            }),
            "ID token audience is invalid.",
        ),
        (
            Box::new(|c| {
                c.insert("aud".into(), json!([CLIENT_ID, "another-client"]));
            }),
            "ID token authorized party is invalid.",
        ),
        (
            Box::new(|c| {
                c.insert("nonce".into(), json!("another-nonce"));
            }),
            "ID token nonce is invalid.",
        ),
        (
            Box::new(|c| {
                c.remove("nonce");
            }),
            "ID token nonce is invalid.",
        ),
    ];
    for (edit, expected) in cases {
        refused(
            &app,
            &idp,
            |nonce| idp.issue(Some(&idp.key().sign(&claims(&app, &idp, nonce, &*edit)))),
            expected,
        )
        .await;
    }
    // Expired: issued long ago, past the 120 s leeway.
    let then = app.clock.now() - TimeDelta::minutes(30);
    refused(
        &app,
        &idp,
        |nonce| idp.issue(Some(&idp.key().sign(&idp.claims(then, nonce)))),
        "ID token has expired.",
    )
    .await;
    assert_eq!(idp.requests_to("/userinfo").await.len(), 0);
}

async fn an_unknown_key_is_fetched_again_once_then_refused(backend: Backend) {
    let (app, idp) = setup(backend).await;
    // A good login fetches the key set once.
    let begun = app.begin("hostile", "").await;
    idp.issue(Some(&idp.key().sign(&claims(
        &app,
        &idp,
        &begun.nonce(),
        |_| {},
    ))));
    assert_eq!(
        app.complete(&begun, &app.callback(&begun, &idp))
            .await
            .status(),
        302
    );
    assert_eq!(idp.requests_to("/jwks").await.len(), 1);
    let rotated = KeyPair::rsa("rsa-2");
    for _ in 0..2 {
        refused(
            &app,
            &idp,
            |nonce| idp.issue(Some(&rotated.sign(&claims(&app, &idp, nonce, |_| {})))),
            "ID token is signed with an unknown key.",
        )
        .await;
    }
    assert_eq!(
        idp.requests_to("/jwks").await.len(),
        2,
        "one refetch, then none within a minute"
    );
}
