//! The user-field → claims mapping of a provider.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::catalogue::user_field;
use crate::defaults::ProviderDefaults;
use crate::login::parse_claim_list;
use crate::parse::type_name;

/// A user-field → claims mapping, kept in the order it was given.
///
/// Each value is a whitespace-separated list of claim names; the first claim present at login
/// wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeMapping(pub Vec<(String, String)>);

impl AttributeMapping {
    /// The claims mapped to `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == field)
            .map(|(_, value)| value.as_str())
    }

    /// Parses a JSON object whose keys are writable user fields and whose values are non-empty
    /// strings of claim names (a name starting with `/` must be a valid JSON Pointer); the
    /// messages are the API's.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let object = match value {
            Value::Object(object) => object,
            Value::Null => return Err(crate::parse::NULL.into()),
            other => {
                return Err(format!(
                    "Expected a dictionary of items but got type \"{}\".",
                    type_name(other)
                ));
            }
        };
        let invalid: Vec<&str> = object
            .keys()
            .map(String::as_str)
            .filter(|key| user_field(key).is_none())
            .collect();
        if !invalid.is_empty() {
            return Err(format!(
                "Invalid attribute mapping keys: {}",
                invalid.join(",")
            ));
        }
        let mut pairs = Vec::with_capacity(object.len());
        for (key, value) in object {
            match value {
                Value::String(s) if s.trim().is_empty() => {
                    return Err(format!(
                        "Attribute mapping value for '{key}' is empty string."
                    ));
                }
                Value::String(s) => {
                    // A claim starting with `/` must be a valid JSON Pointer
                    // (`docs/decisions.md`, "Logging people in").
                    if let Err(error) = parse_claim_list(s) {
                        return Err(format!(
                            "Attribute mapping value for '{key}' is invalid: {error}"
                        ));
                    }
                    pairs.push((key.clone(), s.clone()))
                }
                _ => {
                    return Err(format!(
                        "Attribute mapping value for '{key}' must be a string."
                    ));
                }
            }
        }
        Ok(Self(pairs))
    }

    /// The mapping as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    /// The mapping with a known provider's default mapping merged in after it: each default
    /// whose field the mapping does not set is added, in the defaults' order.
    pub(crate) fn with_defaults(mut self, defaults: Option<&ProviderDefaults>) -> Self {
        for (key, value) in defaults.map_or(&[][..], |d| d.attribute_mapping) {
            if self.get(key).is_none() {
                self.0.push(((*key).to_owned(), (*value).to_owned()));
            }
        }
        self
    }
}

impl Serialize for AttributeMapping {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}
