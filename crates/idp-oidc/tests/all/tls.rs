//! TLS: a self-signed loopback server is refused unless `verify_ssl` is false.
//!
//! `tests/data/localhost.{crt,key}` is a self-signed P-256 certificate for `localhost`,
//! `127.0.0.1` and `::1`, valid until 2126, made with
//! `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
//! -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 ...`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use idp_oidc::{DiscoveryClient, FetchErrorKind};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use wiremock::MockServer;

use crate::common;
use common::{loopback_policy, minimal_document};

const CERT: &[u8] = include_bytes!("../data/localhost.crt");
const KEY: &[u8] = include_bytes!("../data/localhost.key");

/// Starts a blocking HTTPS server on a loopback port that answers every request with a minimal
/// discovery document. Its threads end with the test process.
fn https_server() -> SocketAddr {
    let certs = CertificateDer::pem_slice_iter(CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(connection) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(connection, stream);
                let mut head = Vec::new();
                let mut buffer = [0_u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let body = minimal_document("https://idp.example.com").to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes());
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_self_signed_certificate_fails_verification() {
    let addr = https_server();
    let url = format!("https://{addr}/.well-known/openid-configuration");
    let error = DiscoveryClient::new(loopback_policy())
        .fetch(&url, true)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &FetchErrorKind::Tls);
    assert!(error.is_transport());
    // What rustls found wrong with the certificate is kept for the log.
    assert!(std::error::Error::source(&error).is_some());
}

#[tokio::test]
async fn verify_ssl_false_accepts_a_self_signed_certificate() {
    let addr = https_server();
    let url = format!("https://{addr}/.well-known/openid-configuration");
    let client = DiscoveryClient::new(loopback_policy());
    let document = client.fetch(&url, false).await.unwrap();
    let endpoints = document.provider_endpoints().unwrap();
    assert_eq!(endpoints.token_url, "https://idp.example.com/token");
    // The cache keeps verified and unverified fetches apart.
    assert!(client.fetch_cached(&url, false).await.is_ok());
    assert_eq!(
        client.fetch_cached(&url, true).await.unwrap_err().kind(),
        &FetchErrorKind::Tls
    );
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_failure() {
    let server = MockServer::start().await;
    let url = server.uri().replace("http://", "https://") + "/.well-known/openid-configuration";
    let error = DiscoveryClient::new(loopback_policy())
        .fetch(&url, false)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &FetchErrorKind::Tls);
}
