//! Choosing the user a login signs in and what it changes (as in the reference),
//! with the reference's `OIDCEmailMatchmakingTest`, role and TARA cases.

use idp_core::login::{
    AppliedLogin, EmailMatches, LoginError, LoginTarget, MappingTrace, UserChoice, UserProfile,
    apply_login, choose_user, email_match_query, registration_method,
};
use serde_json::{Value, json};

use super::support::{Setup, provider};
use crate::common::check_rows;

fn oidc() -> Setup {
    Setup::default()
        .map("first_name", "given_name")
        .map("last_name", "family_name")
        .map("email", "email")
}

fn existing(username: &str, email: &str) -> UserProfile {
    let mut user = UserProfile {
        username: username.into(),
        is_active: true,
        registration_method: "default".into(),
        ..UserProfile::default()
    };
    user.fields.email = email.into();
    user.fields.first_name = "Old".into();
    user
}

fn create(trace: &MappingTrace, provider: &str) -> AppliedLogin {
    apply_login(
        trace,
        LoginTarget::New {
            provider,
            fallback_username: "0123456789abcdef0123456789abcd",
        },
    )
    .expect("created")
}

fn update(
    trace: &MappingTrace,
    user: &UserProfile,
    by_email: bool,
) -> Result<AppliedLogin, LoginError> {
    apply_login(trace, LoginTarget::Existing { user, by_email })
}

fn changed(applied: &AppliedLogin) -> Vec<(&str, Value, Value)> {
    applied
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.before.clone(), c.after.clone()))
        .collect()
}

#[test]
fn choosing_the_user_follows_the_reference() {
    use EmailMatches::{Many, One};
    let none = EmailMatches::None;
    type Found = (Option<bool>, Option<EmailMatches>);
    let rows: Vec<(Found, Option<Value>)> = vec![
        ((Some(true), None), Some(json!("Lookup"))),
        ((Some(true), Some(Many)), Some(json!("Lookup"))),
        ((Some(false), None), Some(json!("User is deactivated."))),
        ((None, None), Some(json!("Create"))),
        ((None, Some(none)), Some(json!("Create"))),
        (
            (None, Some(One { is_active: true })),
            Some(json!("EmailMatch")),
        ),
        (
            (None, Some(One { is_active: false })),
            Some(json!("User is deactivated.")),
        ),
        (
            (None, Some(Many)),
            Some(json!(
                "Multiple users found with the same email. Cannot determine which account to use."
            )),
        ),
    ];
    check_rows(&rows, |(lookup, email)| {
        Some(match choose_user(*lookup, *email) {
            Ok(choice) => json!(format!("{choice:?}")),
            Err(error) => json!(error.to_string()),
        })
    });
    assert_eq!(EmailMatches::from_count(0, true), EmailMatches::None);
    assert_eq!(
        EmailMatches::from_count(1, false),
        EmailMatches::One { is_active: false }
    );
    assert_eq!(EmailMatches::from_count(2, true), EmailMatches::Many);
    assert_eq!(choose_user(None, None), Ok(UserChoice::Create));
}

#[test]
fn email_match_making_needs_the_setting_a_verified_email_and_another_lookup_field() {
    let verified =
        json!({"sub": "new_oidc_sub", "email": "Ada@Example.org", "email_verified": true});
    let rows: Vec<((Setup, Value, bool), Option<Value>)> = vec![
        // Enabled, verified: the mapped email, as sent (the store compares case-insensitively).
        (
            (oidc(), verified.clone(), true),
            Some(json!("Ada@Example.org")),
        ),
        // Off by default.
        ((oidc(), verified.clone(), false), None),
        // Ours: only with `email_verified: true`.
        (
            (oidc(), json!({"sub": "s", "email": "a@example.org"}), true),
            None,
        ),
        (
            (
                oidc(),
                json!({"sub": "s", "email": "a@example.org", "email_verified": "true"}),
                true,
            ),
            None,
        ),
        // No email: the user is created.
        (
            (oidc(), json!({"sub": "s", "email_verified": true}), true),
            None,
        ),
        // Looking users up by email already: no fail-over.
        (
            (oidc().lookup("email", "email"), verified.clone(), true),
            None,
        ),
        // No lookup value: the login fails before.
        (
            (
                oidc(),
                json!({"email": "a@example.org", "email_verified": true}),
                true,
            ),
            None,
        ),
        // The email field is not mapped.
        ((Setup::default(), verified.clone(), true), None),
    ];
    check_rows(&rows, |(setup, claims, enabled)| {
        email_match_query(&setup.trace(claims.clone()), *enabled).map(|email| json!(email))
    });
}

#[test]
fn a_new_user_gets_the_mapped_fields_and_the_providers_registration_method() {
    let trace = oidc().trace(json!({
        "sub": "f81d4fae", "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.org",
    }));
    let applied = create(&trace, "keycloak");
    assert!(applied.created);
    assert_eq!(applied.user.username, "f81d4fae");
    assert!(applied.user.is_active);
    assert_eq!(applied.user.registration_method, "keycloak");
    assert_eq!(
        changed(&applied),
        [
            ("username", json!(null), json!("f81d4fae")),
            ("is_active", json!(null), json!(true)),
            ("registration_method", json!(null), json!("keycloak")),
            ("first_name", json!(null), json!("Ada")),
            ("last_name", json!(null), json!("Lovelace")),
            ("email", json!(null), json!("ada@example.org")),
        ]
    );
    assert_eq!(registration_method("remote-eduteams"), "eduteams");
    assert_eq!(
        create(&trace, "remote-eduteams").user.registration_method,
        "eduteams"
    );
}

#[test]
fn a_new_user_looked_up_by_another_field_gets_the_random_name() {
    // TARA: users are matched by civil_number from `sub`.
    let tara = provider("tara");
    let trace = Setup::of(&tara).trace(json!({
        "sub": "EE60001019906", "given_name": "MARY ÄNN", "family_name": "O’CONNEŽ-ŠUSLIK TESTNUMBER",
    }));
    let applied = create(&trace, "tara");
    assert_eq!(applied.user.username, "0123456789abcdef0123456789abcd");
    assert_eq!(applied.user.fields.civil_number, "EE60001019906");
    assert_eq!(applied.user.fields.first_name, "MARY ÄNN");
}

#[test]
fn an_existing_user_is_updated_and_never_cleared() {
    // test_successful_login_existing_user: names and email overwritten.
    let mut user = existing("f81d4fae", "old@example.org");
    user.fields.phone_number = "+372 5555 5555".into();
    user.details.insert("kept".into(), json!(1));
    let trace = oidc()
        .map("phone_number", "phone_number")
        .trace(json!({"sub": "f81d4fae", "given_name": "Ada", "family_name": "", "email": "ada@example.org", "phone_number": null}));
    let applied = update(&trace, &user, false).unwrap();
    assert!(!applied.created);
    assert_eq!(
        changed(&applied),
        [
            ("first_name", json!("Old"), json!("Ada")),
            ("email", json!("old@example.org"), json!("ada@example.org")),
        ]
    );
    assert_eq!(applied.user.fields.phone_number, "+372 5555 5555");
    assert_eq!(applied.user.details, user.details);
    // Logging in again with the same claims changes nothing.
    assert_eq!(
        update(&trace, &applied.user, false).unwrap().changes,
        vec![]
    );
}

#[test]
fn a_disabled_attribute_of_an_existing_user_is_not_updated() {
    let mut user = existing("u1", "a@example.org");
    user.fields.gender = "female".into();
    let trace = oidc()
        .map("gender", "gender")
        .sync_only("")
        .trace(json!({"sub": "u1", "gender": "male"}));
    let applied = update(&trace, &user, false).unwrap();
    assert_eq!(applied.user.fields.gender, "female");
    assert_eq!(changed(&applied), vec![]);
}

#[test]
fn details_are_replaced_as_a_whole() {
    let mut user = existing("u1", "a@example.org");
    user.details.insert("old".into(), json!("x"));
    let trace = Setup::default()
        .extra("amr")
        .trace(json!({"sub": "u1", "amr": ["mID"]}));
    let applied = update(&trace, &user, false).unwrap();
    assert_eq!(
        changed(&applied),
        [("details", json!({"old": "x"}), json!({"amr": ["mID"]}))]
    );
}

#[test]
fn an_email_match_takes_over_the_lookup_field() {
    // test_match_by_email_updates_username, and a matched user gets attribute updates.
    let user = existing("old_username", "ada@example.org");
    let trace = oidc().trace(json!({"sub": "new_oidc_sub", "given_name": "Ada", "email": "ADA@example.org", "email_verified": true}));
    let applied = update(&trace, &user, true).unwrap();
    assert_eq!(
        changed(&applied),
        [
            ("username", json!("old_username"), json!("new_oidc_sub")),
            ("first_name", json!("Old"), json!("Ada")),
            ("email", json!("ada@example.org"), json!("ADA@example.org")),
        ]
    );
    // Found by the lookup, the lookup field is left as it is.
    let mut tara_user = existing("kept_name", "");
    tara_user.fields.civil_number = "EE1".into();
    let trace = Setup::of(&provider("tara")).trace(json!({"sub": "EE1", "given_name": "New"}));
    let applied = update(&trace, &tara_user, false).unwrap();
    assert_eq!(applied.user.username, "kept_name");
    assert_eq!(
        changed(&applied),
        [("first_name", json!("Old"), json!("New"))]
    );
}

#[test]
fn inactive_users_and_missing_lookups_are_refused() {
    let mut user = existing("u1", "a@example.org");
    user.is_active = false;
    let trace = oidc().trace(json!({"sub": "u1"}));
    assert_eq!(
        update(&trace, &user, false),
        Err(LoginError::UserDeactivated)
    );
    assert_eq!(
        LoginError::UserDeactivated.detail("keycloak"),
        "keycloak error: User is deactivated."
    );
    let no_sub = oidc().trace(json!({"email": "a@example.org"}));
    let new = LoginTarget::New {
        provider: "keycloak",
        fallback_username: "x",
    };
    assert_eq!(
        apply_login(&no_sub, new),
        Err(LoginError::IdentityFieldMissing)
    );
}

#[test]
fn role_claims_grant_and_revoke_staff_and_support() {
    let setup = Setup::default().roles("roles");
    let mut staff = existing("u1", "");
    staff.is_staff = true;
    staff.is_support = true;
    let flags = |applied: AppliedLogin| (applied.user.is_staff, applied.user.is_support);
    let rows: Vec<((Value, bool), Option<Value>)> = vec![
        // New users get what the claim says.
        (
            (json!({"sub": "u1", "roles": ["staff", "support"]}), true),
            Some(json!([true, true])),
        ),
        (
            (json!({"sub": "u1", "roles": "support"}), true),
            Some(json!([false, true])),
        ),
        ((json!({"sub": "u1"}), true), Some(json!([false, false]))),
        // test_existing_user_roles_revoked.
        (
            (json!({"sub": "u1", "roles": []}), false),
            Some(json!([false, false])),
        ),
        (
            (json!({"sub": "u1", "roles": ["staff"]}), false),
            Some(json!([true, false])),
        ),
        // Absent or malformed: flags kept.
        ((json!({"sub": "u1"}), false), Some(json!([true, true]))),
        (
            (json!({"sub": "u1", "roles": {"staff": false}}), false),
            Some(json!([true, true])),
        ),
    ];
    check_rows(&rows, |(claims, new)| {
        let trace = setup.trace(claims.clone());
        let applied = if *new {
            create(&trace, "keycloak")
        } else {
            update(&trace, &staff, false).unwrap()
        };
        let (is_staff, is_support) = flags(applied);
        Some(json!([is_staff, is_support]))
    });
}
