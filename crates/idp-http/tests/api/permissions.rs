//! Who may do what: the reference's permission table, the 401/403 bodies, and
//! `Token` authentication (bad tokens fail even where anonymous access is allowed).

use idp_core::Provider;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{As, COLLECTION, Case, Effects, Expect, TestApp, detail, provider, spawn_app};
use crate::on_both_backends;
use idp_store::Backend;

on_both_backends!(
    everyone_may_read_active_providers_and_only_staff_see_inactive_ones,
    anonymous_writes_get_401_and_non_staff_writes_get_403_and_change_nothing,
    non_staff_get_403_even_with_an_invalid_body_or_for_an_unknown_provider,
    staff_writes_answer_201_200_204_400_or_404,
    discovery_actions_are_staff_only_and_get_on_them_is_405_for_staff,
    delete_on_the_collection_is_405_for_staff,
    bad_tokens_get_401_even_on_public_reads,
    token_keyword_is_case_insensitive,
    other_authorization_schemes_are_treated_as_anonymous,
    head_on_a_provider_answers_like_get_without_a_body,
);

const ACTIVE: &str = "/api/identity-providers/active/";
const INACTIVE: &str = "/api/identity-providers/inactive/";
const UNKNOWN: &str = "/api/identity-providers/unknown/";
const DISCOVER: &str = "/api/identity-providers/discover_metadata/";
const MAPPING: &str = "/api/identity-providers/generate-mapping/";

/// An app holding one active and one inactive provider (labels `Active` < `Inactive`), both
/// inserted straight into the store; returns their staff views.
async fn app_with_two_providers(backend: Backend) -> (TestApp, Value, Value) {
    let app = spawn_app(backend).await;
    let active = provider("active", "Active");
    let inactive = Provider {
        is_active: false,
        ..provider("inactive", "Inactive")
    };
    app.insert(&active);
    app.insert(&inactive);
    (
        app,
        active.to_json(true, true),
        inactive.to_json(true, true),
    )
}

/// The provider as non-staff see it: the hidden fields removed, the order kept.
fn public(staff_view: &Value) -> Value {
    let mut object = staff_view.as_object().unwrap().clone();
    for hidden in idp_core::HIDDEN_FIELDS {
        object.shift_remove(hidden);
    }
    Value::Object(object)
}

/// 401 for anonymous callers, 403 for authenticated non-staff.
fn denied<'a>(case: Case<'a>) -> Case<'a> {
    match case.who {
        As::Anonymous => case.unauthenticated(),
        _ => case.forbidden(),
    }
}

fn method_not_allowed(method: &str) -> Value {
    detail(&format!("Method \"{method}\" not allowed."))
}

async fn everyone_may_read_active_providers_and_only_staff_see_inactive_ones(backend: Backend) {
    let (app, active, inactive) = app_with_two_providers(backend).await;
    let mut cases = Vec::new();
    for who in [As::Anonymous, As::Token(&app.user)] {
        cases.extend([
            Case::new(Method::GET, COLLECTION, who)
                .answers(200, json!([public(&active)]))
                .header("x-result-count", "1"),
            Case::new(Method::HEAD, COLLECTION, who)
                .expect(200, Expect::Empty)
                .header("x-result-count", "1"),
            Case::new(Method::GET, ACTIVE, who).answers(200, public(&active)),
            Case::new(Method::GET, INACTIVE, who).no_provider(),
            Case::new(Method::GET, UNKNOWN, who).no_provider(),
        ]);
    }
    let staff = As::Token(&app.staff);
    cases.extend([
        Case::new(Method::GET, COLLECTION, staff)
            .answers(200, json!([active, inactive]))
            .header("x-result-count", "2"),
        Case::new(Method::HEAD, COLLECTION, staff)
            .expect(200, Expect::Empty)
            .header("x-result-count", "2"),
        Case::new(Method::GET, ACTIVE, staff).answers(200, active.clone()),
        Case::new(Method::GET, INACTIVE, staff).answers(200, inactive.clone()),
        Case::new(Method::GET, UNKNOWN, staff).no_provider(),
    ]);
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn anonymous_writes_get_401_and_non_staff_writes_get_403_and_change_nothing(
    backend: Backend,
) {
    let (app, _, _) = app_with_two_providers(backend).await;
    let create = app.new_provider_body("created", "Created").await;
    let put = json!({
        "client_id": "x", "client_secret": "y", "label": "Z",
        "discovery_url": create["discovery_url"].clone(),
    });
    let patch = json!({"label": "Patched"});
    let discover = json!({"discovery_url": create["discovery_url"].clone()});
    let mut cases = Vec::new();
    for who in [As::Anonymous, As::Token(&app.user)] {
        for case in [
            Case::new(Method::POST, COLLECTION, who).json(create.clone()),
            Case::new(Method::PUT, ACTIVE, who).json(put.clone()),
            Case::new(Method::PUT, INACTIVE, who).json(put.clone()),
            Case::new(Method::PATCH, ACTIVE, who).json(patch.clone()),
            Case::new(Method::PATCH, INACTIVE, who).json(patch.clone()),
            Case::new(Method::DELETE, ACTIVE, who),
            Case::new(Method::DELETE, INACTIVE, who),
            Case::new(Method::POST, DISCOVER, who).json(discover.clone()),
            Case::new(Method::POST, MAPPING, who).json(discover.clone()),
        ] {
            cases.push(denied(case));
        }
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn non_staff_get_403_even_with_an_invalid_body_or_for_an_unknown_provider(backend: Backend) {
    let (app, _, _) = app_with_two_providers(backend).await;
    let mut cases = Vec::new();
    for who in [As::Anonymous, As::Token(&app.user)] {
        for case in [
            // The reference's own example: the body is never looked at.
            Case::new(Method::POST, COLLECTION, who).json(json!({"provider": "new_provider"})),
            Case::new(Method::POST, COLLECTION, who).json(json!({})),
            Case::new(Method::POST, COLLECTION, who).json(json!([1, 2])),
            Case::new(Method::POST, COLLECTION, who).raw("application/json", "{not json"),
            Case::new(Method::POST, COLLECTION, who).raw("text/plain", "hello"),
            Case::new(Method::PUT, UNKNOWN, who).json(json!({"label": "x"})),
            Case::new(Method::PUT, UNKNOWN, who).json(json!({})),
            Case::new(Method::PATCH, UNKNOWN, who).json(json!({"label": "x"})),
            Case::new(Method::PATCH, ACTIVE, who).json(json!({"is_active": "maybe"})),
            Case::new(Method::DELETE, UNKNOWN, who),
            Case::new(Method::POST, DISCOVER, who).json(json!({})),
            Case::new(Method::POST, MAPPING, who).json(json!({"discovery_url": "not a url"})),
        ] {
            cases.push(denied(case));
        }
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn staff_writes_answer_201_200_204_400_or_404(backend: Backend) {
    let (app, _, _) = app_with_two_providers(backend).await;
    let staff = As::Token(&app.staff);
    let create = app.new_provider_body("created", "Created").await;
    let put = json!({
        "client_id": "x", "client_secret": "y", "label": "Z",
        "discovery_url": create["discovery_url"].clone(),
    });
    let required = |fields: &[&str]| {
        Value::Object(
            fields
                .iter()
                .map(|f| ((*f).to_owned(), json!(["This field is required."])))
                .collect(),
        )
    };
    let cases = [
        Case::new(Method::POST, COLLECTION, staff)
            .json(create.clone())
            .status(201),
        Case::new(Method::POST, COLLECTION, staff)
            .json(json!({}))
            .answers(
                400,
                required(&[
                    "provider",
                    "client_id",
                    "client_secret",
                    "discovery_url",
                    "label",
                ]),
            ),
        Case::new(Method::PUT, ACTIVE, staff)
            .json(put.clone())
            .status(200),
        Case::new(Method::PUT, INACTIVE, staff)
            .json(put.clone())
            .status(200),
        Case::new(Method::PUT, ACTIVE, staff)
            .json(json!({}))
            .answers(
                400,
                required(&["client_id", "client_secret", "discovery_url", "label"]),
            ),
        Case::new(Method::PUT, UNKNOWN, staff)
            .json(put.clone())
            .no_provider(),
        Case::new(Method::PATCH, ACTIVE, staff)
            .json(json!({"label": "Patched"}))
            .status(200),
        Case::new(Method::PATCH, ACTIVE, staff)
            .json(json!({"enable_pkce": "maybe"}))
            .answers(400, json!({"enable_pkce": ["Must be a valid boolean."]})),
        Case::new(Method::PATCH, UNKNOWN, staff)
            .json(json!({"label": "x"}))
            .no_provider(),
        Case::new(Method::DELETE, UNKNOWN, staff).no_provider(),
        Case::new(Method::DELETE, ACTIVE, staff).expect(204, Expect::Empty),
        Case::new(Method::DELETE, INACTIVE, staff).expect(204, Expect::Empty),
        Case::new(Method::DELETE, ACTIVE, staff).no_provider(),
    ];
    app.check(&cases, Effects::Allowed).await;
    let names: Vec<String> = app
        .snapshot()
        .iter()
        .map(|p| p["provider"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["created"]);
}

async fn discovery_actions_are_staff_only_and_get_on_them_is_405_for_staff(backend: Backend) {
    let app = spawn_app(backend).await;
    let staff = As::Token(&app.staff);
    let mut cases = Vec::new();
    for path in [DISCOVER, MAPPING] {
        for who in [As::Anonymous, As::Token(&app.user)] {
            cases.push(denied(
                Case::new(Method::POST, path, who)
                    .json(json!({"discovery_url": "https://x.example.com/"})),
            ));
            cases.push(denied(Case::new(Method::GET, path, who)));
            cases.push(denied(Case::new(Method::PUT, path, who).json(json!({}))));
        }
        cases.extend([
            Case::new(Method::POST, path, staff)
                .json(json!({}))
                .answers(400, json!({"discovery_url": ["This field is required."]})),
            Case::new(Method::POST, path, staff)
                .json(json!({"discovery_url": "not a url"}))
                .answers(400, json!({"discovery_url": ["Enter a valid URL."]})),
            Case::new(Method::GET, path, staff).answers(405, method_not_allowed("GET")),
            Case::new(Method::PUT, path, staff)
                .json(json!({}))
                .answers(405, method_not_allowed("PUT")),
        ]);
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn delete_on_the_collection_is_405_for_staff(backend: Backend) {
    let (app, _, _) = app_with_two_providers(backend).await;
    let cases = [
        denied(Case::new(Method::DELETE, COLLECTION, As::Anonymous)),
        denied(Case::new(Method::DELETE, COLLECTION, As::Token(&app.user))),
        Case::new(Method::DELETE, COLLECTION, As::Token(&app.staff))
            .answers(405, method_not_allowed("DELETE")),
        Case::new(Method::PUT, COLLECTION, As::Token(&app.staff))
            .json(json!({}))
            .answers(405, method_not_allowed("PUT")),
        Case::new(Method::PATCH, COLLECTION, As::Token(&app.staff))
            .json(json!({}))
            .answers(405, method_not_allowed("PATCH")),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn bad_tokens_get_401_even_on_public_reads(backend: Backend) {
    let (app, _, _) = app_with_two_providers(backend).await;
    let user = app.store.ensure_user("user", false).unwrap();
    // The Unix epoch: long past.
    let expired = app
        .store
        .create_token(&user, Some(Default::default()))
        .unwrap()
        .key;
    let gone = app.store.ensure_user("gone", false).unwrap();
    let inactive = app.store.create_token(&gone, None).unwrap().key;
    assert!(app.store.set_user_active("gone", false).unwrap());
    let headers = [
        (
            format!("Token {}", "0123456789abcdef0123456789abcdef01234567"),
            "Invalid token.",
        ),
        ("Token not-a-key".to_owned(), "Invalid token."),
        (format!("Token {expired}"), "Token has expired."),
        (format!("Token {inactive}"), "User inactive or deleted."),
        (
            "Token".to_owned(),
            "Invalid token. No credentials provided.",
        ),
        (
            "token".to_owned(),
            "Invalid token. No credentials provided.",
        ),
        (
            "Token a b".to_owned(),
            "Invalid token. Token string should not contain spaces.",
        ),
        (
            format!("Token {} extra", app.staff),
            "Invalid token. Token string should not contain spaces.",
        ),
    ];
    let mut cases = Vec::new();
    for (header, message) in &headers {
        let who = As::Header(header);
        cases.extend([
            Case::new(Method::GET, COLLECTION, who).answers(401, detail(message)),
            Case::new(Method::HEAD, COLLECTION, who)
                .expect(401, Expect::Empty)
                .note(format!("HEAD: {message}")),
            Case::new(Method::GET, ACTIVE, who).answers(401, detail(message)),
            Case::new(Method::GET, UNKNOWN, who).answers(401, detail(message)),
            Case::new(Method::POST, COLLECTION, who)
                .json(json!({}))
                .answers(401, detail(message)),
            Case::new(Method::PATCH, ACTIVE, who)
                .json(json!({"label": "x"}))
                .answers(401, detail(message)),
            Case::new(Method::DELETE, ACTIVE, who).answers(401, detail(message)),
            Case::new(Method::POST, DISCOVER, who)
                .json(json!({}))
                .answers(401, detail(message)),
        ]);
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn token_keyword_is_case_insensitive(backend: Backend) {
    let (app, active, inactive) = app_with_two_providers(backend).await;
    let staff_headers = [
        format!("token {}", app.staff),
        format!("TOKEN {}", app.staff),
        format!("ToKeN {}", app.staff),
    ];
    let user_header = format!("token {}", app.user);
    let mut cases = Vec::new();
    for header in &staff_headers {
        let who = As::Header(header);
        cases.extend([
            Case::new(Method::GET, INACTIVE, who).answers(200, inactive.clone()),
            Case::new(Method::GET, COLLECTION, who)
                .answers(200, json!([active, inactive]))
                .header("x-result-count", "2"),
        ]);
    }
    cases.extend([
        Case::new(Method::GET, INACTIVE, As::Header(&user_header)).no_provider(),
        Case::new(Method::GET, ACTIVE, As::Header(&user_header)).answers(200, public(&active)),
        denied(Case::new(Method::DELETE, ACTIVE, As::Header(&user_header))),
    ]);
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn other_authorization_schemes_are_treated_as_anonymous(backend: Backend) {
    let (app, active, _) = app_with_two_providers(backend).await;
    let bearer_staff = format!("Bearer {}", app.staff);
    let headers = [
        "Bearer x".to_owned(),
        bearer_staff,
        "Bearer w_0123456789abcdef".to_owned(),
        "Basic c3RhZmY6cGFzc3dvcmQ=".to_owned(),
        format!("Tokens {}", app.staff),
        "Digest username=\"staff\"".to_owned(),
    ];
    let mut cases = Vec::new();
    for header in &headers {
        let who = As::Header(header);
        cases.extend([
            Case::new(Method::GET, COLLECTION, who)
                .answers(200, json!([public(&active)]))
                .header("x-result-count", "1"),
            Case::new(Method::GET, INACTIVE, who).no_provider(),
            Case::new(Method::POST, COLLECTION, who)
                .json(json!({}))
                .unauthenticated(),
            Case::new(Method::DELETE, ACTIVE, who).unauthenticated(),
            Case::new(Method::POST, DISCOVER, who)
                .json(json!({}))
                .unauthenticated(),
        ]);
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

/// HEAD is a safe method and the reference's viewset serves it wherever it serves GET; our
/// detail route advertises it in `Allow` too.
async fn head_on_a_provider_answers_like_get_without_a_body(backend: Backend) {
    let (app, _, _) = app_with_two_providers(backend).await;
    let staff = As::Token(&app.staff);
    let cases = [
        Case::new(Method::HEAD, ACTIVE, As::Anonymous).expect(200, Expect::Empty),
        Case::new(Method::HEAD, ACTIVE, As::Token(&app.user)).expect(200, Expect::Empty),
        Case::new(Method::HEAD, ACTIVE, staff).expect(200, Expect::Empty),
        Case::new(Method::HEAD, INACTIVE, As::Anonymous).expect(404, Expect::Empty),
        Case::new(Method::HEAD, INACTIVE, staff).expect(200, Expect::Empty),
        Case::new(Method::HEAD, UNKNOWN, staff).expect(404, Expect::Empty),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}
