//! Reading JSON values the way the reference's serializer fields do: strings are trimmed and
//! numbers coerced to strings, booleans accept the usual spellings, lists are checked item by item.

use std::collections::BTreeMap;

use serde_json::Value;
use validator::ValidateLength;

use crate::errors::FieldError;

pub(crate) const REQUIRED: &str = "This field is required.";
pub(crate) const BLANK: &str = "This field may not be blank.";
pub(crate) const NULL: &str = "This field may not be null.";
const NOT_A_STRING: &str = "Not a valid string.";
const NOT_A_BOOLEAN: &str = "Must be a valid boolean.";
const NULL_CHARACTERS: &str = "Null characters are not allowed.";

/// How a string field is checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text {
    pub max: u64,
    pub blank: bool,
    pub null: bool,
}

impl Text {
    pub const fn required(max: u64) -> Self {
        Self {
            max,
            blank: false,
            null: false,
        }
    }
    pub const fn blank(max: u64) -> Self {
        Self {
            max,
            blank: true,
            null: false,
        }
    }
    pub const fn nullable(max: u64) -> Self {
        Self {
            max,
            blank: true,
            null: true,
        }
    }
}

/// The name the reference gives a JSON value's type in its messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Reads a string field; `Ok(None)` only for `null` on a nullable field.
///
/// A value that is read but then fails several checks gets every message, as the reference's
/// validators are all run and their messages collected (too long and holding a NUL character).
pub(crate) fn text(value: &Value, rule: Text) -> Result<Option<String>, Vec<String>> {
    let raw = match value {
        Value::Null if rule.null => return Ok(None),
        Value::Null => return Err(vec![NULL.into()]),
        Value::String(s) => s.as_str().into(),
        Value::Number(n) => python_str(n),
        _ => return Err(vec![NOT_A_STRING.into()]),
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return if rule.blank {
            Ok(Some(String::new()))
        } else {
            Err(vec![BLANK.into()])
        };
    }
    let mut errors = Vec::new();
    if !trimmed.validate_length(None, Some(rule.max), None) {
        errors.push(format!(
            "Ensure this field has no more than {} characters.",
            rule.max
        ));
    }
    // NUL cannot be stored in a PostgreSQL text column, and the reference refuses it too.
    if trimmed.contains('\0') {
        errors.push(NULL_CHARACTERS.into());
    }
    if errors.is_empty() {
        Ok(Some(trimmed.to_owned()))
    } else {
        Err(errors)
    }
}

/// Reads a non-nullable string field.
pub(crate) fn required_text(value: &Value, rule: Text) -> Result<String, Vec<String>> {
    text(value, rule).map(Option::unwrap_or_default)
}

/// A JSON number as Python's `str()` writes it, which is how the reference turns a number sent
/// for a string field into text: integers as they are, floats in their shortest round-trip form
/// with at least one decimal (`1.0`) and in exponent form (`1e+16`, `1e-05`) outside
/// `1e-4 <= |x| < 1e16`.
fn python_str(number: &serde_json::Number) -> String {
    let Some(float) = number.as_f64().filter(|_| number.is_f64()) else {
        return number.to_string();
    };
    // `{:e}` gives the shortest digits that round-trip, like Python's `repr`.
    let scientific = format!("{float:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    if !(-4..16).contains(&exponent) {
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs());
    }
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exponent + 1;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let point = point as usize;
        if point >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    format!("{sign}{body}")
}

/// Reads a boolean field, accepting `true`/`false`, 1/0 and the usual string spellings in any
/// letter case (the reference lower-cases strings before looking them up).
pub(crate) fn boolean(value: &Value) -> Result<bool, String> {
    const TRUE: [&str; 6] = ["t", "y", "yes", "true", "on", "1"];
    const FALSE: [&str; 6] = ["f", "n", "no", "false", "off", "0"];
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Null => Err(NULL.into()),
        Value::String(s) if TRUE.contains(&s.to_lowercase().as_str()) => Ok(true),
        Value::String(s) if FALSE.contains(&s.to_lowercase().as_str()) => Ok(false),
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        _ => Err(NOT_A_BOOLEAN.into()),
    }
}

/// Reads a list of non-blank strings; element errors are keyed by index.
pub(crate) fn string_list(value: &Value) -> Result<Vec<String>, FieldError> {
    let items = match value {
        Value::Array(items) => items,
        Value::Null => return Err(FieldError::Messages(vec![NULL.into()])),
        other => {
            let message = format!(
                "Expected a list of items but got type \"{}\".",
                type_name(other)
            );
            return Err(FieldError::Messages(vec![message]));
        }
    };
    let mut errors = BTreeMap::new();
    let mut strings = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match required_text(item, Text::required(u64::MAX)) {
            Ok(s) => strings.push(s),
            Err(messages) => {
                errors.insert(index, messages);
            }
        }
    }
    if errors.is_empty() {
        Ok(strings)
    } else {
        Err(FieldError::Items(errors))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_trims_coerces_numbers_and_checks_length() {
        let rule = Text::required(5);
        assert_eq!(text(&json!("  ab "), rule), Ok(Some("ab".into())));
        assert_eq!(text(&json!(42), rule), Ok(Some("42".into())));
        assert_eq!(text(&json!(1.5), rule), Ok(Some("1.5".into())));
        assert_eq!(text(&json!(true), rule), Err(vec![NOT_A_STRING.into()]));
        assert_eq!(text(&json!([]), rule), Err(vec![NOT_A_STRING.into()]));
        assert_eq!(text(&json!({}), rule), Err(vec![NOT_A_STRING.into()]));
        assert_eq!(text(&json!("   "), rule), Err(vec![BLANK.into()]));
        assert_eq!(text(&json!(null), rule), Err(vec![NULL.into()]));
        assert_eq!(
            text(&json!("abcdef"), rule),
            Err(vec![
                "Ensure this field has no more than 5 characters.".into()
            ])
        );
        assert_eq!(
            text(&json!("ééééé"), rule),
            Ok(Some("ééééé".into())),
            "length counts characters"
        );
        assert_eq!(text(&json!(null), Text::nullable(5)), Ok(None));
        assert_eq!(text(&json!(" "), Text::blank(5)), Ok(Some(String::new())));
    }

    #[test]
    fn boolean_accepts_the_usual_spellings() {
        for t in [
            json!(true),
            json!("true"),
            json!("yes"),
            json!("on"),
            json!("1"),
            json!(1),
            json!(1.0),
            json!("ON"),
        ] {
            assert_eq!(boolean(&t), Ok(true), "{t}");
        }
        for f in [
            json!(false),
            json!("False"),
            json!("no"),
            json!("off"),
            json!("0"),
            json!(0),
            json!(0.0),
        ] {
            assert_eq!(boolean(&f), Ok(false), "{f}");
        }
        for bad in [json!("maybe"), json!(2), json!([]), json!({}), json!("")] {
            assert_eq!(boolean(&bad), Err(NOT_A_BOOLEAN.into()), "{bad}");
        }
        assert_eq!(boolean(&json!(null)), Err(NULL.into()));
    }

    #[test]
    fn string_list_reports_each_bad_item_by_index() {
        assert_eq!(
            string_list(&json!(["a", 1])),
            Ok(vec!["a".into(), "1".into()])
        );
        assert_eq!(
            string_list(&json!("a")),
            Err(FieldError::Messages(vec![
                "Expected a list of items but got type \"str\".".into()
            ]))
        );
        assert_eq!(
            string_list(&json!({"a": 1})),
            Err(FieldError::Messages(vec![
                "Expected a list of items but got type \"dict\".".into()
            ]))
        );
        assert_eq!(
            string_list(&json!(["ok", "", true])),
            Err(FieldError::Items(
                [(1, vec![BLANK.into()]), (2, vec![NOT_A_STRING.into()])].into()
            ))
        );
    }
}
