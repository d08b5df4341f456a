//! The domain of the identity-provider registry.
//!
//! This crate holds what an identity-provider configuration *is* and which values it may take:
//! the provider model, the field rules with the exact messages clients rely on, the per-provider
//! defaults, the catalogue of writable user fields and the claim-mapping rules; and, in
//! [`login`], the pure logic of logging people in with a stored configuration.
//!
//! It must never depend on storage, HTTP, async runtimes or any I/O: another Rust service embeds
//! it as is, and the registry's own store, HTTP surface and OIDC tooling all build on it.

mod catalogue;
mod defaults;
mod discovery_request;
mod errors;
mod import;
pub mod login;
mod mapping;
mod names;
mod parse;
mod provider;
mod redirects;
mod url_rules;

pub use catalogue::{CLAIM_SCOPES, USER_FIELDS, UserField, user_field};
pub use defaults::{PROVIDER_DEFAULTS, ProviderDefaults, defaults_for};
pub use discovery_request::DiscoveryRequest;
pub use errors::{FieldError, ValidationErrors};
pub use import::provider_from_export;
pub use login::{LoginError, MappingTrace, UserProfile, map_claims};
pub use mapping::{
    FieldSuggestion, GeneratedMapping, available_claims, field_suggestions, generate_mapping,
    suggested_claims, suggested_scopes,
};
pub use names::{ProviderNamePolicy, REFERENCE_PROVIDERS};
pub use provider::{
    Access, AttributeMapping, DUPLICATE_PROVIDER, FieldRule, HIDDEN_FIELDS, NewProvider,
    PROVIDER_FIELDS, Presence, Provider, ProviderEndpoints, ProviderField, ProviderUpdate,
    ProviderView, UpdateKind, ValueKind, Visibility,
};
pub use redirects::normalise_redirects;
pub use url_rules::{UrlParts, check_discovery_url_for_provider, is_valid_django_url, split_url};

/// The README's examples, compiled and run with the doctests so that they keep working.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
