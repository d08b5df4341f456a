//! Running logins in production: the per-address rate limit, absolute URLs that a `Host` header
//! cannot plant, two instances on one database, JSON Pointers checked when a mapping is saved.

use std::sync::Arc;

use chrono::TimeDelta;
use idp_oidc::rp::Clock;
use idp_oidc::testing::HostileProvider;
use idp_store::Backend;
use idp_store::testing::TestDatabase;
use serde_json::json;

use crate::helpers::{hostile_provider, location, param, spawn, spawn_on, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    the_login_routes_are_rate_limited_per_address,
    host_headers_cannot_plant_links_or_redirect_uris,
    a_login_begun_on_one_instance_completes_on_another,
    malformed_claim_pointers_are_refused_when_a_provider_is_saved,
);

async fn the_login_routes_are_rate_limited_per_address(backend: Backend) {
    let app = spawn(backend, |settings| settings.login.rate_limit = 2).await;
    for _ in 0..2 {
        assert_eq!(app.get("/api-auth/nobody/init/", &[]).await.status(), 403);
    }
    let response = app.get("/api-auth/token-exchange/", &[]).await;
    assert_eq!(response.headers()["retry-after"], "1");
    let body = status_and_json(response).await;
    assert_eq!(
        body,
        (
            429,
            json!({"detail": "Request was throttled. Expected available in 1 second."})
        )
    );
    // Other routes are not limited.
    assert_eq!(app.get("/api/identity-providers/", &[]).await.status(), 200);
    // Half a second later one more request may go.
    app.clock.advance(TimeDelta::milliseconds(500));
    assert_eq!(app.get("/api-auth/nobody/init/", &[]).await.status(), 403);
    assert_eq!(app.get("/api-auth/nobody/init/", &[]).await.status(), 429);
    // A longer quiet spell restores the whole burst; a smaller rate means longer waits.
    app.clock.advance(TimeDelta::seconds(5));
    assert_eq!(app.get("/api-auth/nobody/init/", &[]).await.status(), 403);
    let slow = spawn(backend, |settings| settings.login.rate_limit = 1).await;
    assert_eq!(slow.get("/api-auth/nobody/init/", &[]).await.status(), 403);
    let (status, body) = status_and_json(slow.get("/api-auth/nobody/init/", &[]).await).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (
            429,
            json!("Request was throttled. Expected available in 1 second.")
        )
    );
}

async fn host_headers_cannot_plant_links_or_redirect_uris(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    app.store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    let invalid = |host: &str| {
        (
            400,
            json!({"detail": format!("Invalid HTTP_HOST header: '{host}'.")}),
        )
    };
    for host in [
        "evil.example>; rel=\"next\", <http://elsewhere",
        "evil.example/path",
        "a b",
        "host:99999",
    ] {
        let list = app.get("/api/identity-providers/", &[("host", host)]).await;
        assert_eq!(status_and_json(list).await, invalid(host), "{host}");
        let init = app.get("/api-auth/hostile/init/", &[("host", host)]).await;
        assert_eq!(status_and_json(init).await, invalid(host), "{host}");
    }
    assert_eq!(app.store.login_state_counts().unwrap(), (0, 0));
    // X-Forwarded-* do not count unless trusted.
    let forwarded = [
        ("host", "api.example.org:8443"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
    ];
    let list = app
        .get("/api/identity-providers/?page_size=1", &forwarded)
        .await;
    let link = list.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.starts_with("<http://api.example.org:8443/api/identity-providers/"),
        "{link}"
    );
    let init = app.get("/api-auth/hostile/init/", &forwarded).await;
    let redirect_uri = param(&location(&init), "redirect_uri");
    assert_eq!(
        redirect_uri.as_deref(),
        Some("http://api.example.org:8443/api-auth/hostile/complete/")
    );

    let trusting = spawn(backend, |settings| settings.trust_forwarded_headers = true).await;
    trusting
        .store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    let init = trusting.get("/api-auth/hostile/init/", &forwarded).await;
    assert!(
        init.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
    let redirect_uri = param(&location(&init), "redirect_uri");
    assert_eq!(
        redirect_uri.as_deref(),
        Some("https://evil.example/api-auth/hostile/complete/")
    );
    let planted = [("x-forwarded-host", "evil.example>; rel=\"next\"")];
    assert_eq!(
        status_and_json(trusting.get("/api/identity-providers/", &planted).await).await,
        invalid("evil.example>; rel=\"next\"")
    );

    // With a public URL, no header counts.
    let public = spawn(backend, |settings| {
        settings.public_url = Some("https://registry.example.org".parse().unwrap());
        settings.trust_forwarded_headers = true;
    })
    .await;
    let list = public
        .get(
            "/api/identity-providers/",
            &[
                ("host", "evil.example>"),
                ("x-forwarded-host", "evil.example"),
            ],
        )
        .await;
    assert!(
        list.headers()["link"]
            .to_str()
            .unwrap()
            .starts_with("<https://registry.example.org/api/identity-providers/>")
    );
}

async fn a_login_begun_on_one_instance_completes_on_another(backend: Backend) {
    let db = Arc::new(
        tokio::task::spawn_blocking(move || TestDatabase::new(backend))
            .await
            .unwrap(),
    );
    let first = spawn_on(db.clone(), |_| {}).await;
    let second = spawn_on(db, |_| {}).await;
    let idp = HostileProvider::start().await;
    first
        .store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    let begun = first.begin("hostile", "").await;
    idp.issue(Some(
        &idp.key()
            .sign(&idp.claims(second.clock.now(), &begun.nonce())),
    ));
    let response = second
        .complete(&begun, &second.callback(&begun, &idp))
        .await;
    assert_eq!(response.status(), 302, "{:?}", response.text().await);
    let code = param(&location(&response), "code").unwrap();
    let token = first.exchange(&code).await;
    let me = second
        .with_token(reqwest::Method::GET, "/api/users/me/", &token)
        .await;
    assert_eq!(status_and_json(me).await.1["username"], "user-7f3a");
    // The transaction was consumed for both.
    let replay = first.complete(&begun, &first.callback(&begun, &idp)).await;
    assert_eq!(replay.status(), 401);
}

async fn malformed_claim_pointers_are_refused_when_a_provider_is_saved(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    let message = "Invalid JSON Pointer \"/a~2b\": \"~\" must be followed by \"0\" or \"1\".";
    let body = json!({
        "provider": "generic", "client_id": "c", "client_secret": "s", "label": "G",
        "discovery_url": idp.discovery_url(),
        "user_claim": "/a~2b", "extra_fields": "ok /a~2b",
        "attribute_mapping": {"email": "/a~2b"},
    });
    let (status, errors) = status_and_json(
        app.post_json("/api/identity-providers/", Some(&app.staff), &body)
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(errors["user_claim"], json!([message]));
    assert_eq!(errors["extra_fields"], json!([message]));
    assert_eq!(
        errors["attribute_mapping"],
        json!([format!(
            "Attribute mapping value for 'email' is invalid: {message}"
        )])
    );
    assert!(app.store.all_providers().unwrap().is_empty());
    let good = json!({
        "provider": "generic", "client_id": "c", "client_secret": "s", "label": "G",
        "discovery_url": idp.discovery_url(),
        "user_claim": "sub", "attribute_mapping": {"affiliations": "/realm_access/roles", "email": "mail email"},
    });
    let (status, created) = status_and_json(
        app.post_json("/api/identity-providers/", Some(&app.staff), &good)
            .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let patch = reqwest::Client::new()
        .patch(format!("{}/api/identity-providers/generic/", app.base))
        .header("Authorization", format!("Token {}", app.staff))
        .json(&json!({"user_claim": "/~"}))
        .send()
        .await
        .unwrap();
    let (status, errors) = status_and_json(patch).await;
    assert_eq!(status, 400);
    assert_eq!(
        errors["user_claim"][0],
        "Invalid JSON Pointer \"/~\": \"~\" must be followed by \"0\" or \"1\"."
    );
}
