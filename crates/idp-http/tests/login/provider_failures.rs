//! The provider answering wrong at the token and userinfo endpoints, or living at an address the
//! SSRF guard refuses: each is a 401 in the reference's words, and nothing is created or changed.

use std::time::Duration;

use idp_oidc::rp::Clock;
use idp_oidc::testing::{HostileProvider, Reply, closed_port_url, token_body};
use idp_store::Backend;
use serde_json::{Value, json};

use crate::helpers::{LoginApp, assert_not_logged, hostile_provider, spawn, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    token_endpoint_failures_are_worded_as_the_reference,
    userinfo_failures_are_refused,
    endpoints_at_refused_addresses_are_never_called,
);

/// Begins a login, lets `arrange` set the provider's answers (given the login's nonce), completes
/// it, and checks the 401 detail and that the database did not change.
pub async fn refused(
    app: &LoginApp,
    idp: &HostileProvider,
    arrange: impl FnOnce(&str),
    expected: &str,
) {
    let before = app.database();
    let begun = app.begin("hostile", "").await;
    arrange(&begun.nonce());
    let response = app.complete(&begun, &app.callback(&begun, idp)).await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(
        (status, body),
        (401, json!({"detail": format!("hostile error: {expected}")})),
        "expected {expected}"
    );
    assert_eq!(app.database(), before, "{expected}: the database changed");
    assert_not_logged(&[&begun.state(), &begun.nonce()]);
}

async fn setup(backend: Backend, timeout: Option<Duration>) -> (LoginApp, HostileProvider) {
    let app = spawn(backend, |settings| {
        if let Some(timeout) = timeout {
            settings.login.provider_timeout = timeout;
        }
    })
    .await;
    let idp = HostileProvider::start().await;
    app.store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    (app, idp)
}

async fn token_endpoint_failures_are_worded_as_the_reference(backend: Backend) {
    let (app, idp) = setup(backend, Some(Duration::from_millis(300))).await;
    let without_token = {
        let mut body = token_body(None);
        body.as_object_mut().map(|o| o.remove("access_token"));
        body
    };
    let cases: Vec<(Reply, &str)> = vec![
        (
            Reply::raw(200, "text/html", "<html>hi</html>"),
            "Unable to parse JSON in authentication response.",
        ),
        (
            Reply::json(
                400,
                &json!({"error": "invalid_grant", "error_description": "Code expired"}),
            ),
            "invalid_grant (Code expired)",
        ),
        (
            Reply::json(401, &json!({"error": "invalid_client"})),
            "invalid_client",
        ),
        (
            Reply::raw(502, "text/plain", "gateway"),
            "Message: Bad Gateway, status code: 502",
        ),
        (
            Reply::json(200, &without_token),
            "Authentication response does not contain token.",
        ),
        (
            Reply::json(200, &token_body(None)).delayed(Duration::from_secs(3)),
            "Unable to send authentication request.",
        ),
    ];
    for (reply, expected) in cases {
        refused(&app, &idp, |_| idp.reply_to_token(reply), expected).await;
    }
    // The token endpoint is down.
    let mut down = hostile_provider("hostile", &idp);
    down.endpoints.token_url = closed_port_url("/token");
    app.store.update_provider(&down, None).unwrap();
    refused(&app, &idp, |_| {}, "Unable to send authentication request.").await;
}

async fn userinfo_failures_are_refused(backend: Backend) {
    let (app, idp) = setup(backend, None).await;
    let now = app.clock.now();
    let sign = |nonce: &str| idp.issue(Some(&idp.key().sign(&idp.claims(now, nonce))));
    let mut other: Value = idp_oidc::testing::default_userinfo();
    other["sub"] = json!("someone-else");
    let cases: Vec<(Reply, &str)> = vec![
        (
            Reply::json(200, &other),
            "User info subject does not match the ID token subject.",
        ),
        (
            Reply::raw(200, "text/plain", "not json"),
            "Unable to parse JSON in user info response.",
        ),
        (
            Reply::raw(500, "text/plain", "oops"),
            "Message: Internal Server Error, status code: 500",
        ),
    ];
    for (reply, expected) in cases {
        refused(
            &app,
            &idp,
            |nonce| {
                sign(nonce);
                idp.reply_to_userinfo(reply);
            },
            expected,
        )
        .await;
    }
}

async fn endpoints_at_refused_addresses_are_never_called(backend: Backend) {
    let (app, idp) = setup(backend, None).await;
    // Link-local (cloud metadata) and unspecified addresses are refused by the guard before any
    // connection is made, even though the tests allow loopback.
    for url in [
        "http://169.254.169.254/token",
        "http://0.0.0.0:9/token",
        "http://[fe80::1]/token",
    ] {
        let mut provider = hostile_provider("hostile", &idp);
        provider.endpoints.token_url = url.to_owned();
        app.store.update_provider(&provider, None).unwrap();
        refused(&app, &idp, |_| {}, "Unable to send authentication request.").await;
    }
    let mut provider = hostile_provider("hostile", &idp);
    provider.endpoints.userinfo_url = "http://169.254.169.254/userinfo".to_owned();
    app.store.update_provider(&provider, None).unwrap();
    let now = app.clock.now();
    refused(
        &app,
        &idp,
        |nonce| idp.issue(Some(&idp.key().sign(&idp.claims(now, nonce)))),
        "Unable to send user info request.",
    )
    .await;
    assert!(idp_oidc::guard::is_refused(
        "169.254.169.254".parse().unwrap()
    ));
}
