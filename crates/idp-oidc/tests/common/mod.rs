//! Helpers shared by the integration tests: a policy that lets the fetcher reach loopback, the
//! discovery fixtures, and raw loopback servers for behaviour wiremock cannot produce.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use idp_oidc::FetchPolicy;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// The default policy, except that loopback may be reached (the test servers live there).
pub fn loopback_policy() -> FetchPolicy {
    FetchPolicy {
        allow_networks: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        ..Default::default()
    }
}

/// The project's own discovery documents (`fixtures/discovery` at the workspace root).
pub fn fixtures_dir() -> PathBuf {
    idp_fixtures::discovery_dir()
}

/// The own fixture `<stem>.json` as JSON.
pub fn fixture(stem: &str) -> Value {
    read_json(&fixtures_dir().join(format!("{stem}.json")))
}

/// A JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// A small valid document whose endpoints live under `base`.
pub fn minimal_document(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/auth"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "end_session_endpoint": format!("{base}/logout"),
        "claims_supported": ["sub", "email", "given_name", "family_name"],
        "scopes_supported": ["openid", "email", "profile"],
    })
}

/// Starts a loopback server that hands every accepted connection to `handler`.
pub async fn serve_raw<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handler(stream));
        }
    });
    addr
}

/// Reads a request's head (up to the blank line), so the client is not reset by an unread
/// request when the server answers.
pub async fn read_request_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
}

/// A port on which nothing listens: bound, then released.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
