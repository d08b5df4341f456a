//! Who the claims say the user is: the lookup value, the roles and whether the email is
//! verified.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::login::claims::{ClaimPath, claim_names, is_truthy};
use crate::login::coerce::{Skip, SkipReason};
use crate::login::errors::{IDENTITY_FIELD_MISSING, LoginError};
use crate::login::profile::{FieldKind, profile_field};

/// A claim that was tried and skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimSkip {
    /// The claim name as configured.
    pub claim: String,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// A sentence for people, without the claim's value.
    pub detail: String,
}

impl ClaimSkip {
    pub(crate) fn new(claim: &str, skip: Skip) -> Self {
        Self {
            claim: claim.to_owned(),
            reason: skip.reason,
            detail: skip.detail,
        }
    }
}

/// Reads `name` from the claims: `Err` when the name is a malformed pointer or the claim is
/// absent.
pub(crate) fn read_claim<'v>(
    name: &str,
    claims: &'v Map<String, Value>,
) -> Result<&'v Value, Skip> {
    let path = ClaimPath::parse(name)
        .map_err(|error| Skip::new(SkipReason::InvalidPointer, error.to_string()))?;
    path.find(claims)
        .map_err(|detail| Skip::new(SkipReason::Absent, detail))
}

/// Why no lookup value could be had, in the reference's words and ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LookupError {
    /// The message the user sees (see [`IDENTITY_FIELD_MISSING`]).
    pub message: &'static str,
    /// What exactly was missing, for the admin.
    pub detail: String,
}

/// How the user is looked up: `user_field` equal to the first `user_claim` present.
///
/// Serialised as `{"field", "claims", "claim", "value", "skipped", "error"}`: `claim` and
/// `value` are `null` and `error` is `{"message", "detail"}` when no value could be had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LookupTrace {
    /// The user field matched on (`user_field`).
    pub field: String,
    /// The configured claim list (`user_claim`).
    pub claims: String,
    /// The claim that gave the value.
    pub claim: Option<String>,
    /// The lookup value.
    pub value: Option<String>,
    /// Claims tried and skipped.
    pub skipped: Vec<ClaimSkip>,
    /// Why there is no value, when there is none.
    pub error: Option<LookupError>,
}

impl LookupTrace {
    /// The lookup value, or the reference's error when there is none.
    pub fn value(&self) -> Result<&str, LoginError> {
        self.value
            .as_deref()
            .ok_or(LoginError::IdentityFieldMissing)
    }

    fn fail(mut self, detail: impl Into<String>) -> Self {
        self.claim = None;
        self.value = None;
        self.error = Some(LookupError {
            message: IDENTITY_FIELD_MISSING,
            detail: detail.into(),
        });
        self
    }
}

/// Whether users can be looked up by `field`: `username`, or a writable field holding one
/// value (not a list).
pub fn is_lookup_field(field: &str) -> bool {
    field == "username" || profile_field(field).is_some_and(|f| f.kind != FieldKind::List)
}

/// Finds the lookup value: the first claim of `user_claim` that is present (even if falsy,
/// as the reference does), a one-item list unwrapped, a number as its JSON text.
pub(crate) fn lookup(
    user_field: &str,
    user_claim: &str,
    claims: &Map<String, Value>,
) -> LookupTrace {
    let trace = LookupTrace {
        field: user_field.to_owned(),
        claims: user_claim.to_owned(),
        claim: None,
        value: None,
        skipped: Vec::new(),
        error: None,
    };
    if !is_lookup_field(user_field) {
        return trace.fail(format!(
            "The user field {user_field} cannot identify users; it must be username or a \
             single-value user field."
        ));
    }
    let mut trace = trace;
    for name in claim_names(user_claim) {
        let value = match read_claim(name, claims) {
            Ok(value) => value,
            Err(skip) => {
                trace.skipped.push(ClaimSkip::new(name, skip));
                continue;
            }
        };
        return match lookup_text(value) {
            Ok(text) => {
                trace.claim = Some(name.to_owned());
                trace.value = Some(text);
                trace
            }
            Err(skip) => {
                trace.skipped.push(ClaimSkip::new(name, skip));
                trace.fail(format!("The claim {name} gives no usable value."))
            }
        };
    }
    let detail = if trace.skipped.is_empty() {
        "No user claim is configured.".to_owned()
    } else {
        "None of the user claims is present.".to_owned()
    };
    trace.fail(detail)
}

fn lookup_text(value: &Value) -> Result<String, Skip> {
    let value = match value {
        Value::Array(items) if items.len() > 1 => {
            return Err(Skip::new(
                SkipReason::MultiValue,
                format!("The claim has {} values; a lookup takes one.", items.len()),
            ));
        }
        Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    if !is_truthy(value) {
        return Err(Skip::new(SkipReason::Empty, "The value is empty."));
    }
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(Skip::new(SkipReason::NotText, "The value is not text.")),
    }
}

/// What the role claim did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RolesOutcome {
    /// The claim held roles: the flags are set from them (granted or revoked).
    Applied {
        /// The role names found (text items only).
        roles: Vec<String>,
        /// Whether `staff` is among them.
        is_staff: bool,
        /// Whether `support` is among them.
        is_support: bool,
    },
    /// The claim is absent or `null`: the flags stay as they are.
    Absent,
    /// The claim is neither a list nor a non-empty string: the flags stay as they are.
    Ignored {
        /// Why, for the admin.
        detail: String,
    },
}

/// The role claim and what it did; serialised as `{"claim", "status", ...}` with `roles`,
/// `is_staff` and `is_support` when `status` is `applied` and `detail` when it is `ignored`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolesTrace {
    /// The role claim name as configured.
    pub claim: String,
    /// What it did.
    #[serde(flatten)]
    pub outcome: RolesOutcome,
}

impl RolesTrace {
    /// `(is_staff, is_support)` when the claim sets the flags.
    pub fn flags(&self) -> Option<(bool, bool)> {
        match self.outcome {
            RolesOutcome::Applied {
                is_staff,
                is_support,
                ..
            } => Some((is_staff, is_support)),
            _ => None,
        }
    }
}

/// Reads the role claim: a string is one role, a list gives its text items; anything else
/// is ignored, and an absent claim changes nothing. A blank claim name turns roles off.
pub(crate) fn roles(role_claim: Option<&str>, claims: &Map<String, Value>) -> Option<RolesTrace> {
    let claim = role_claim.map(str::trim).filter(|c| !c.is_empty())?;
    let outcome = match read_claim(claim, claims) {
        Err(skip) if skip.reason == SkipReason::Absent => RolesOutcome::Absent,
        Err(skip) => RolesOutcome::Ignored {
            detail: skip.detail,
        },
        Ok(Value::Null) => RolesOutcome::Absent,
        Ok(Value::String(role)) if !role.is_empty() => applied(vec![role.clone()]),
        Ok(Value::Array(items)) => applied(
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
        ),
        Ok(_) => RolesOutcome::Ignored {
            detail: format!("Roles claim {claim} is not a list or string."),
        },
    };
    Some(RolesTrace {
        claim: claim.to_owned(),
        outcome,
    })
}

fn applied(roles: Vec<String>) -> RolesOutcome {
    let has = |role: &str| roles.iter().any(|r| r == role);
    RolesOutcome::Applied {
        is_staff: has("staff"),
        is_support: has("support"),
        roles,
    }
}

/// Whether the claims say the email is verified: `email_verified` is JSON `true` (a string
/// `"true"` does not count).
pub fn email_verified(claims: &Map<String, Value>) -> bool {
    claims.get("email_verified") == Some(&Value::Bool(true))
}
