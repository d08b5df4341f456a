//! Field-keyed validation errors in the three shapes clients of the API already parse.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The errors of one field: plain messages, or messages keyed by the index of a list element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// Messages about the field as a whole, e.g. `["This field is required."]`.
    Messages(Vec<String>),
    /// Messages about list elements, keyed by their index, e.g. `{"0": ["Not a valid string."]}`.
    Items(BTreeMap<usize, Vec<String>>),
}

impl Serialize for FieldError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldError::Messages(messages) => messages.serialize(serializer),
            FieldError::Items(items) => {
                let mut map = serializer.serialize_map(Some(items.len()))?;
                for (index, messages) in items {
                    map.serialize_entry(&index.to_string(), messages)?;
                }
                map.end()
            }
        }
    }
}

/// A set of validation errors, serialised as `{"<field>": [...], "non_field_errors": [...]}`.
///
/// Fields keep the order in which they were reported, which is the order of the fields in the
/// model, so error bodies are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    fields: Vec<(String, FieldError)>,
    non_field: Vec<String>,
}

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Errors holding a single message for one field.
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Errors holding a single object-level message.
    pub fn non_field(message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.non_field.push(message.into());
        errors
    }

    /// Adds a message to a field, after any it already has.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.fields.iter_mut().find(|(name, _)| name == field) {
            Some((_, FieldError::Messages(messages))) => messages.push(message),
            Some((_, slot)) => *slot = FieldError::Messages(vec![message]),
            None => self
                .fields
                .push((field.to_owned(), FieldError::Messages(vec![message]))),
        }
    }

    /// Sets a field's errors, replacing any it had.
    pub fn set(&mut self, field: &str, error: FieldError) {
        match self.fields.iter_mut().find(|(name, _)| name == field) {
            Some((_, slot)) => *slot = error,
            None => self.fields.push((field.to_owned(), error)),
        }
    }

    /// Adds an object-level message (`non_field_errors`).
    pub fn add_non_field(&mut self, message: impl Into<String>) {
        self.non_field.push(message.into());
    }

    /// True when no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.non_field.is_empty()
    }

    /// The errors of one field, if any.
    pub fn field(&self, name: &str) -> Option<&FieldError> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, error)| error)
    }

    /// The object-level messages.
    pub fn non_field_errors(&self) -> &[String] {
        &self.non_field
    }

    /// `Ok(value)` when empty, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl Serialize for ValidationErrors {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let extra = usize::from(!self.non_field.is_empty());
        let mut map = serializer.serialize_map(Some(self.fields.len() + extra))?;
        for (field, error) in &self.fields {
            map.serialize_entry(field, error)?;
        }
        if !self.non_field.is_empty() {
            map.serialize_entry("non_field_errors", &self.non_field)?;
        }
        map.end()
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&json)
    }
}

impl std::error::Error for ValidationErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_the_three_drf_shapes() {
        let mut errors = ValidationErrors::single("label", "This field is required.");
        errors.set(
            "allowed_redirects",
            FieldError::Items([(1, vec!["Not a valid string.".into()])].into()),
        );
        errors.add_non_field("Invalid discovery URL.");
        assert_eq!(
            serde_json::to_string(&errors).unwrap(),
            r#"{"label":["This field is required."],"allowed_redirects":{"1":["Not a valid string."]},"non_field_errors":["Invalid discovery URL."]}"#
        );
    }

    #[test]
    fn add_appends_to_the_same_field() {
        let mut errors = ValidationErrors::new();
        errors.add("a", "one");
        errors.add("a", "two");
        assert_eq!(
            errors.field("a"),
            Some(&FieldError::Messages(vec!["one".into(), "two".into()]))
        );
    }
}
