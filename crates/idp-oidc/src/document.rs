//! A parsed discovery document, read both strictly (openidconnect) and the reference's lenient way.

use idp_core::{GeneratedMapping, ProviderEndpoints};
use openidconnect::ProviderMetadataWithLogout;
use serde_json::{Map, Value};

use crate::error::{FetchError, FetchErrorKind};

/// The endpoints a provider needs, in the order the reference checks them.
pub(crate) const REQUIRED_ENDPOINTS: [&str; 3] = [
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
];

/// An OpenID Connect discovery document (`/.well-known/openid-configuration`).
///
/// The document is kept as the JSON object it was, because the reference reads it leniently: a
/// document without `jwks_uri` or `response_types_supported`, with an issuer that differs from its
/// URL, with `http` endpoints, duplicate claims or a hundred claims is still usable as long as the
/// keys a caller needs are there. Where the document also follows the OpenID Connect Discovery
/// rules, the typed metadata of the `openidconnect` crate is available from
/// [`DiscoveryDocument::metadata`].
#[derive(Debug, Clone)]
pub struct DiscoveryDocument {
    fields: Map<String, Value>,
    metadata: Option<Box<ProviderMetadataWithLogout>>,
    strict_error: Option<String>,
}

impl DiscoveryDocument {
    /// Parses a response body: it must be JSON ([`FetchErrorKind::InvalidJson`]) holding an
    /// object ([`FetchErrorKind::NotAnObject`]).
    ///
    /// A UTF-8 byte-order mark is skipped, as Python `requests` does.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FetchError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|error| FetchError::caused_by(FetchErrorKind::InvalidJson, error))?;
        Self::from_value(value)
    }

    /// Takes a JSON value, which must be an object ([`FetchErrorKind::NotAnObject`]).
    pub fn from_value(value: Value) -> Result<Self, FetchError> {
        let Value::Object(fields) = value else {
            return Err(FetchErrorKind::NotAnObject.into());
        };
        // The strict reading is a bonus for library users; its failure is not an error here.
        let (metadata, strict_error) = match serde_json::from_value::<ProviderMetadataWithLogout>(
            Value::Object(fields.clone()),
        ) {
            Ok(metadata) => (Some(Box::new(metadata)), None),
            Err(error) => (None, Some(error.to_string())),
        };
        Ok(Self {
            fields,
            metadata,
            strict_error,
        })
    }

    /// The document's keys and values, in document order.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// One key of the document.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// The typed metadata, when the document satisfies the OpenID Connect Discovery rules as the
    /// `openidconnect` crate reads them (e.g. it has `jwks_uri` and `response_types_supported`).
    pub fn metadata(&self) -> Option<&ProviderMetadataWithLogout> {
        self.metadata.as_deref()
    }

    /// Why the strict reading failed, when it did (for diagnostics; no caller should reject a
    /// document for it).
    pub fn strict_error(&self) -> Option<&str> {
        self.strict_error.as_deref()
    }

    /// `claims_supported`, verbatim (duplicates kept); empty when the key is absent.
    ///
    /// A `null` or anything but a list of strings is [`FetchErrorKind::NotAStringList`].
    pub fn claims_supported(&self) -> Result<Vec<&str>, FetchError> {
        self.string_list("claims_supported")
    }

    /// `scopes_supported`, verbatim; empty when the key is absent.
    ///
    /// A `null` or anything but a list of strings is [`FetchErrorKind::NotAStringList`].
    pub fn scopes_supported(&self) -> Result<Vec<&str>, FetchError> {
        self.string_list("scopes_supported")
    }

    /// An endpoint's URL: `None` when the key is absent or `null`, an error when it holds
    /// something other than a string. The value is not checked to be a URL (the reference does not
    /// either).
    pub fn endpoint(&self, key: &'static str) -> Result<Option<&str>, FetchError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(url)) => Ok(Some(url)),
            Some(_) => Err(FetchErrorKind::InvalidEndpoint(key).into()),
        }
    }

    /// A required endpoint: absent, `null` and empty are [`FetchErrorKind::MissingEndpoint`].
    pub fn required_endpoint(&self, key: &'static str) -> Result<&str, FetchError> {
        match self.endpoint(key)? {
            Some(url) if !url.is_empty() => Ok(url),
            _ => Err(FetchErrorKind::MissingEndpoint(key).into()),
        }
    }

    /// The endpoints a provider configuration stores: `authorization_endpoint`, `token_endpoint`
    /// and `userinfo_endpoint` are required (the first one missing is reported), and
    /// `logout_url` comes from `end_session_endpoint`, empty when that is absent, `null` or not a
    /// string.
    pub fn provider_endpoints(&self) -> Result<ProviderEndpoints, FetchError> {
        let [auth, token, userinfo] = REQUIRED_ENDPOINTS;
        Ok(ProviderEndpoints {
            auth_url: self.required_endpoint(auth)?.to_owned(),
            token_url: self.required_endpoint(token)?.to_owned(),
            userinfo_url: self.required_endpoint(userinfo)?.to_owned(),
            logout_url: self
                .endpoint("end_session_endpoint")
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// The `generate-mapping` suggestion, as the reference makes it. Endpoints are not required.
    pub fn generate_mapping(&self) -> Result<GeneratedMapping, FetchError> {
        let claims = self.claims_supported()?;
        let scopes = self.scopes_supported()?;
        Ok(idp_core::generate_mapping(&claims, &scopes))
    }

    fn string_list(&self, key: &'static str) -> Result<Vec<&str>, FetchError> {
        let not_a_list = || FetchError::from(FetchErrorKind::NotAStringList { key });
        match self.fields.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().ok_or_else(not_a_list))
                .collect(),
            Some(_) => Err(not_a_list()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(value: Value) -> DiscoveryDocument {
        match DiscoveryDocument::from_value(value) {
            Ok(document) => document,
            Err(error) => panic!("not a document: {error}"),
        }
    }

    #[test]
    fn logout_url_is_empty_when_end_session_is_absent_null_or_empty() {
        let base = json!({
            "authorization_endpoint": "https://idp/auth",
            "token_endpoint": "https://idp/token",
            "userinfo_endpoint": "https://idp/userinfo",
        });
        for end_session in [None, Some(Value::Null), Some(json!(""))] {
            let mut value = base.clone();
            if let (Some(end_session), Some(object)) = (end_session, value.as_object_mut()) {
                object.insert("end_session_endpoint".into(), end_session);
            }
            let endpoints = document(value).provider_endpoints();
            assert_eq!(endpoints.unwrap().logout_url, "");
        }
    }

    #[test]
    fn empty_or_null_required_endpoints_count_as_missing() {
        let value = json!({
            "authorization_endpoint": "https://idp/auth",
            "token_endpoint": "",
            "userinfo_endpoint": null,
        });
        assert_eq!(
            document(value).provider_endpoints().unwrap_err().kind(),
            &FetchErrorKind::MissingEndpoint("token_endpoint")
        );
        let value = json!({"authorization_endpoint": 7});
        assert_eq!(
            document(value).provider_endpoints().unwrap_err().kind(),
            &FetchErrorKind::InvalidEndpoint("authorization_endpoint")
        );
    }

    #[test]
    fn strict_metadata_is_kept_when_the_document_is_conformant() {
        let conformant = document(json!({
            "issuer": "https://idp.example.com",
            "authorization_endpoint": "https://idp.example.com/auth",
            "jwks_uri": "https://idp.example.com/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "end_session_endpoint": "https://idp.example.com/logout",
        }));
        let logout = conformant
            .metadata()
            .and_then(|m| m.additional_metadata().end_session_endpoint.clone())
            .map(|url| url.to_string());
        assert_eq!(logout.as_deref(), Some("https://idp.example.com/logout"));
        assert!(conformant.strict_error().is_none());

        let lenient = document(json!({"authorization_endpoint": "https://idp/auth"}));
        assert!(lenient.metadata().is_none());
        assert!(lenient.strict_error().is_some());
    }
}
