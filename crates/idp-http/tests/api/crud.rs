//! Create, read, update and delete, as staff and as everyone else.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{As, idp_document, keys, spawn_app, spawn_app_with, status_and_json};
use crate::on_both_backends;
use idp_http::ApiSettings;
use idp_store::Backend;

on_both_backends!(
    create_answers_201_with_endpoints_from_the_discovery_document,
    create_merges_keycloak_defaults_under_request_keys,
    create_of_a_generic_provider_gets_model_defaults,
    staff_see_21_keys_in_reference_order_and_others_16,
    anonymous_list_shows_only_active_providers_ordered_by_label,
    staff_list_includes_inactive_providers,
    retrieve_of_inactive_provider_is_404_for_non_staff_and_200_for_staff,
    retrieve_of_unknown_provider_is_404_with_the_reference_message,
    put_replaces_fields_and_fetches_the_document_again,
    patch_without_discovery_url_keeps_endpoints_and_fetches_nothing,
    patch_with_discovery_url_fetches_with_the_stored_verify_ssl,
    provider_name_is_read_only_on_update,
    delete_answers_204_and_removes_the_row,
    client_secret_can_be_hidden_from_staff_too,
    responses_carry_an_etag_that_changes_on_write,
);

const STAFF_KEYS: [&str; 21] = [
    "protected_fields",
    "allowed_redirects",
    "provider",
    "is_active",
    "client_id",
    "client_secret",
    "verify_ssl",
    "enable_post_logout_redirect",
    "enable_pkce",
    "discovery_url",
    "userinfo_url",
    "token_url",
    "auth_url",
    "logout_url",
    "label",
    "management_url",
    "extra_scope",
    "user_field",
    "user_claim",
    "attribute_mapping",
    "extra_fields",
];

async fn create_answers_201_with_endpoints_from_the_discovery_document(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = app.new_provider_body("acme", "Acme").await;
    let (status, created) = status_and_json(app.create(&body).await).await;
    assert_eq!(status, 201, "{created}");
    let idp = app.idp.uri();
    assert_eq!(created["auth_url"], format!("{idp}/acme/auth"));
    assert_eq!(created["token_url"], format!("{idp}/acme/token"));
    assert_eq!(created["userinfo_url"], format!("{idp}/acme/userinfo"));
    assert_eq!(created["logout_url"], format!("{idp}/acme/logout"));
    assert_eq!(created["client_secret"], "acme-secret-value");
    assert_eq!(app.snapshot(), vec![created]);
}

async fn create_merges_keycloak_defaults_under_request_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut body = app.new_provider_body("keycloak", "Keycloak").await;
    body["attribute_mapping"] = json!({"email": "mail"});
    body["extra_fields"] = json!("");
    let (status, created) = status_and_json(app.create(&body).await).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["user_field"], "username");
    assert_eq!(created["user_claim"], "sub");
    assert_eq!(
        created["extra_fields"], "",
        "a key given as blank is not replaced by the default"
    );
    assert_eq!(created["extra_scope"], Value::Null);
    let mapping = &created["attribute_mapping"];
    assert_eq!(mapping["email"], "mail");
    assert_eq!(
        mapping["organization_country"],
        "org_reg_country org_country"
    );
    assert_eq!(keys(mapping).len(), 20);
    assert_eq!(keys(mapping)[0], "email");
    assert_eq!(keys(mapping)[1], "first_name");
    let stored = app.get_staff("/api/identity-providers/keycloak/").await;
    assert_eq!(
        stored.json::<Value>().await.unwrap()["attribute_mapping"],
        *mapping
    );
}

async fn create_of_a_generic_provider_gets_model_defaults(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_provider("generic-oidc", "Generic").await;
    assert_eq!(created["is_active"], true);
    assert_eq!(created["verify_ssl"], true);
    assert_eq!(created["enable_post_logout_redirect"], true);
    assert_eq!(created["enable_pkce"], false);
    assert_eq!(created["management_url"], "");
    assert_eq!(created["protected_fields"], json!([]));
    assert_eq!(created["allowed_redirects"], json!([]));
    assert_eq!(created["extra_scope"], Value::Null);
    assert_eq!(created["user_field"], "username");
    assert_eq!(created["user_claim"], "sub");
    assert_eq!(created["attribute_mapping"], json!({}));
    assert_eq!(created["extra_fields"], Value::Null);
}

async fn staff_see_21_keys_in_reference_order_and_others_16(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_provider("acme", "Acme").await;
    assert_eq!(keys(&created), STAFF_KEYS);
    let public: Vec<&str> = STAFF_KEYS
        .iter()
        .copied()
        .filter(|k| !idp_core::HIDDEN_FIELDS.contains(k))
        .collect();
    for who in [As::Anonymous, As::Token(&app.user)] {
        let one = app
            .request(Method::GET, "/api/identity-providers/acme/", who, None)
            .await;
        assert_eq!(keys(&one.json::<Value>().await.unwrap()), public);
        let list = app
            .request(Method::GET, "/api/identity-providers/", who, None)
            .await;
        assert_eq!(keys(&list.json::<Value>().await.unwrap()[0]), public);
    }
}

async fn anonymous_list_shows_only_active_providers_ordered_by_label(backend: Backend) {
    let app = spawn_app(backend).await;
    for (name, label) in [("c", "Beta"), ("a", "Alpha"), ("b", "Beta"), ("d", "Gamma")] {
        app.create_provider(name, label).await;
    }
    let patch = json!({"is_active": false});
    let response = app
        .request(
            Method::PATCH,
            "/api/identity-providers/d/",
            As::Token(&app.staff),
            Some(&patch),
        )
        .await;
    assert_eq!(response.status(), 200);
    let list = app
        .request(Method::GET, "/api/identity-providers/", As::Anonymous, None)
        .await;
    assert_eq!(list.headers()["x-result-count"], "3");
    let body: Value = list.json().await.unwrap();
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "c", "b"]);
}

async fn staff_list_includes_inactive_providers(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut body = app.new_provider_body("off", "Off").await;
    body["is_active"] = json!(false);
    assert_eq!(app.create(&body).await.status(), 201);
    let list = app.get_staff("/api/identity-providers/").await;
    assert_eq!(list.headers()["x-result-count"], "1");
    let list = app
        .request(
            Method::GET,
            "/api/identity-providers/",
            As::Token(&app.user),
            None,
        )
        .await;
    assert_eq!(list.headers()["x-result-count"], "0");
    assert_eq!(list.json::<Value>().await.unwrap(), json!([]));
}

async fn retrieve_of_inactive_provider_is_404_for_non_staff_and_200_for_staff(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut body = app.new_provider_body("off", "Off").await;
    body["is_active"] = json!(false);
    assert_eq!(app.create(&body).await.status(), 201);
    for who in [As::Anonymous, As::Token(&app.user)] {
        let (status, body) = status_and_json(
            app.request(Method::GET, "/api/identity-providers/off/", who, None)
                .await,
        )
        .await;
        assert_eq!(
            (status, body),
            (
                404,
                json!({"detail": "No IdentityProvider matches the given query."})
            )
        );
    }
    assert_eq!(
        app.get_staff("/api/identity-providers/off/").await.status(),
        200
    );
}

async fn retrieve_of_unknown_provider_is_404_with_the_reference_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) =
        status_and_json(app.get_staff("/api/identity-providers/nope/").await).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"detail": "No IdentityProvider matches the given query."})
        )
    );
}

async fn put_replaces_fields_and_fetches_the_document_again(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("acme", "Acme").await;
    let moved = idp_document(&app.idp.uri(), "moved");
    let url = app.serve_document("moved", moved).await;
    let body = json!({
        "client_id": "new-id", "client_secret": "new-secret", "discovery_url": url, "label": "Acme 2",
        "attribute_mapping": {"email": "email"},
    });
    let response = app
        .request(
            Method::PUT,
            "/api/identity-providers/acme/",
            As::Token(&app.staff),
            Some(&body),
        )
        .await;
    let (status, updated) = status_and_json(response).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["label"], "Acme 2");
    assert_eq!(updated["client_secret"], "new-secret");
    assert_eq!(updated["auth_url"], format!("{}/moved/auth", app.idp.uri()));
    assert_eq!(updated["attribute_mapping"], json!({"email": "email"}));
    assert_eq!(app.snapshot(), vec![updated]);
}

async fn patch_without_discovery_url_keeps_endpoints_and_fetches_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_provider("acme", "Acme").await;
    let requests_before = app.idp.received_requests().await.unwrap().len();
    let body = json!({"label": "Renamed", "enable_pkce": true});
    let response = app
        .request(
            Method::PATCH,
            "/api/identity-providers/acme/",
            As::Token(&app.staff),
            Some(&body),
        )
        .await;
    let (status, updated) = status_and_json(response).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["label"], "Renamed");
    assert_eq!(updated["enable_pkce"], true);
    for key in [
        "discovery_url",
        "auth_url",
        "token_url",
        "userinfo_url",
        "logout_url",
        "client_secret",
    ] {
        assert_eq!(updated[key], created[key], "{key}");
    }
    assert_eq!(
        app.idp.received_requests().await.unwrap().len(),
        requests_before,
        "no discovery fetch"
    );
}

async fn patch_with_discovery_url_fetches_with_the_stored_verify_ssl(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("acme", "Acme").await;
    let url = app
        .serve_document("second", idp_document(&app.idp.uri(), "second"))
        .await;
    let body = json!({"discovery_url": url});
    let response = app
        .request(
            Method::PATCH,
            "/api/identity-providers/acme/",
            As::Token(&app.staff),
            Some(&body),
        )
        .await;
    let (status, updated) = status_and_json(response).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["token_url"],
        format!("{}/second/token", app.idp.uri())
    );
    assert_eq!(updated["discovery_url"], url);
}

async fn provider_name_is_read_only_on_update(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("acme", "Acme").await;
    let body = json!({"provider": "renamed", "label": "X"});
    let response = app
        .request(
            Method::PATCH,
            "/api/identity-providers/acme/",
            As::Token(&app.staff),
            Some(&body),
        )
        .await;
    let (status, updated) = status_and_json(response).await;
    assert_eq!((status, updated["provider"].clone()), (200, json!("acme")));
    assert_eq!(
        app.get_staff("/api/identity-providers/renamed/")
            .await
            .status(),
        404
    );
}

async fn delete_answers_204_and_removes_the_row(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_provider("acme", "Acme").await;
    let response = app
        .request(
            Method::DELETE,
            "/api/identity-providers/acme/",
            As::Token(&app.staff),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.text().await.unwrap(), "");
    assert!(app.snapshot().is_empty());
    let again = app
        .request(
            Method::DELETE,
            "/api/identity-providers/acme/",
            As::Token(&app.staff),
            None,
        )
        .await;
    assert_eq!(again.status(), 404);
}

async fn client_secret_can_be_hidden_from_staff_too(backend: Backend) {
    let settings = ApiSettings {
        expose_client_secret: false,
        ..ApiSettings::default()
    };
    let app = spawn_app_with(backend, settings).await;
    let created = app.create_provider("acme", "Acme").await;
    assert!(created.get("client_secret").is_none());
    assert_eq!(keys(&created).len(), 20);
    let list: Value = app
        .get_staff("/api/identity-providers/")
        .await
        .json()
        .await
        .unwrap();
    assert!(list[0].get("client_secret").is_none());
    assert!(list[0].get("attribute_mapping").is_some());
    // An update that does not show the secret still keeps it.
    let patch = json!({"label": "Renamed"});
    let response = app
        .request(
            Method::PATCH,
            "/api/identity-providers/acme/",
            As::Token(&app.staff),
            Some(&patch),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.snapshot()[0]["client_secret"], "acme-secret-value");
}

async fn responses_carry_an_etag_that_changes_on_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = app.new_provider_body("acme", "Acme").await;
    let created = app.create(&body).await;
    let first = created.headers()["etag"].to_str().unwrap().to_owned();
    let read = app.get_staff("/api/identity-providers/acme/").await;
    assert_eq!(read.headers()["etag"], first.as_str());
    let patch = json!({"label": "B"});
    let updated = app
        .request(
            Method::PATCH,
            "/api/identity-providers/acme/",
            As::Token(&app.staff),
            Some(&patch),
        )
        .await;
    assert_ne!(updated.headers()["etag"].to_str().unwrap(), first);
}
