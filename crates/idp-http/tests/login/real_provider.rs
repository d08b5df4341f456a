//! The whole browser path against the real, certified OpenID Provider (`fixtures/oidc-provider`):
//! init sets the cookie, the provider's login and consent forms, complete redirects to the portal
//! with a code, the exchange gives a token, `/api/users/me/` shows the mapped profile (a nested
//! JSON Pointer into a role claim and into a list field), logout answers the provider's logout
//! URL with `id_token_hint`, and the token stops working. With and without PKCE, with both
//! client authentication methods.
//!
//! These tests fail, never skip, when Node.js or the npm packages are missing: run
//! `cargo xtask test` or `npm ci --prefix fixtures/oidc-provider`.

use idp_core::{NewProvider, ProviderEndpoints, ProviderNamePolicy};
use idp_oidc::testing::{RealProvider, RegisteredClient, browser_login};
use idp_store::Backend;
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{
    LoginApp, PORTAL, assert_not_logged, location, param, spawn, status_and_json,
};
use crate::on_both_backends;

on_both_backends!(
    a_browser_logs_in_with_post_and_pkce_and_logs_out,
    a_browser_logs_in_with_basic_without_pkce_and_logs_out,
);

/// A client of the real provider for `provider` on `app`.
fn client(app: &LoginApp, provider: &str, method: &str, pkce: bool) -> RegisteredClient {
    RegisteredClient {
        client_id: format!("{provider}-client"),
        client_secret: format!("{provider}: s3cr%t"),
        redirect_uris: vec![format!("{}/api-auth/{provider}/complete/", app.base)],
        token_endpoint_auth_method: method.to_owned(),
        pkce_required: pkce,
        id_token_signed_response_alg: None,
    }
}

/// Creates the provider, mapping names, email, a list field from a nested claim, and extra
/// fields: through the API (which stores its login metadata), or for `tara` (whose discovery
/// URL must be TARA's own) straight into the store, so the first login fetches the metadata.
async fn create(
    app: &LoginApp,
    name: &str,
    real: &RealProvider,
    client: &RegisteredClient,
    pkce: bool,
) {
    let mut body = json!({
        "provider": name,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "discovery_url": real.discovery_url(),
        "label": name,
        "enable_pkce": pkce,
        "extra_scope": "profile email roles",
        "user_field": "username",
        "user_claim": "sub",
        "attribute_mapping": {
            "first_name": "given_name",
            "last_name": "family_name",
            "email": "email",
            "affiliations": "/realm_access/roles",
        },
        "extra_fields": "preferred_username /realm_access",
        "allowed_redirects": [PORTAL],
    });
    if name == "tara" {
        body["provider"] = json!("generic");
        let document: Value = reqwest::get(real.discovery_url())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let endpoint = |key: &str| document[key].as_str().unwrap_or_default().to_owned();
        let mut provider = NewProvider::parse(&body, &ProviderNamePolicy::AnySlug)
            .unwrap_or_else(|errors| panic!("{errors}"))
            .into_provider(ProviderEndpoints {
                auth_url: endpoint("authorization_endpoint"),
                token_url: endpoint("token_endpoint"),
                userinfo_url: endpoint("userinfo_endpoint"),
                logout_url: endpoint("end_session_endpoint"),
            });
        provider.provider = name.to_owned();
        app.store.insert_provider(&provider).unwrap();
        return;
    }
    let response = app
        .post_json("/api/identity-providers/", Some(&app.staff), &body)
        .await;
    let (status, created) = status_and_json(response).await;
    assert_eq!(status, 201, "{created}");
    let metadata = app
        .store
        .login_metadata(name)
        .unwrap()
        .expect("stored by create");
    assert_eq!(metadata.issuer.as_deref(), Some(real.issuer()));
}

async fn log_in_and_out(backend: Backend, name: &str, method: &str, pkce: bool) {
    let app = spawn(backend, |settings| {
        settings.login.role_claim = Some("/realm_access/roles".into());
    })
    .await;
    let registered = client(&app, name, method, pkce);
    let real = RealProvider::start(std::slice::from_ref(&registered))
        .unwrap_or_else(|error| panic!("{error}"));
    create(&app, name, &real, &registered, pkce).await;
    let login = format!("ada-{name}");

    let begun = app
        .begin(
            name,
            "return_url=https%3A%2F%2Fportal.example.org%2Fprojects&ui_locales=et",
        )
        .await;
    assert!(begun.set_cookie.contains("HttpOnly") && begun.set_cookie.contains("SameSite=Lax"));
    assert_eq!(
        begun.param("code_challenge_method").as_deref(),
        pkce.then_some("S256")
    );
    assert_eq!(begun.param("ui_locales").as_deref(), Some("et"));
    let redirect_uri = format!("{}/api-auth/{name}/complete/", app.base);
    let callback = browser_login(&begun.location, &login, &redirect_uri)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let authorization_code = param(&callback, "code").expect("the provider's code");
    let response = app
        .complete(&begun, callback.query().unwrap_or_default())
        .await;
    assert_eq!(response.status(), 302, "{:?}", response.text().await);
    let target = location(&response);
    assert_eq!(target.origin().ascii_serialization(), PORTAL);
    assert_eq!(target.path(), format!("/oauth_login_completed/{name}/"));
    let code = param(&target, "code").expect("an exchange code");
    assert_eq!(code.len(), 32);

    // The form-encoded exchange, as the reference's tests post it.
    let (status, body) = status_and_json(
        app.post_form("/api-auth/token-exchange/", &[("code", &code)])
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("a token").to_owned();
    assert_eq!(token.len(), 40);

    let (status, me) =
        status_and_json(app.with_token(Method::GET, "/api/users/me/", &token).await).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], login.as_str());
    assert_eq!(me["is_active"], true);
    assert_eq!(me["is_staff"], true, "the nested role claim grants staff");
    assert_eq!(me["registration_method"], name);
    assert_eq!(me["email"], format!("{login}@example.org"));
    assert_eq!(me["last_name"], "Tester");
    assert_eq!(me["affiliations"], json!(["staff", "user"]));
    assert_eq!(
        me["details"]["/realm_access"],
        json!({"roles": ["staff", "user"]})
    );
    assert_eq!(me["details"]["preferred_username"], login.as_str());
    assert_eq!(me.as_object().map(|o| o.len()), Some(28), "{me}");

    let (status, logout) = status_and_json(
        app.with_token(Method::POST, "/api-auth/logout/", &token)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{logout}");
    let url = Url::parse(logout["logout_url"].as_str().unwrap_or_default()).expect("a URL");
    assert!(url.as_str().starts_with(real.issuer()));
    assert_eq!(
        param(&url, "post_logout_redirect_uri").as_deref(),
        Some("https://portal.example.org/login/")
    );
    assert_eq!(param(&url, "client_id"), Some(registered.client_id.clone()));
    let hint = param(&url, "id_token_hint").expect("the ID token as hint");
    assert_eq!(hint.split('.').count(), 3);
    let (status, body) =
        status_and_json(app.with_token(Method::GET, "/api/users/me/", &token).await).await;
    assert_eq!((status, body), (401, json!({"detail": "Invalid token."})));

    // A second login of the same person signs the same user in.
    let again = app.begin(name, "").await;
    let callback = browser_login(&again.location, &login, &redirect_uri)
        .await
        .unwrap();
    let response = app
        .complete(&again, callback.query().unwrap_or_default())
        .await;
    let code = param(&location(&response), "code").expect("an exchange code");
    let second = app.exchange(&code).await;
    let (_, me_again) =
        status_and_json(app.with_token(Method::GET, "/api/users/me/", &second).await).await;
    assert_eq!(me_again, me);
    let users: Value = json!(
        app.database()
            .lines()
            .filter(|row| !row.starts_with("token") && !row.starts_with("code"))
            .count()
    );
    assert_eq!(users, json!(2), "the staff user and the one who logged in");
    let metadata = app.store.login_metadata(name).unwrap().expect("stored");
    assert_eq!(metadata.issuer.as_deref(), Some(real.issuer()));

    assert_not_logged(&[
        &begun.state(),
        &begun.nonce(),
        &authorization_code,
        &code,
        &token,
        &second,
        &hint,
        &format!("{login}@example.org"),
        &registered.client_secret,
    ]);
}

async fn a_browser_logs_in_with_post_and_pkce_and_logs_out(backend: Backend) {
    log_in_and_out(backend, "keycloak", "client_secret_post", true).await;
}

/// `tara` authenticates with `client_secret_basic` (its secret has a `:`, a space and a `%`).
async fn a_browser_logs_in_with_basic_without_pkce_and_logs_out(backend: Backend) {
    log_in_and_out(backend, "tara", "client_secret_basic", false).await;
}
