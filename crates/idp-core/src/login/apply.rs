//! Choosing the user a login signs in, and what the login changes on it.
//!
//! The caller does the look-ups; these functions decide on what it found:
//!
//! 1. Look the user up by [`crate::login::LookupTrace::value`] in its `field`, inactive users
//!    included (an exact, case-sensitive match).
//! 2. If nobody matched, [`email_match_query`] says whether to count users by email
//!    (case-insensitively) and with which address.
//! 3. [`choose_user`] turns what was found into a [`UserChoice`] or the reference's error.
//! 4. [`apply_login`] computes the resulting user and its changes.

use serde::Serialize;
use serde_json::Value;

use crate::login::claims::is_truthy;
use crate::login::errors::LoginError;
use crate::login::profile::{FieldValue, UserProfile, registration_method};
use crate::login::trace::MappingTrace;

/// The email to match users by when the lookup found nobody, or `None` when email
/// match-making does not apply: it must be enabled (`match_by_email`), the provider must say
/// the email is verified, the lookup must not already be by email, and the login must map an
/// email. Also `None` when the lookup has no value (the login fails first).
pub fn email_match_query(trace: &MappingTrace, match_by_email: bool) -> Option<&str> {
    if !match_by_email || !trace.email_verified || trace.lookup.field == "email" {
        return None;
    }
    trace.lookup.value.as_ref()?;
    match trace.value("email")? {
        FieldValue::Text(email) => Some(email),
        FieldValue::List(_) => None,
    }
}

/// What the caller found when it counted users by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailMatches {
    /// Nobody has that email.
    None,
    /// Exactly one user has it.
    One {
        /// Whether that user is active.
        is_active: bool,
    },
    /// Several users have it.
    Many,
}

impl EmailMatches {
    /// Classifies a count of users; `is_active` is read only when the count is one.
    pub fn from_count(count: usize, is_active: bool) -> Self {
        match count {
            0 => EmailMatches::None,
            1 => EmailMatches::One { is_active },
            _ => EmailMatches::Many,
        }
    }
}

/// Which user a login signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChoice {
    /// The user the lookup found.
    Lookup,
    /// The one user with the login's (verified) email; its lookup field is overwritten.
    EmailMatch,
    /// A new user.
    Create,
}

/// Decides which user a login signs in.
///
/// `lookup` is `Some(is_active)` when the lookup found a user; `email` is what the caller
/// found for [`email_match_query`]'s address, `None` when it did not ask.
///
/// ```
/// use idp_core::login::{EmailMatches, LoginError, UserChoice, choose_user};
///
/// assert_eq!(choose_user(Some(true), None), Ok(UserChoice::Lookup));
/// assert_eq!(choose_user(Some(false), None), Err(LoginError::UserDeactivated));
/// assert_eq!(choose_user(None, Some(EmailMatches::Many)), Err(LoginError::MultipleUsersWithEmail));
/// assert_eq!(choose_user(None, None), Ok(UserChoice::Create));
/// ```
pub fn choose_user(
    lookup: Option<bool>,
    email: Option<EmailMatches>,
) -> Result<UserChoice, LoginError> {
    match (lookup, email) {
        (Some(true), _) => Ok(UserChoice::Lookup),
        (Some(false), _) => Err(LoginError::UserDeactivated),
        (None, Some(EmailMatches::Many)) => Err(LoginError::MultipleUsersWithEmail),
        (None, Some(EmailMatches::One { is_active: false })) => Err(LoginError::UserDeactivated),
        (None, Some(EmailMatches::One { is_active: true })) => Ok(UserChoice::EmailMatch),
        (None, Some(EmailMatches::None) | None) => Ok(UserChoice::Create),
    }
}

/// The user a login applies its trace to.
#[derive(Debug, Clone, Copy)]
pub enum LoginTarget<'a> {
    /// An existing user, found by the lookup (`by_email` false) or by email.
    Existing {
        /// The user as stored.
        user: &'a UserProfile,
        /// Whether it was found by email match-making.
        by_email: bool,
    },
    /// A user to create.
    New {
        /// The provider's name, for the registration method.
        provider: &'a str,
        /// A random user name, used unless users are looked up by `username`.
        fallback_username: &'a str,
    },
}

/// One attribute a login changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The attribute: `username`, `is_active`, `is_staff`, `is_support`,
    /// `registration_method`, a writable field or `details`.
    pub field: String,
    /// Its value before (`null` for a new user).
    pub before: Value,
    /// Its value after.
    pub after: Value,
}

/// The user after a login, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedLogin {
    /// Whether the user is new.
    pub created: bool,
    /// The user to store.
    pub user: UserProfile,
    /// The attributes that changed, in the order of the user's serialisation; for a new
    /// user, every attribute it was given.
    pub changes: Vec<Change>,
}

/// Applies a mapping trace to the chosen user.
///
/// Mapped values replace stored ones; the IdP never clears a field, because a trace holds no
/// empty values. `details` is replaced as a whole when extra claims are present. A role claim
/// grants and revokes `is_staff` and `is_support`. An email match writes the lookup value
/// into the lookup field. A new user is active, named by the lookup value when users are
/// looked up by `username` (else by the fallback), and registered by the provider's name.
///
/// Fails with the reference's errors when the trace has no lookup value or the user is
/// inactive.
pub fn apply_login(
    trace: &MappingTrace,
    target: LoginTarget<'_>,
) -> Result<AppliedLogin, LoginError> {
    let lookup_value = trace.lookup.value()?;
    let lookup_field = trace.lookup.field.as_str();
    let (before, mut user) = match target {
        LoginTarget::Existing { user, by_email } => {
            if !user.is_active {
                return Err(LoginError::UserDeactivated);
            }
            let mut after = user.clone();
            if by_email {
                set_lookup_field(&mut after, lookup_field, lookup_value);
            }
            (Some(user), after)
        }
        LoginTarget::New {
            provider,
            fallback_username,
        } => {
            let mut user = UserProfile {
                username: fallback_username.to_owned(),
                is_active: true,
                registration_method: registration_method(provider).to_owned(),
                ..UserProfile::default()
            };
            set_lookup_field(&mut user, lookup_field, lookup_value);
            (None, user)
        }
    };
    for (field, value) in trace.payload() {
        user.fields.set(field, value.clone());
    }
    if let Some(details) = &trace.details.value {
        user.details = details.clone();
    }
    if let Some((is_staff, is_support)) = trace.roles.as_ref().and_then(|roles| roles.flags()) {
        user.is_staff = is_staff;
        user.is_support = is_support;
    }
    let changes = changes(before, &user);
    Ok(AppliedLogin {
        created: before.is_none(),
        user,
        changes,
    })
}

fn set_lookup_field(user: &mut UserProfile, field: &str, value: &str) {
    if field == "username" {
        user.username = value.to_owned();
    } else {
        user.fields.set(field, FieldValue::Text(value.to_owned()));
    }
}

fn changes(before: Option<&UserProfile>, after: &UserProfile) -> Vec<Change> {
    let object = |user: &UserProfile| match serde_json::to_value(user) {
        Ok(Value::Object(object)) => object,
        _ => serde_json::Map::new(),
    };
    let after = object(after);
    let before = before.map(object);
    after
        .into_iter()
        .filter_map(|(field, after)| {
            let before = match &before {
                Some(before) => before.get(&field).cloned().unwrap_or(Value::Null),
                None if is_truthy(&after) => Value::Null,
                None => return None,
            };
            (before != after).then_some(Change {
                field,
                before,
                after,
            })
        })
        .collect()
}
