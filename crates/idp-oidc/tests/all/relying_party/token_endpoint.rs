//! The code exchange: what is sent, how the client authenticates, and every way the token
//! endpoint can fail.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use idp_oidc::guard::GuardError;
use idp_oidc::rp::{
    CallError, ClientAuthMethod, LoginError, RelyingParty, RelyingPartyConfig, SendFailure,
    TokenError,
};
use idp_oidc::testing::{
    ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, Reply, closed_port_url, token_body,
};
use serde_json::json;
use url::form_urlencoded;

use super::{CODE, REDIRECT_URI, Setup, VERIFIER, chain};

async fn token_refusal(setup: &Setup, rp: &RelyingParty) -> TokenError {
    match setup.complete(rp).await {
        Err(LoginError::Token(error)) => error,
        other => panic!("expected a token refusal, got {other:?}"),
    }
}

async fn last_token_form(setup: &Setup) -> (Vec<(String, String)>, Option<String>) {
    let requests = setup.provider.requests_to("/token").await;
    let request = requests
        .last()
        .unwrap_or_else(|| panic!("no token request"));
    let form = form_urlencoded::parse(&request.body).into_owned().collect();
    let authorization = request
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (form, authorization)
}

#[tokio::test]
async fn the_exchange_posts_the_code_verifier_and_post_credentials() {
    let setup = Setup::new().await;
    setup.provider.issue(None);
    let outcome = setup.complete(&setup.rp()).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let (form, authorization) = last_token_form(&setup).await;
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT_URI),
            ("code", CODE),
            ("code_verifier", VERIFIER),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]
    );
    assert_eq!(authorization, None);
}

#[tokio::test]
async fn tara_and_basic_only_providers_authenticate_with_form_encoded_basic() {
    let setup = Setup::new().await;
    setup.provider.issue(None);
    let secret = "s3cr:t %/é";
    let mut config =
        RelyingPartyConfig::from_metadata("tara", CLIENT_ID, secret, &setup.provider.metadata());
    config.policy = idp_oidc::testing::loopback_policy();
    let tara = RelyingParty::with_jwks_cache(config, setup.jwks.clone())
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        tara.config().client_auth,
        ClientAuthMethod::ClientSecretBasic
    );
    let outcome = tara.exchange_code(CODE, REDIRECT_URI, None).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let (form, authorization) = last_token_form(&setup).await;
    assert!(
        form.iter()
            .all(|(k, _)| k != "client_id" && k != "client_secret")
    );
    assert!(form.iter().all(|(k, _)| k != "code_verifier"));
    let encoded = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Basic "));
    let decoded = encoded.and_then(|e| STANDARD.decode(e).ok());
    assert_eq!(
        decoded.as_deref(),
        Some(format!("{CLIENT_ID}:s3cr%3At+%25%2F%C3%A9").as_bytes())
    );

    setup.provider.edit_discovery(|document| {
        document.insert(
            "token_endpoint_auth_methods_supported".into(),
            json!(["client_secret_basic"]),
        );
    });
    assert_eq!(
        setup.rp().config().client_auth,
        ClientAuthMethod::ClientSecretBasic
    );
}

#[tokio::test]
async fn an_unreachable_or_refused_token_endpoint_is_a_send_failure() {
    let setup = Setup::new().await;
    let down = setup.rp_with(|config| config.token_url = closed_port_url("/token"));
    let error = token_refusal(&setup, &down).await;
    assert!(
        matches!(
            error,
            TokenError::Call(CallError::Send {
                kind: SendFailure::Connect,
                ..
            })
        ),
        "{error:?}"
    );
    // Without loopback among the allowed networks the guard refuses before sending anything.
    let guarded = setup.rp_with(|config| config.policy.allow_networks.clear());
    let error = token_refusal(&setup, &guarded).await;
    assert!(
        matches!(
            error,
            TokenError::Call(CallError::Refused(GuardError::Disallowed { .. }))
        ),
        "{error:?}"
    );
    assert!(setup.provider.requests_to("/token").await.is_empty());
}

#[tokio::test]
async fn a_slow_token_endpoint_hits_the_time_limit() {
    let setup = Setup::new().await;
    setup
        .provider
        .reply_to_token(Reply::json(200, &token_body(None)).delayed(Duration::from_secs(30)));
    let rp = setup.rp_with(|config| config.policy.timeout = Duration::from_millis(200));
    let error = token_refusal(&setup, &rp).await;
    assert!(
        matches!(
            error,
            TokenError::Call(CallError::Send {
                kind: SendFailure::Timeout,
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn error_answers_carry_what_the_reference_shows() {
    let setup = Setup::new().await;
    setup.provider.reply_to_token(Reply::json(
        400,
        &json!({"error": "invalid_grant", "error_description": "grant request is invalid"}),
    ));
    let error = token_refusal(&setup, &setup.rp()).await;
    assert!(
        matches!(&error, TokenError::Call(CallError::ErrorResponse { status: 400, error, description: Some(d), .. })
            if error == "invalid_grant" && d == "grant request is invalid"),
        "{error:?}"
    );
    setup
        .provider
        .reply_to_token(Reply::raw(502, "text/html", "<h1>upstream down</h1>"));
    let error = token_refusal(&setup, &setup.rp()).await;
    assert!(
        matches!(&error, TokenError::Call(CallError::Status { status: 502, reason }) if reason == "Bad Gateway"),
        "{error:?}"
    );
    setup
        .provider
        .reply_to_token(Reply::json(401, &json!({"message": "no error key"})));
    let error = token_refusal(&setup, &setup.rp()).await;
    assert!(
        matches!(&error, TokenError::Call(CallError::Status { status: 401, reason }) if reason == "Unauthorized"),
        "{error:?}"
    );
}

#[tokio::test]
async fn unusable_200_answers_are_refused() {
    let setup = Setup::new().await;
    setup
        .provider
        .reply_to_token(Reply::raw(200, "text/html", "<html>login</html>"));
    let error = token_refusal(&setup, &setup.rp()).await;
    assert!(
        matches!(error, TokenError::Call(CallError::NotJson(_))),
        "{error:?}"
    );
    for body in [
        json!({"token_type": "Bearer"}),
        json!({"access_token": ""}),
        json!(["x"]),
    ] {
        setup.provider.reply_to_token(Reply::json(200, &body));
        let error = token_refusal(&setup, &setup.rp()).await;
        assert!(
            matches!(error, TokenError::NoAccessToken),
            "{body}: {error:?}"
        );
    }
    setup.provider.reply_to_token(Reply::json(
        200,
        &json!({"access_token": "a", "id_token": 7}),
    ));
    let error = token_refusal(&setup, &setup.rp()).await;
    assert!(matches!(error, TokenError::IdTokenNotAString), "{error:?}");
    let rp = setup.rp_with(|config| config.policy.max_body_bytes = 64);
    setup
        .provider
        .reply_to_token(Reply::json(200, &json!({"access_token": "a".repeat(100)})));
    let error = token_refusal(&setup, &rp).await;
    assert!(
        matches!(error, TokenError::Call(CallError::TooLarge { limit: 64 })),
        "{error:?}"
    );
}

#[tokio::test]
async fn redirects_from_the_token_endpoint_are_not_followed() {
    let setup = Setup::new().await;
    let elsewhere = format!("{}/elsewhere", setup.provider.issuer());
    // A token endpoint that redirects to the provider's `/elsewhere`.
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(
            wiremock::ResponseTemplate::new(307).insert_header("Location", elsewhere.as_str()),
        )
        .mount(&server)
        .await;
    let rp = setup.rp_with(|config| config.token_url = format!("{}/token", server.uri()));
    let error = token_refusal(&setup, &rp).await;
    assert!(
        matches!(
            &error,
            TokenError::Call(CallError::Status { status: 307, .. })
        ),
        "{error:?}"
    );
    assert!(setup.provider.requests_to("/elsewhere").await.is_empty());
}

#[tokio::test]
async fn a_callback_from_another_issuer_is_refused_before_the_exchange() {
    let setup = Setup::new().await;
    setup.provider.issue(None);
    let rp = setup.rp();
    let outcome = rp
        .complete(&idp_oidc::rp::Completion {
            code: CODE,
            iss: Some("https://mix-up.example.com"),
            redirect_uri: REDIRECT_URI,
            nonce: super::NONCE,
            pkce_verifier: None,
        })
        .await;
    assert!(
        matches!(outcome, Err(LoginError::Callback(_))),
        "{outcome:?}"
    );
    // The provider promises `iss`; a callback without one is refused too.
    let outcome = rp
        .complete(&idp_oidc::rp::Completion {
            code: CODE,
            iss: None,
            redirect_uri: REDIRECT_URI,
            nonce: super::NONCE,
            pkce_verifier: None,
        })
        .await;
    assert!(
        matches!(outcome, Err(LoginError::Callback(_))),
        "{outcome:?}"
    );
    assert!(setup.provider.requests_to("/token").await.is_empty());
}

#[tokio::test]
async fn token_refusals_name_no_secret() {
    let setup = Setup::new().await;
    setup.provider.reply_to_token(Reply::json(
        400,
        &json!({"error": "invalid_client", "error_description": "client authentication failed"}),
    ));
    let rp = setup.rp_with(|config| config.token_url = format!("{}?x=1", config.token_url));
    let error = token_refusal(&setup, &rp).await;
    let text = format!("{} {error:?}", chain(&error));
    for secret in [CLIENT_SECRET, CODE, VERIFIER, ACCESS_TOKEN] {
        assert!(!text.contains(secret), "{text}");
    }
    let down = setup.rp_with(|config| config.token_url = closed_port_url("/token?secret=in-url"));
    let error = token_refusal(&setup, &down).await;
    let text = format!("{} {error:?}", chain(&error));
    assert!(!text.contains("in-url") && !text.contains(CODE), "{text}");
}
