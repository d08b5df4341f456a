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
