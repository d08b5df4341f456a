//! The rules a field's value is read by, named in the field definition, and the JSON shapes of
//! the field types.
//!
//! Each rule reads one type, so a definition that pairs a field with a rule of another type does
//! not compile.

use serde::ser::{Serialize, Serializer};
use serde_json::Value;

use super::attribute_mapping::AttributeMapping;
use super::fields::FieldRule;
use super::input::DUPLICATE_PROVIDER;
use crate::errors::FieldError;
use crate::login::parse_claim_list;
use crate::names::ProviderNamePolicy;
use crate::parse::{boolean, required_text, string_list, text};
use crate::redirects::normalise_redirects;

pub(crate) use crate::parse::Text;

/// What reading a field may depend on besides its value.
pub(crate) struct Context<'a> {
    /// The names `provider` may take.
    pub names: &'a ProviderNamePolicy,
    /// Whether the requested provider name is taken.
    pub name_taken: bool,
}

/// Reads a request body's value of a field of type `T`; the messages are the API's.
pub(crate) trait Rule<T> {
    fn read(&self, value: &Value, context: &Context<'_>) -> Result<T, FieldError>;
}

fn one(message: String) -> FieldError {
    FieldError::Messages(vec![message])
}

impl Text {
    pub(crate) const fn describe(&self) -> FieldRule {
        FieldRule::Text {
            max: self.max,
            blank: self.blank,
            null: self.null,
        }
    }
}

impl Rule<String> for Text {
    fn read(&self, value: &Value, _: &Context<'_>) -> Result<String, FieldError> {
        required_text(value, *self).map_err(FieldError::Messages)
    }
}

/// A string that may be blank or `null`, of at most this many characters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NullableText(pub u64);

impl NullableText {
    pub(crate) const fn describe(&self) -> FieldRule {
        Text::nullable(self.0).describe()
    }
}

impl Rule<Option<String>> for NullableText {
    fn read(&self, value: &Value, _: &Context<'_>) -> Result<Option<String>, FieldError> {
        text(value, Text::nullable(self.0)).map_err(FieldError::Messages)
    }
}

/// A whitespace-separated list of claim names (`user_claim`) read as [`Text`] reads it, each
/// name a top-level claim or, when it starts with `/`, a valid JSON Pointer
/// (`docs/decisions.md`, "Logging people in").
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClaimList(pub Text);

impl ClaimList {
    pub(crate) const fn describe(&self) -> FieldRule {
        self.0.describe()
    }
}

impl Rule<String> for ClaimList {
    fn read(&self, value: &Value, context: &Context<'_>) -> Result<String, FieldError> {
        let list = self.0.read(value, context)?;
        parse_claim_list(&list).map_err(|error| one(error.to_string()))?;
        Ok(list)
    }
}

/// [`ClaimList`] that may also be blank or `null` (`extra_fields`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NullableClaimList(pub u64);

impl NullableClaimList {
    pub(crate) const fn describe(&self) -> FieldRule {
        NullableText(self.0).describe()
    }
}

impl Rule<Option<String>> for NullableClaimList {
    fn read(&self, value: &Value, context: &Context<'_>) -> Result<Option<String>, FieldError> {
        let list = NullableText(self.0).read(value, context)?;
        if let Some(list) = &list {
            parse_claim_list(list).map_err(|error| one(error.to_string()))?;
        }
        Ok(list)
    }
}

/// A provider name of at most this many characters: not taken, and allowed by the deployment's
/// name policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProviderName(pub u64);

impl ProviderName {
    pub(crate) const fn describe(&self) -> FieldRule {
        FieldRule::ProviderName { max: self.0 }
    }

    /// The name as the text rule reads it, before the uniqueness and policy checks.
    pub(crate) fn text(&self, value: &Value) -> Result<String, Vec<String>> {
        required_text(value, Text::required(self.0))
    }
}

impl Rule<String> for ProviderName {
    fn read(&self, value: &Value, context: &Context<'_>) -> Result<String, FieldError> {
        let name = self.text(value).map_err(FieldError::Messages)?;
        // Uniqueness is checked before the name rule, as the reference does.
        if context.name_taken {
            return Err(one(DUPLICATE_PROVIDER.into()));
        }
        if !context.names.allows(&name) {
            return Err(one("Invalid provider.".into()));
        }
        Ok(name)
    }
}

/// A boolean in any of the usual spellings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Boolean;

impl Boolean {
    pub(crate) const fn describe(&self) -> FieldRule {
        FieldRule::Boolean
    }
}

impl Rule<bool> for Boolean {
    fn read(&self, value: &Value, _: &Context<'_>) -> Result<bool, FieldError> {
        boolean(value).map_err(one)
    }
}

/// A list of non-blank strings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StringList;

impl StringList {
    pub(crate) const fn describe(&self) -> FieldRule {
        FieldRule::List
    }
}

impl Rule<Vec<String>> for StringList {
    fn read(&self, value: &Value, _: &Context<'_>) -> Result<Vec<String>, FieldError> {
        string_list(value)
    }
}

/// A list of redirect origins, normalised.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Redirects;

impl Redirects {
    pub(crate) const fn describe(&self) -> FieldRule {
        FieldRule::Redirects
    }
}

impl Rule<Vec<String>> for Redirects {
    fn read(&self, value: &Value, _: &Context<'_>) -> Result<Vec<String>, FieldError> {
        normalise_redirects(&string_list(value)?).map_err(one)
    }
}

/// A user-field → claims mapping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mapping;

impl Mapping {
    pub(crate) const fn describe(&self) -> FieldRule {
        FieldRule::Mapping
    }
}

impl Rule<AttributeMapping> for Mapping {
    fn read(&self, value: &Value, _: &Context<'_>) -> Result<AttributeMapping, FieldError> {
        AttributeMapping::parse(value).map_err(one)
    }
}

/// A field's value as an answer shows it, borrowed from the provider.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldRef<'a> {
    Text(&'a str),
    NullableText(Option<&'a str>),
    Boolean(bool),
    List(&'a [String]),
    Mapping(&'a AttributeMapping),
}

impl Serialize for FieldRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldRef::Text(value) => value.serialize(serializer),
            FieldRef::NullableText(value) => value.serialize(serializer),
            FieldRef::Boolean(value) => value.serialize(serializer),
            FieldRef::List(value) => value.serialize(serializer),
            FieldRef::Mapping(value) => value.serialize(serializer),
        }
    }
}

/// A type a provider field may have: the JSON value it is shown as.
pub(crate) trait FieldType {
    fn view(&self) -> FieldRef<'_>;
}

impl FieldType for String {
    fn view(&self) -> FieldRef<'_> {
        FieldRef::Text(self)
    }
}

impl FieldType for Option<String> {
    fn view(&self) -> FieldRef<'_> {
        FieldRef::NullableText(self.as_deref())
    }
}

impl FieldType for bool {
    fn view(&self) -> FieldRef<'_> {
        FieldRef::Boolean(*self)
    }
}

impl FieldType for Vec<String> {
    fn view(&self) -> FieldRef<'_> {
        FieldRef::List(self)
    }
}

impl FieldType for AttributeMapping {
    fn view(&self) -> FieldRef<'_> {
        FieldRef::Mapping(self)
    }
}
