//! A whole login against the hostile provider answering right: init, complete, exchange, the
//! profile, logout.

use idp_oidc::rp::Clock;
use idp_oidc::testing::HostileProvider;
use idp_store::Backend;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    PORTAL, assert_not_logged, hostile_provider, location, param, spawn, status_and_json,
};
use crate::on_both_backends;

on_both_backends!(a_login_signs_the_user_in_and_logout_ends_the_token);

async fn a_login_signs_the_user_in_and_logout_ends_the_token(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    app.store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    let begun = app
        .begin(
            "hostile",
            "return_url=https%3A%2F%2Fportal.example.org%2Fpage",
        )
        .await;
    let claims = idp.claims(app.clock.now(), &begun.nonce());
    let id_token = idp.key().sign(&claims);
    idp.issue(Some(&id_token));
    let response = app.complete(&begun, &app.callback(&begun, &idp)).await;
    assert_eq!(response.status(), 302, "{:?}", response.text().await);
    let target = location(&response);
    assert_eq!(target.origin().ascii_serialization(), PORTAL);
    assert_eq!(target.path(), "/oauth_login_completed/hostile/");
    let code = param(&target, "code").expect("a code");
    let token = app.exchange(&code).await;
    let (status, me) =
        status_and_json(app.with_token(Method::GET, "/api/users/me/", &token).await).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "user-7f3a");
    assert_eq!(me["email"], "ada@example.org");
    assert_eq!(me["last_name"], "Lovelace");
    let (status, logout) = status_and_json(
        app.with_token(Method::POST, "/api-auth/logout/", &token)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{logout}");
    let url = url::Url::parse(logout["logout_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        param(&url, "id_token_hint").as_deref(),
        Some(id_token.as_str())
    );
    assert_eq!(
        param(&url, "post_logout_redirect_uri").as_deref(),
        Some("https://portal.example.org/login/")
    );
    let (status, _) =
        status_and_json(app.with_token(Method::GET, "/api/users/me/", &token).await).await;
    assert_eq!(status, 401);
    let _ = json!({});
    assert_not_logged(&[
        &begun.state(),
        &begun.nonce(),
        &code,
        &token,
        &id_token,
        "ada@example.org",
    ]);
}
