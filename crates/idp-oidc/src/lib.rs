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
//! Every failure is a [`FetchError`] whose messages are the reference system's, word for word:
//! [`FetchError::action_message`] for `discover_metadata` and `generate-mapping`,
//! [`FetchError::create_message`] for creating and updating a provider.
//!
//! # Example
//!
//! Reading a document that is already at hand needs no network:
//!
//! ```
//! use idp_oidc::DiscoveryDocument;
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
//! assert_eq!(
//!     missing.action_message(),
//!     "Missing required endpoint in discovery document: 'token_endpoint'"
//! );
//! assert_eq!(missing.create_message(), "Unable to parse JSON in discovery response.");
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

pub use client::DiscoveryClient;
pub use document::DiscoveryDocument;
pub use error::FetchError;
pub use guard::{GuardError, GuardedTarget};
pub use policy::{FetchPolicy, parse_networks};
pub use report::{MetadataReport, ReportEndpoints};

/// The `openidconnect` crate, whose typed metadata [`DiscoveryDocument::metadata`] returns.
pub use openidconnect;
