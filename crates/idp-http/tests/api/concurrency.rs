//! Concurrent writers: optimistic concurrency with `If-Match`, racing creates, PATCH storms.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{As, detail, spawn_app, status_and_json};
use crate::on_both_backends;
use idp_store::Backend;

on_both_backends!(
    if_match_with_a_stale_etag_is_412_and_changes_nothing,
    two_clients_racing_with_if_match_lose_no_update,
    fifty_parallel_creates_of_one_provider_give_one_201_and_unique_errors,
    a_patch_storm_leaves_one_of_the_submitted_states,
    updates_check_the_database_when_the_snapshot_is_behind,
);

const ONE: &str = "/api/identity-providers/acme/";

async fn if_match_with_a_stale_etag_is_412_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create(&app.new_provider_body("acme", "Acme").await)
        .await;
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let bump = json!({"label": "Second"});
    assert_eq!(
        app.request(Method::PATCH, ONE, As::Token(&app.staff), Some(&bump))
            .await
            .status(),
        200
    );
    let before = app.snapshot();
    let http = reqwest::Client::new();
    for (method, body) in [
        (Method::PATCH, Some(json!({"label": "Lost"}))),
        (Method::DELETE, None),
        (Method::PUT, Some(json!({"label": "X"}))),
    ] {
        let mut request = http
            .request(method.clone(), format!("{}{ONE}", app.base))
            .header("Authorization", format!("Token {}", app.staff))
            .header("If-Match", &etag);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, body) = status_and_json(request.send().await.unwrap()).await;
        assert_eq!(status, 412, "{method}");
        assert!(body["detail"].is_string(), "{body}");
    }
    assert_eq!(app.snapshot(), before);
    let current = app.get_staff(ONE).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let ok = http
        .patch(format!("{}{ONE}", app.base))
        .header("Authorization", format!("Token {}", app.staff))
        .header("If-Match", &current)
        .json(&json!({"label": "Third"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

/// Each client reads, adds its own origin to `allowed_redirects`, and writes back with
/// `If-Match`, retrying on 412. With no lost update, every origin ends up in the list.
async fn two_clients_racing_with_if_match_lose_no_update(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("acme", "Acme").await;
    let base = app.base.clone();
    let staff = app.staff.clone();
    let client = |who: usize| {
        let (base, staff) = (base.clone(), staff.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut conflicts = 0;
            for round in 0..10 {
                loop {
                    let read = http
                        .get(format!("{base}{ONE}"))
                        .header("Authorization", format!("Token {staff}"))
                        .send()
                        .await
                        .unwrap();
                    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
                    let current: Value = read.json().await.unwrap();
                    let mut origins: Vec<Value> =
                        current["allowed_redirects"].as_array().unwrap().clone();
                    origins.push(json!(format!("https://c{who}-r{round}.example.com")));
                    let write = http
                        .patch(format!("{base}{ONE}"))
                        .header("Authorization", format!("Token {staff}"))
                        .header("If-Match", etag)
                        .json(&json!({"allowed_redirects": origins}))
                        .send()
                        .await
                        .unwrap();
                    match write.status().as_u16() {
                        200 => break,
                        412 => conflicts += 1,
                        other => panic!("unexpected {other}"),
                    }
                }
            }
            conflicts
        })
    };
    let (a, b) = (client(0), client(1));
    let _conflicts = a.await.unwrap() + b.await.unwrap();
    let final_state: Value = app.get_staff(ONE).await.json().await.unwrap();
    let origins = final_state["allowed_redirects"].as_array().unwrap();
    assert_eq!(origins.len(), 20, "{final_state}");
    for who in 0..2 {
        for round in 0..10 {
            assert!(origins.contains(&json!(format!("https://c{who}-r{round}.example.com"))));
        }
    }
}

async fn fifty_parallel_creates_of_one_provider_give_one_201_and_unique_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = app.new_provider_body("race", "Race").await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (base, staff, body) = (app.base.clone(), app.staff.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(format!("{base}/api/identity-providers/"))
                .header("Authorization", format!("Token {staff}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            status_and_json(response).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created += 1,
            400 => assert_eq!(
                body,
                json!({"provider": ["identity provider with this provider already exists."]})
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(app.snapshot().len(), 1);
}

async fn a_patch_storm_leaves_one_of_the_submitted_states(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("acme", "Acme").await;
    let states: Vec<Value> = (0..30)
        .map(|i| json!({"label": format!("label-{i}"), "client_id": format!("client-{i}"), "enable_pkce": i % 2 == 0}))
        .collect();
    let mut tasks = Vec::new();
    for state in states.clone() {
        let (base, staff) = (app.base.clone(), app.staff.clone());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .patch(format!("{base}{ONE}"))
                .header("Authorization", format!("Token {staff}"))
                .json(&state)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let row: Value = app.get_staff(ONE).await.json().await.unwrap();
    let matches = states.iter().any(|state| {
        state
            .as_object()
            .unwrap()
            .iter()
            .all(|(key, value)| row[key] == *value)
    });
    assert!(matches, "the row mixes several submitted states: {row}");
}

/// A PATCH whose provider the snapshot holds is read, changed and written in one transaction;
/// the snapshot only tells where to start. Another instance's writes that this instance has not
/// heard of yet (a newer version, a deletion) are still answered 412 and 404 from the database,
/// with or without a body that can be used, and nothing is written.
async fn updates_check_the_database_when_the_snapshot_is_behind(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("acme", "Acme").await;
    let first = app.get_staff(ONE).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let other = app.other_instance();
    let mut changed = other.get_provider("acme", false).unwrap().unwrap();
    changed.provider.label = "Elsewhere".into();
    let changed = tokio::task::spawn_blocking(move || {
        other.update_provider(&changed.provider, None).unwrap();
        other
    })
    .await
    .unwrap();
    let events = || app.store.all_audit_events(Some("acme")).unwrap().len();
    let events_before = events();
    let http = reqwest::Client::new();
    let patch = |if_match: Option<String>, body: &'static str| {
        let mut request = http
            .patch(format!("{}{ONE}", app.base))
            .header("Authorization", format!("Token {}", app.staff))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request.send()
    };
    let precondition = detail(
        "The provider was changed since you read it: If-Match does not match its current ETag.",
    );
    for body in [r#"{"label": "Lost"}"#, "{not json"] {
        let stale = patch(Some(first.clone()), body).await.unwrap();
        assert_eq!(
            status_and_json(stale).await,
            (412, precondition.clone()),
            "{body}"
        );
    }
    let stored = app.stored("acme").unwrap();
    assert_eq!(stored.provider.label, "Elsewhere");
    assert_eq!(events(), events_before, "a refused update writes no event");

    let current = format!("\"{}\"", stored.version);
    let ok = patch(Some(current), r#"{"label": "Here"}"#).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["etag"].to_str().unwrap(),
        format!("\"{}\"", stored.version + 1)
    );
    let answer: Value = ok.json().await.unwrap();
    assert_eq!(answer["label"], "Here");
    assert_eq!(app.stored("acme").unwrap().provider.label, "Here");
    assert_eq!(
        app.get_staff(ONE).await.json::<Value>().await.unwrap(),
        answer
    );

    tokio::task::spawn_blocking(move || changed.delete_provider("acme", None).unwrap())
        .await
        .unwrap();
    let events_before = events();
    let gone = detail("No IdentityProvider matches the given query.");
    for body in [r#"{"label": "Ghost"}"#, "{not json"] {
        let missing = patch(None, body).await.unwrap();
        assert_eq!(
            status_and_json(missing).await,
            (404, gone.clone()),
            "{body}"
        );
    }
    assert!(app.stored("acme").is_none(), "nothing was written back");
    assert_eq!(events(), events_before);
}
