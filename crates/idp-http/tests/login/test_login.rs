//! Admin test logins end to end with the real OpenID Provider through a browser: the report of
//! every step, redacted claims, the mapping preview and the user a login would sign in; no user
//! is created and no token issued; inactive providers can be tested; a wrong secret is reported
//! at the token step. On both databases.

use idp_oidc::testing::{HostileProvider, RealProvider, RegisteredClient, browser_login};
use idp_store::{Backend, Lookup};
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{LoginApp, PORTAL, hostile_provider, logged, spawn, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    a_test_login_reports_every_step_and_signs_nobody_in,
    a_provider_that_refuses_is_reported_at_the_provider_step,
);

const SECRET: &str = "test-login: s3cr%t";

async fn begin(app: &LoginApp, name: &str) -> Url {
    let (status, answer) = status_and_json(
        app.post_json(
            &format!("/api/identity-providers/{name}/test-login/"),
            Some(&app.staff),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    Url::parse(answer["authorization_url"].as_str().unwrap()).unwrap()
}

/// The browser logs in at the provider and follows the callback; the page it gets.
async fn browse(app: &LoginApp, url: &Url, login: &str, name: &str) -> (u16, String) {
    let redirect_uri = format!("{}/api-auth/{name}/complete/", app.base);
    let callback = browser_login(url, login, &redirect_uri)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let response = reqwest::Client::new()
        .get(callback.as_str())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let page = response.text().await.unwrap();
    if status == 200 {
        assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    }
    (status, page)
}

pub async fn report(app: &LoginApp, name: &str) -> (u16, Value) {
    status_and_json(
        app.with_token(
            Method::GET,
            &format!("/api/identity-providers/{name}/test-login/"),
            &app.staff,
        )
        .await,
    )
    .await
}

fn check<'v>(report: &'v Value, name: &str) -> &'v Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["check"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

async fn a_test_login_reports_every_step_and_signs_nobody_in(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let registered = RegisteredClient {
        client_id: "tester".into(),
        client_secret: SECRET.into(),
        redirect_uris: vec![format!("{}/api-auth/real/complete/", app.base)],
        token_endpoint_auth_method: "client_secret_post".into(),
        pkce_required: true,
        id_token_signed_response_alg: None,
    };
    let real = RealProvider::start(&[registered]).unwrap_or_else(|error| panic!("{error}"));
    // Created inactive: nobody can log in with it yet, but staff can test it.
    let body = json!({
        "provider": "real", "client_id": "tester", "client_secret": SECRET, "label": "Real",
        "discovery_url": real.discovery_url(), "enable_pkce": true, "is_active": false,
        "extra_scope": "profile email roles", "allowed_redirects": [PORTAL],
        "attribute_mapping": {"first_name": "given_name", "email": "email",
                              "affiliations": "/realm_access/roles", "organization": "org"},
    });
    let (status, created) = status_and_json(
        app.post_json("/api/identity-providers/", Some(&app.staff), &body)
            .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(report(&app, "real").await.0, 404);

    let url = begin(&app, "real").await;
    assert_eq!(
        url.query_pairs()
            .find(|(key, _)| key == "code_challenge_method")
            .map(|(_, value)| value.into_owned()),
        Some("S256".to_owned())
    );
    let (status, page) = browse(&app, &url, "ada", "real").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Test login: real") && page.contains("No user was created"));
    assert!(
        page.contains("ada@example.org"),
        "the mapped value is shown to that browser"
    );

    let (status, report) = report(&app, "real").await;
    assert_eq!(status, 200, "{report}");
    for name in [
        "state",
        "code",
        "redirect",
        "configuration",
        "issuer",
        "token",
        "id_token",
        "userinfo",
        "user",
    ] {
        assert_eq!(check(&report, name)["status"], "pass", "{name}: {report}");
    }
    assert_eq!(
        check(&report, "user")["detail"],
        "A login would create a new user."
    );
    assert_eq!(report["claims"]["email"], "a…g");
    assert_eq!(
        report["claims"]["sub"],
        "ada".chars().map(|_| "…").collect::<String>()
    );
    assert_eq!(
        report["claims"]["realm_access"],
        json!({"roles": ["s…f", "u…r"]})
    );
    let fields = report["preview"]["fields"].as_array().unwrap();
    let email = fields.iter().find(|f| f["field"] == "email").unwrap();
    assert_eq!(email["value"], "ada@example.org");
    let organization = fields
        .iter()
        .find(|f| f["field"] == "organization")
        .unwrap();
    assert_eq!(organization["skipped"][0]["reason"], "absent");
    assert_eq!(report["user"], Value::Null);
    // Nobody was signed in: no user, no exchange code; the transaction is spent.
    assert!(matches!(
        app.store.find_login_user("username", "ada").unwrap(),
        Lookup::None
    ));
    assert_eq!(app.store.login_state_counts().unwrap(), (0, 0));
    // Once a user has the lookup value, a new test shows that a login would sign them in.
    let url = begin(&app, "real").await;
    app.store.ensure_user("ada", false).unwrap();
    let (status, _) = browse(&app, &url, "ada", "real").await;
    assert_eq!(status, 200);
    let (_, report) = crate::test_login::report(&app, "real").await;
    assert_eq!(check(&report, "user")["status"], "pass");
    assert_eq!(
        check(&report, "user")["detail"],
        "A login would sign in the existing user ada."
    );
    assert_eq!(
        report["user"],
        json!({"username": "ada", "is_active": true, "matched_by": "lookup"})
    );

    // A wrong secret: the report stops at the token step, with the login's message.
    let mut wrong = body.clone();
    wrong["client_secret"] = json!("not-the-secret");
    let (status, _) = status_and_json(
        app.with_token(Method::DELETE, "/api/identity-providers/real/", &app.staff)
            .await,
    )
    .await;
    assert_eq!(status, 204);
    let (status, answer) = status_and_json(
        app.post_json("/api/identity-providers/", Some(&app.staff), &wrong)
            .await,
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let url = begin(&app, "real").await;
    let (status, page) = browse(&app, &url, "bob", "real").await;
    assert_eq!(status, 200, "{page}");
    let (_, report) = crate::test_login::report(&app, "real").await;
    assert_eq!(check(&report, "token")["status"], "fail", "{report}");
    assert!(report["claims"].is_null());
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["check"] != "userinfo")
    );

    // The audit trail: each test login begun by the staff user, ended by the system with its
    // outcome; no secret and no claim value in it.
    let (status, events) = status_and_json(
        app.with_token(
            Method::GET,
            "/api/identity-providers/real/history/?action=test_login",
            &app.staff,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{events}");
    let trail: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|event| {
            (
                event["actor"].as_str().unwrap(),
                event["changes"][0]["after"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            ("staff", "begun"),
            ("system", "passed"),
            ("staff", "begun"),
            ("system", "passed"),
            ("staff", "begun"),
            ("system", "failed"),
        ]
    );
    let text = events.to_string();
    assert!(
        !text.contains(SECRET) && !text.contains("not-the-secret") && !text.contains("example.org")
    );

    // Staff only; unknown providers are 404.
    let user = app.store.ensure_user("someone", false).unwrap();
    let token = app.store.create_token(&user, None).unwrap().key;
    let path = "/api/identity-providers/real/test-login/";
    assert_eq!(
        app.post_json(path, Some(&token), &json!({})).await.status(),
        403
    );
    assert_eq!(app.post_json(path, None, &json!({})).await.status(), 401);
    assert_eq!(
        app.post_json(
            "/api/identity-providers/nope/test-login/",
            Some(&app.staff),
            &json!({})
        )
        .await
        .status(),
        404
    );
    let logs = logged();
    assert!(logs.contains("test login begun"));
    for secret in [SECRET, "not-the-secret", "ada@example.org"] {
        assert!(!logs.contains(secret), "logged: {secret}");
    }
}

/// The provider sends the browser back with `?error=` (the user cancelled, the client is not
/// allowed): the test login's page is still shown, and its report fails at the provider step
/// with the provider's words, after a passed state check; no later step runs, nobody is signed
/// in, and the transaction is spent.
async fn a_provider_that_refuses_is_reported_at_the_provider_step(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    app.store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    let before = app.database();
    let url = begin(&app, "hostile").await;
    let state = url
        .query_pairs()
        .find(|(key, _)| key == "state")
        .map(|(_, value)| value.into_owned())
        .expect("a state");
    let mut callback = Url::parse(&format!("{}/api-auth/hostile/complete/", app.base)).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("state", &state)
        .append_pair("error", "access_denied")
        .append_pair("error_description", "The user cancelled.");
    let response = reqwest::get(callback.as_str()).await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Test login: hostile"), "{page}");
    assert!(page.contains("access_denied"), "{page}");

    let (status, report) = report(&app, "hostile").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(check(&report, "state")["status"], "pass", "{report}");
    assert_eq!(check(&report, "provider")["status"], "fail", "{report}");
    assert_eq!(
        check(&report, "provider")["detail"],
        "The provider refused: access_denied The user cancelled."
    );
    for later in ["code", "token", "id_token", "userinfo"] {
        assert!(
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|check| check["check"] != later),
            "{later} does not run: {report}"
        );
    }
    assert!(report["claims"].is_null(), "{report}");
    assert_eq!(
        idp.requests_to("/token").await.len(),
        0,
        "no code was exchanged"
    );
    assert_eq!(app.database(), before, "nobody signed in, no code issued");
    assert_eq!(app.store.login_state_counts().unwrap(), (0, 0));
}
