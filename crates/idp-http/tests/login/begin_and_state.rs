//! Beginning a login and the checks of the callback before anything is sent to the provider:
//! unknown and inactive providers, the authorization request, the cookie, the default init, and
//! every way the state can be wrong. A refused callback creates and changes nothing.

use chrono::TimeDelta;
use idp_oidc::testing::HostileProvider;
use idp_store::Backend;
use serde_json::json;

use crate::helpers::{
    LoginApp, PORTAL, assert_not_logged, hostile_provider, location, spawn, status_and_json,
};
use crate::on_both_backends;

on_both_backends!(
    unknown_and_inactive_providers_are_403,
    init_sends_the_reference_parameters_a_nonce_and_pkce_and_sets_the_cookie,
    the_default_init_uses_the_default_provider_or_falls_back,
    every_wrong_state_is_invalid_auth_state_and_changes_nothing,
    a_transaction_is_consumed_by_the_first_complete_whatever_its_outcome,
    a_missing_code_is_a_field_error_after_the_state_check,
    provider_error_callbacks_go_to_login_failed_or_401,
);

fn invalid_state(provider: &str) -> serde_json::Value {
    json!({"detail": format!("{provider} error: Invalid auth state.")})
}

async fn app_with_provider(backend: Backend) -> (LoginApp, HostileProvider) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    app.store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    (app, idp)
}

async fn unknown_and_inactive_providers_are_403(backend: Backend) {
    let (app, idp) = app_with_provider(backend).await;
    let mut inactive = hostile_provider("sleeping", &idp);
    inactive.is_active = false;
    app.store.insert_provider(&inactive).unwrap();
    for step in ["init", "complete"] {
        let (status, body) =
            status_and_json(app.get(&format!("/api-auth/nobody/{step}/"), &[]).await).await;
        assert_eq!(
            (status, body),
            (403, json!({"detail": "Identity provider is not defined."}))
        );
        let (status, body) =
            status_and_json(app.get(&format!("/api-auth/sleeping/{step}/"), &[]).await).await;
        assert_eq!(
            (status, body),
            (403, json!({"detail": "Identity provider is disabled."}))
        );
    }
    let metrics = app.get("/metrics", &[]).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"idp_login_outcomes_total{outcome="not_defined",provider="unknown"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"idp_login_outcomes_total{outcome="disabled",provider="sleeping"} 2"#)
    );
    assert!(
        !metrics.contains("nobody"),
        "made-up names add no label values"
    );
    assert_eq!(app.store.login_state_counts().unwrap(), (0, 0));
}

async fn init_sends_the_reference_parameters_a_nonce_and_pkce_and_sets_the_cookie(
    backend: Backend,
) {
    let (app, idp) = app_with_provider(backend).await;
    let begun = app
        .begin(
            "hostile",
            "ui_locales=et&return_url=https%3A%2F%2Fportal.example.org%2Fp",
        )
        .await;
    let location = &begun.location;
    assert_eq!(
        format!(
            "{}{}",
            location.origin().ascii_serialization(),
            location.path()
        ),
        format!("{}/auth", idp.issuer())
    );
    let names: Vec<String> = location
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "ui_locales",
            "code_challenge",
            "code_challenge_method",
            "nonce"
        ]
    );
    assert_eq!(begun.param("response_type").as_deref(), Some("code"));
    assert_eq!(
        begun.param("scope").as_deref(),
        Some("openid profile email")
    );
    assert_eq!(
        begun.param("redirect_uri"),
        Some(format!("{}/api-auth/hostile/complete/", app.base))
    );
    assert_eq!(
        begun.param("code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(begun.state().len(), 43);
    assert_eq!(begun.nonce().len(), 43);
    assert_ne!(begun.state(), begun.nonce());
    let cookie = &begun.set_cookie;
    for attribute in ["Path=/api-auth/", "Max-Age=600", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http");
    assert_eq!(app.store.login_state_counts().unwrap(), (1, 0));

    // Over https (the public URL), the cookie is Secure and redirect_uri uses that URL.
    let secure = spawn(backend, |settings| {
        settings.public_url = Some("https://idp.example.org/registry".parse().unwrap());
    })
    .await;
    secure
        .store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    let begun = secure.begin("hostile", "").await;
    assert!(
        begun.set_cookie.contains("; Secure")
            && begun.set_cookie.contains("Path=/registry/api-auth/")
    );
    assert_eq!(
        begun.param("redirect_uri").as_deref(),
        Some("https://idp.example.org/registry/api-auth/hostile/complete/")
    );
}

async fn the_default_init_uses_the_default_provider_or_falls_back(backend: Backend) {
    let idp = HostileProvider::start().await;
    let app = spawn(backend, |settings| {
        settings.login.default_provider = Some("hostile".into())
    })
    .await;
    let fallback = "https://portal.example.org/login/?disableAutoLogin";
    let query = "/api-auth/default/init/?return_url=https%3A%2F%2Fevil.example";
    assert_eq!(
        location(&app.get(query, &[]).await).as_str(),
        fallback,
        "missing"
    );
    let mut provider = hostile_provider("hostile", &idp);
    provider.is_active = false;
    app.store.insert_provider(&provider).unwrap();
    assert_eq!(
        location(&app.get(query, &[]).await).as_str(),
        fallback,
        "inactive"
    );
    assert_eq!(
        app.store.login_state_counts().unwrap(),
        (0, 0),
        "no state stored"
    );
    provider.is_active = true;
    app.store.update_provider(&provider, None).unwrap();
    let response = app.get("/api-auth/default/init/?ui_locales=et", &[]).await;
    assert_eq!(response.status(), 302);
    assert!(
        location(&response)
            .as_str()
            .starts_with(&format!("{}/auth?", idp.issuer()))
    );
    assert_eq!(app.store.login_state_counts().unwrap(), (1, 0));
    let unset = spawn(backend, |_| {}).await;
    assert_eq!(
        location(&unset.get("/api-auth/default/init/", &[]).await).as_str(),
        fallback,
        "unset"
    );
}

async fn every_wrong_state_is_invalid_auth_state_and_changes_nothing(backend: Backend) {
    let (app, idp) = app_with_provider(backend).await;
    app.store
        .insert_provider(&hostile_provider("other", &idp))
        .unwrap();
    let before = app.database();
    let begun = app.begin("hostile", "").await;
    let good = app.callback(&begun, &idp);
    let cases = [
        (
            "missing state",
            app.complete(&begun, &format!("code=c&iss={}", idp.issuer()))
                .await,
        ),
        (
            "wrong state",
            app.complete(&begun, "code=c&state=not-the-state").await,
        ),
        ("replayed", app.complete(&begun, &good).await),
    ];
    for (what, response) in cases {
        let (status, body) = status_and_json(response).await;
        assert_eq!((status, body), (401, invalid_state("hostile")), "{what}");
    }
    // Missing cookie: the state alone is not enough, and it is consumed.
    let begun = app.begin("hostile", "").await;
    let without_cookie = app
        .get(
            &format!("/api-auth/hostile/complete/?{}", app.callback(&begun, &idp)),
            &[],
        )
        .await;
    assert_eq!(
        status_and_json(without_cookie).await,
        (401, invalid_state("hostile"))
    );
    assert_eq!(
        status_and_json(app.complete(&begun, &app.callback(&begun, &idp)).await)
            .await
            .0,
        401
    );
    // Another provider's state and cookie.
    let begun = app.begin("other", "").await;
    let mut elsewhere = begun.clone();
    elsewhere.provider = "hostile".into();
    assert_eq!(
        status_and_json(app.complete(&elsewhere, &app.callback(&begun, &idp)).await).await,
        (401, invalid_state("hostile"))
    );
    // Expired: ten minutes later.
    let begun = app.begin("hostile", "").await;
    app.clock.advance(TimeDelta::minutes(10));
    assert_eq!(
        status_and_json(app.complete(&begun, &app.callback(&begun, &idp)).await).await,
        (401, invalid_state("hostile"))
    );
    assert_eq!(
        idp.requests_to("/token").await.len(),
        0,
        "nothing was sent to the provider"
    );
    assert_eq!(app.database(), before);
    assert_not_logged(&[&begun.state(), &begun.cookie[10..]]);
}

async fn a_transaction_is_consumed_by_the_first_complete_whatever_its_outcome(backend: Backend) {
    let (app, idp) = app_with_provider(backend).await;
    let begun = app.begin("hostile", "").await;
    // The token endpoint answers 503: the login fails, and its transaction is gone.
    let (status, _) =
        status_and_json(app.complete(&begun, &app.callback(&begun, &idp)).await).await;
    assert_eq!(status, 401);
    idp.issue(Some(&idp.key().sign(
        &idp.claims(idp_oidc::rp::Clock::now(&app.clock), &begun.nonce()),
    )));
    let replay = app.complete(&begun, &app.callback(&begun, &idp)).await;
    assert_eq!(
        status_and_json(replay).await,
        (401, invalid_state("hostile"))
    );
    assert_eq!(app.store.login_state_counts().unwrap(), (0, 0));
}

async fn a_missing_code_is_a_field_error_after_the_state_check(backend: Backend) {
    let (app, idp) = app_with_provider(backend).await;
    let before = app.database();
    let begun = app.begin("hostile", "").await;
    let response = app
        .complete(&begun, &format!("state={}", begun.state()))
        .await;
    assert_eq!(
        status_and_json(response).await,
        (400, json!({"code": ["This field may not be null."]}))
    );
    let begun = app.begin("hostile", "").await;
    let response = app
        .complete(&begun, &format!("state={}&code=", begun.state()))
        .await;
    assert_eq!(
        status_and_json(response).await,
        (400, json!({"code": ["This field may not be blank."]}))
    );
    // Without a valid state, the state is what is wrong.
    let response = app.complete(&begun, "").await;
    assert_eq!(
        status_and_json(response).await,
        (401, invalid_state("hostile"))
    );
    assert_eq!(idp.requests_to("/token").await.len(), 0);
    assert_eq!(app.database(), before);
}

async fn provider_error_callbacks_go_to_login_failed_or_401(backend: Backend) {
    let (app, idp) = app_with_provider(backend).await;
    let before = app.database();
    let begun = app.begin("hostile", "").await;
    let query = format!(
        "error=access_denied&error_description=The+user+said+no&state={}",
        begun.state()
    );
    let response = app.complete(&begun, &query).await;
    assert_eq!(response.status(), 302);
    let target = location(&response);
    assert_eq!(
        target.as_str(),
        format!("{PORTAL}/login_failed/?message=The+user+said+no")
    );
    // A return URL that is not allowed: the origin is unknown, so 401 with the provider's error.
    let begun = app
        .begin("hostile", "return_url=https%3A%2F%2Fevil.example")
        .await;
    let query = format!(
        "error=access_denied&error_description=The+user+said+no&state={}",
        begun.state()
    );
    let (status, body) = status_and_json(app.complete(&begun, &query).await).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"detail": "hostile error: access_denied (The user said no)"})
        )
    );
    // A bad state goes first.
    let response = app.complete(&begun, "error=access_denied").await;
    assert_eq!(
        status_and_json(response).await,
        (401, invalid_state("hostile"))
    );
    assert_eq!(idp.requests_to("/token").await.len(), 0);
    assert_eq!(app.database(), before);
}
