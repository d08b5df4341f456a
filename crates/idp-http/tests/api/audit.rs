//! The audit history through the API: each create, update and delete leaves its event, with the
//! caller, the token's fingerprint and the request id; bad input leaves none; no event shows a
//! secret; the lists filter, page and refuse bad filters.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{As, TestApp, spawn_app, status_and_json};
use crate::on_both_backends;
use idp_store::Backend;

on_both_backends!(
    the_trail_follows_each_crud_operation,
    bad_input_writes_no_event,
    audit_events_filter_and_page_like_the_provider_list,
    bad_filters_are_400_naming_the_parameter,
    history_is_for_staff_only,
);

/// `GET` as staff, the status and the JSON body.
async fn staff_json(app: &TestApp, path: &str) -> (u16, Value) {
    status_and_json(app.get_staff(path).await).await
}

/// A request as staff with an `X-Request-Id`.
async fn with_request_id(
    app: &TestApp,
    method: Method,
    path: &str,
    id: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = app
        .http()
        .request(method, format!("{}{path}", app.base))
        .header("Authorization", format!("Token {}", app.staff))
        .header("X-Request-Id", id);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn fields(event: &Value) -> Vec<&str> {
    event["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect()
}

/// Searches every event the API shows, and the audit table, for each secret given, the sealed
/// secrets now stored and the staff token's key.
async fn assert_no_secret_anywhere(app: &TestApp, secrets: &[&str]) {
    let (status, events) = staff_json(app, "/api/audit-events/?page_size=300").await;
    assert_eq!(status, 200);
    let shown = events.to_string();
    let stored: String = app
        .store
        .all_audit_events(None)
        .unwrap()
        .iter()
        .map(|e| e.to_json().to_string())
        .collect();
    let sealed: Vec<String> = app
        .store
        .with_connection(|conn| {
            use diesel::prelude::*;
            diesel::sql_query("SELECT client_secret FROM identity_providers")
                .load::<Sealed>(conn)
                .map(|rows| rows.into_iter().map(|r| r.client_secret).collect())
        })
        .unwrap();
    for text in [&shown, &stored] {
        for secret in secrets.iter().copied().chain([app.staff.as_str()]) {
            assert!(!text.contains(secret), "{secret:?} in the audit trail");
        }
        for value in &sealed {
            assert!(!text.contains(value.rsplit(':').next().unwrap()));
        }
        assert!(!text.contains("v1:"), "a sealed value in the audit trail");
    }
}

#[derive(diesel::QueryableByName)]
struct Sealed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    client_secret: String,
}

async fn the_trail_follows_each_crud_operation(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = app.new_provider_body("keycloak", "Keycloak").await;
    let (status, _) = with_request_id(
        &app,
        Method::POST,
        "/api/identity-providers/",
        "req-create",
        Some(&body),
    )
    .await;
    assert_eq!(status, 201);
    let fingerprint = idp_store::token_fingerprint(&app.staff);
    let history = "/api/identity-providers/keycloak/history/";
    let (status, events) = staff_json(&app, history).await;
    assert_eq!(status, 200);
    assert_eq!(events.as_array().unwrap().len(), 1);
    let created = &events[0];
    assert_eq!(created["action"], "create");
    assert_eq!(created["provider"], "keycloak");
    assert_eq!(created["actor"], "staff");
    assert_eq!(created["actor_token"], json!(fingerprint));
    assert_eq!(created["request_id"], "req-create");
    assert!(created["occurred_at"].as_str().unwrap().ends_with('Z'));
    let label = created["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "label")
        .unwrap();
    assert_eq!(
        label,
        &json!({"field": "label", "before": null, "after": "Keycloak"})
    );
    assert!(fields(created).contains(&"client_secret"));
    assert_no_secret_anywhere(&app, &["keycloak-secret-value"]).await;

    // PATCH: the label and the secret; only they are named, newest first.
    let patch = json!({"label": "Renamed", "client_secret": "patched-secret-value"});
    let (status, _) = with_request_id(
        &app,
        Method::PATCH,
        "/api/identity-providers/keycloak/",
        "req-patch",
        Some(&patch),
    )
    .await;
    assert_eq!(status, 200);
    let (_, events) = staff_json(&app, history).await;
    assert_eq!(events.as_array().unwrap().len(), 2);
    let patched = &events[0];
    assert_eq!(patched["action"], "update");
    assert_eq!(patched["request_id"], "req-patch");
    assert_eq!(fields(patched), ["label", "client_secret"]);
    assert_eq!(
        patched["changes"][0],
        json!({"field": "label", "before": "Keycloak", "after": "Renamed"})
    );
    assert_eq!(
        patched["changes"][1],
        json!({"field": "client_secret", "changed": true})
    );

    // PUT with the same values but one: one field.
    let mut put = body.clone();
    put["label"] = json!("Renamed");
    put["client_secret"] = json!("patched-secret-value");
    put["client_id"] = json!("new-client");
    let (status, _) = with_request_id(
        &app,
        Method::PUT,
        "/api/identity-providers/keycloak/",
        "req-put",
        Some(&put),
    )
    .await;
    assert_eq!(status, 200);
    let (_, events) = staff_json(&app, history).await;
    assert_eq!(events.as_array().unwrap().len(), 3);
    assert_eq!(fields(&events[0]), ["client_id"]);
    assert_no_secret_anywhere(&app, &["keycloak-secret-value", "patched-secret-value"]).await;

    // DELETE: the last values; the history stays readable after the provider is gone.
    let (status, _) = with_request_id(
        &app,
        Method::DELETE,
        "/api/identity-providers/keycloak/",
        "req-delete",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, events) = staff_json(&app, history).await;
    assert_eq!(status, 200);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["action"], "delete");
    assert_eq!(events[0]["request_id"], "req-delete");
    let client_id = events[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "client_id")
        .unwrap();
    assert_eq!(
        client_id,
        &json!({"field": "client_id", "before": "new-client", "after": null})
    );
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "newest first");
    assert_no_secret_anywhere(&app, &["keycloak-secret-value", "patched-secret-value"]).await;
}

async fn bad_input_writes_no_event(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("keycloak", "Keycloak").await;
    let before = app.store.all_audit_events(None).unwrap();
    assert_eq!(before.len(), 1);
    let path = "/api/identity-providers/keycloak/";
    let bad_bodies = [
        json!({"label": "x".repeat(201)}),
        json!({"is_active": "perhaps"}),
        json!({"discovery_url": "not a url"}),
        json!({"discovery_url": format!("{}/missing/.well-known/openid-configuration", app.idp.uri())}),
        json!({"client_secret": ""}),
    ];
    for body in &bad_bodies {
        let response = app
            .request(Method::PATCH, path, As::Token(&app.staff), Some(body))
            .await;
        assert_eq!(response.status(), 400, "{body}");
    }
    // Not JSON, a stale If-Match, a user who is not staff.
    let response = app
        .send_raw(Method::PATCH, path, "application/json", b"{".to_vec())
        .await;
    assert_eq!(response.status(), 400);
    let stale = app
        .http()
        .patch(format!("{}{path}", app.base))
        .header("Authorization", format!("Token {}", app.staff))
        .header("If-Match", "\"99\"")
        .json(&json!({"label": "Stale"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let response = app
        .request(
            Method::PATCH,
            path,
            As::Token(&app.user),
            Some(&json!({"label": "U"})),
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = app
        .request(Method::DELETE, path, As::Token(&app.user), None)
        .await;
    assert_eq!(response.status(), 403);
    // A create that fails validation, and one whose name is taken.
    let response = app.create(&json!({"provider": "other"})).await;
    assert_eq!(response.status(), 400);
    let duplicate = app.new_provider_body("keycloak", "Again").await;
    assert_eq!(app.create(&duplicate).await.status(), 400);
    assert_eq!(app.store.all_audit_events(None).unwrap(), before);
}

async fn audit_events_filter_and_page_like_the_provider_list(backend: Backend) {
    let app = spawn_app(backend).await;
    for name in ["a", "b", "c"] {
        app.create_provider(name, name).await;
    }
    let response = app
        .request(
            Method::PATCH,
            "/api/identity-providers/a/",
            As::Token(&app.staff),
            Some(&json!({"label": "A"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    app.store.delete_provider("c", None).unwrap();

    let response = app.get_staff("/api/audit-events/?page_size=2").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-result-count"], "5");
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("/api/audit-events/?page=2&page_size=2>; rel=\"next\""),
        "{link}"
    );
    assert!(link.contains("page=3&page_size=2>; rel=\"last\""), "{link}");
    let page: Value = response.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["action"], "delete");
    assert_eq!(page[0]["actor"], "system");
    let (status, _) = staff_json(&app, "/api/audit-events/?page_size=2&page=4").await;
    assert_eq!(status, 404);

    let count = |query: &'static str| {
        let app = &app;
        async move {
            let response = app.get_staff(&format!("/api/audit-events/{query}")).await;
            assert_eq!(response.status(), 200, "{query}");
            let total: usize = response.headers()["x-result-count"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let body: Value = response.json().await.unwrap();
            assert_eq!(body.as_array().unwrap().len(), total.min(10));
            total
        }
    };
    assert_eq!(count("?provider=a").await, 2);
    assert_eq!(count("?provider=c").await, 2);
    assert_eq!(count("?provider=zzz").await, 0);
    assert_eq!(count("?actor=staff").await, 4);
    assert_eq!(count("?actor=system").await, 1);
    assert_eq!(count("?action=create").await, 3);
    assert_eq!(count("?action=update&provider=a").await, 1);
    assert_eq!(count("?action=reseal").await, 0);
    assert_eq!(count("?since=2000-01-01").await, 5);
    assert_eq!(count("?since=2000-01-01T00:00:00%2B02:00").await, 5);
    assert_eq!(count("?since=2999-01-01T00:00:00Z").await, 0);
    assert_eq!(count("?action=").await, 5);
    // The history of one provider takes the same filters.
    let (status, events) =
        staff_json(&app, "/api/identity-providers/a/history/?action=update").await;
    assert_eq!(status, 200);
    assert_eq!(events.as_array().unwrap().len(), 1);
    // A deleted provider's history is there; a name that never existed is 404.
    let (status, events) = staff_json(&app, "/api/identity-providers/c/history/").await;
    assert_eq!((status, events.as_array().unwrap().len()), (200, 2));
    let (status, body) = staff_json(&app, "/api/identity-providers/never/history/").await;
    assert_eq!(status, 404);
    assert!(body["detail"].is_string());
}

async fn bad_filters_are_400_naming_the_parameter(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("a", "a").await;
    for path in ["/api/audit-events/", "/api/identity-providers/a/history/"] {
        for bad in ["yesterday", "2026-13-01", "2026-12-01T25:00Z", "%00"] {
            let (status, body) = staff_json(&app, &format!("{path}?since={bad}")).await;
            assert_eq!(status, 400, "{path} since={bad}");
            assert_eq!(body, json!({"since": ["Enter a valid date/time."]}));
        }
        let (status, body) = staff_json(&app, &format!("{path}?action=explode")).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"action": ["Select a valid choice. explode is not one of the available choices."]})
        );
        let (status, body) = staff_json(&app, &format!("{path}?action=explode&since=never")).await;
        assert_eq!(status, 400);
        assert_eq!(body.as_object().unwrap().len(), 2);
    }
    // NUL in a name filter is no match, not an error.
    let (status, body) = staff_json(&app, "/api/audit-events/?provider=a%00").await;
    assert_eq!((status, body), (200, json!([])));
}

async fn history_is_for_staff_only(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("a", "a").await;
    for path in ["/api/audit-events/", "/api/identity-providers/a/history/"] {
        let anonymous = app.request(Method::GET, path, As::Anonymous, None).await;
        assert_eq!(anonymous.status(), 401, "{path}");
        let user = app
            .request(Method::GET, path, As::Token(&app.user), None)
            .await;
        assert_eq!(user.status(), 403, "{path}");
        let bad = app
            .request(Method::GET, path, As::Token("nope"), None)
            .await;
        assert_eq!(bad.status(), 401, "{path}");
        let post = app
            .request(Method::POST, path, As::Token(&app.staff), Some(&json!({})))
            .await;
        assert_eq!(post.status(), 405, "{path}");
        let post = app
            .request(Method::POST, path, As::Token(&app.user), Some(&json!({})))
            .await;
        assert_eq!(post.status(), 403, "{path}");
    }
    assert_eq!(app.store.all_audit_events(None).unwrap().len(), 1);
}
