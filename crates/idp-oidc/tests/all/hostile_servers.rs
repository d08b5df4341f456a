//! Fetches against loopback servers that misbehave: every failure must end promptly, as the kind
//! of failure it is, with its cause kept and no credential in sight. (How the API words each kind
//! is tested in idp-http.)

use std::time::{Duration, Instant};

use std::error::Error as _;

use idp_oidc::{DiscoveryClient, FetchErrorKind, FetchPolicy, GuardError};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common;
use common::{closed_port, loopback_policy, minimal_document, read_request_head, serve_raw};

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

fn client() -> DiscoveryClient {
    DiscoveryClient::new(loopback_policy())
}

/// A wiremock server answering `GET /.well-known/openid-configuration` with `response`.
async fn serving(response: ResponseTemplate) -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(WELL_KNOWN))
        .respond_with(response)
        .mount(&server)
        .await;
    let url = format!("{}{WELL_KNOWN}", server.uri());
    (server, url)
}

async fn failure(url: &str) -> FetchErrorKind {
    client().fetch(url, true).await.unwrap_err().kind().clone()
}

#[tokio::test]
async fn a_valid_document_is_fetched_and_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(WELL_KNOWN))
        .respond_with(ResponseTemplate::new(200).set_body_json(minimal_document(&server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}{WELL_KNOWN}", server.uri());
    let endpoints = client()
        .fetch(&url, true)
        .await
        .unwrap()
        .provider_endpoints()
        .unwrap();
    assert_eq!(endpoints.auth_url, format!("{}/auth", server.uri()));
    assert_eq!(endpoints.logout_url, format!("{}/logout", server.uri()));
}

#[tokio::test]
async fn a_slow_drip_is_cut_off_by_the_whole_fetch_timeout() {
    let addr = serve_raw(|mut stream| async move {
        read_request_head(&mut stream).await;
        let head =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
        if stream.write_all(head).await.is_err() {
            return;
        }
        loop {
            if stream.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let policy = FetchPolicy {
        timeout: Duration::from_secs(2),
        ..loopback_policy()
    };
    let started = Instant::now();
    let error = DiscoveryClient::new(policy)
        .fetch(&format!("http://{addr}{WELL_KNOWN}"), true)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &FetchErrorKind::Timeout);
    assert!(error.is_transport());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_endless_body_stops_at_the_size_cap() {
    let addr = serve_raw(|mut stream| async move {
        read_request_head(&mut stream).await;
        let head =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
        if stream.write_all(head).await.is_err() {
            return;
        }
        let chunk = vec![b' '; 64 * 1024];
        while stream.write_all(&chunk).await.is_ok() {}
    })
    .await;
    let started = Instant::now();
    let error = client()
        .fetch(&format!("http://{addr}{WELL_KNOWN}"), true)
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        &FetchErrorKind::TooLarge { limit: 1024 * 1024 }
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_declared_oversized_body_is_refused_before_reading() {
    let big = "x".repeat(2048);
    let (_server, url) = serving(ResponseTemplate::new(200).set_body_string(big)).await;
    let policy = FetchPolicy {
        max_body_bytes: 1024,
        ..loopback_policy()
    };
    let error = DiscoveryClient::new(policy)
        .fetch(&url, true)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &FetchErrorKind::TooLarge { limit: 1024 });
}

#[tokio::test]
async fn a_redirect_loop_ends_after_the_redirect_limit() {
    let server = MockServer::start().await;
    Mock::given(path("/loop"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/loop"))
        .expect(6) // the first request and five redirects
        .mount(&server)
        .await;
    assert_eq!(
        failure(&format!("{}/loop", server.uri())).await,
        FetchErrorKind::TooManyRedirects { limit: 5 }
    );
    server.verify().await;
}

#[tokio::test]
async fn redirects_are_followed_relative_to_the_current_url() {
    let server = MockServer::start().await;
    Mock::given(path("/old"))
        .respond_with(ResponseTemplate::new(301).insert_header("Location", WELL_KNOWN))
        .mount(&server)
        .await;
    Mock::given(path(WELL_KNOWN))
        .respond_with(ResponseTemplate::new(200).set_body_json(minimal_document("https://idp")))
        .mount(&server)
        .await;
    let document = client()
        .fetch(&format!("{}/old", server.uri()), true)
        .await
        .unwrap();
    assert_eq!(
        document.provider_endpoints().unwrap().token_url,
        "https://idp/token"
    );
}

#[tokio::test]
async fn a_redirect_to_cloud_metadata_is_refused_even_with_loopback_allowed() {
    let (_server, url) = serving(
        ResponseTemplate::new(302)
            .insert_header("Location", "http://169.254.169.254/latest/meta-data"),
    )
    .await;
    let error = client().fetch(&url, true).await.unwrap_err();
    assert!(error.is_guard());
    assert_eq!(
        error.kind(),
        &FetchErrorKind::Guard(GuardError::Disallowed {
            ip: "169.254.169.254".parse().unwrap()
        })
    );
}

#[tokio::test]
async fn a_redirect_to_another_scheme_is_refused() {
    let (_server, url) =
        serving(ResponseTemplate::new(307).insert_header("Location", "file:///etc/passwd")).await;
    assert_eq!(
        failure(&url).await,
        FetchErrorKind::Guard(GuardError::UnsupportedScheme)
    );
}

#[tokio::test]
async fn error_statuses_are_reported_with_code_reason_and_url() {
    let (_server, url) = serving(ResponseTemplate::new(404)).await;
    assert_eq!(
        failure(&url).await,
        FetchErrorKind::Status {
            code: 404,
            reason: "Not Found".into(),
            url: url.clone()
        }
    );
    let (_server, url) = serving(ResponseTemplate::new(500)).await;
    let error = client().fetch(&url, true).await.unwrap_err();
    assert_eq!(
        error.kind(),
        &FetchErrorKind::Status {
            code: 500,
            reason: "Internal Server Error".into(),
            url
        }
    );
    assert!(error.is_transport());
}

#[tokio::test]
async fn credentials_in_the_url_appear_nowhere_in_the_error() {
    let (server, _) = serving(ResponseTemplate::new(403)).await;
    let with_secret = server.uri().replace("http://", "http://admin:hunter2@") + WELL_KNOWN;
    let error = client().fetch(&with_secret, true).await.unwrap_err();
    assert_eq!(
        error.kind(),
        &FetchErrorKind::Status {
            code: 403,
            reason: "Forbidden".into(),
            url: format!("{}{WELL_KNOWN}", server.uri())
        }
    );
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    // Nor in the causes of a transport failure, whose reqwest error would name the URL.
    let refused = format!(
        "http://admin:hunter2@127.0.0.1:{}{WELL_KNOWN}",
        closed_port()
    );
    let error = client().fetch(&refused, true).await.unwrap_err();
    assert_eq!(error.kind(), &FetchErrorKind::Connect);
    let mut shown = format!("{error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        shown.push_str(&format!(" {cause} {cause:?}"));
        source = cause.source();
    }
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_invalid_json() {
    let (_server, url) =
        serving(ResponseTemplate::new(200).set_body_string("<html>hi</html>")).await;
    let error = client().fetch(&url, true).await.unwrap_err();
    assert_eq!(error.kind(), &FetchErrorKind::InvalidJson);
    assert!(error.source().is_some(), "the parser's error is kept");
}

#[tokio::test]
async fn a_json_array_is_not_a_document() {
    let (_server, url) = serving(ResponseTemplate::new(200).set_body_json(json!([1, 2]))).await;
    let error = client().fetch(&url, true).await.unwrap_err();
    assert_eq!(error.kind(), &FetchErrorKind::NotAnObject);
}

#[tokio::test]
async fn missing_endpoints_are_reported_in_the_reference_order() {
    let cases = [
        ("authorization_endpoint", "authorization_endpoint"),
        ("token_endpoint", "token_endpoint"),
        ("userinfo_endpoint", "userinfo_endpoint"),
    ];
    for (removed, reported) in cases {
        let mut document = minimal_document("https://idp");
        document.as_object_mut().unwrap().remove(removed);
        if removed == "authorization_endpoint" {
            // With two missing, the earlier one in the order is named.
            document
                .as_object_mut()
                .unwrap()
                .remove("userinfo_endpoint");
        }
        let (_server, url) = serving(ResponseTemplate::new(200).set_body_json(document)).await;
        let fetched = client().fetch(&url, true).await.unwrap();
        let missing = FetchErrorKind::MissingEndpoint(reported);
        assert_eq!(fetched.metadata_report().unwrap_err().kind(), &missing);
        assert_eq!(fetched.provider_endpoints().unwrap_err().kind(), &missing);
        assert!(
            fetched.generate_mapping().is_ok(),
            "generate-mapping needs no endpoints"
        );
    }
}

#[tokio::test]
async fn a_refused_connection_is_unable_to_connect() {
    let url = format!("http://127.0.0.1:{}{WELL_KNOWN}", closed_port());
    let error = client().fetch(&url, true).await.unwrap_err();
    assert_eq!(error.kind(), &FetchErrorKind::Connect);
    assert!(error.source().is_some(), "the connection error is kept");
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_unable_to_connect() {
    let addr = serve_raw(|mut stream| async move {
        read_request_head(&mut stream).await;
        drop(stream);
    })
    .await;
    assert_eq!(
        failure(&format!("http://{addr}{WELL_KNOWN}")).await,
        FetchErrorKind::Connect
    );
}

#[tokio::test]
async fn a_garbage_answer_is_a_short_fetch_error() {
    let addr = serve_raw(|mut stream| async move {
        read_request_head(&mut stream).await;
        let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
    })
    .await;
    let error = client()
        .fetch(&format!("http://{addr}{WELL_KNOWN}"), true)
        .await
        .unwrap_err();
    assert!(error.is_transport(), "{error:?}");
    assert_eq!(error.kind(), &FetchErrorKind::Request);
    assert!(error.source().is_some(), "what reqwest said is kept");
}
