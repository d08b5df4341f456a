//! `fetch_cached`: repeated and concurrent requests for one document reach the provider once;
//! `fetch` always reaches it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use idp_oidc::{DiscoveryClient, FetchPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common;
use common::{loopback_policy, minimal_document};

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// A server whose document is served with `cache_control` (if any), expecting `hits` requests.
async fn provider(cache_control: Option<&str>, hits: u64) -> (MockServer, String) {
    let server = MockServer::start().await;
    let mut response = ResponseTemplate::new(200).set_body_json(minimal_document("https://idp"));
    if let Some(value) = cache_control {
        response = response.insert_header("Cache-Control", value);
    }
    Mock::given(method("GET"))
        .and(path(WELL_KNOWN))
        .respond_with(response)
        .expect(hits)
        .mount(&server)
        .await;
    let url = format!("{}{WELL_KNOWN}", server.uri());
    (server, url)
}

#[tokio::test]
async fn a_second_cached_fetch_is_served_from_memory() {
    let (server, url) = provider(None, 1).await;
    let client = DiscoveryClient::new(loopback_policy());
    let first = client.fetch_cached(&url, true).await.unwrap();
    let second = client.fetch_cached(&url, true).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(client.cached_entries(), 1);
    server.verify().await;
}

#[tokio::test]
async fn clones_of_a_client_share_its_cache() {
    let (server, url) = provider(None, 1).await;
    let client = DiscoveryClient::new(loopback_policy());
    client.fetch_cached(&url, true).await.unwrap();
    client.clone().fetch_cached(&url, true).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn max_age_zero_is_not_cached() {
    let (server, url) = provider(Some("max-age=0"), 2).await;
    let client = DiscoveryClient::new(loopback_policy());
    client.fetch_cached(&url, true).await.unwrap();
    client.fetch_cached(&url, true).await.unwrap();
    assert_eq!(client.cached_entries(), 0);
    server.verify().await;
}

#[tokio::test]
async fn no_store_is_not_cached() {
    let (server, url) = provider(Some("private, no-store"), 2).await;
    let client = DiscoveryClient::new(loopback_policy());
    client.fetch_cached(&url, true).await.unwrap();
    client.fetch_cached(&url, true).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn a_shorter_max_age_wins_over_the_policy() {
    let (server, url) = provider(Some("public, max-age=1"), 2).await;
    let client = DiscoveryClient::new(loopback_policy());
    client.fetch_cached(&url, true).await.unwrap();
    client.fetch_cached(&url, true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.fetch_cached(&url, true).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn the_policy_ttl_expires_documents() {
    let (server, url) = provider(Some("max-age=3600"), 2).await;
    let policy = FetchPolicy {
        cache_ttl: Duration::from_millis(200),
        ..loopback_policy()
    };
    let client = DiscoveryClient::new(policy);
    client.fetch_cached(&url, true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.fetch_cached(&url, true).await.unwrap();
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cached_fetches_share_one_request() {
    let server = MockServer::start().await;
    Mock::given(path(WELL_KNOWN))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(minimal_document("https://idp"))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}{WELL_KNOWN}", server.uri());
    let client = DiscoveryClient::new(loopback_policy());
    let fetches = (0..10).map(|_| {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move { client.fetch_cached(&url, true).await })
    });
    let results = join_all(fetches).await;
    let documents: Vec<_> = results.into_iter().map(|r| r.unwrap().unwrap()).collect();
    assert!(documents.iter().all(|d| Arc::ptr_eq(d, &documents[0])));
    server.verify().await;
}

#[tokio::test]
async fn concurrent_failures_share_one_request_and_are_not_cached() {
    let server = MockServer::start().await;
    Mock::given(path(WELL_KNOWN))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(200)))
        .expect(2)
        .mount(&server)
        .await;
    let url = format!("{}{WELL_KNOWN}", server.uri());
    let client = DiscoveryClient::new(loopback_policy());
    let results = join_all((0..5).map(|_| client.fetch_cached(&url, true))).await;
    assert!(results.iter().all(Result::is_err));
    assert_eq!(client.cached_entries(), 0);
    // The failure was not remembered: the next call asks again.
    assert!(client.fetch_cached(&url, true).await.is_err());
    server.verify().await;
}

#[tokio::test]
async fn fresh_fetches_always_reach_the_provider() {
    let (server, url) = provider(None, 3).await;
    let client = DiscoveryClient::new(loopback_policy());
    client.fetch_cached(&url, true).await.unwrap();
    client.fetch(&url, true).await.unwrap();
    client.fetch(&url, true).await.unwrap();
    client.fetch_cached(&url, true).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn verify_ssl_is_part_of_the_cache_key() {
    let (server, url) = provider(None, 2).await;
    let client = DiscoveryClient::new(loopback_policy());
    client.fetch_cached(&url, true).await.unwrap();
    client.fetch_cached(&url, false).await.unwrap();
    client.fetch_cached(&url, false).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn a_full_cache_evicts_its_oldest_document() {
    let server = MockServer::start().await;
    for (name, hits) in [("/a", 2), ("/b", 1), ("/c", 1)] {
        Mock::given(path(name))
            .respond_with(ResponseTemplate::new(200).set_body_json(minimal_document("https://idp")))
            .expect(hits)
            .mount(&server)
            .await;
    }
    let policy = FetchPolicy {
        cache_capacity: 2,
        ..loopback_policy()
    };
    let client = DiscoveryClient::new(policy);
    for name in ["/a", "/b", "/c", "/b", "/c", "/a"] {
        client
            .fetch_cached(&format!("{}{name}", server.uri()), true)
            .await
            .unwrap();
        assert!(client.cached_entries() <= 2);
    }
    server.verify().await;
}
