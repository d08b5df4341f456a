//! Suggesting an `attribute_mapping` and scopes from the claims a provider advertises.

use serde::Serialize;

use crate::catalogue::{CLAIM_SCOPES, USER_FIELDS, UserField};
use crate::defaults::PROVIDER_DEFAULTS;

/// The claims that could fill `field`, most likely first: the claims the per-provider defaults
/// use for it (scanning the providers in order, each value left to right), then the field's
/// standard claims, without repeats.
pub fn suggested_claims(field: &UserField) -> Vec<&'static str> {
    let mut claims: Vec<&'static str> = Vec::new();
    let from_defaults = PROVIDER_DEFAULTS
        .iter()
        .flat_map(|defaults| defaults.attribute_mapping.iter())
        .filter(|(name, _)| *name == field.name)
        .flat_map(|(_, value)| value.split_whitespace());
    for claim in from_defaults.chain(field.standard_claims.iter().copied()) {
        if !claims.contains(&claim) {
            claims.push(claim);
        }
    }
    claims
}

/// The provider's claims that match `suggestions`, in suggestion order, in the provider's own
/// spelling.
///
/// An exact match wins; otherwise a case-insensitive one, taking the last such claim in the
/// provider's list when several differ only by case.
pub fn available_claims<S: AsRef<str>>(suggestions: &[&str], provider_claims: &[S]) -> Vec<String> {
    let mut available = Vec::new();
    for suggestion in suggestions {
        if provider_claims
            .iter()
            .any(|claim| claim.as_ref() == *suggestion)
        {
            available.push((*suggestion).to_owned());
        } else if let Some(claim) = provider_claims
            .iter()
            .rev()
            .find(|claim| lower_eq(claim.as_ref(), suggestion))
        {
            available.push(claim.as_ref().to_owned());
        }
    }
    available
}

fn lower_eq(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// The scopes to request: `openid`, the scopes that release advertised claims, and `profile`
/// and `email` when offered; each only if the provider lists it. Sorted by code point.
pub fn suggested_scopes<S: AsRef<str>>(
    provider_claims: &[S],
    provider_scopes: &[S],
) -> Vec<String> {
    let offered = |scope: &str| provider_scopes.iter().any(|s| s.as_ref() == scope);
    let mut scopes = vec!["openid".to_owned()];
    let mut add = |scope: &str| {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    };
    for claim in provider_claims {
        for (mapped_claim, scope) in CLAIM_SCOPES {
            if claim.as_ref() == mapped_claim && offered(scope) {
                add(scope);
            }
        }
    }
    for scope in ["profile", "email"] {
        if offered(scope) {
            add(scope);
        }
    }
    scopes.sort();
    scopes
}

/// One user field with the claims that could fill it and those the provider offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldSuggestion {
    /// The user field's name.
    pub field: &'static str,
    /// What the field means.
    pub description: &'static str,
    /// Claims that could map to the field, most likely first.
    pub suggested_claims: Vec<&'static str>,
    /// The provider's claims among the suggestions, in suggestion order.
    pub available_claims: Vec<String>,
}

/// One [`FieldSuggestion`] per writable user field, in canonical order.
pub fn field_suggestions<S: AsRef<str>>(provider_claims: &[S]) -> Vec<FieldSuggestion> {
    USER_FIELDS
        .iter()
        .map(|field| {
            let suggested = suggested_claims(field);
            let available = available_claims(&suggested, provider_claims);
            FieldSuggestion {
                field: field.name,
                description: field.description,
                suggested_claims: suggested,
                available_claims: available,
            }
        })
        .collect()
}

/// A suggested `attribute_mapping` and `extra_scope` for a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedMapping {
    /// User field to space-separated claims, in canonical field order; fields with no
    /// advertised claim are left out.
    pub attribute_mapping: serde_json::Map<String, serde_json::Value>,
    /// The suggested scopes other than `openid`, space-separated; may be empty.
    pub extra_scope: String,
}

/// Suggests a mapping and extra scopes from the claims and scopes a provider advertises.
pub fn generate_mapping<S: AsRef<str>>(
    provider_claims: &[S],
    provider_scopes: &[S],
) -> GeneratedMapping {
    let attribute_mapping = field_suggestions(provider_claims)
        .into_iter()
        .filter(|suggestion| !suggestion.available_claims.is_empty())
        .map(|suggestion| {
            (
                suggestion.field.to_owned(),
                suggestion.available_claims.join(" ").into(),
            )
        })
        .collect();
    let extra_scope = suggested_scopes(provider_claims, provider_scopes)
        .into_iter()
        .filter(|scope| scope != "openid")
        .collect::<Vec<_>>()
        .join(" ");
    GeneratedMapping {
        attribute_mapping,
        extra_scope,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user_field;

    fn claims(field: &str) -> Vec<&'static str> {
        suggested_claims(user_field(field).unwrap())
    }

    #[test]
    fn default_claims_come_first_in_a_fixed_order() {
        assert_eq!(
            claims("organization"),
            [
                "schac_home_organization",
                "affiliation",
                "org",
                "schacHomeOrganization",
                "organization",
                "o",
                "institution",
                "company"
            ]
        );
        assert_eq!(
            claims("civil_number")[..3],
            ["sub", "schacPersonalUniqueID", "schac_personal_unique_id"]
        );
        assert_eq!(
            claims("email"),
            ["email", "mail", "emailAddress", "email_address"]
        );
        assert_eq!(
            claims("organization_country"),
            [
                "org_reg_country",
                "org_country",
                "organization_country",
                "schacHomeOrganizationCountry"
            ]
        );
        assert_eq!(claims("address"), ["address"]);
    }

    #[test]
    fn case_insensitive_match_returns_the_providers_spelling() {
        let idp = ["GIVEN_NAME", "Given_Name"];
        assert_eq!(
            available_claims(&claims("first_name"), &idp),
            ["Given_Name"]
        );
        let exact = ["Given_Name", "given_name"];
        assert_eq!(
            available_claims(&claims("first_name"), &exact),
            ["given_name"]
        );
    }

    #[test]
    fn scopes_follow_the_reference_example() {
        let idp_claims = [
            "sub",
            "email",
            "given_name",
            "family_name",
            "schacHomeOrganization",
            "phone_number",
        ];
        let scopes = ["openid", "profile", "email", "phone"];
        assert_eq!(
            suggested_scopes(&idp_claims, &scopes),
            ["email", "openid", "phone", "profile"]
        );
        let none: [&str; 0] = [];
        assert_eq!(suggested_scopes(&none, &["openid"]), ["openid"]);
    }

    #[test]
    fn mapping_follows_the_reference_example() {
        let idp_claims = [
            "sub",
            "email",
            "given_name",
            "family_name",
            "schacHomeOrganization",
        ];
        let mapping = generate_mapping(&idp_claims, &["openid", "profile", "email"]);
        assert_eq!(
            serde_json::to_string(&mapping).unwrap(),
            r#"{"attribute_mapping":{"first_name":"given_name","last_name":"family_name","organization":"schacHomeOrganization","civil_number":"sub","email":"email"},"extra_scope":"email profile"}"#
        );
    }

    #[test]
    fn mapping_follows_the_keycloak_realm_example() {
        let idp_claims = [
            "aud",
            "sub",
            "iss",
            "auth_time",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "acr",
        ];
        let scopes = [
            "openid",
            "phone",
            "organization",
            "basic",
            "offline_access",
            "address",
            "roles",
            "profile",
            "acr",
            "web-origins",
            "microprofile-jwt",
            "email",
            "service_account",
        ];
        let mapping = generate_mapping(&idp_claims, &scopes);
        assert_eq!(
            serde_json::to_string(&mapping).unwrap(),
            r#"{"attribute_mapping":{"first_name":"given_name","last_name":"family_name","civil_number":"sub","email":"email","eduperson_assurance":"acr"},"extra_scope":"email profile"}"#
        );
    }

    #[test]
    fn several_matching_claims_are_all_kept_in_suggestion_order() {
        let mapping = generate_mapping(&["mail", "email"], &["openid"]);
        assert_eq!(mapping.attribute_mapping["email"], "email mail");
    }
}
