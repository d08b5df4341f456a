//! Reading exported provider configurations back, with the API's rules.

use serde_json::Value;

use crate::errors::ValidationErrors;
use crate::names::ProviderNamePolicy;
use crate::parse::{REQUIRED, Text, required_text};
use crate::provider::{NewProvider, Provider, ProviderEndpoints, ProviderUpdate, UpdateKind};

/// Reads one exported provider (an object as staff read it from the API, `client_secret`
/// included or not) for import.
///
/// `existing` is the stored provider of the same name, if any: the entry then updates it, and
/// keeps its secret and endpoints where the entry has none. A new provider is validated as a
/// create (so `client_secret` is required) and then takes every value of the entry as written,
/// without per-provider defaults, so an export imports back to the same configuration.
pub fn provider_from_export(
    entry: &Value,
    existing: Option<&Provider>,
    names: &ProviderNamePolicy,
) -> Result<Provider, ValidationErrors> {
    let mut endpoint_errors = ValidationErrors::new();
    let endpoint = |key: &str, required: bool, errors: &mut ValidationErrors| -> Option<String> {
        match entry.get(key) {
            Some(value) => match required_text(value, Text::blank(2048)) {
                Ok(text) => Some(text),
                Err(messages) => {
                    for message in messages {
                        errors.add(key, message);
                    }
                    None
                }
            },
            None if required => {
                errors.add(key, REQUIRED);
                None
            }
            None => None,
        }
    };
    let required = existing.is_none();
    let auth_url = endpoint("auth_url", required, &mut endpoint_errors);
    let token_url = endpoint("token_url", required, &mut endpoint_errors);
    let userinfo_url = endpoint("userinfo_url", required, &mut endpoint_errors);
    let logout_url = endpoint("logout_url", false, &mut endpoint_errors);

    let result = match existing {
        Some(stored) => {
            let update =
                ProviderUpdate::parse(entry, &stored.provider, UpdateKind::Partial, names)?;
            let mut provider = stored.clone();
            update.apply(&mut provider, None);
            Ok(provider)
        }
        None => {
            let new = NewProvider::parse(entry, names)?;
            let name = new.provider().to_owned();
            let update = ProviderUpdate::parse(entry, &name, UpdateKind::Partial, names)?;
            let mut provider = new.into_provider(ProviderEndpoints::default());
            update.apply(&mut provider, None);
            Ok(provider)
        }
    };
    let mut provider: Provider = result?;
    if !endpoint_errors.is_empty() {
        return Err(endpoint_errors);
    }
    let endpoints = &mut provider.endpoints;
    for (slot, value) in [
        (&mut endpoints.auth_url, auth_url),
        (&mut endpoints.token_url, token_url),
        (&mut endpoints.userinfo_url, userinfo_url),
        (&mut endpoints.logout_url, logout_url),
    ] {
        if let Some(value) = value {
            *slot = value;
        }
    }
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn exported() -> Value {
        json!({
            "protected_fields": [], "allowed_redirects": ["https://portal.example.com"],
            "provider": "keycloak", "is_active": false, "client_id": "id", "client_secret": "secret",
            "verify_ssl": true, "enable_post_logout_redirect": true, "enable_pkce": true,
            "discovery_url": "https://kc.example.com/.well-known/openid-configuration",
            "userinfo_url": "https://kc.example.com/userinfo", "token_url": "https://kc.example.com/token",
            "auth_url": "https://kc.example.com/auth", "logout_url": "",
            "label": "KC", "management_url": "", "extra_scope": null, "user_field": "username",
            "user_claim": "sub", "attribute_mapping": {"email": "email"}, "extra_fields": null,
        })
    }

    #[test]
    fn an_export_imports_back_to_the_same_configuration_without_defaults() {
        let provider =
            provider_from_export(&exported(), None, &ProviderNamePolicy::AnySlug).unwrap();
        let json = provider.to_json(true, true);
        // Key by key: a field the export predates takes its default and is not compared.
        for (key, value) in exported().as_object().unwrap() {
            assert_eq!(&json[key], value, "{key}");
        }
    }

    #[test]
    fn a_new_provider_needs_its_secret_and_endpoints() {
        let mut entry = exported();
        entry.as_object_mut().unwrap().remove("client_secret");
        let errors = provider_from_export(&entry, None, &ProviderNamePolicy::AnySlug).unwrap_err();
        assert_eq!(
            serde_json::to_value(errors).unwrap(),
            json!({"client_secret": ["This field is required."]})
        );
        let mut entry = exported();
        entry.as_object_mut().unwrap().remove("token_url");
        let errors = provider_from_export(&entry, None, &ProviderNamePolicy::AnySlug).unwrap_err();
        assert_eq!(
            serde_json::to_value(errors).unwrap(),
            json!({"token_url": ["This field is required."]})
        );
    }

    #[test]
    fn an_existing_provider_keeps_its_secret_when_the_export_has_none() {
        let stored = provider_from_export(&exported(), None, &ProviderNamePolicy::AnySlug).unwrap();
        let mut entry = exported();
        entry.as_object_mut().unwrap().remove("client_secret");
        entry["label"] = json!("Renamed");
        let updated =
            provider_from_export(&entry, Some(&stored), &ProviderNamePolicy::AnySlug).unwrap();
        assert_eq!(updated.client_secret, "secret");
        assert_eq!(updated.label, "Renamed");
    }
}
