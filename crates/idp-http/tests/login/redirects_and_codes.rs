//! Where a login returns (checked before anything is sent to the provider or any user is
//! touched), and the one-time exchange codes: malformed, unknown, replayed and expired codes.

use chrono::TimeDelta;
use idp_oidc::rp::Clock;
use idp_oidc::testing::HostileProvider;
use idp_store::Backend;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{LoginApp, PORTAL, hostile_provider, location, param, spawn, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    return_urls_are_checked_before_anything_changes,
    a_referer_chooses_the_origin_and_the_portal_is_the_fallback,
    exchange_codes_are_single_use_short_lived_and_well_formed,
);

async fn setup(backend: Backend) -> (LoginApp, HostileProvider) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    let mut provider = hostile_provider("hostile", &idp);
    provider.allowed_redirects = vec![PORTAL.into(), "http://localhost:8001".into()];
    app.store.insert_provider(&provider).unwrap();
    (app, idp)
}

/// A successful login; the exchange code's URL.
async fn complete(
    app: &LoginApp,
    idp: &HostileProvider,
    query: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let path = format!("/api-auth/hostile/init/?{query}");
    let response = app.get(&path, headers).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let authorize = location(&response);
    let state = param(&authorize, "state").unwrap();
    idp.issue(Some(&idp.key().sign(
        &idp.claims(app.clock.now(), &param(&authorize, "nonce").unwrap()),
    )));
    let callback = format!(
        "/api-auth/hostile/complete/?code=c&state={state}&iss={}",
        idp.issuer()
    );
    app.get(&callback, &[("cookie", &cookie)]).await
}

async fn return_urls_are_checked_before_anything_changes(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let before = app.database();
    let cases = [
        (
            "javascript%3Aalert(1)",
            "Invalid URL scheme. Only http and https are allowed.",
        ),
        (
            "https%3A%2F%2F",
            "Invalid return URL format. Missing domain.",
        ),
        ("https%3A%2F%2F%5B%3A%3A1", "Invalid return URL format."),
        (
            "https%3A%2F%2Fevil.example%2Fphish",
            "Return URL domain https://evil.example is not in the allowed redirects list.",
        ),
    ];
    for (return_url, message) in cases {
        let (status, body) =
            status_and_json(complete(&app, &idp, &format!("return_url={return_url}"), &[]).await)
                .await;
        assert_eq!(
            (status, body),
            (401, json!({"detail": format!("hostile error: {message}")})),
            "{return_url}"
        );
    }
    assert_eq!(
        idp.requests_to("/token").await.len(),
        0,
        "nothing was sent to the provider"
    );
    assert_eq!(app.database(), before);
    // An allowed origin, any case and path: the lower-cased origin.
    let response = complete(
        &app,
        &idp,
        "return_url=HTTP%3A%2F%2FLOCALHOST%3A8001%2Fx%3Fy",
        &[],
    )
    .await;
    let target = location(&response);
    assert_eq!(
        target.origin().ascii_serialization(),
        "http://localhost:8001"
    );
}

async fn a_referer_chooses_the_origin_and_the_portal_is_the_fallback(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let response = complete(&app, &idp, "", &[("referer", "http://localhost:8001/page")]).await;
    assert_eq!(
        location(&response).origin().ascii_serialization(),
        "http://localhost:8001"
    );
    let response = complete(&app, &idp, "", &[]).await;
    assert_eq!(
        location(&response).origin().ascii_serialization(),
        PORTAL,
        "the first allowed"
    );
    // Without allowed redirects, the portal (IDP_HOMEPORT_URL), whatever the return URL says.
    app.store
        .update_provider(&hostile_provider("hostile", &idp), None)
        .unwrap();
    let mut unrestricted = hostile_provider("hostile", &idp);
    unrestricted.allowed_redirects = Vec::new();
    app.store.update_provider(&unrestricted, None).unwrap();
    let response = complete(&app, &idp, "return_url=https%3A%2F%2Fevil.example", &[]).await;
    assert_eq!(location(&response).origin().ascii_serialization(), PORTAL);
}

async fn exchange_codes_are_single_use_short_lived_and_well_formed(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let invalid = json!({"detail": "Invalid or expired exchange code."});
    let post = |body: serde_json::Value| {
        let app = &app;
        async move {
            status_and_json(
                app.post_json("/api-auth/token-exchange/", None, &body)
                    .await,
            )
            .await
        }
    };
    for (body, error) in [
        (
            json!({"code": "not-a-uuid"}),
            json!({"code": ["Must be a valid UUID."]}),
        ),
        (
            json!({"code": 42}),
            json!({"code": ["Must be a valid UUID."]}),
        ),
        (json!({}), json!({"code": ["This field is required."]})),
        (
            json!({"code": null}),
            json!({"code": ["This field may not be null."]}),
        ),
        (
            json!([1]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
    ] {
        assert_eq!(post(body.clone()).await, (400, error), "{body}");
    }
    assert_eq!(
        post(json!({"code": "0123456789abcdef0123456789abcdef"})).await,
        (400, invalid.clone()),
        "unknown"
    );

    // A dashed UUID works, once.
    let code = param(&location(&complete(&app, &idp, "", &[]).await), "code").unwrap();
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &code[..8],
        &code[8..12],
        &code[12..16],
        &code[16..20],
        &code[20..]
    );
    let (status, body) = post(json!({"code": dashed.to_uppercase()})).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        post(json!({"code": code})).await,
        (400, invalid.clone()),
        "replayed"
    );
    let tokens_before = app.database();

    // Thirty seconds later a code has expired, and is consumed all the same.
    let code = param(&location(&complete(&app, &idp, "", &[]).await), "code").unwrap();
    app.clock.advance(TimeDelta::seconds(30));
    let before = app.database();
    assert_eq!(
        post(json!({"code": code})).await,
        (400, invalid.clone()),
        "expired"
    );
    assert_eq!(
        app.database().lines().count(),
        before.lines().count() - 1,
        "the code is gone"
    );
    assert!(!app.database().contains("code "), "no code left");
    assert_eq!(
        app.database()
            .lines()
            .filter(|l| l.starts_with("token"))
            .count(),
        tokens_before
            .lines()
            .filter(|l| l.starts_with("token"))
            .count()
    );

    let (status, _) =
        status_and_json(app.with_token(Method::GET, "/api/users/me/", &token).await).await;
    assert_eq!(status, 200);
}
