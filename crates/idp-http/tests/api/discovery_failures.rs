//! What create and update answer when the discovery document cannot be fetched or used
//! (`docs/decisions.md`, "Errors" and "Discovery fetches"): 400 `{"discovery_url": ["<message>"]}`
//! with the reference's create messages, and nothing stored or changed.

use std::net::TcpListener;

use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{
    As, COLLECTION, Case, Effects, TestApp, idp_document, provider, spawn_app, status_and_json,
};
use crate::on_both_backends;
use idp_store::Backend;

on_both_backends!(
    create_reports_transport_failures_as_unable_to_discover_endpoints,
    create_reports_unusable_documents_as_unable_to_parse_json,
    create_refuses_disallowed_addresses_before_connecting,
    update_with_a_failing_document_leaves_the_row_unchanged,
    missing_null_or_empty_end_session_endpoint_gives_an_empty_logout_url,
);

const TRANSPORT: &str = "Unable to discover endpoints.";
const PARSE: &str = "Unable to parse JSON in discovery response.";

/// `{"discovery_url": ["<message>"]}`.
fn discovery_error(message: &str) -> Value {
    json!({ "discovery_url": [message] })
}

/// A loopback URL on which nothing listens: a port just bound and released.
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/.well-known/openid-configuration")
}

/// Serves `response` at `/<name>/.well-known/openid-configuration` and returns the URL.
async fn serve(app: &TestApp, name: &str, response: ResponseTemplate) -> String {
    let route = format!("/{name}/.well-known/openid-configuration");
    Mock::given(method("GET"))
        .and(path(route.clone()))
        .respond_with(response)
        .mount(&app.idp)
        .await;
    format!("{}{route}", app.idp.uri())
}

/// Serves a valid document for `name` with `key` changed (`None` removes it).
async fn serve_changed(app: &TestApp, name: &str, key: &str, value: Option<Value>) -> String {
    let mut document = idp_document(&app.idp.uri(), name);
    match value {
        Some(value) => document[key] = value,
        None => {
            document.as_object_mut().unwrap().shift_remove(key);
        }
    }
    app.serve_document(name, document).await
}

/// Every failing discovery URL a test uses, with the message it must produce.
async fn transport_failures(app: &TestApp) -> Vec<(String, &'static str, &'static str)> {
    let looping = format!("{}/loop/.well-known/openid-configuration", app.idp.uri());
    vec![
        (refused_url(), TRANSPORT, "connection refused"),
        (
            serve(app, "missing", ResponseTemplate::new(404)).await,
            TRANSPORT,
            "404",
        ),
        (
            serve(
                app,
                "broken",
                ResponseTemplate::new(500).set_body_string("oops"),
            )
            .await,
            TRANSPORT,
            "500",
        ),
        (
            serve(
                app,
                "unavailable",
                ResponseTemplate::new(503).set_body_json(idp_document(&app.idp.uri(), "x")),
            )
            .await,
            TRANSPORT,
            "503 with a valid document in the body",
        ),
        (
            serve(
                app,
                "loop",
                ResponseTemplate::new(302).insert_header("Location", looping.as_str()),
            )
            .await,
            TRANSPORT,
            "a redirect loop",
        ),
        (
            serve(
                app,
                "huge",
                ResponseTemplate::new(200)
                    .insert_header("Content-Type", "application/json")
                    .set_body_string(format!("{{\"pad\": \"{}\"}}", "a".repeat(1024 * 1024 + 1))),
            )
            .await,
            TRANSPORT,
            "a body over 1 MiB",
        ),
    ]
}

async fn unusable_documents(app: &TestApp) -> Vec<(String, &'static str, &'static str)> {
    let html = ResponseTemplate::new(200)
        .insert_header("Content-Type", "text/html")
        .set_body_string("<html><body>Welcome</body></html>");
    let mut rows = vec![
        (serve(app, "html", html).await, PARSE, "an HTML page"),
        (
            serve(app, "empty", ResponseTemplate::new(200)).await,
            PARSE,
            "an empty body",
        ),
        (
            serve(
                app,
                "truncated",
                ResponseTemplate::new(200)
                    .insert_header("Content-Type", "application/json")
                    .set_body_string("{\"issuer\": \"x\","),
            )
            .await,
            PARSE,
            "truncated JSON",
        ),
        (
            serve(
                app,
                "array",
                ResponseTemplate::new(200)
                    .set_body_json(json!([idp_document(&app.idp.uri(), "array")])),
            )
            .await,
            PARSE,
            "a JSON array",
        ),
        (
            serve(
                app,
                "string",
                ResponseTemplate::new(200).set_body_json(json!("hello")),
            )
            .await,
            PARSE,
            "a JSON string",
        ),
        (
            serve(
                app,
                "null",
                ResponseTemplate::new(200).set_body_json(json!(null)),
            )
            .await,
            PARSE,
            "JSON null",
        ),
    ];
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
    ] {
        for (suffix, value) in [
            ("absent", None),
            ("null", Some(json!(null))),
            ("empty", Some(json!(""))),
            ("number", Some(json!(5))),
        ] {
            let name = format!("{}-{suffix}", key.replace('_', "-"));
            rows.push((serve_changed(app, &name, key, value).await, PARSE, key));
        }
    }
    rows
}

fn create_rows<'a>(
    app: &'a TestApp,
    urls: &[(String, &'static str, &'static str)],
) -> Vec<Case<'a>> {
    urls.iter()
        .map(|(url, message, why)| {
            let body = json!({
                "provider": "acme", "client_id": "c", "client_secret": "s",
                "discovery_url": url, "label": "Acme",
            });
            Case::new(Method::POST, COLLECTION, As::Token(&app.staff))
                .json(body)
                .answers(400, discovery_error(message))
                .note(*why)
        })
        .collect()
}

async fn create_reports_transport_failures_as_unable_to_discover_endpoints(backend: Backend) {
    let app = spawn_app(backend).await;
    let urls = transport_failures(&app).await;
    app.check(&create_rows(&app, &urls), Effects::NoWrites)
        .await;
    assert!(app.snapshot().is_empty());
}

async fn create_reports_unusable_documents_as_unable_to_parse_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let urls = unusable_documents(&app).await;
    app.check(&create_rows(&app, &urls), Effects::NoWrites)
        .await;
    assert!(app.snapshot().is_empty());
}

async fn create_refuses_disallowed_addresses_before_connecting(backend: Backend) {
    let app = spawn_app(backend).await;
    let disallowed = |ip: &str| format!("URL host resolves to a disallowed address ({ip}).");
    let well_known = "/.well-known/openid-configuration";
    let redirect_to_metadata = serve(
        &app,
        "to-metadata",
        ResponseTemplate::new(302).insert_header("Location", "http://169.254.169.254/latest/"),
    )
    .await;
    let redirect_to_zero = serve(
        &app,
        "to-zero",
        ResponseTemplate::new(307).insert_header("Location", "http://0.0.0.0:8080/x"),
    )
    .await;
    let rows: Vec<(String, String, &str)> = vec![
        (
            format!("http://169.254.169.254{well_known}"),
            disallowed("169.254.169.254"),
            "cloud metadata (link-local)",
        ),
        (
            format!("https://169.254.169.254:8443{well_known}"),
            disallowed("169.254.169.254"),
            "link-local with a port",
        ),
        (
            format!("http://0.0.0.0{well_known}"),
            disallowed("0.0.0.0"),
            "unspecified",
        ),
        (
            format!("http://224.0.0.1{well_known}"),
            disallowed("224.0.0.1"),
            "multicast",
        ),
        (
            format!("http://255.255.255.255{well_known}"),
            disallowed("255.255.255.255"),
            "broadcast (reserved)",
        ),
        (
            format!("http://240.0.0.1{well_known}"),
            disallowed("240.0.0.1"),
            "reserved",
        ),
        (
            format!("http://[::ffff:169.254.169.254]{well_known}"),
            disallowed("169.254.169.254"),
            "IPv4-mapped IPv6 is judged as IPv4",
        ),
        (
            format!("http://[::]{well_known}"),
            disallowed("::"),
            "IPv6 unspecified",
        ),
        (
            format!("http://[fe80::1]{well_known}"),
            disallowed("fe80::1"),
            "IPv6 link-local",
        ),
        (
            format!("http://[ff02::1]{well_known}"),
            disallowed("ff02::1"),
            "IPv6 multicast",
        ),
        (
            redirect_to_metadata,
            disallowed("169.254.169.254"),
            "a redirect is checked again",
        ),
        (
            redirect_to_zero,
            disallowed("0.0.0.0"),
            "a 307 redirect is checked again",
        ),
    ];
    let cases: Vec<Case> = rows
        .iter()
        .map(|(url, message, why)| {
            let body = json!({
                "provider": "acme", "client_id": "c", "client_secret": "s",
                "discovery_url": url, "label": "Acme",
            });
            Case::new(Method::POST, COLLECTION, As::Token(&app.staff))
                .json(body)
                .answers(400, discovery_error(message))
                .note(*why)
        })
        .collect();
    app.check(&cases, Effects::NoWrites).await;
    assert!(app.snapshot().is_empty());
}

async fn update_with_a_failing_document_leaves_the_row_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    let stored = app.insert(&provider("acme", "Acme"));
    let mut urls = transport_failures(&app).await;
    urls.extend(unusable_documents(&app).await);
    urls.push((
        "http://169.254.169.254/.well-known/openid-configuration".to_owned(),
        "URL host resolves to a disallowed address (169.254.169.254).",
        "cloud metadata",
    ));
    urls.push((
        "http://[::ffff:169.254.169.254]/.well-known/openid-configuration".to_owned(),
        "URL host resolves to a disallowed address (169.254.169.254).",
        "IPv4-mapped cloud metadata",
    ));
    let path = "/api/identity-providers/acme/";
    let staff = As::Token(&app.staff);
    let mut cases = Vec::new();
    for (url, message, why) in &urls {
        cases.extend([
            Case::new(Method::PUT, path, staff)
                .json(json!({
                    "client_id": "new-id", "client_secret": "new-secret",
                    "discovery_url": url, "label": "Changed", "is_active": false,
                }))
                .answers(400, discovery_error(message))
                .note(format!("PUT: {why}")),
            Case::new(Method::PATCH, path, staff)
                .json(json!({"discovery_url": url, "label": "Changed"}))
                .answers(400, discovery_error(message))
                .note(format!("PATCH: {why}")),
            Case::new(Method::PATCH, path, staff)
                .json(json!({"discovery_url": url, "verify_ssl": false}))
                .answers(400, discovery_error(message))
                .note(format!("PATCH without TLS verification: {why}")),
        ]);
    }
    app.check(&cases, Effects::NoWrites).await;
    assert_eq!(
        app.stored("acme"),
        Some(stored),
        "row and version unchanged"
    );
}

async fn missing_null_or_empty_end_session_endpoint_gives_an_empty_logout_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let variants = [
        ("absent", None),
        ("null", Some(json!(null))),
        ("empty", Some(json!(""))),
    ];
    for (suffix, value) in variants.clone() {
        let name = format!("no-logout-{suffix}");
        let url = serve_changed(&app, &name, "end_session_endpoint", value).await;
        let body = json!({
            "provider": name, "client_id": "c", "client_secret": "s",
            "discovery_url": url, "label": name,
        });
        let (status, created) = status_and_json(app.create(&body).await).await;
        assert_eq!(status, 201, "{suffix}: {created}");
        assert_eq!(created["logout_url"], "", "{suffix}");
        assert_eq!(
            created["auth_url"],
            format!("{}/{name}/auth", app.idp.uri()),
            "{suffix}"
        );
        let stored = app.stored(&name).unwrap();
        assert_eq!(stored.provider.endpoints.logout_url, "", "{suffix}");
    }
    // An update to such a document clears a logout URL stored before.
    for (suffix, value) in variants {
        let name = format!("had-logout-{suffix}");
        app.insert(&provider(&name, &name));
        let url = serve_changed(&app, &format!("{name}-doc"), "end_session_endpoint", value).await;
        let response = app
            .request(
                Method::PATCH,
                &format!("/api/identity-providers/{name}/"),
                As::Token(&app.staff),
                Some(&json!({"discovery_url": url})),
            )
            .await;
        let (status, updated) = status_and_json(response).await;
        assert_eq!(status, 200, "{suffix}: {updated}");
        assert_eq!(updated["logout_url"], "", "{suffix}");
        assert_eq!(app.stored(&name).unwrap().provider.endpoints.logout_url, "");
    }
}
