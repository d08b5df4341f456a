//! Turning one claim value into one field value, or saying why it was skipped.
//!
//! The rules are the reference's, in its order:
//!
//! 1. A list for a list field is kept. For any other field an empty list is empty, a
//!    one-item list is that item, and a longer list is skipped (multi-value).
//! 2. Falsy values (`null`, `false`, `0`, `""`, `[]`, `{}`) are empty: the IdP can never clear
//!    a field.
//! 3. A date field takes `YYYY-MM-DD` (see [`parse_date`]).
//! 4. `civil_number` turns `urn:schac:personalUniqueID:<cc>:<type>:<id>` into `upper(cc)+id`.
//! 5. Text longer than the field's maximum length is skipped, never cut.
//! 6. `gender` is lower-cased and must be one of [`GENDER_CHOICES`].
//!
//! Where the reference has no rule, ours are:
//!
//! * A number is taken as its JSON text (`42`, `1.5`); the reference would store Python's
//!   `str()` of it (the same for integers). `true` and non-empty objects or lists (inside a
//!   one-item list) are not text and are skipped; the reference would store `"True"` or a
//!   Python repr.
//! * A list field given one string (or number) takes it as a one-item list; the reference
//!   would store the bare string in a list column. Its items must all be text or numbers.
//! * The maximum length applies to the value stored, so a schacPersonalUniqueID URN longer
//!   than 50 characters whose parsed form fits is kept; the reference checks the raw URN.

use serde::Serialize;
use serde_json::Value;

use crate::login::profile::{FieldKind, FieldValue, GENDER_CHOICES, ProfileField, parse_date};

/// Why a claim did not fill a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The claim is not in the claims.
    Absent,
    /// The claim name starts with `/` but is not a valid JSON Pointer.
    InvalidPointer,
    /// The value is falsy (`null`, `false`, `0`, `""`, `[]`, `{}`).
    Empty,
    /// A list of several values for a field that takes one.
    MultiValue,
    /// A value that is not text: `true`, an object, a nested list.
    NotText,
    /// Not a `YYYY-MM-DD` calendar date.
    InvalidDate,
    /// Longer than the field's maximum length.
    TooLong,
    /// Not one of the gender choices.
    InvalidGender,
    /// The claim would have filled the field, but the field is not synced.
    NotSynced,
}

/// A claim that did not fill a field, with a sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    /// The machine-readable reason.
    pub reason: SkipReason,
    /// A sentence for people, without the claim's value.
    pub detail: String,
}

impl Skip {
    pub(crate) fn new(reason: SkipReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    fn empty() -> Self {
        Self::new(SkipReason::Empty, "The value is empty.")
    }

    fn not_text(value: &Value) -> Self {
        let what = match value {
            Value::Bool(_) => "A boolean",
            Value::Object(_) => "An object",
            Value::Array(_) => "A nested list",
            _ => "The value",
        };
        Self::new(SkipReason::NotText, format!("{what} is not a text value."))
    }
}

/// Coerces one claim value for `field`.
///
/// ```
/// use idp_core::login::{FieldValue, SkipReason, coerce_value, profile_field};
/// use serde_json::json;
///
/// let nationality = profile_field("nationality").unwrap();
/// assert_eq!(coerce_value(nationality, &json!(["EE"])), Ok(FieldValue::Text("EE".into())));
/// assert_eq!(coerce_value(nationality, &json!("EST")).unwrap_err().reason, SkipReason::TooLong);
/// ```
pub fn coerce_value(field: &ProfileField, value: &Value) -> Result<FieldValue, Skip> {
    if field.kind == FieldKind::List {
        return coerce_list(value);
    }
    let value = match value {
        Value::Array(items) if items.len() > 1 => {
            return Err(Skip::new(
                SkipReason::MultiValue,
                format!("The claim has {} values; the field takes one.", items.len()),
            ));
        }
        Value::Array(items) => match items.first() {
            Some(item) => item,
            None => return Err(Skip::empty()),
        },
        other => other,
    };
    let text = scalar_text(value)?;
    let text = match field.kind {
        FieldKind::Date => parse_date(&text).ok_or_else(|| {
            Skip::new(
                SkipReason::InvalidDate,
                "The value is not a valid date (YYYY-MM-DD).",
            )
        })?,
        FieldKind::CivilNumber => parse_schac_personal_unique_id(&text).into_owned(),
        _ => text,
    };
    if text.is_empty() {
        return Err(Skip::empty());
    }
    if let Some(max_length) = field.max_length {
        let length = text.chars().count();
        if length > max_length {
            return Err(Skip::new(
                SkipReason::TooLong,
                format!("Value length {length} exceeds max_length {max_length}."),
            ));
        }
    }
    if field.kind == FieldKind::Gender {
        let lower = text.to_lowercase();
        if !GENDER_CHOICES.contains(&lower.as_str()) {
            return Err(Skip::new(
                SkipReason::InvalidGender,
                format!("The value is not one of {}.", GENDER_CHOICES.join(", ")),
            ));
        }
        return Ok(FieldValue::Text(lower));
    }
    Ok(FieldValue::Text(text))
}

/// A scalar as text: strings as they are, numbers as JSON writes them; falsy values are
/// empty and anything else is not text.
fn scalar_text(value: &Value) -> Result<String, Skip> {
    if !crate::login::claims::is_truthy(value) {
        return Err(Skip::empty());
    }
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        other => Err(Skip::not_text(other)),
    }
}

fn coerce_list(value: &Value) -> Result<FieldValue, Skip> {
    match value {
        Value::Array(items) if items.is_empty() => Err(Skip::empty()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                Value::Number(number) => Ok(number.to_string()),
                other => Err(Skip::new(
                    SkipReason::NotText,
                    format!("The list holds {}, not only text values.", kind_name(other)),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(FieldValue::List),
        other => scalar_text(other).map(|text| FieldValue::List(vec![text])),
    }
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "a null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Parses a schacPersonalUniqueID: `urn:schac:personalUniqueID:<cc>:<type>:<id>` becomes the
/// upper-cased country code followed by the last part (`…:EE:EST:60001019906` →
/// `EE60001019906`, `…:int:orcid:0000-0002` → `INT0000-0002`). Anything else, including a URN
/// with fewer than three parts after the prefix, passes through unchanged.
pub fn parse_schac_personal_unique_id(value: &str) -> std::borrow::Cow<'_, str> {
    const PREFIX: &str = "urn:schac:personalUniqueID:";
    let Some(rest) = value.strip_prefix(PREFIX) else {
        return value.into();
    };
    let parts: Vec<&str> = rest.split(':').collect();
    match (parts.first(), parts.last()) {
        (Some(country), Some(id)) if parts.len() >= 3 => {
            format!("{}{id}", country.to_uppercase()).into()
        }
        _ => value.into(),
    }
}
