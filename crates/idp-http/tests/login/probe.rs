//! Probing providers end to end: the real OpenID Provider with the right and a wrong client
//! secret, PKCE on and off, a mapping with a claim it does not offer; hostile loopback servers
//! (a refused address, an HTML answer, a server that never answers, bad key sets, odd token
//! answers). Every answer is a list of checks in a fixed order, never a 5xx, and never holds
//! the secret.

use std::io::{Read, Write};
use std::net::TcpListener;

use idp_oidc::rp::PROBE_CHECKS;
use idp_oidc::testing::{
    CLIENT_SECRET, HostileProvider, KeyPair, RealProvider, RegisteredClient, Reply, closed_port_url,
};
use idp_store::Backend;
use serde_json::{Value, json};

use crate::helpers::{LoginApp, hostile_provider, logged, spawn, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    the_real_provider_passes_with_the_right_secret_and_fails_with_a_wrong_one,
    hostile_answers_are_failed_checks_never_errors,
    verify_ssl_off_skips_the_https_check_and_nothing_else,
);

const SECRET: &str = "probe: s3cr%t-of-the-client";

/// `check → (status, detail)` of a probe's answer, after checking its order.
fn statuses(answer: &Value) -> Vec<(String, String, String)> {
    let checks = answer
        .as_array()
        .unwrap_or_else(|| panic!("a list: {answer}"));
    let names: Vec<&str> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(names, PROBE_CHECKS, "{answer}");
    checks
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                c["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn status_of<'a>(checks: &'a [(String, String, String)], name: &str) -> (&'a str, &'a str) {
    let (_, status, detail) = checks.iter().find(|(check, ..)| check == name).unwrap();
    (status, detail)
}

async fn probe(app: &LoginApp, path: &str, body: &Value) -> Vec<(String, String, String)> {
    let (status, answer) = status_and_json(app.post_json(path, Some(&app.staff), body).await).await;
    assert_eq!(status, 200, "{answer}");
    assert!(!answer.to_string().contains(SECRET), "the secret is shown");
    assert!(
        !answer.to_string().contains(CLIENT_SECRET),
        "the secret is shown"
    );
    statuses(&answer)
}

fn body(real_discovery: &str, client_id: &str, secret: &str, pkce: bool) -> Value {
    json!({
        "provider": "real",
        "client_id": client_id,
        "client_secret": secret,
        "discovery_url": real_discovery,
        "label": "Real",
        "enable_pkce": pkce,
        "extra_scope": "profile email roles",
        "attribute_mapping": {
            "first_name": "given_name",
            "email": "email",
            "affiliations": "/realm_access/roles",
            "organization": "employee_organization",
        },
    })
}

async fn the_real_provider_passes_with_the_right_secret_and_fails_with_a_wrong_one(
    backend: Backend,
) {
    let app = spawn(backend, |_| {}).await;
    let registered = |id: &str, method: &str, pkce: bool| RegisteredClient {
        client_id: id.to_owned(),
        client_secret: SECRET.to_owned(),
        redirect_uris: vec![format!("{}/api-auth/real/complete/", app.base)],
        token_endpoint_auth_method: method.to_owned(),
        pkce_required: pkce,
        id_token_signed_response_alg: None,
    };
    let clients = [
        registered("post-pkce", "client_secret_post", true),
        registered("basic", "client_secret_basic", false),
    ];
    let real = RealProvider::start(&clients).unwrap_or_else(|error| panic!("{error}"));

    // Stored, with PKCE and a mapped claim the provider does not offer.
    let created = body(&real.discovery_url(), "post-pkce", SECRET, true);
    let (status, answer) = status_and_json(
        app.post_json("/api/identity-providers/", Some(&app.staff), &created)
            .await,
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let checks = probe(&app, "/api/identity-providers/real/probe/", &json!({})).await;
    assert_eq!(status_of(&checks, "discovery").0, "pass");
    assert_eq!(status_of(&checks, "issuer").0, "pass");
    // Plain http, on loopback.
    assert_eq!(status_of(&checks, "https").0, "warn");
    assert_eq!(status_of(&checks, "endpoints").0, "pass");
    assert_eq!(status_of(&checks, "jwks").0, "pass", "{checks:?}");
    assert_eq!(status_of(&checks, "pkce").0, "pass");
    assert_eq!(status_of(&checks, "scopes").0, "pass", "{checks:?}");
    assert_eq!(
        status_of(&checks, "claims"),
        ("warn", "Not in claims_supported: employee_organization.")
    );
    let (status, detail) = status_of(&checks, "client_credentials");
    assert_eq!(status, "pass", "{detail}");
    assert!(detail.contains("client_secret_post"), "{detail}");

    // The same configuration as a draft with a wrong secret: the client is refused.
    let wrong = body(&real.discovery_url(), "post-pkce", "not-the-secret", true);
    let checks = probe(&app, "/api/identity-providers/probe/", &wrong).await;
    let (status, detail) = status_of(&checks, "client_credentials");
    assert_eq!(status, "fail", "{detail}");
    assert!(detail.contains("invalid_client"), "{detail}");
    assert!(!detail.contains("not-the-secret"));

    // PKCE off: PKCE is not checked, the credentials pass (sent as a login sends them,
    // client_secret_post, which the provider accepts from this client too).
    let mut basic = body(&real.discovery_url(), "basic", SECRET, false);
    basic["attribute_mapping"] = json!({"email": "email"});
    let checks = probe(&app, "/api/identity-providers/probe/", &basic).await;
    assert_eq!(status_of(&checks, "pkce").0, "skipped");
    assert_eq!(status_of(&checks, "claims").0, "pass");
    let (status, detail) = status_of(&checks, "client_credentials");
    assert_eq!(status, "pass", "{detail}");
    // An unknown client id is refused too.
    let unknown = body(&real.discovery_url(), "nobody", SECRET, false);
    let checks = probe(&app, "/api/identity-providers/probe/", &unknown).await;
    assert_eq!(status_of(&checks, "client_credentials").0, "fail");

    // Bad drafts and callers get 4xx.
    let (status, answer) = status_and_json(
        app.post_json(
            "/api/identity-providers/probe/",
            Some(&app.staff),
            &json!({"provider": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["client_id"], json!(["This field is required."]));
    let (status, _) = status_and_json(
        app.post_json(
            "/api/identity-providers/nope/probe/",
            Some(&app.staff),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    for path in [
        "/api/identity-providers/real/probe/",
        "/api/identity-providers/probe/",
    ] {
        let response = app.post_json(path, None, &basic).await;
        assert_eq!(response.status(), 401, "{path}");
    }
    not_logged(&[SECRET, "not-the-secret"]);
}

/// Probes were logged, and none of `secrets` was.
fn not_logged(secrets: &[&str]) {
    let logs = logged();
    assert!(logs.contains("provider probed"), "probes are logged");
    for secret in secrets {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

/// A loopback server answering every connection with `reply` (or, when `None`, accepting and
/// never answering), for as long as the test runs.
fn raw_server(reply: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            match reply {
                Some(reply) => {
                    let _ = stream.write_all(reply.as_bytes());
                }
                None => held.push(stream),
            }
        }
    });
    format!("http://{address}/.well-known/openid-configuration")
}

const HTML: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<html>login</html>\r\n";

async fn hostile_answers_are_failed_checks_never_errors(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    app.store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    let draft = |url: &str| {
        json!({
            "provider": "h", "client_id": "c", "client_secret": SECRET, "label": "H",
            "discovery_url": url,
        })
    };
    // Discovery that cannot be had: the first check fails and the others are skipped.
    for url in [
        closed_port_url("/.well-known/openid-configuration"),
        raw_server(Some(HTML)),
        raw_server(None),
        // Link-local (the cloud metadata address): the guard refuses it before connecting.
        "http://169.254.169.254/.well-known/openid-configuration".to_owned(),
    ] {
        let checks = probe(&app, "/api/identity-providers/probe/", &draft(&url)).await;
        assert_eq!(
            status_of(&checks, "discovery").0,
            "fail",
            "{url}: {checks:?}"
        );
        assert!(
            checks[1..].iter().all(|(_, status, _)| status == "skipped"),
            "{checks:?}"
        );
    }

    // The hostile provider as configured: the token endpoint answers invalid_grant.
    let path = "/api/identity-providers/hostile/probe/";
    idp.reply_to_token(Reply::json(400, &json!({"error": "invalid_grant"})));
    let checks = probe(&app, path, &json!({})).await;
    // EdDSA is offered, but only an RSA key is published.
    assert_eq!(
        status_of(&checks, "jwks"),
        ("warn", "No key for the algorithms: EdDSA.")
    );
    assert_eq!(status_of(&checks, "client_credentials").0, "pass");
    // It does not list code_challenge_methods_supported, scopes or claims.
    assert_eq!(status_of(&checks, "pkce").0, "warn");
    assert_eq!(status_of(&checks, "scopes").0, "skipped");
    assert_eq!(status_of(&checks, "claims").0, "skipped");

    // Token answers: 401 fails, HTML and other errors warn, a hang fails.
    let token_rows: Vec<(Reply, &str, &str)> = vec![
        (
            Reply::json(401, &json!({"error": "invalid_client"})),
            "fail",
            "invalid_client",
        ),
        (
            Reply::raw(401, "text/html", "<html>no</html>"),
            "fail",
            "401",
        ),
        (
            Reply::raw(200, "text/html", "<html>login</html>"),
            "warn",
            "not JSON",
        ),
        (
            Reply::json(400, &json!({"error": "unsupported_grant_type"})),
            "warn",
            "unsupported_grant_type",
        ),
        (
            Reply::json(400, &json!({"error": "invalid_grant"}))
                .delayed(std::time::Duration::from_secs(60)),
            "fail",
            "could not be reached",
        ),
    ];
    for (reply, status, needle) in token_rows {
        idp.reply_to_token(reply);
        let checks = probe(&app, path, &json!({})).await;
        let (got, detail) = status_of(&checks, "client_credentials");
        assert_eq!((got, detail.contains(needle)), (status, true), "{detail}");
    }
    idp.reply_to_token(Reply::json(400, &json!({"error": "invalid_grant"})));

    // Key sets: unreachable, HTML, `none`, duplicate ids, keys that fit no algorithm offered.
    let rsa = KeyPair::rsa("same").public_jwk();
    let ed = KeyPair::ed25519("ed").public_jwk();
    let mut none = rsa.clone();
    none["alg"] = json!("none");
    let jwks_rows: Vec<(Value, &str, &str)> = vec![
        (json!("<html>"), "fail", "unusable"),
        (json!({"keys": "x"}), "fail", "no list of keys"),
        (json!({"keys": [none]}), "fail", "none"),
        (
            json!({"keys": [rsa.clone(), rsa.clone()]}),
            "fail",
            "not unique",
        ),
        (json!({"keys": [ed.clone()]}), "warn", "RS256"),
        (json!({"keys": [rsa.clone(), ed]}), "pass", "2 signing key"),
    ];
    for (jwks, status, needle) in jwks_rows {
        idp.publish_raw(jwks);
        let checks = probe(&app, path, &json!({})).await;
        let (got, detail) = status_of(&checks, "jwks");
        assert_eq!((got, detail.contains(needle)), (status, true), "{detail}");
    }
    idp.edit_discovery(|document| {
        document.insert(
            "id_token_signing_alg_values_supported".into(),
            json!(["ES256"]),
        );
        document.insert("issuer".into(), json!("https://elsewhere.example.org"));
        document.insert("jwks_uri".into(), json!("http://169.254.169.254/jwks"));
        document.insert("code_challenge_methods_supported".into(), json!(["plain"]));
        document.insert("scopes_supported".into(), json!(["openid", "email"]));
    });
    let checks = probe(&app, path, &json!({})).await;
    assert_eq!(status_of(&checks, "issuer").0, "fail");
    assert_eq!(status_of(&checks, "jwks").0, "fail", "{checks:?}");
    assert!(
        status_of(&checks, "jwks").1.contains("refused"),
        "{checks:?}"
    );
    assert_eq!(status_of(&checks, "pkce").0, "fail");
    assert_eq!(
        status_of(&checks, "scopes"),
        ("warn", "Not in scopes_supported: profile.")
    );
    idp.edit_discovery(|document| {
        document.remove("token_endpoint");
    });
    let checks = probe(&app, path, &json!({})).await;
    assert_eq!(
        status_of(&checks, "endpoints"),
        ("fail", "Missing: token_endpoint.")
    );
    not_logged(&[SECRET, CLIENT_SECRET]);
}

/// A draft with `verify_ssl` off: the https check says certificates are not checked (skipped)
/// instead of judging the URLs, and every other check runs as with it on.
async fn verify_ssl_off_skips_the_https_check_and_nothing_else(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let idp = HostileProvider::start().await;
    idp.reply_to_token(Reply::json(400, &json!({"error": "invalid_grant"})));
    let draft = |verify_ssl: bool| {
        json!({
            "provider": "h", "client_id": "c", "client_secret": SECRET, "label": "H",
            "discovery_url": idp.discovery_url(), "verify_ssl": verify_ssl,
        })
    };
    let path = "/api/identity-providers/probe/";
    let on = probe(&app, path, &draft(true)).await;
    let off = probe(&app, path, &draft(false)).await;
    assert_eq!(
        status_of(&on, "https").0,
        "warn",
        "plain http on loopback: {on:?}"
    );
    assert_eq!(
        status_of(&off, "https"),
        (
            "skipped",
            "verify_ssl is off: certificates are not checked."
        )
    );
    for ((name, status, detail), (_, other_status, other_detail)) in on.iter().zip(&off) {
        if name != "https" {
            assert_eq!((status, detail), (other_status, other_detail), "{name}");
        }
    }
    assert_eq!(status_of(&off, "discovery").0, "pass");
    assert_eq!(status_of(&off, "client_credentials").0, "pass");
}
