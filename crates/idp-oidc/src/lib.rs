//! Fetching OpenID Connect discovery documents safely, and reading them.
//!
//! This crate is what the identity-provider registry knows about OpenID Connect: it fetches a
//! provider's discovery document (`/.well-known/openid-configuration`) behind an SSRF guard, and
//! turns it into the endpoints a provider configuration stores, the `discover_metadata` report and
//! the `generate-mapping` suggestion. The mapping rules themselves live in `idp-core`; this crate
//! feeds them. It must never depend on the store or the HTTP layer (`idp-store`, `idp-http`,
//! actix, diesel): the server uses it, and so does the `inspect` command, with no database.
//!
//! The [`rp`] module is the login flow's relying party: the authorization URL, the code exchange,
//! ID token verification against cached key sets, and userinfo, all through the same SSRF guard
//! (see `docs/login-relying-party.md`). The `test-support` feature adds the `testing` module: a
//! hostile OpenID Provider on loopback and a driver for a real one, for tests.
//!
//! # What a fetch guarantees
//!
//! * Only `http` and `https` URLs with a host are fetched. Every address the host resolves to must
//!   not be loopback, link-local (cloud metadata), multicast, reserved or unspecified, unless it
//!   lies in [`FetchPolicy::allow_networks`]. Private ranges are allowed.
//! * The connection goes to exactly the addresses that were checked (no DNS-rebinding window), and
//!   no proxy is used.
//! * Redirects are followed by hand, each hop checked again, at most
//!   [`FetchPolicy::max_redirects`] of them.
//! * The whole fetch is bounded by [`FetchPolicy::timeout`], and the body by
//!   [`FetchPolicy::max_body_bytes`]: a longer body is not read further.
//!
//! Every failure is a [`FetchError`] that says what happened: its [`FetchErrorKind`] (with the
//! details, such as the status code or the missing key) and the underlying error as its source.
//! Its `Display` is for people; how an API words each kind for its clients is decided by the API
//! from the kind, not here.
//!
//! # Example
//!
//! Reading a document that is already at hand needs no network:
//!
//! ```
//! use idp_oidc::{DiscoveryDocument, FetchErrorKind};
//!
//! let document = DiscoveryDocument::from_json(br#"{
//!     "authorization_endpoint": "https://idp.example.com/auth",
//!     "token_endpoint": "https://idp.example.com/token",
//!     "userinfo_endpoint": "https://idp.example.com/userinfo",
//!     "claims_supported": ["sub", "email", "given_name", "family_name"],
//!     "scopes_supported": ["openid", "email", "profile"]
//! }"#)?;
//!
//! let mapping = document.generate_mapping()?;
//! assert_eq!(mapping.attribute_mapping["email"], "email");
//! assert_eq!(mapping.extra_scope, "email profile");
//!
//! let report = document.metadata_report()?;
//! assert_eq!(report.endpoints.end_session_endpoint, None);
//! println!("{}", report.render_table());
//!
//! let missing = DiscoveryDocument::from_json(br#"{"authorization_endpoint": "https://idp/a"}"#)?
//!     .provider_endpoints()
//!     .unwrap_err();
//! assert_eq!(missing.kind(), &FetchErrorKind::MissingEndpoint("token_endpoint"));
//! assert_eq!(missing.to_string(), "the required endpoint 'token_endpoint' is missing");
//!
//! let not_json = DiscoveryDocument::from_json(b"<html>").unwrap_err();
//! assert_eq!(not_json.kind(), &FetchErrorKind::InvalidJson);
//! // The parser's own error is kept as the source, for logs.
//! assert!(std::error::Error::source(&not_json).is_some());
//! # Ok::<(), idp_oidc::FetchError>(())
//! ```
//!
//! Fetching one (this needs the network):
//!
//! ```no_run
//! use idp_oidc::{DiscoveryClient, FetchPolicy};
//!
//! # async fn run() -> Result<(), idp_oidc::FetchError> {
//! let client = DiscoveryClient::new(FetchPolicy::default());
//! let document = client
//!     .fetch_cached("https://accounts.google.com/.well-known/openid-configuration", true)
//!     .await?;
//! let endpoints = document.provider_endpoints()?;
//! println!("authorize at {}", endpoints.auth_url);
//! # Ok(())
//! # }
//! ```

mod cause;
mod client;
mod document;
mod error;
mod fetch;
pub mod guard;
mod policy;
mod report;
pub mod rp;
#[cfg(feature = "test-support")]
pub mod testing;
mod transport;

pub use cause::Cause;
pub use client::DiscoveryClient;
pub use document::DiscoveryDocument;
pub use error::{FetchError, FetchErrorKind};
pub use guard::{GuardError, GuardedTarget};
pub use policy::{FetchPolicy, parse_networks};
pub use report::{MetadataReport, ReportEndpoints};

/// The `openidconnect` crate, whose typed metadata [`DiscoveryDocument::metadata`] returns.
pub use openidconnect;

/// The README's examples, compiled and run with the doctests so that they keep working.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
