//! The admin's mapping preview end to end: it agrees with a real login of the same claims,
//! shows which user a login would sign in, stores nothing, and answers bad input with a 4xx.

use idp_core::login::{FieldValue, UserProfile, merge_claims};
use idp_oidc::rp::Clock;
use idp_oidc::testing::{HostileProvider, SUBJECT, default_userinfo};
use idp_store::{Backend, Lookup};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{LoginApp, hostile_provider, location, param, spawn, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    a_preview_agrees_with_the_login_of_the_same_claims,
    a_draft_preview_takes_the_named_providers_defaults,
    bad_previews_are_refused_and_change_nothing,
    a_preview_shows_the_refusal_when_several_users_match,
);

const PREVIEW: &str = "/api/identity-providers/hostile/preview-mapping/";
const DRAFT: &str = "/api/identity-providers/preview-mapping/";

async fn setup(backend: Backend) -> (LoginApp, HostileProvider) {
    let app = spawn(backend, |settings| {
        settings.login.role_claim = Some("/realm_access/roles".into());
    })
    .await;
    let idp = HostileProvider::start().await;
    let mut provider = hostile_provider("hostile", &idp);
    provider.attribute_mapping.0.push((
        "organization".into(),
        "/groups/3 urn:example:department".into(),
    ));
    provider.extra_fields = Some("realm_access".into());
    app.store.insert_provider(&provider).unwrap();
    (app, idp)
}

async fn preview(app: &LoginApp, path: &str, body: &Value) -> (u16, Value) {
    status_and_json(app.post_json(path, Some(&app.staff), body).await).await
}

fn field<'v>(preview: &'v Value, name: &str) -> &'v Value {
    preview["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|trace| trace["field"] == name)
        .unwrap_or_else(|| panic!("{name} is not in {preview}"))
}

fn nobody(app: &LoginApp) -> bool {
    matches!(
        app.store.find_login_user("username", SUBJECT).unwrap(),
        Lookup::None
    )
}

async fn a_preview_agrees_with_the_login_of_the_same_claims(backend: Backend) {
    let (app, idp) = setup(backend).await;
    // The claims a login with the hostile provider maps: its ID token's, overlaid by userinfo.
    let begun = app.begin("hostile", "").await;
    let id_claims = idp.claims(app.clock.now(), &begun.nonce());
    let userinfo = default_userinfo().as_object().cloned().unwrap();
    let claims = Value::Object(merge_claims(id_claims.clone(), userinfo));

    // Before the login: the user would be created.
    let (status, before) = preview(&app, PREVIEW, &json!({ "claims": claims })).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["provider"], "hostile");
    assert_eq!(before["user"], Value::Null);
    assert_eq!(before["login_error"], Value::Null);
    assert!(nobody(&app), "a preview creates no user");

    // The login itself.
    idp.issue(Some(&idp.key().sign(&id_claims)));
    let response = app.complete(&begun, &app.callback(&begun, &idp)).await;
    assert_eq!(response.status(), 302);
    let token = app
        .exchange(&param(&location(&response), "code").unwrap())
        .await;
    let (_, me) =
        status_and_json(app.with_token(Method::GET, "/api/users/me/", &token).await).await;

    // Every value the preview promised is the one the login wrote.
    for trace in before["fields"].as_array().unwrap() {
        let name = trace["field"].as_str().unwrap();
        assert_eq!(trace["value"], me[name], "{name}");
    }
    assert_eq!(field(&before, "organization")["value"], "research");
    assert_eq!(
        field(&before, "organization")["skipped"][0]["detail"],
        "The claim is not present."
    );
    assert_eq!(
        before["details"]["value"],
        json!({"realm_access": claims["realm_access"]})
    );
    assert_eq!(me["details"], before["details"]["value"]);
    assert_eq!(before["roles"]["is_staff"], json!(true));
    assert_eq!(me["is_staff"], json!(true));
    assert_eq!(before["lookup"]["value"], SUBJECT);
    assert_eq!(me["username"], SUBJECT);
    assert!(
        before["unused_claims"]
            .as_array()
            .unwrap()
            .contains(&json!("nonce"))
    );

    // After it: the same claims match the user the login created.
    let (status, after) = preview(&app, PREVIEW, &json!({ "claims": claims })).await;
    assert_eq!(status, 200);
    assert_eq!(
        after["user"],
        json!({"username": SUBJECT, "is_active": true, "matched_by": "lookup"})
    );
    assert_eq!(after["fields"], before["fields"]);
}

async fn a_draft_preview_takes_the_named_providers_defaults(backend: Backend) {
    let (app, _idp) = setup(backend).await;
    let claims = json!({
        "sub": "kc-1",
        "preferred_username": SUBJECT,
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.org",
        "groups": ["g0"],
    });
    let (status, draft) = preview(
        &app,
        DRAFT,
        &json!({"claims": claims, "provider": "keycloak", "attribute_mapping": {"organization": "/groups/0"}}),
    )
    .await;
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["provider"], "keycloak");
    // The draft's own mapping, then keycloak's defaults.
    assert_eq!(field(&draft, "organization")["value"], "g0");
    assert_eq!(field(&draft, "first_name")["value"], "Ada");
    assert_eq!(field(&draft, "email")["value"], "ada@example.org");
    // Nobody has the lookup value yet; once a user has it, the draft matches them.
    assert_eq!(draft["user"], Value::Null);
    let (_, custom) = preview(
        &app,
        DRAFT,
        &json!({"claims": claims, "user_claim": "preferred_username"}),
    )
    .await;
    assert_eq!(custom["lookup"]["claim"], "preferred_username");
    assert_eq!(custom["fields"], json!([]));
    app.store.ensure_user(SUBJECT, false).unwrap();
    let (_, custom) = preview(
        &app,
        DRAFT,
        &json!({"claims": claims, "user_claim": "preferred_username"}),
    )
    .await;
    assert_eq!(
        custom["user"],
        json!({"username": SUBJECT, "is_active": true, "matched_by": "lookup"})
    );
    // A deactivated user matches, and the login's refusal is shown.
    let inactive = UserProfile {
        username: "inactive-1".into(),
        is_active: false,
        ..UserProfile::default()
    };
    app.store
        .save_login_user(None, &inactive, app.clock.now().naive_utc())
        .unwrap();
    let (_, refused) = preview(&app, DRAFT, &json!({"claims": {"sub": "inactive-1"}})).await;
    assert_eq!(
        refused["user"],
        json!({"username": "inactive-1", "is_active": false, "matched_by": "lookup"})
    );
    assert_eq!(refused["login_error"], "User is deactivated.");
    // No value for the lookup: the login's message, and no user.
    let (_, missing) = preview(
        &app,
        DRAFT,
        &json!({"claims": {"email": "a@example.org"}, "user_claim": "employee_id /ids/0"}),
    )
    .await;
    assert_eq!(missing["user"], Value::Null);
    assert_eq!(
        missing["login_error"],
        "Unable to match user because identity field is missing from user profile."
    );
    assert_eq!(missing["lookup"]["skipped"][1]["reason"], "absent");
}

async fn bad_previews_are_refused_and_change_nothing(backend: Backend) {
    let (app, _idp) = setup(backend).await;
    let nested = (0..64).fold(json!("leaf"), |value, _| json!({ "k": value }));
    let rows: Vec<(&str, Value, u16, Value)> = vec![
        (
            PREVIEW,
            json!({"claims": ["sub"]}),
            400,
            json!({"claims": ["Expected a dictionary of items but got type \"list\"."]}),
        ),
        (
            PREVIEW,
            json!([1]),
            400,
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
        (
            PREVIEW,
            json!({}),
            400,
            json!({"claims": ["This field is required."]}),
        ),
        (
            PREVIEW,
            json!({"claims": nested}),
            400,
            json!({"claims": ["Claims may be nested at most 63 levels deep."]}),
        ),
        (
            PREVIEW,
            json!({"claims": {}, "user_claim": "sub"}),
            400,
            json!({"user_claim": ["Unknown field."]}),
        ),
        (
            "/api/identity-providers/nope/preview-mapping/",
            json!({"claims": {}}),
            404,
            json!({"detail": "No IdentityProvider matches the given query."}),
        ),
        (
            DRAFT,
            json!({"claims": {}, "client_secret": "s"}),
            400,
            json!({"client_secret": ["Unknown field."]}),
        ),
        (
            DRAFT,
            json!({"claims": {}, "attribute_mapping": {"email": "/a~"}}),
            400,
            json!({"attribute_mapping": ["Attribute mapping value for 'email' is invalid: Invalid JSON Pointer \"/a~\": \"~\" must be followed by \"0\" or \"1\"."]}),
        ),
        (
            DRAFT,
            json!({"claims": {}, "user_field": "password"}),
            200,
            Value::Null,
        ),
    ];
    for (path, body, status, expected) in rows {
        let (got, answer) = preview(&app, path, &body).await;
        assert_eq!(got, status, "{path} {body}: {answer}");
        if !expected.is_null() {
            assert_eq!(answer, expected, "{path} {body}");
        }
    }
    // A user field that cannot identify users is the lookup's error, not a 5xx.
    let (_, answer) = preview(
        &app,
        DRAFT,
        &json!({"claims": {"sub": "x"}, "user_field": "password"}),
    )
    .await;
    assert_eq!(answer["user"], Value::Null);
    assert!(
        answer["lookup"]["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("password")
    );

    // JSON nested past the parser's limit, a body over the limit, a non-JSON body.
    let deep = format!("{{\"claims\": {}{}}}", "[".repeat(200), "]".repeat(200));
    let raw = |body: String, content_type: &'static str| {
        reqwest::Client::new()
            .post(format!("{}{PREVIEW}", app.base))
            .header("Authorization", format!("Token {}", app.staff))
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    assert_eq!(raw(deep, "application/json").await.unwrap().status(), 400);
    let big = format!("{{\"claims\": {{\"x\": \"{}\"}}}}", "a".repeat(70 * 1024));
    assert_eq!(raw(big, "application/json").await.unwrap().status(), 413);
    assert_eq!(
        raw("claims".into(), "text/plain").await.unwrap().status(),
        415
    );

    // Staff only.
    let user = app.store.ensure_user("someone", false).unwrap();
    let token = app.store.create_token(&user, None).unwrap().key;
    for path in [PREVIEW, DRAFT] {
        let response = app
            .post_json(path, Some(&token), &json!({"claims": {}}))
            .await;
        assert_eq!(response.status(), 403, "{path}");
        let response = app.post_json(path, None, &json!({"claims": {}})).await;
        assert_eq!(response.status(), 401, "{path}");
        let response = app
            .get(path, &[("Authorization", &format!("Token {}", app.staff))])
            .await;
        assert_eq!(response.status(), 405, "{path}");
    }
    assert!(nobody(&app), "no preview created a user");
}

/// Two users share an email: a lookup by email, and email match-making after a lookup that
/// found nobody, both find several users. The preview names no user and gives the login's
/// refusal, as the login itself would refuse; nobody is created or changed.
async fn a_preview_shows_the_refusal_when_several_users_match(backend: Backend) {
    let app = spawn(backend, |settings| settings.login.match_by_email = true).await;
    for name in ["twin-a", "twin-b"] {
        let mut profile = UserProfile {
            username: name.into(),
            is_active: true,
            ..UserProfile::default()
        };
        profile
            .fields
            .set("email", FieldValue::Text("twin@example.org".into()));
        app.store
            .save_login_user(None, &profile, app.clock.now().naive_utc())
            .unwrap();
    }
    let before = app.database();

    let (status, by_lookup) = preview(
        &app,
        DRAFT,
        &json!({
            "claims": {"sub": "someone", "email": "twin@example.org"},
            "user_field": "email",
            "user_claim": "email",
        }),
    )
    .await;
    assert_eq!(status, 200, "{by_lookup}");
    assert_eq!(by_lookup["lookup"]["value"], "twin@example.org");
    assert_eq!(by_lookup["user"], Value::Null);
    assert_eq!(
        by_lookup["login_error"],
        "Multiple users found with the same identity field. Cannot determine which account to use."
    );

    let (status, by_email) = preview(
        &app,
        DRAFT,
        &json!({
            "claims": {"sub": "newcomer", "email": "twin@example.org", "email_verified": true},
            "attribute_mapping": {"email": "email"},
        }),
    )
    .await;
    assert_eq!(status, 200, "{by_email}");
    assert_eq!(by_email["lookup"]["value"], "newcomer");
    assert_eq!(by_email["user"], Value::Null);
    assert_eq!(
        by_email["login_error"],
        "Multiple users found with the same email. Cannot determine which account to use."
    );
    assert_eq!(
        app.database(),
        before,
        "a preview creates and changes no user"
    );
}
