//! The order in which a request's problems are answered (the reference's order): first
//! who the caller is and whether they may act, then, for an update, whether the provider exists
//! and `If-Match` agrees, and only then the body: its content type, size and JSON. A token that
//! has to be looked up in the database answers no later than the body's problems would.

use idp_http::ApiSettings;
use reqwest::Method;

use crate::helpers::{
    As, COLLECTION, Case, Effects, TestApp, detail, provider, spawn_app_with, status_and_json,
};
use crate::on_both_backends;
use idp_store::Backend;

on_both_backends!(
    permissions_are_answered_before_the_body_is_looked_at,
    updates_find_the_provider_and_check_if_match_before_reading_the_body,
);

const ACTIVE: &str = "/api/identity-providers/active/";
const UNKNOWN: &str = "/api/identity-providers/unknown/";
const PRECONDITION: &str =
    "The provider was changed since you read it: If-Match does not match its current ETag.";

/// An app whose body limit is small enough for a short body to exceed it, holding `active`.
async fn app(backend: Backend) -> TestApp {
    let settings = ApiSettings {
        max_body_bytes: 64,
        ..ApiSettings::default()
    };
    let app = spawn_app_with(backend, settings).await;
    app.insert(&provider("active", "Active"));
    app
}

/// Bodies with something wrong in each of the ways a body is checked, and the status each
/// gets once it is read.
fn bad_bodies() -> [(&'static str, Vec<u8>, u16); 3] {
    [
        ("text/plain", b"hello".to_vec(), 415),
        (
            "application/json",
            format!("\"{}\"", "a".repeat(200)).into_bytes(),
            413,
        ),
        ("application/json", b"{not json".to_vec(), 400),
    ]
}

async fn permissions_are_answered_before_the_body_is_looked_at(backend: Backend) {
    let app = app(backend).await;
    let routes = [
        (Method::POST, COLLECTION),
        (Method::PUT, ACTIVE),
        (Method::PATCH, ACTIVE),
        (Method::POST, "/api/identity-providers/discover_metadata/"),
        (Method::POST, "/api/identity-providers/generate-mapping/"),
    ];
    let mut cases = Vec::new();
    for (method, path) in routes {
        for (content_type, bytes, _) in bad_bodies() {
            let case = || Case::new(method.clone(), path, As::Anonymous);
            cases.push(case().raw(content_type, bytes.clone()).unauthenticated());
            cases.push(
                Case {
                    who: As::Header("Token no-such-key"),
                    ..case()
                }
                .raw(content_type, bytes.clone())
                .answers(401, detail("Invalid token.")),
            );
            cases.push(
                Case {
                    who: As::Token(&app.user),
                    ..case()
                }
                .raw(content_type, bytes.clone())
                .forbidden(),
            );
        }
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn updates_find_the_provider_and_check_if_match_before_reading_the_body(backend: Backend) {
    let app = app(backend).await;
    let current = format!("\"{}\"", app.stored("active").unwrap().version);
    let http = reqwest::Client::new();
    let send = |method: Method, path: &str, if_match: Option<&str>, body: &(&str, Vec<u8>, u16)| {
        let mut request = http
            .request(method, format!("{}{path}", app.base))
            .header("Authorization", format!("Token {}", app.staff))
            .header("Content-Type", body.0)
            .body(body.1.clone());
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request.send()
    };
    let not_found = detail("No IdentityProvider matches the given query.");
    let changed = detail(PRECONDITION);
    let before = app.snapshot();
    for method in [Method::PUT, Method::PATCH] {
        for body in bad_bodies() {
            let shown = format!("{method} with {} {:?}", body.0, body.1.len());
            let answer = |response| status_and_json(response);
            let unknown = send(method.clone(), UNKNOWN, None, &body).await.unwrap();
            assert_eq!(answer(unknown).await, (404, not_found.clone()), "{shown}");
            for tag in ["\"999\"", "not-a-tag"] {
                let stale = send(method.clone(), ACTIVE, Some(tag), &body)
                    .await
                    .unwrap();
                assert_eq!(answer(stale).await, (412, changed.clone()), "{shown} {tag}");
            }
            // With the provider found and its version matching, the body is read and refused.
            let read = send(method.clone(), ACTIVE, Some(&current), &body)
                .await
                .unwrap();
            assert_eq!(answer(read).await.0, body.2, "{shown}");
        }
    }
    assert_eq!(app.snapshot(), before, "nothing changed");
}
