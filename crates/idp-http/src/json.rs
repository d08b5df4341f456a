//! The wire types of the Identity Providers API, for the OpenAPI document only.
//!
//! The handlers parse bodies through `idp-core` and answer with `Provider::to_json` and
//! `idp_oidc::MetadataReport`; nothing here is ever built or parsed. These types exist so that
//! utoipa can make the schema components from code. Names, property order and the keywords of
//! every property (type, format, maxLength, minLength, nullability, readOnly, default and
//! description) follow the reference OpenAPI fragment; `tests/openapi.rs` checks that when the
//! fragment is present (`IDP_REFERENCE_OPENAPI`).
//!
//! The three provider schemas are built from the field definition in idp-core
//! (`idp_core::PROVIDER_FIELDS`), so a field added there is documented too. The other types
//! derive theirs: doc comments on fields become the properties' descriptions, so they are written
//! as the reference words them, one line each.

#![expect(
    dead_code,
    reason = "only the ToSchema and IntoParams impls use these types; their fields are never read"
)]

use std::collections::HashMap;

use idp_core::{Access, FieldRule, PROVIDER_FIELDS, Presence, ProviderField, ValueKind};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// A provider as served by list, retrieve, create and update.
///
/// Non-staff callers do not get the fields hidden from them (`idp_core::HIDDEN_FIELDS`); the
/// schema lists every key, as the reference's does.
pub(crate) struct IdentityProvider;

/// The body of create and update (`PUT`).
pub(crate) struct IdentityProviderRequest;

/// The body of a partial update (`PATCH`): every field is optional.
pub(crate) struct PatchedIdentityProviderRequest;

/// Which of the three provider schemas is built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ProviderSchema {
    /// What is served: every field, read-only ones marked so.
    Response,
    /// A create or `PUT` body: the writable fields, those required on create required.
    Request,
    /// A `PATCH` body: the writable fields, none required.
    Patch,
}

impl ProviderSchema {
    /// The schema of a provider, built from the field definition (`idp_core::PROVIDER_FIELDS`)
    /// with the keywords the reference's document gives each kind of field.
    fn build(self) -> RefOr<Schema> {
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(""));
        for field in PROVIDER_FIELDS {
            let (rule, required) = match field.access {
                Access::ReadOnly if self != ProviderSchema::Response => continue,
                Access::ReadOnly => (None, true),
                Access::Writable {
                    rule, on_create, ..
                } => (Some(rule), on_create == Presence::Required),
            };
            if required && self != ProviderSchema::Patch {
                object = object.required(field.name);
            }
            object = object.property(field.name, self.property(field, rule));
        }
        Schema::Object(object.build()).into()
    }

    fn property(self, field: &ProviderField, rule: Option<FieldRule>) -> Schema {
        let schema_type = match field.kind {
            ValueKind::Text => SchemaType::new(Type::String),
            ValueKind::NullableText => SchemaType::from_iter([Type::String, Type::Null]),
            ValueKind::Boolean => SchemaType::new(Type::Boolean),
            ValueKind::List | ValueKind::Mapping => SchemaType::AnyValue,
        };
        let mut property = ObjectBuilder::new()
            .schema_type(schema_type)
            .description(field.description);
        if rule.is_none() {
            property = property.read_only(true);
        }
        if let Some((max, blank, _)) = rule.as_ref().and_then(FieldRule::text_limits) {
            property = property.max_length(usize::try_from(max).ok());
            if !blank && self != ProviderSchema::Response {
                property = property.min_length(Some(1));
            }
        }
        Schema::Object(property.build())
    }
}

impl PartialSchema for IdentityProvider {
    fn schema() -> RefOr<Schema> {
        ProviderSchema::Response.build()
    }
}

impl ToSchema for IdentityProvider {}

impl PartialSchema for IdentityProviderRequest {
    fn schema() -> RefOr<Schema> {
        ProviderSchema::Request.build()
    }
}

impl ToSchema for IdentityProviderRequest {}

impl PartialSchema for PatchedIdentityProviderRequest {
    fn schema() -> RefOr<Schema> {
        ProviderSchema::Patch.build()
    }
}

impl ToSchema for PatchedIdentityProviderRequest {}

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

/// One changed field of an audit event: its value before and after (`null` for a field that
/// did not exist yet or no longer does), or, for `client_secret`, only `changed: true`.
#[derive(ToSchema)]
pub(crate) struct AuditChange {
    /// The field's name, as in the provider's body.
    field: String,
    /// The value before the change (absent for `client_secret`).
    before: Option<serde_json::Value>,
    /// The value after the change (absent for `client_secret`).
    after: Option<serde_json::Value>,
    /// Present, and true, for `client_secret` only: its values are never recorded.
    changed: Option<bool>,
}

/// One audit event.
#[derive(ToSchema)]
pub(crate) struct AuditEvent {
    /// Increasing with the time of writing.
    id: i64,
    /// When the change was committed (ISO 8601, UTC).
    #[schema(format = DateTime)]
    occurred_at: String,
    /// `create`, `update`, `delete`, `refresh`, `reseal` or `test_login`.
    action: String,
    /// The provider's name.
    provider: String,
    /// The username of the caller, or `system`.
    actor: String,
    /// The first 12 hexadecimal digits of the SHA-256 of the caller's token, if one was used.
    actor_token: Option<String>,
    /// The request's `X-Request-Id`, if the change came through the API.
    request_id: Option<String>,
    /// The fields that changed, in the provider body's order.
    changes: Vec<AuditChange>,
}

/// A provider's last refresh check.
#[derive(ToSchema)]
pub(crate) struct ProviderStatus {
    /// The provider's name.
    provider: String,
    /// When it was last checked; null when never.
    #[schema(format = DateTime)]
    checked_at: Option<String>,
    /// `success` or `failure`; null when never checked.
    outcome: Option<String>,
    /// Why the last check failed; null after a success.
    last_error: Option<String>,
    /// When a check last succeeded.
    #[schema(format = DateTime)]
    last_success_at: Option<String>,
    /// What the last good check found different from the stored endpoints (and wrote).
    drift: Vec<AuditChange>,
    /// The key ids (`kid`) of the key set at the last good check, sorted.
    jwks_key_ids: Vec<String>,
    /// When the key ids were first seen or last changed.
    #[schema(format = DateTime)]
    jwks_changed_at: Option<String>,
    /// How many times the key ids changed.
    key_rotations: i64,
}

/// What a successful refresh did.
#[derive(ToSchema)]
pub(crate) struct RefreshReport {
    /// The endpoints written, before and after; empty when nothing changed.
    changes: Vec<AuditChange>,
    /// True when the key ids differ from the previous good check's.
    keys_rotated: bool,
    /// The check as recorded.
    status: ProviderStatus,
}

/// A refresh that failed: why, and the check as recorded.
#[derive(ToSchema)]
pub(crate) struct RefreshFailure {
    /// What failed.
    detail: String,
    /// The check as recorded.
    status: ProviderStatus,
}
