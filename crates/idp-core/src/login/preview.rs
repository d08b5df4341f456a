//! The admin's mapping preview: the request bodies it reads.
//!
//! A preview runs [`crate::login::map_claims`] on claims the admin pastes, with a stored
//! provider's mapping or a draft one, so it shows exactly what a login with those claims
//! would do. Claims are what a provider sends, so anything a provider could send is
//! previewed (a pointer past the end of a list reads as an absent claim, as in a login);
//! what is refused is a body a provider could not have produced or a draft a create would
//! refuse.

use serde_json::{Map, Value};

use crate::errors::ValidationErrors;
use crate::parse::{NULL, REQUIRED, type_name};
use crate::provider::{DRAFT_MAPPING_FIELDS, Provider, draft_provider};

/// Claims may nest this many levels deep (the claims object is the first level) and no
/// deeper.
pub const MAX_CLAIM_DEPTH: usize = 63;

/// A preview with a draft mapping: the claims, and the provider the draft makes (its mapping
/// fields as given, the rest as a create with the same body would set them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftPreview {
    /// The claims to map.
    pub claims: Map<String, Value>,
    /// The provider whose mapping is previewed; it has no endpoints and no client.
    pub provider: Provider,
}

/// Reads the body of a preview with a stored provider's mapping: `{"claims": {...}}`.
///
/// ```
/// use idp_core::login::parse_preview;
/// use serde_json::json;
///
/// assert!(parse_preview(&json!({"claims": {"sub": "u1"}})).is_ok());
/// assert!(parse_preview(&json!({"claims": ["sub"]})).is_err());
/// assert!(parse_preview(&json!({"claims": {}, "user_claim": "sub"})).is_err());
/// ```
pub fn parse_preview(body: &Value) -> Result<Map<String, Value>, ValidationErrors> {
    let object = body_object(body)?;
    let mut errors = unknown_keys(object, &[]);
    let claims = claims(object, &mut errors);
    errors.into_result(())?;
    Ok(claims.unwrap_or_default())
}

/// Reads the body of a preview with a draft mapping: `claims` and any of `provider`,
/// `user_field`, `user_claim`, `attribute_mapping` and `extra_fields`, read by the create
/// rules; the named provider's defaults fill in what the draft leaves out, as on create.
///
/// ```
/// use idp_core::login::parse_draft_preview;
/// use serde_json::json;
///
/// let draft = parse_draft_preview(&json!({"claims": {}, "provider": "tara"})).unwrap();
/// assert_eq!(draft.provider.user_field, "civil_number");
/// assert!(parse_draft_preview(&json!({"claims": {}, "client_id": "x"})).is_err());
/// ```
pub fn parse_draft_preview(body: &Value) -> Result<DraftPreview, ValidationErrors> {
    let object = body_object(body)?;
    let mut errors = unknown_keys(object, &DRAFT_MAPPING_FIELDS);
    let claims = claims(object, &mut errors);
    let provider = draft_provider(object, errors)?;
    Ok(DraftPreview {
        claims: claims.unwrap_or_default(),
        provider,
    })
}

fn body_object(body: &Value) -> Result<&Map<String, Value>, ValidationErrors> {
    match body {
        Value::Object(object) => Ok(object),
        other => Err(ValidationErrors::non_field(format!(
            "Invalid data. Expected a dictionary, but got {}.",
            type_name(other)
        ))),
    }
}

fn unknown_keys(object: &Map<String, Value>, allowed: &[&str]) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    for key in object.keys() {
        if key != "claims" && !allowed.contains(&key.as_str()) {
            errors.add(key, "Unknown field.");
        }
    }
    errors
}

/// The `claims` object, or its error added to `errors`.
fn claims(
    object: &Map<String, Value>,
    errors: &mut ValidationErrors,
) -> Option<Map<String, Value>> {
    let message = match object.get("claims") {
        None => REQUIRED.to_owned(),
        Some(Value::Null) => NULL.to_owned(),
        Some(Value::Object(claims)) => {
            if depth(&Value::Object(claims.clone())) <= MAX_CLAIM_DEPTH {
                return Some(claims.clone());
            }
            format!("Claims may be nested at most {MAX_CLAIM_DEPTH} levels deep.")
        }
        Some(other) => format!(
            "Expected a dictionary of items but got type \"{}\".",
            type_name(other)
        ),
    };
    errors.add("claims", message);
    None
}

/// How many levels of objects and lists a value has (a scalar has none), without recursion.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1)];
    while let Some((value, level)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(object) => Box::new(object.values()),
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        deepest = deepest.max(level);
        stack.extend(children.map(|child| (child, level + 1)));
    }
    deepest
}
