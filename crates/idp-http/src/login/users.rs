//! Signing a login's user in: the claims mapped by `idp_core::login::map_claims`, the user looked
//! up (and, with `IDP_MATCH_BY_EMAIL`, matched by a verified email), chosen, changed and stored
//! exactly as `idp_core::login` computes.

use idp_core::Provider;
use idp_core::login::{
    EmailMatches, LoginError, LoginTarget, MappingConfig, MappingOptions, MappingTrace, UserChoice,
    apply_login, choose_user, email_match_query, map_claims,
};
use idp_store::{LoginUser, Lookup, StoreError};
use serde_json::{Map, Value};

use super::LoginSettings;
use super::failure::{Failure, Outcome};
use crate::db::{blocking, store_call};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest user name the store keeps.
const MAX_USERNAME: usize = 150;

fn outcome(error: &LoginError) -> Outcome {
    match error {
        LoginError::IdentityFieldMissing => Outcome::IdentityMissing,
        LoginError::UserDeactivated => Outcome::UserDeactivated,
        LoginError::MultipleUsersWithEmail | LoginError::MultipleUsersWithIdentity => {
            Outcome::AmbiguousUser
        }
        _ => Outcome::Error,
    }
}

/// A random user name for a new user not looked up by `username`: 30 hex characters, as the
/// reference makes them.
fn random_username() -> String {
    rand::random::<[u8; 15]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The mapping of `claims` with `provider`'s configuration and the deployment's settings: what
/// a login applies and the admin's mapping preview shows.
pub(crate) fn login_trace(
    settings: &LoginSettings,
    provider: &Provider,
    claims: &Map<String, Value>,
) -> MappingTrace {
    map_claims(
        &MappingConfig::from(provider),
        &MappingOptions {
            sync_fields: &settings.sync_fields,
            role_claim: settings.role_claim.as_deref(),
        },
        claims,
    )
}

/// Finds, creates or updates the user the claims name, and returns its id.
pub(super) async fn sign_in(
    state: &AppState,
    provider: &Provider,
    claims: &Map<String, Value>,
) -> Result<i64, Failure> {
    let settings = &state.settings.login;
    let trace = login_trace(settings, provider, claims);
    let name = provider.provider.as_str();
    let fail = |error: LoginError| Failure::provider(outcome(&error), name, error);
    let value = trace.lookup.value().map_err(fail)?.to_owned();
    let field = trace.lookup.field.clone();
    let email = email_match_query(&trace, settings.match_by_email).map(str::to_owned);
    let fallback = random_username();
    // A concurrent first login of the same user may create it between the lookup and the
    // insert: the second attempt then finds it.
    for attempt in 0..2 {
        let found = find_user(state, &field, &value, email.clone()).await?;
        if let Some(refusal) = found.refusal {
            return Err(fail(refusal));
        }
        let (user, by_email) = (found.user, found.by_email);
        let target = match &user {
            Some(user) => LoginTarget::Existing {
                user: &user.profile,
                by_email,
            },
            None => LoginTarget::New {
                provider: name,
                fallback_username: &fallback,
            },
        };
        let applied = apply_login(&trace, target).map_err(fail)?;
        if applied.user.username.chars().count() > MAX_USERNAME {
            return Err(fail(LoginError::IdentityFieldMissing));
        }
        let id = user.map(|user| user.id);
        let now = settings.now();
        let profile = applied.user;
        let saved =
            store_call(state, move |store| store.save_login_user(id, &profile, now)).await?;
        match saved {
            Ok(id) => return Ok(id),
            Err(StoreError::Duplicate) if attempt == 0 => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(fail(LoginError::MultipleUsersWithIdentity))
}

/// The user a login finds for a lookup value, and whether the login may go on with it.
pub(crate) struct FoundUser {
    /// The user looked up, or the one with the verified email; `None` when the login would
    /// create a user or is refused before one is known.
    pub(crate) user: Option<LoginUser>,
    /// Whether `user` was found by its verified email.
    pub(crate) by_email: bool,
    /// Why the login is refused (the user is deactivated, or several users match).
    pub(crate) refusal: Option<LoginError>,
}

/// Finds the user a login signs in, exactly as [`sign_in`] does before changing anything: by
/// `field` equal to `value` among all users, else (with `email`, the verified email when
/// match-making is on) by email. Nothing is written; the admin's mapping preview shows it.
pub(crate) async fn find_user(
    state: &AppState,
    field: &str,
    value: &str,
    email: Option<String>,
) -> Result<FoundUser, ApiError> {
    let (field, value) = (field.to_owned(), value.to_owned());
    let found = blocking(state, move |store| store.find_login_user(&field, &value)).await?;
    Ok(match found {
        Lookup::Many => FoundUser {
            user: None,
            by_email: false,
            refusal: Some(LoginError::MultipleUsersWithIdentity),
        },
        Lookup::One(user) => FoundUser {
            refusal: choose_user(Some(user.profile.is_active), None).err(),
            user: Some(*user),
            by_email: false,
        },
        Lookup::None => match by_email(state, email).await? {
            Ok((user, by_email)) => FoundUser {
                user,
                by_email,
                refusal: None,
            },
            Err(refusal) => FoundUser {
                user: None,
                by_email: false,
                refusal: Some(refusal),
            },
        },
    })
}

/// The user email match-making chooses when the lookup found nobody: `(None, false)` to
/// create one, `(Some(user), true)` for the one user with the verified email.
async fn by_email(
    state: &AppState,
    email: Option<String>,
) -> Result<Result<(Option<LoginUser>, bool), LoginError>, ApiError> {
    let Some(email) = email else {
        return Ok(choose_user(None, None).map(|_| (None, false)));
    };
    let count = blocking(state, move |store| store.count_users_by_email(&email)).await?;
    let active = count
        .user
        .as_ref()
        .is_some_and(|user| user.profile.is_active);
    let matches = EmailMatches::from_count(count.count, active);
    Ok(choose_user(None, Some(matches)).map(|choice| match choice {
        UserChoice::EmailMatch => (count.user, true),
        UserChoice::Create | UserChoice::Lookup => (None, false),
    }))
}
