//! The wire types of the login routes, for the OpenAPI document only; the handlers build their
//! bodies directly. Names follow the reference's schemas where it has them.

#![expect(
    dead_code,
    reason = "only the ToSchema impls use these types; their fields are never read"
)]

use std::collections::HashMap;

use utoipa::ToSchema;

/// The body of `POST /api-auth/token-exchange/` (JSON or form-encoded).
#[derive(ToSchema)]
pub(crate) struct TokenExchangeRequest {
    /// The one-time code from `oauth_login_completed`, with or without dashes.
    #[schema(format = "uuid")]
    code: String,
}

/// A new API token.
#[derive(ToSchema)]
pub(crate) struct CoreAuthToken {
    /// The key, for `Authorization: Token <key>`; shown once.
    #[schema(read_only)]
    token: String,
}

/// Where the browser should go to end the provider's session.
#[derive(ToSchema)]
pub(crate) struct Logout {
    /// The provider's logout endpoint with `post_logout_redirect_uri`, `client_id` and, when the
    /// login's ID token is kept, `id_token_hint`.
    #[schema(format = "uri")]
    logout_url: String,
}

/// The signed-in user, as logins fill it.
#[derive(ToSchema)]
pub(crate) struct UserProfile {
    /// The unique user name.
    username: String,
    /// Inactive users cannot log in.
    is_active: bool,
    /// Staff may manage providers.
    is_staff: bool,
    /// Support status, which a role claim may grant.
    is_support: bool,
    /// The provider that created the user, or empty.
    registration_method: String,
    /// Given name.
    first_name: String,
    /// Family name.
    last_name: String,
    /// Where the identity comes from.
    identity_source: String,
    /// Organisation name.
    organization: String,
    /// Affiliations within the organisation.
    affiliations: Vec<String>,
    /// National identity number.
    civil_number: Option<String>,
    /// Email address.
    email: String,
    /// Phone number.
    phone_number: String,
    /// Date of birth, `YYYY-MM-DD`.
    #[schema(format = Date)]
    birth_date: Option<String>,
    /// `female`, `male` or `unknown`.
    gender: Option<String>,
    /// Honorific title.
    personal_title: String,
    /// Place of birth.
    place_of_birth: String,
    /// Postal address.
    address: String,
    /// ISO 3166-1 alpha-2 country of residence.
    country_of_residence: String,
    /// ISO 3166-1 alpha-2 primary citizenship.
    nationality: String,
    /// All citizenships.
    nationalities: Vec<String>,
    /// ISO 3166-1 alpha-2 country of the organisation.
    organization_country: String,
    /// SCHAC organisation type URN.
    organization_type: String,
    /// Registry code of the organisation.
    organization_registry_code: String,
    /// VAT code of the organisation.
    organization_vat_code: String,
    /// Postal address of the organisation.
    organization_address: String,
    /// REFEDS assurance URIs.
    eduperson_assurance: Vec<String>,
    /// Extra claims kept from the provider (`extra_fields`).
    details: HashMap<String, serde_json::Value>,
}

/// The body of a stored provider's mapping preview.
#[derive(ToSchema)]
pub(crate) struct PreviewMappingRequest {
    /// The claims, as the merged ID token and userinfo claims of a login (at most 63 levels
    /// deep).
    claims: HashMap<String, serde_json::Value>,
}

/// The body of a draft mapping preview; fields left out take the named provider's defaults,
/// as on create.
#[derive(ToSchema)]
pub(crate) struct PreviewDraftMappingRequest {
    /// The claims, as the merged ID token and userinfo claims of a login (at most 63 levels
    /// deep).
    claims: HashMap<String, serde_json::Value>,
    /// The provider whose defaults fill in the draft (`tara`, `eduteams`, `keycloak`); any
    /// other name has none.
    #[schema(max_length = 200)]
    provider: Option<String>,
    /// The user field to look users up by.
    #[schema(max_length = 100)]
    user_field: Option<String>,
    /// Whitespace-separated claims giving the lookup value (names or JSON Pointers).
    #[schema(max_length = 100)]
    user_claim: Option<String>,
    /// User field → whitespace-separated claims (names or JSON Pointers).
    attribute_mapping: Option<HashMap<String, String>>,
    /// Whitespace-separated claims kept in `details`.
    #[schema(max_length = 200)]
    extra_fields: Option<String>,
}

/// A claim tried and skipped.
#[derive(ToSchema)]
pub(crate) struct SkippedClaim {
    /// The claim name or JSON Pointer, as configured.
    claim: String,
    /// `absent`, `invalid_pointer`, `empty`, `multi_value`, `not_text`, `invalid_date`,
    /// `too_long`, `invalid_gender` or `not_synced`.
    reason: String,
    /// Why, in a sentence that quotes no value.
    detail: String,
}

/// One mapped user field.
#[derive(ToSchema)]
pub(crate) struct FieldPreview {
    /// The user field.
    field: String,
    /// The configured claims.
    claims: String,
    /// Whether the deployment syncs the field (`IDP_SYNC_FIELDS`).
    synced: bool,
    /// The value a login writes (a string, or a list for list fields), or `null`.
    value: Option<serde_json::Value>,
    /// The claim that gave the value.
    claim: Option<String>,
    /// The claims tried before it (or all of them), with the reasons.
    skipped: Vec<SkippedClaim>,
}

/// The user a login would sign in.
#[derive(ToSchema)]
pub(crate) struct MatchedUser {
    /// The user's name.
    username: String,
    /// Whether the user may log in.
    is_active: bool,
    /// `lookup` (by `user_field`) or `email` (by verified email, with match-making on).
    matched_by: String,
}

/// What a login with the claims given would do.
#[derive(ToSchema)]
pub(crate) struct MappingPreview {
    /// The provider whose mapping this is.
    provider: String,
    /// Each mapped writable field, in the catalogue's order.
    fields: Vec<FieldPreview>,
    /// The lookup: `{"field", "claims", "claim", "value", "skipped", "error"}`; `error` is
    /// `{"message", "detail"}` when no claim gives a value.
    lookup: HashMap<String, serde_json::Value>,
    /// What `extra_fields` puts into `details`: `{"claims", "value", "skipped"}`.
    details: HashMap<String, serde_json::Value>,
    /// The role claim and what it did (`IDP_ROLE_CLAIM`), or `null` when none is configured.
    roles: Option<HashMap<String, serde_json::Value>>,
    /// Whether `email_verified` is `true`.
    email_verified: bool,
    /// Top-level claims nothing reads, sorted.
    unused_claims: Vec<String>,
    /// Mapping keys that are not writable user fields.
    unknown_fields: Vec<String>,
    /// The existing user a login would sign in, or `null` when it would create one or refuse.
    user: Option<MatchedUser>,
    /// The message a login with these claims would fail with, or `null`.
    login_error: Option<String>,
}

/// One check of a probe.
#[derive(ToSchema)]
pub(crate) struct ProbeCheck {
    /// `discovery`, `issuer`, `https`, `endpoints`, `jwks`, `pkce`, `scopes`, `claims` or
    /// `client_credentials`, always in this order.
    check: String,
    /// `pass`, `warn`, `fail` or `skipped`.
    status: String,
    /// What was found; never a secret.
    detail: String,
}

/// Where to send the browser for a test login.
#[derive(ToSchema)]
pub(crate) struct TestLoginStarted {
    /// The provider's authorization URL for the test login.
    #[schema(format = "uri")]
    authorization_url: String,
}

/// The report of a test login.
#[derive(ToSchema)]
pub(crate) struct TestLoginReport {
    /// The provider.
    provider: String,
    /// When the callback arrived.
    #[schema(format = DateTime)]
    completed_at: String,
    /// Each step of the login in its order (`state`, `provider`, `code`, `redirect`, `pkce`,
    /// `configuration`, `issuer`, `token`, `id_token`, `userinfo`, `user`), as far as it got:
    /// `{"check", "status": "pass"|"fail", "detail"}`.
    checks: Vec<HashMap<String, String>>,
    /// The claims received, values redacted (first and last characters kept); `null` when the
    /// login did not get that far.
    claims: Option<HashMap<String, serde_json::Value>>,
    /// The mapping preview of the claims, or `null`.
    preview: Option<MappingPreview>,
    /// The user a login would sign in, or `null`.
    user: Option<MatchedUser>,
}
