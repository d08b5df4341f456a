//! Which user a login signs in, as `idp_core::login` decides: lookup among all users, email
//! match-making only when enabled and verified, roles granted and revoked, and the refusals
//! (no lookup value, a deactivated user, an ambiguous email), which change nothing.

use idp_core::login::{FieldValue, UserProfile};
use idp_oidc::rp::Clock;
use idp_oidc::testing::{HostileProvider, Reply, SUBJECT, default_userinfo};
use idp_store::{Backend, Lookup};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{LoginApp, hostile_provider, location, param, spawn, status_and_json};
use crate::on_both_backends;
use crate::provider_failures::refused;

on_both_backends!(
    refusals_of_the_user_change_nothing,
    email_match_making_needs_the_setting_and_a_verified_email,
    a_role_claim_grants_and_revokes_staff,
);

async fn setup(backend: Backend, match_by_email: bool) -> (LoginApp, HostileProvider) {
    let app = spawn(backend, |settings| {
        settings.login.match_by_email = match_by_email;
        settings.login.role_claim = Some("/realm_access/roles".into());
    })
    .await;
    let idp = HostileProvider::start().await;
    app.store
        .insert_provider(&hostile_provider("hostile", &idp))
        .unwrap();
    (app, idp)
}

fn user(app: &LoginApp, name: &str, email: &str, active: bool) -> i64 {
    let mut profile = UserProfile {
        username: name.into(),
        is_active: active,
        ..UserProfile::default()
    };
    profile.fields.set("email", FieldValue::Text(email.into()));
    app.store
        .save_login_user(None, &profile, app.clock.now().naive_utc())
        .unwrap()
}

/// A successful login; the signed-in user's profile.
async fn log_in(app: &LoginApp, idp: &HostileProvider) -> Value {
    let begun = app.begin("hostile", "").await;
    idp.issue(Some(
        &idp.key().sign(&idp.claims(app.clock.now(), &begun.nonce())),
    ));
    let response = app.complete(&begun, &app.callback(&begun, idp)).await;
    assert_eq!(response.status(), 302, "{:?}", response.text().await);
    let token = app
        .exchange(&param(&location(&response), "code").unwrap())
        .await;
    let (status, me) =
        status_and_json(app.with_token(Method::GET, "/api/users/me/", &token).await).await;
    assert_eq!(status, 200);
    me
}

fn sign(app: &LoginApp, idp: &HostileProvider, nonce: &str) {
    idp.issue(Some(&idp.key().sign(&idp.claims(app.clock.now(), nonce))));
}

async fn refusals_of_the_user_change_nothing(backend: Backend) {
    let (app, idp) = setup(backend, true).await;
    // The lookup claim is missing.
    let mut provider = hostile_provider("hostile", &idp);
    provider.user_claim = "employee_number /ids/0".into();
    app.store.update_provider(&provider, None).unwrap();
    refused(
        &app,
        &idp,
        |nonce| sign(&app, &idp, nonce),
        "Unable to match user because identity field is missing from user profile.",
    )
    .await;
    app.store
        .update_provider(&hostile_provider("hostile", &idp), None)
        .unwrap();
    // The user is deactivated.
    user(&app, SUBJECT, "ada@example.org", false);
    refused(
        &app,
        &idp,
        |nonce| sign(&app, &idp, nonce),
        "User is deactivated.",
    )
    .await;
    // Two users have the login's email, and the lookup finds nobody.
    let (app, idp) = setup(backend, true).await;
    user(&app, "first", "ada@example.org", true);
    user(&app, "second", "ADA@example.org", true);
    refused(
        &app,
        &idp,
        |nonce| sign(&app, &idp, nonce),
        "Multiple users found with the same email. Cannot determine which account to use.",
    )
    .await;
}

async fn email_match_making_needs_the_setting_and_a_verified_email(backend: Backend) {
    // Off: a new user is created beside the one with the email.
    let (app, idp) = setup(backend, false).await;
    user(&app, "old-name", "ada@example.org", true);
    let me = log_in(&app, &idp).await;
    assert_eq!(me["username"], SUBJECT);
    // On, but the email is not verified: also a new user.
    let (app, idp) = setup(backend, true).await;
    let old = user(&app, "old-name", "Ada@Example.org", true);
    let mut unverified = default_userinfo();
    unverified["email_verified"] = json!(false);
    idp.reply_to_userinfo(Reply::json(200, &unverified));
    let begun = app.begin("hostile", "").await;
    let mut claims = idp.claims(app.clock.now(), &begun.nonce());
    claims.insert("email_verified".into(), json!(false));
    idp.issue(Some(&idp.key().sign(&claims)));
    assert_eq!(
        app.complete(&begun, &app.callback(&begun, &idp))
            .await
            .status(),
        302
    );
    assert_eq!(
        app.store.user_profile(old).unwrap().unwrap().username,
        "old-name"
    );
    // On and verified: the one user with that email (any case) is taken and renamed.
    let (app, idp) = setup(backend, true).await;
    let old = user(&app, "old-name", "Ada@Example.org", true);
    let me = log_in(&app, &idp).await;
    assert_eq!(me["username"], SUBJECT);
    let stored = app.store.user_profile(old).unwrap().unwrap();
    assert_eq!(stored.username, SUBJECT);
    assert_eq!(
        stored.fields.email, "ada@example.org",
        "the mapped email is synced"
    );
    assert_eq!(stored.fields.first_name, "Ada");
}

async fn a_role_claim_grants_and_revokes_staff(backend: Backend) {
    let (app, idp) = setup(backend, false).await;
    let me = log_in(&app, &idp).await;
    assert_eq!(
        (me["is_staff"].clone(), me["is_support"].clone()),
        (json!(true), json!(false))
    );
    let mut info = default_userinfo();
    info["realm_access"] = json!({"roles": ["support"]});
    idp.reply_to_userinfo(Reply::json(200, &info));
    let me = log_in(&app, &idp).await;
    assert_eq!(
        (me["is_staff"].clone(), me["is_support"].clone()),
        (json!(false), json!(true))
    );
    info["realm_access"] = json!({"roles": []});
    idp.reply_to_userinfo(Reply::json(200, &info));
    let me = log_in(&app, &idp).await;
    assert_eq!(
        (me["is_staff"].clone(), me["is_support"].clone()),
        (json!(false), json!(false))
    );
    // A claim of another shape leaves the flags as they are.
    info["realm_access"] = json!({"roles": {"staff": true}});
    idp.reply_to_userinfo(Reply::json(200, &info));
    let claims_without_roles = |nonce: &str| {
        let mut claims = idp.claims(app.clock.now(), nonce);
        claims.remove("realm_access");
        claims
    };
    let begun = app.begin("hostile", "").await;
    idp.issue(Some(&idp.key().sign(&claims_without_roles(&begun.nonce()))));
    assert_eq!(
        app.complete(&begun, &app.callback(&begun, &idp))
            .await
            .status(),
        302
    );
    let Lookup::One(found) = app.store.find_login_user("username", SUBJECT).unwrap() else {
        panic!("the user is there");
    };
    assert_eq!(
        (found.profile.is_staff, found.profile.is_support),
        (false, false)
    );
}
