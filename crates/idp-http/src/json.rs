//! The wire types of the Identity Providers API, for the OpenAPI document only.
//!
//! The handlers parse bodies through `idp-core` and answer with `Provider::to_json` and
//! `idp_oidc::MetadataReport`; nothing here is ever built or parsed. These types exist so that
//! utoipa can derive the schema components from code. Names, property order and the keywords of
//! every property (type, format, maxLength, minLength, nullability, readOnly, default and
//! description) follow the reference OpenAPI fragment; `tests/openapi.rs` checks that when the
//! fragment is present (`IDP_REFERENCE_OPENAPI`).
//!
//! Doc comments on fields become the properties' descriptions, so they are written as the
//! reference words them, one line each.

#![expect(
    dead_code,
    reason = "only the ToSchema and IntoParams impls use these types; their fields are never read"
)]

use std::collections::HashMap;

use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// A provider as served by list, retrieve, create and update.
///
/// Non-staff callers do not get `client_secret`, `user_field`, `user_claim`,
/// `attribute_mapping` and `extra_fields`; the schema lists every key, as the reference's does.
#[derive(ToSchema)]
#[schema(description = "")]
pub(crate) struct IdentityProvider {
    #[schema(max_length = 32)]
    provider: String,
    #[schema(required = false)]
    is_active: bool,
    /// ID of application used for OAuth authentication.
    #[schema(max_length = 200)]
    client_id: String,
    /// Application secret key.
    #[schema(max_length = 200)]
    client_secret: String,
    #[schema(required = false)]
    verify_ssl: bool,
    #[schema(required = false)]
    enable_post_logout_redirect: bool,
    #[schema(required = false)]
    enable_pkce: bool,
    /// The endpoint for endpoint discovery.
    #[schema(max_length = 200)]
    discovery_url: String,
    /// The endpoint for fetching user info.
    #[schema(read_only)]
    userinfo_url: String,
    /// The endpoint for obtaining auth token.
    #[schema(read_only)]
    token_url: String,
    /// The endpoint for authorization request flow.
    #[schema(read_only)]
    auth_url: String,
    /// The endpoint used to redirect after sign-out.
    #[schema(read_only)]
    logout_url: String,
    /// Human-readable identity provider is label.
    #[schema(max_length = 200)]
    label: String,
    /// The endpoint for user details management.
    #[schema(max_length = 200, required = false)]
    management_url: String,
    #[schema(required = false)]
    protected_fields: Value,
    /// Space-separated list of scopes to request during authentication.
    #[schema(max_length = 200)]
    extra_scope: Option<String>,
    /// The field in Waldur User model to be used for looking up the user
    #[schema(max_length = 100, required = false)]
    user_field: String,
    /// The OIDC claim from the userinfo endpoint to be used as the value for the lookup field.
    #[schema(max_length = 100, required = false)]
    user_claim: String,
    /// A JSON object mapping Waldur User model fields to OIDC claims. Example: {"first_name": "given_name", "last_name": "family_name", "email": "email"}
    #[schema(required = false)]
    attribute_mapping: Value,
    /// Space-separated list of extra fields to persist.
    #[schema(max_length = 200)]
    extra_fields: Option<String>,
    /// List of allowed redirect URLs for OAuth authentication. URLs must be exact matches (origin only: scheme + domain + port). HTTPS required except for localhost. No wildcards, paths, query params, or fragments. Example: ["https://portal1.example.com", "https://portal2.example.com:8443"]. If empty, falls back to HOMEPORT_URL setting.
    #[schema(required = false)]
    allowed_redirects: Value,
}

/// The body of create and update (`PUT`).
#[derive(ToSchema)]
#[schema(description = "")]
pub(crate) struct IdentityProviderRequest {
    #[schema(min_length = 1, max_length = 32)]
    provider: String,
    #[schema(required = false)]
    is_active: bool,
    /// ID of application used for OAuth authentication.
    #[schema(min_length = 1, max_length = 200)]
    client_id: String,
    /// Application secret key.
    #[schema(min_length = 1, max_length = 200)]
    client_secret: String,
    #[schema(required = false)]
    verify_ssl: bool,
    #[schema(required = false)]
    enable_post_logout_redirect: bool,
    #[schema(required = false)]
    enable_pkce: bool,
    /// The endpoint for endpoint discovery.
    #[schema(min_length = 1, max_length = 200)]
    discovery_url: String,
    /// Human-readable identity provider is label.
    #[schema(min_length = 1, max_length = 200)]
    label: String,
    /// The endpoint for user details management.
    #[schema(max_length = 200, required = false)]
    management_url: String,
    #[schema(required = false)]
    protected_fields: Value,
    /// Space-separated list of scopes to request during authentication.
    #[schema(max_length = 200)]
    extra_scope: Option<String>,
    /// The field in Waldur User model to be used for looking up the user
    #[schema(min_length = 1, max_length = 100, required = false)]
    user_field: String,
    /// The OIDC claim from the userinfo endpoint to be used as the value for the lookup field.
    #[schema(min_length = 1, max_length = 100, required = false)]
    user_claim: String,
    /// A JSON object mapping Waldur User model fields to OIDC claims. Example: {"first_name": "given_name", "last_name": "family_name", "email": "email"}
    #[schema(required = false)]
    attribute_mapping: Value,
    /// Space-separated list of extra fields to persist.
    #[schema(max_length = 200)]
    extra_fields: Option<String>,
    /// List of allowed redirect URLs for OAuth authentication. URLs must be exact matches (origin only: scheme + domain + port). HTTPS required except for localhost. No wildcards, paths, query params, or fragments. Example: ["https://portal1.example.com", "https://portal2.example.com:8443"]. If empty, falls back to HOMEPORT_URL setting.
    #[schema(required = false)]
    allowed_redirects: Value,
}

/// The body of a partial update (`PATCH`): every field is optional.
#[derive(ToSchema)]
#[schema(description = "")]
pub(crate) struct PatchedIdentityProviderRequest {
    #[schema(min_length = 1, max_length = 32, required = false)]
    provider: String,
    #[schema(required = false)]
    is_active: bool,
    /// ID of application used for OAuth authentication.
    #[schema(min_length = 1, max_length = 200, required = false)]
    client_id: String,
    /// Application secret key.
    #[schema(min_length = 1, max_length = 200, required = false)]
    client_secret: String,
    #[schema(required = false)]
    verify_ssl: bool,
    #[schema(required = false)]
    enable_post_logout_redirect: bool,
    #[schema(required = false)]
    enable_pkce: bool,
    /// The endpoint for endpoint discovery.
    #[schema(min_length = 1, max_length = 200, required = false)]
    discovery_url: String,
    /// Human-readable identity provider is label.
    #[schema(min_length = 1, max_length = 200, required = false)]
    label: String,
    /// The endpoint for user details management.
    #[schema(max_length = 200, required = false)]
    management_url: String,
    #[schema(required = false)]
    protected_fields: Value,
    /// Space-separated list of scopes to request during authentication.
    #[schema(max_length = 200)]
    extra_scope: Option<String>,
    /// The field in Waldur User model to be used for looking up the user
    #[schema(min_length = 1, max_length = 100, required = false)]
    user_field: String,
    /// The OIDC claim from the userinfo endpoint to be used as the value for the lookup field.
    #[schema(min_length = 1, max_length = 100, required = false)]
    user_claim: String,
    /// A JSON object mapping Waldur User model fields to OIDC claims. Example: {"first_name": "given_name", "last_name": "family_name", "email": "email"}
    #[schema(required = false)]
    attribute_mapping: Value,
    /// Space-separated list of extra fields to persist.
    #[schema(max_length = 200)]
    extra_fields: Option<String>,
    /// List of allowed redirect URLs for OAuth authentication. URLs must be exact matches (origin only: scheme + domain + port). HTTPS required except for localhost. No wildcards, paths, query params, or fragments. Example: ["https://portal1.example.com", "https://portal2.example.com:8443"]. If empty, falls back to HOMEPORT_URL setting.
    #[schema(required = false)]
    allowed_redirects: Value,
}

/// The body of `discover_metadata` and `generate-mapping`.
#[derive(ToSchema)]
#[schema(description = "")]
pub(crate) struct DiscoverMetadataRequestRequest {
    /// OIDC discovery URL (e.g., https://idp.example.com/.well-known/openid-configuration)
    #[schema(format = "uri", min_length = 1)]
    discovery_url: String,
    /// Whether to verify SSL certificate
    #[schema(default = true, required = false)]
    verify_ssl: bool,
}

/// What `discover_metadata` answers (`idp_oidc::MetadataReport`).
#[derive(ToSchema)]
#[schema(description = "")]
pub(crate) struct DiscoverMetadataResponse {
    /// List of claims supported by the OIDC provider
    claims_supported: Vec<String>,
    /// List of scopes supported by the OIDC provider
    scopes_supported: Vec<String>,
    /// OIDC endpoints (authorization, token, userinfo, logout)
    endpoints: HashMap<String, String>,
    /// Waldur User fields with suggested OIDC claim mappings
    waldur_fields: Vec<WaldurFieldSuggestion>,
    /// Recommended scopes to request based on claim mappings
    suggested_scopes: Vec<String>,
}

/// One user field of a [`DiscoverMetadataResponse`] (`idp_core::FieldSuggestion`).
#[derive(ToSchema)]
#[schema(description = "")]
pub(crate) struct WaldurFieldSuggestion {
    /// Waldur User model field name
    field: String,
    /// Human-readable field description
    description: String,
    /// OIDC claims that could map to this field, ordered by likelihood
    suggested_claims: Vec<String>,
    /// Claims from this IdP that match the suggestions
    available_claims: Vec<String>,
}

// What `generate-mapping` answers (`idp_core::GeneratedMapping`); inlined in the response, as
// in the reference, so it is not a named component, and without a description.
#[derive(ToSchema)]
pub(crate) struct GeneratedMapping {
    /// Suggested mapping of Waldur fields to OIDC claims
    #[schema(required = false)]
    attribute_mapping: HashMap<String, String>,
    /// Suggested scopes to request (space-separated)
    #[schema(required = false)]
    extra_scope: String,
}

/// The `{"detail": "..."}` body of 401, 403, 404 and 412 answers.
#[derive(ToSchema)]
pub(crate) struct ErrorDetail {
    /// What went wrong, for people.
    detail: String,
}

/// The page-number pagination of the list (`GET` and `HEAD`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageParams {
    /// A page number within the paginated result set.
    page: Option<isize>,
    /// Number of results to return per page.
    page_size: Option<isize>,
}
