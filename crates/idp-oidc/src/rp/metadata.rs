//! What a login needs from a provider's discovery document.

use serde_json::Value;

use crate::document::DiscoveryDocument;

/// The parts of a discovery document a login uses (OpenID Connect Discovery §3, RFC 9207 §3).
///
/// Read leniently, like the rest of the document: a key that is absent or of the wrong type is
/// simply not there (`None` or empty), because the reference accepts documents without `issuer`
/// or `jwks_uri`. What a missing value costs is decided where it is needed: without `issuer` no
/// ID token and no `iss` parameter can be accepted, without `jwks_uri` no asymmetric signature
/// can be checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderLoginMetadata {
    /// `issuer`.
    pub issuer: Option<String>,
    /// `authorization_endpoint`.
    pub authorization_endpoint: Option<String>,
    /// `token_endpoint`.
    pub token_endpoint: Option<String>,
    /// `userinfo_endpoint`.
    pub userinfo_endpoint: Option<String>,
    /// `end_session_endpoint`.
    pub end_session_endpoint: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: Option<String>,
    /// `id_token_signing_alg_values_supported`, verbatim (strings only).
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `token_endpoint_auth_methods_supported`; `None` when absent.
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207); only a JSON `true` counts.
    pub authorization_response_iss_parameter_supported: bool,
}

impl ProviderLoginMetadata {
    /// Reads the login metadata of a discovery document.
    pub fn from_document(document: &DiscoveryDocument) -> Self {
        let text = |key: &str| {
            document
                .get(key)
                .and_then(Value::as_str)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let list = |key: &str| {
            document.get(key).and_then(Value::as_array).map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        };
        Self {
            issuer: text("issuer"),
            authorization_endpoint: text("authorization_endpoint"),
            token_endpoint: text("token_endpoint"),
            userinfo_endpoint: text("userinfo_endpoint"),
            end_session_endpoint: text("end_session_endpoint"),
            jwks_uri: text("jwks_uri"),
            id_token_signing_alg_values_supported: list("id_token_signing_alg_values_supported")
                .unwrap_or_default(),
            token_endpoint_auth_methods_supported: list("token_endpoint_auth_methods_supported"),
            authorization_response_iss_parameter_supported: document
                .get("authorization_response_iss_parameter_supported")
                == Some(&Value::Bool(true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn login_metadata_is_read_leniently() {
        let document = DiscoveryDocument::from_value(json!({
            "issuer": "https://idp.example.com",
            "authorization_endpoint": "https://idp.example.com/auth",
            "token_endpoint": "https://idp.example.com/token",
            "userinfo_endpoint": 7,
            "jwks_uri": "",
            "id_token_signing_alg_values_supported": ["RS256", 5, "HS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "authorization_response_iss_parameter_supported": "true",
        }));
        let metadata = ProviderLoginMetadata::from_document(&document.unwrap());
        assert_eq!(metadata.issuer.as_deref(), Some("https://idp.example.com"));
        assert_eq!(metadata.userinfo_endpoint, None);
        assert_eq!(metadata.jwks_uri, None);
        assert_eq!(
            metadata.id_token_signing_alg_values_supported,
            ["RS256", "HS256"]
        );
        assert_eq!(
            metadata.token_endpoint_auth_methods_supported,
            Some(vec!["client_secret_basic".to_owned()])
        );
        assert!(!metadata.authorization_response_iss_parameter_supported);
    }
}
