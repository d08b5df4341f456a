//! The integration tests of idp-oidc, in one test binary (one link instead of one per file).
//! The relying party's and the real provider's tests need the `test-support` feature.

#[path = "../common/mod.rs"]
mod common;

mod cache;
mod documents;
mod golden;
mod hostile_servers;
#[cfg(feature = "test-support")]
mod real_provider;
#[cfg(feature = "test-support")]
mod relying_party;
mod ssrf_guard;
mod tls;
