//! Per-provider defaults merged into a new provider's configuration.

/// The defaults a known provider gets on create, key by key, where the request is silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderDefaults {
    /// Provider name these defaults belong to.
    pub provider: &'static str,
    /// Default `user_field`.
    pub user_field: &'static str,
    /// Default `user_claim`.
    pub user_claim: &'static str,
    /// Default `extra_fields`.
    pub extra_fields: &'static str,
    /// Default `extra_scope`, where the provider has one.
    pub extra_scope: Option<&'static str>,
    /// Default `attribute_mapping`, in order.
    pub attribute_mapping: &'static [(&'static str, &'static str)],
}

/// The defaults of the known providers, in the order used to rank suggested claims.
///
/// `remote-eduteams` cannot be created through the API, but its mapping still informs which
/// claims are suggested for a field.
pub const PROVIDER_DEFAULTS: [ProviderDefaults; 4] = [
    ProviderDefaults {
        provider: "tara",
        user_field: "civil_number",
        user_claim: "sub",
        extra_fields: "amr profile_attributes_translit",
        extra_scope: None,
        attribute_mapping: &[
            ("first_name", "given_name"),
            ("last_name", "family_name"),
            ("civil_number", "sub"),
        ],
    },
    ProviderDefaults {
        provider: "eduteams",
        user_field: "username",
        user_claim: "sub",
        extra_fields: "eduperson_assurance",
        extra_scope: Some("profile email eduperson_assurance ssh_public_key"),
        attribute_mapping: &[
            ("first_name", "given_name"),
            ("last_name", "family_name"),
            ("affiliations", "voperson_external_affiliation"),
            ("email", "email"),
        ],
    },
    ProviderDefaults {
        provider: "remote-eduteams",
        user_field: "username",
        user_claim: "voperson_id",
        extra_fields: "eduperson_assurance",
        extra_scope: Some("profile email eduperson_assurance ssh_public_key"),
        attribute_mapping: &[
            ("first_name", "given_name"),
            ("last_name", "family_name"),
            ("affiliations", "voperson_external_affiliation"),
            ("email", "mail"),
        ],
    },
    ProviderDefaults {
        provider: "keycloak",
        user_field: "username",
        user_claim: "sub",
        extra_fields: "site_username",
        extra_scope: None,
        attribute_mapping: &[
            ("email", "email"),
            ("first_name", "given_name"),
            ("last_name", "family_name"),
            ("identity_source", "identity_source"),
            ("organization", "schac_home_organization affiliation org"),
            ("civil_number", "schacPersonalUniqueID"),
            ("gender", "gender"),
            ("birth_date", "birthdate"),
            ("personal_title", "schacPersonalTitle"),
            ("place_of_birth", "schacPlaceOfBirth"),
            ("address", "address"),
            ("country_of_residence", "schacCountryOfResidence"),
            ("nationality", "schacCountryOfCitizenship"),
            // The newer claim first, the legacy one as a fallback.
            ("organization_country", "org_reg_country org_country"),
            ("organization_type", "schacHomeOrganizationType"),
            ("organization_registry_code", "organization_registry_code"),
            ("organization_vat_code", "organization_vat_code"),
            ("organization_address", "organization_address"),
            ("eduperson_assurance", "eduperson_assurance"),
            ("phone_number", "phone_number"),
        ],
    },
];

/// The defaults for a provider that can be created through the API (`tara`, `eduteams`,
/// `keycloak`); `None` for any other name.
pub fn defaults_for(provider: &str) -> Option<&'static ProviderDefaults> {
    match provider {
        "tara" | "eduteams" | "keycloak" => {
            PROVIDER_DEFAULTS.iter().find(|d| d.provider == provider)
        }
        _ => None,
    }
}
