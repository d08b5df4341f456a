//! The userinfo call: the Bearer token, the reference's failures, and the subject binding.

use idp_oidc::rp::{CallError, LoginError, UserinfoError};
use idp_oidc::testing::{ACCESS_TOKEN, Reply, SUBJECT, default_userinfo};
use serde_json::json;

use super::{NONCE, Setup};

async fn userinfo_refusal(setup: &Setup) -> UserinfoError {
    match setup.complete(&setup.rp()).await {
        Err(LoginError::Userinfo(error)) => error,
        other => panic!("expected a userinfo refusal, got {other:?}"),
    }
}

fn issue_valid_id_token(setup: &Setup) {
    setup.issue_signed(&setup.provider.claims(super::start_time(), NONCE));
}

#[tokio::test]
async fn userinfo_is_fetched_with_the_access_token_as_bearer() {
    let setup = Setup::new().await;
    issue_valid_id_token(&setup);
    let outcome = setup.complete(&setup.rp()).await;
    let userinfo = outcome.ok().and_then(|outcome| outcome.userinfo);
    assert_eq!(
        userinfo.map(serde_json::Value::Object),
        Some(default_userinfo())
    );
    let requests = setup.provider.requests_to("/userinfo").await;
    let authorization = requests
        .first()
        .and_then(|request| request.headers.get("authorization"))
        .and_then(|value| value.to_str().ok());
    assert_eq!(
        authorization,
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
}

#[tokio::test]
async fn the_userinfo_subject_must_be_the_id_tokens() {
    let setup = Setup::new().await;
    issue_valid_id_token(&setup);
    setup.provider.reply_to_userinfo(Reply::json(
        200,
        &json!({"sub": "someone-else", "email": "x@y"}),
    ));
    let error = userinfo_refusal(&setup).await;
    assert!(matches!(error, UserinfoError::SubjectMismatch), "{error:?}");
    setup
        .provider
        .reply_to_userinfo(Reply::json(200, &json!({"email": "x@y"})));
    let error = userinfo_refusal(&setup).await;
    assert!(matches!(error, UserinfoError::SubjectMismatch), "{error:?}");
    // Without an ID token there is nothing to bind to: the reference's behaviour.
    setup.provider.issue(None);
    let outcome = setup.complete(&setup.rp()).await;
    assert_eq!(
        outcome.ok().map(|outcome| outcome.claims["email"].clone()),
        Some(json!("x@y"))
    );
}

#[tokio::test]
async fn userinfo_failures_are_the_references() {
    let setup = Setup::new().await;
    issue_valid_id_token(&setup);
    setup.provider.reply_to_userinfo(Reply::raw(
        200,
        "application/jwt",
        "eyJhbGciOi.signed.userinfo",
    ));
    let error = userinfo_refusal(&setup).await;
    assert!(
        matches!(error, UserinfoError::Call(CallError::NotJson(_))),
        "{error:?}"
    );
    setup
        .provider
        .reply_to_userinfo(Reply::json(401, &json!({"error": "invalid_token"})));
    let error = userinfo_refusal(&setup).await;
    assert!(
        matches!(&error, UserinfoError::Call(CallError::ErrorResponse { status: 401, error, description: None, .. }) if error == "invalid_token"),
        "{error:?}"
    );
    setup
        .provider
        .reply_to_userinfo(Reply::json(204, &json!({"sub": SUBJECT})));
    let error = userinfo_refusal(&setup).await;
    assert!(
        matches!(
            &error,
            UserinfoError::Call(CallError::Status { status: 204, .. })
        ),
        "{error:?}"
    );
    let down = setup.rp_with(|config| {
        config.userinfo_url = Some(idp_oidc::testing::closed_port_url("/userinfo"));
    });
    let outcome = setup.complete(&down).await;
    assert!(
        matches!(outcome, Err(LoginError::Userinfo(UserinfoError::Call(ref e))) if e.is_send_failure()),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn without_a_userinfo_endpoint_the_id_token_claims_are_the_claims() {
    let setup = Setup::new().await;
    issue_valid_id_token(&setup);
    let rp = setup.rp_with(|config| config.userinfo_url = None);
    let outcome = setup.complete(&rp).await;
    let claims = outcome
        .ok()
        .map(|outcome| outcome.claims)
        .unwrap_or_default();
    assert_eq!(claims["realm_access"]["roles"], json!(["staff", "user"]));
    assert!(setup.provider.requests_to("/userinfo").await.is_empty());
}
