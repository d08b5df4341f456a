//! The user fields a provider's claims may fill, and which scopes release which claims.

/// A writable user field: its name, what it means, and the claims that usually carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserField {
    /// The field name used as an `attribute_mapping` key, e.g. `first_name`.
    pub name: &'static str,
    /// A human-readable description; the field name where none is defined.
    pub description: &'static str,
    /// The field's standard claim names, most likely first. The claims of the per-provider
    /// defaults come before these in suggestions (see [`crate::suggested_claims`]).
    pub standard_claims: &'static [&'static str],
}

const fn field(
    name: &'static str,
    description: &'static str,
    standard_claims: &'static [&'static str],
) -> UserField {
    UserField {
        name,
        description,
        standard_claims,
    }
}

/// The 22 user fields an `attribute_mapping` may name, in their canonical order.
pub const USER_FIELDS: [UserField; 22] = [
    field(
        "first_name",
        "User's first/given name",
        &["given_name", "first_name", "firstName", "givenName"],
    ),
    field(
        "last_name",
        "User's last/family name",
        &[
            "family_name",
            "last_name",
            "lastName",
            "familyName",
            "surname",
            "sn",
        ],
    ),
    field(
        "identity_source",
        "Source of identity (e.g., institution that authenticated the user)",
        &[
            "identity_source",
            "identitySource",
            "idp",
            "identity_provider",
            "authenticating_authority",
        ],
    ),
    field(
        "organization",
        "User's organization/institution name",
        &[
            "schacHomeOrganization",
            "organization",
            "o",
            "institution",
            "company",
        ],
    ),
    field(
        "affiliations",
        "User's organizational affiliations",
        &[
            "voperson_external_affiliation",
            "voPersonExternalAffiliation",
            "eduperson_scoped_affiliation",
            "eduPersonScopedAffiliation",
            "affiliation",
            "affiliations",
        ],
    ),
    field(
        "civil_number",
        "National identity number or unique personal identifier",
        &[
            "schac_personal_unique_id",
            "personal_unique_id",
            "national_id",
            "civil_number",
            "personalIdentifier",
        ],
    ),
    field(
        "email",
        "User's email address",
        &["emailAddress", "email_address"],
    ),
    field(
        "phone_number",
        "User's phone number",
        &[
            "phone_number",
            "phone",
            "telephone",
            "telephoneNumber",
            "mobile",
        ],
    ),
    field(
        "birth_date",
        "User's date of birth",
        &["birthdate", "birth_date", "dateOfBirth", "date_of_birth"],
    ),
    field("gender", "User's gender", &["gender", "sex"]),
    field(
        "personal_title",
        "User's personal title (e.g., Mr., Dr.)",
        &[
            "schacPersonalTitle",
            "schac_personal_title",
            "personal_title",
            "title",
            "honorificPrefix",
        ],
    ),
    field(
        "place_of_birth",
        "User's place of birth",
        &[
            "schacPlaceOfBirth",
            "schac_place_of_birth",
            "place_of_birth",
            "birthplace",
        ],
    ),
    field("address", "address", &["address"]),
    field(
        "country_of_residence",
        "User's country of residence",
        &[
            "schacCountryOfResidence",
            "schac_country_of_residence",
            "country_of_residence",
            "country",
            "address.country",
        ],
    ),
    field(
        "nationality",
        "User's nationality/citizenship (single value)",
        &[
            "schacCountryOfCitizenship",
            "schac_country_of_citizenship",
            "nationality",
            "citizenship",
            "country_of_citizenship",
        ],
    ),
    field(
        "nationalities",
        "User's nationalities/citizenships (multiple values)",
        &["schacCountryOfCitizenship", "nationalities", "citizenships"],
    ),
    field(
        "organization_country",
        "Country of the user's organization",
        &[
            "org_country",
            "org_reg_country",
            "organization_country",
            "schacHomeOrganizationCountry",
        ],
    ),
    field(
        "organization_type",
        "Type of the user's organization",
        &[
            "schacHomeOrganizationType",
            "schac_home_organization_type",
            "organization_type",
            "org_type",
        ],
    ),
    field(
        "organization_registry_code",
        "organization_registry_code",
        &["organization_registry_code"],
    ),
    field(
        "organization_vat_code",
        "organization_vat_code",
        &["organization_vat_code"],
    ),
    field(
        "organization_address",
        "organization_address",
        &["organization_address"],
    ),
    field(
        "eduperson_assurance",
        "Level of identity assurance",
        &[
            "eduperson_assurance",
            "eduPersonAssurance",
            "assurance",
            "acr",
            "amr",
        ],
    ),
];

/// Looks a writable user field up by name.
pub fn user_field(name: &str) -> Option<&'static UserField> {
    USER_FIELDS.iter().find(|field| field.name == name)
}

/// Which scope releases which claim, for suggesting scopes to request.
pub const CLAIM_SCOPES: [(&str, &str); 13] = [
    ("email", "email"),
    ("mail", "email"),
    ("given_name", "profile"),
    ("family_name", "profile"),
    ("name", "profile"),
    ("birthdate", "profile"),
    ("gender", "profile"),
    ("phone_number", "phone"),
    ("address", "address"),
    ("eduperson_assurance", "eduperson_assurance"),
    ("eduPersonAssurance", "eduperson_assurance"),
    (
        "voperson_external_affiliation",
        "voperson_external_affiliation",
    ),
    ("ssh_public_key", "ssh_public_key"),
];
