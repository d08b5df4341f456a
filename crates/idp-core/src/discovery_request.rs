//! The body of the `discover_metadata` and `generate-mapping` actions.

use serde_json::Value;

use crate::errors::ValidationErrors;
use crate::parse::{REQUIRED, Text, boolean, required_text, type_name};
use crate::url_rules::is_valid_django_url;

/// A request to read a provider's discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryRequest {
    /// The discovery document's URL.
    pub discovery_url: String,
    /// Whether the provider's TLS certificate is verified (default `true`).
    pub verify_ssl: bool,
}

impl DiscoveryRequest {
    /// Parses the body: `discovery_url` must be a valid URL, `verify_ssl` a boolean.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let object = match body {
            Value::Object(object) => object,
            Value::Null => return Err(ValidationErrors::non_field("No data provided")),
            other => {
                return Err(ValidationErrors::non_field(format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    type_name(other)
                )));
            }
        };
        let mut errors = ValidationErrors::new();
        for key in object
            .keys()
            .filter(|key| !["discovery_url", "verify_ssl"].contains(&key.as_str()))
        {
            errors.add(key, "Unknown field.");
        }
        let discovery_url = match object.get("discovery_url") {
            None => {
                errors.add("discovery_url", REQUIRED);
                None
            }
            Some(value) => match required_text(value, Text::required(2048)) {
                Ok(url) if is_valid_django_url(&url) => Some(url),
                Ok(_) => {
                    errors.add("discovery_url", "Enter a valid URL.");
                    None
                }
                Err(messages) => {
                    for message in messages {
                        errors.add("discovery_url", message);
                    }
                    None
                }
            },
        };
        let verify_ssl = match object.get("verify_ssl").map(boolean) {
            None => true,
            Some(Ok(verify)) => verify,
            Some(Err(message)) => {
                errors.add("verify_ssl", message);
                true
            }
        };
        match discovery_url {
            Some(discovery_url) if errors.is_empty() => Ok(Self {
                discovery_url,
                verify_ssl,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors(body: Value) -> String {
        serde_json::to_string(&DiscoveryRequest::parse(&body).unwrap_err()).unwrap()
    }

    #[test]
    fn parses_url_and_verify_ssl() {
        let request = DiscoveryRequest::parse(
            &json!({"discovery_url": " https://idp.example.com/x ", "verify_ssl": "false"}),
        )
        .unwrap();
        assert_eq!(
            request,
            DiscoveryRequest {
                discovery_url: "https://idp.example.com/x".into(),
                verify_ssl: false
            }
        );
        assert!(
            DiscoveryRequest::parse(&json!({"discovery_url": "https://idp.example.com"}))
                .unwrap()
                .verify_ssl
        );
    }

    #[test]
    fn reports_each_bad_input() {
        assert_eq!(
            errors(json!({})),
            r#"{"discovery_url":["This field is required."]}"#
        );
        assert_eq!(
            errors(json!({"discovery_url": ""})),
            r#"{"discovery_url":["This field may not be blank."]}"#
        );
        assert_eq!(
            errors(json!({"discovery_url": null})),
            r#"{"discovery_url":["This field may not be null."]}"#
        );
        assert_eq!(
            errors(json!({"discovery_url": "idp.example.com"})),
            r#"{"discovery_url":["Enter a valid URL."]}"#
        );
        assert_eq!(
            errors(json!({"discovery_url": ["x"]})),
            r#"{"discovery_url":["Not a valid string."]}"#
        );
        assert_eq!(
            errors(json!({"discovery_url": "https://idp.example.com", "verify_ssl": "perhaps"})),
            r#"{"verify_ssl":["Must be a valid boolean."]}"#
        );
        assert_eq!(
            errors(json!({"discovery_url": "https://idp.example.com", "x": 1})),
            r#"{"x":["Unknown field."]}"#
        );
        assert_eq!(
            errors(json!([1])),
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#
        );
    }
}
