//! `discover_metadata` and `generate-mapping` through the API: the golden answer for every own
//! discovery document served on loopback (and for the real-world corpus when it is present), the
//! worked examples, and the reference's guard and fetch failures.

use std::path::{Path, PathBuf};

use idp_fixtures::DISCOVERY_CORPUS;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{As, spawn_app, status_and_json};
use crate::on_both_backends;
use idp_store::Backend;

const DISCOVER: &str = "/api/identity-providers/discover_metadata/";
const MAPPING: &str = "/api/identity-providers/generate-mapping/";

on_both_backends!(
    every_own_document_gets_its_golden_discover_metadata_and_mapping,
    the_real_world_corpus_gets_its_golden_discover_metadata_and_mapping,
    the_keycloak_realm_example_maps_as_worked_out,
    invalid_request_bodies_are_field_errors,
    refused_and_unreachable_urls_get_the_reference_messages,
    generate_mapping_needs_no_endpoints_but_discover_metadata_does,
    repeated_requests_are_served_from_the_cache,
);

fn read_json(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

async fn post(app: &crate::helpers::TestApp, route: &str, body: Value) -> (u16, Value) {
    status_and_json(
        app.request(Method::POST, route, As::Token(&app.staff), Some(&body))
            .await,
    )
    .await
}

/// The status an answer is sent with: 400 for an error body, else 200.
fn status_of(answer: &Value) -> u16 {
    if answer.get("discovery_url").is_some() {
        400
    } else {
        200
    }
}

/// Serves every document of `documents` on loopback and checks both actions' answers against
/// `<golden>/<stem>.<action>.json`. Returns how many documents were checked.
async fn check_documents(backend: Backend, documents: &Path, golden: &Path) -> usize {
    let app = spawn_app(backend).await;
    let entries = idp_fixtures::json_documents(documents);
    for (stem, file) in &entries {
        let url = app.serve_document(stem, read_json(file)).await;
        let expected = read_json(&golden.join(format!("{stem}.discover_metadata.json")));
        let (status, body) = post(&app, DISCOVER, json!({"discovery_url": url})).await;
        assert_eq!(
            (status, &body),
            (status_of(&expected), &expected),
            "{stem}: discover_metadata"
        );
        // Key order is part of the contract.
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            serde_json::to_string(&expected).unwrap(),
            "{stem}"
        );
        let expected = read_json(&golden.join(format!("{stem}.generate_mapping.json")));
        let (status, body) = post(
            &app,
            MAPPING,
            json!({"discovery_url": url, "verify_ssl": true}),
        )
        .await;
        assert_eq!(
            (status, &body),
            (status_of(&expected), &expected),
            "{stem}: generate-mapping"
        );
    }
    entries.len()
}

async fn every_own_document_gets_its_golden_discover_metadata_and_mapping(backend: Backend) {
    let checked = check_documents(
        backend,
        &idp_fixtures::discovery_dir(),
        &idp_fixtures::golden_dir(),
    )
    .await;
    assert!(checked >= 12, "{checked} documents");
}

async fn the_real_world_corpus_gets_its_golden_discover_metadata_and_mapping(backend: Backend) {
    let test = format!(
        "the_real_world_corpus_gets_its_golden_discover_metadata_and_mapping ({backend:?})"
    );
    let Some(corpus) = DISCOVERY_CORPUS.path_for_test(&test) else {
        return;
    };
    // The corpus's expected answers are committed beside idp-oidc's golden tests.
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../idp-oidc/tests/golden");
    let checked = check_documents(backend, &corpus, &golden).await;
    assert!(checked > 0, "{} holds no documents", corpus.display());
}

async fn the_keycloak_realm_example_maps_as_worked_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = app.idp.uri();
    let document = json!({
        "issuer": format!("{base}/realms/r"),
        "authorization_endpoint": format!("{base}/auth"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "claims_supported": ["aud","sub","iss","auth_time","name","given_name","family_name","preferred_username","email","acr"],
        "scopes_supported": ["openid","phone","organization","basic","offline_access","address","roles","profile","acr","web-origins","microprofile-jwt","email","service_account"],
    });
    let url = app.serve_document("realm", document).await;
    let (status, mapping) = post(&app, MAPPING, json!({"discovery_url": url})).await;
    assert_eq!(status, 200);
    assert_eq!(
        mapping,
        json!({"attribute_mapping": {"first_name": "given_name", "last_name": "family_name", "civil_number": "sub",
               "email": "email", "eduperson_assurance": "acr"}, "extra_scope": "email profile"})
    );
    let (status, report) = post(&app, DISCOVER, json!({"discovery_url": url})).await;
    assert_eq!(status, 200);
    assert_eq!(
        report["suggested_scopes"],
        json!(["email", "openid", "profile"])
    );
    assert_eq!(report["endpoints"]["end_session_endpoint"], Value::Null);
    assert_eq!(report["endpoints"]["jwks_uri"], Value::Null);
    let with_claims: Vec<&str> = report["waldur_fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["available_claims"].as_array().unwrap().is_empty())
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        with_claims,
        [
            "first_name",
            "last_name",
            "civil_number",
            "email",
            "eduperson_assurance"
        ]
    );
}

async fn invalid_request_bodies_are_field_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let rows = [
        (
            json!({}),
            json!({"discovery_url": ["This field is required."]}),
        ),
        (
            json!({"discovery_url": ""}),
            json!({"discovery_url": ["This field may not be blank."]}),
        ),
        (
            json!({"discovery_url": "not a url"}),
            json!({"discovery_url": ["Enter a valid URL."]}),
        ),
        (
            json!({"discovery_url": "ftp://idp.example.com/x"}),
            json!({"discovery_url": ["Only http and https URLs are allowed."]}),
        ),
        (
            json!({"discovery_url": "https://idp.example.com", "verify_ssl": "sometimes"}),
            json!({"verify_ssl": ["Must be a valid boolean."]}),
        ),
        (
            json!([]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
    ];
    for route in [DISCOVER, MAPPING] {
        for (body, expected) in &rows {
            let (status, answer) = post(&app, route, body.clone()).await;
            assert_eq!((status, &answer), (400, expected), "{route} {body}");
        }
    }
}

async fn refused_and_unreachable_urls_get_the_reference_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    Mock::given(method("GET"))
        .and(path("/missing"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&app.idp)
        .await;
    Mock::given(method("GET"))
        .and(path("/html"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html></html>"))
        .mount(&app.idp)
        .await;
    let idp = app.idp.uri();
    let rows = [
        (
            "http://169.254.169.254/latest/meta-data/",
            "URL host resolves to a disallowed address (169.254.169.254).".to_owned(),
        ),
        (
            "http://[::ffff:169.254.169.254]/x",
            "URL host resolves to a disallowed address (169.254.169.254).".to_owned(),
        ),
        (
            "http://0.0.0.0/x",
            "URL host resolves to a disallowed address (0.0.0.0).".to_owned(),
        ),
        (
            &*format!("http://127.0.0.1:{closed}/x"),
            "Unable to connect to the discovery URL.".to_owned(),
        ),
        (
            &*format!("{idp}/missing"),
            format!(
                "Unable to fetch discovery document: 404 Client Error: Not Found for url: {idp}/missing"
            ),
        ),
        (
            &*format!("{idp}/html"),
            "Invalid JSON in discovery response.".to_owned(),
        ),
    ];
    for (url, message) in rows {
        let (status, body) = post(&app, DISCOVER, json!({"discovery_url": url})).await;
        assert_eq!(
            (status, body),
            (400, json!({"discovery_url": [message]})),
            "{url}"
        );
    }
    let (status, body) = post(
        &app,
        MAPPING,
        json!({"discovery_url": format!("http://127.0.0.1:{closed}/x")}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["discovery_url"][0]
            .as_str()
            .unwrap()
            .starts_with("Unable to fetch discovery document: "),
        "{body}"
    );
}

async fn generate_mapping_needs_no_endpoints_but_discover_metadata_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app
        .serve_document("bare", json!({"authorization_endpoint": "https://x.example/a", "claims_supported": ["email"], "scopes_supported": ["email"]}))
        .await;
    let (status, body) = post(&app, DISCOVER, json!({"discovery_url": url})).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"discovery_url": ["Missing required endpoint in discovery document: 'token_endpoint'"]})
        )
    );
    let (status, body) = post(&app, MAPPING, json!({"discovery_url": url})).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"attribute_mapping": {"email": "email"}, "extra_scope": "email"})
        )
    );
}

async fn repeated_requests_are_served_from_the_cache(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.serve_idp("cached").await;
    for _ in 0..3 {
        assert_eq!(
            post(&app, DISCOVER, json!({"discovery_url": url})).await.0,
            200
        );
        assert_eq!(
            post(&app, MAPPING, json!({"discovery_url": url})).await.0,
            200
        );
    }
    let fetches = app.idp.received_requests().await.unwrap().len();
    assert_eq!(
        fetches, 1,
        "one fetch serves both actions within the cache lifetime"
    );
}
