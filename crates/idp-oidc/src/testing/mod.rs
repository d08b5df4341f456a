//! The relying party's test kit (feature `test-support`), for this crate's tests and for the
//! HTTP layer's: everything runs on loopback, with keys made at run time.
//!
//! * [`HostileProvider`]: an OpenID Provider written here (on wiremock) that serves discovery, a
//!   key set the test can rotate, and any token or userinfo answer, right or wrong: forged,
//!   unsigned and mis-keyed ID tokens, wrong claims, errors, delays, non-JSON.
//! * [`KeyPair`], [`sign_hs256`], [`unsigned`]: RSA and Ed25519 keys and the tokens they sign or
//!   fail to sign.
//! * [`RealProvider`] and [`browser_login`]: the certified `oidc-provider` in
//!   `fixtures/oidc-provider`, run with Node.js, and a login through its HTML forms over HTTP.
//!   Its npm packages are installed by `cargo xtask test` (or
//!   `npm ci --prefix fixtures/oidc-provider`); without them [`RealProvider::start`] fails with
//!   that advice, so tests fail rather than skip.

mod browser;
mod hostile;
mod keys;
mod real;

use crate::FetchPolicy;

pub use browser::browser_login;
pub use hostile::{
    ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, HostileProvider, Reply, SUBJECT, default_userinfo,
    token_body,
};
pub use keys::{KeyPair, sign_hs256, unsigned};
pub use real::{RealProvider, RegisteredClient, SETUP_HINT, fixture_dir};

/// The default policy, except that loopback may be reached (the test providers live there).
pub fn loopback_policy() -> FetchPolicy {
    FetchPolicy {
        allow_networks: crate::parse_networks("127.0.0.0/8,::1/128").unwrap_or_default(),
        ..FetchPolicy::default()
    }
}

/// An `http://127.0.0.1:<port>/…` URL on which nothing listens (bound, then released), for a
/// provider endpoint that is down.
pub fn closed_port_url(path: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or(9);
    format!("http://127.0.0.1:{port}{path}")
}
