//! The authorization request (the reference's `OAuthViewInitTest`), the callback checks, and
//! the logout URL.

use idp_core::Provider;
use idp_core::login::{
    AuthorizationParams, LoginError, append_query, authorization_url, check_state, logout_url,
    pkce_challenge, pkce_verifier_for_exchange, scope,
};
use serde_json::{Value, json};
use url::Url;

use super::support::{Pair, provider};
use crate::common::check_rows;

const REDIRECT_URI: &str = "https://api.example.org/api-auth/keycloak/complete/";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn params(ui_locales: Option<&'static str>) -> AuthorizationParams<'static> {
    AuthorizationParams {
        redirect_uri: REDIRECT_URI,
        state: "state-43-chars",
        nonce: "nonce-value",
        pkce_verifier: VERIFIER,
        ui_locales,
    }
}

fn keycloak(change: impl FnOnce(&mut Provider)) -> Provider {
    let mut keycloak = provider("keycloak");
    keycloak.endpoints.auth_url = "http://keycloak.test/auth".into();
    change(&mut keycloak);
    keycloak
}

/// The URL without its query, and the query's pairs in order, decoded.
fn split(url: &str) -> (String, Vec<(String, String)>) {
    let parsed = Url::parse(url).expect("a URL");
    let pairs = parsed.query_pairs().into_owned().collect();
    let mut base = parsed.clone();
    base.set_query(None);
    (base.to_string(), pairs)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_authorization_request_has_the_references_parameters_in_order() {
    // test_successful_redirect: keycloak with its defaults.
    let url = authorization_url(&keycloak(|_| {}), &params(None));
    assert_eq!(url.matches('?').count(), 1);
    let (base, query) = split(&url);
    assert_eq!(base, "http://keycloak.test/auth");
    assert_eq!(
        query,
        pairs(&[
            ("response_type", "code"),
            ("client_id", "client"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("state", "state-43-chars"),
            ("nonce", "nonce-value"),
        ])
    );
}

#[test]
fn locales_and_pkce_come_between_state_and_nonce() {
    // test_pkce_is_enabled, test_return_url_and_locale_are_forwarded, test_custom_scope.
    let provider = keycloak(|p| {
        p.enable_pkce = true;
        p.extra_scope = Some("profile email".into());
    });
    let url = authorization_url(&provider, &params(Some("et en")));
    assert!(url.contains("&scope=openid+profile+email&"), "{url}");
    let (_, query) = split(&url);
    assert_eq!(
        query,
        pairs(&[
            ("response_type", "code"),
            ("client_id", "client"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid profile email"),
            ("state", "state-43-chars"),
            ("ui_locales", "et en"),
            // RFC 7636 appendix B.
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            ),
            ("code_challenge_method", "S256"),
            ("nonce", "nonce-value"),
        ])
    );
}

#[test]
fn the_scope_is_openid_and_the_extra_scope_trimmed() {
    let rows: Vec<(Option<&str>, Option<Value>)> = vec![
        (None, Some(json!("openid"))),
        (Some(""), Some(json!("openid"))),
        (Some("   "), Some(json!("openid"))),
        (Some("profile email"), Some(json!("openid profile email"))),
        (Some(" profile "), Some(json!("openid  profile"))),
    ];
    check_rows(&rows, |extra| Some(json!(scope(*extra))));
    assert_eq!(
        pkce_challenge(VERIFIER),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn parameters_are_appended_to_an_endpoint_that_has_a_query_or_fragment() {
    let two = vec![("a", "1 2".to_owned()), ("b", "x&y".to_owned())];
    let rows: Vec<(&str, Option<Value>)> = vec![
        (
            "https://idp.example.org/auth",
            Some(json!("https://idp.example.org/auth?a=1+2&b=x%26y")),
        ),
        (
            "https://idp.example.org/auth?tenant=t",
            Some(json!("https://idp.example.org/auth?tenant=t&a=1+2&b=x%26y")),
        ),
        (
            "https://idp.example.org/auth?",
            Some(json!("https://idp.example.org/auth?a=1+2&b=x%26y")),
        ),
        (
            "https://idp.example.org/auth?tenant=t&",
            Some(json!("https://idp.example.org/auth?tenant=t&a=1+2&b=x%26y")),
        ),
        (
            "https://idp.example.org/auth#frag",
            Some(json!("https://idp.example.org/auth?a=1+2&b=x%26y#frag")),
        ),
        (
            "https://idp.example.org/auth?t=1#f?g",
            Some(json!("https://idp.example.org/auth?t=1&a=1+2&b=x%26y#f?g")),
        ),
    ];
    check_rows(&rows, |base| Some(json!(append_query(base, &two))));
    let provider = keycloak(|p| {
        p.endpoints.auth_url = "https://idp.example.org/auth?kc_idp_hint=google".into()
    });
    let url = authorization_url(&provider, &params(None));
    assert!(
        url.starts_with("https://idp.example.org/auth?kc_idp_hint=google&response_type=code&"),
        "{url}"
    );
    assert_eq!(url.matches('?').count(), 1);
}

#[test]
fn the_logout_url_is_built_as_the_reference_plus_the_id_token_hint() {
    let home = "https://portal.example.com/login/";
    let with = |logout: &str, post_logout: bool| {
        keycloak(|p| {
            p.endpoints.logout_url = logout.into();
            p.enable_post_logout_redirect = post_logout;
        })
    };
    let end_session = "https://idp.example.org/logout";
    assert_eq!(
        logout_url(&with(end_session, true), home, None).unwrap(),
        "https://idp.example.org/logout?post_logout_redirect_uri=https%3A%2F%2Fportal.example.com%2Flogin%2F&client_id=client"
    );
    let url = logout_url(
        &with("https://idp.example.org/logout?realm=r", true),
        home,
        Some("eyJ.hint"),
    )
    .unwrap();
    let (base, query) = split(&url);
    assert_eq!(base, "https://idp.example.org/logout");
    assert_eq!(
        query,
        pairs(&[
            ("realm", "r"),
            ("post_logout_redirect_uri", home),
            ("client_id", "client"),
            ("id_token_hint", "eyJ.hint"),
        ])
    );
    assert_eq!(logout_url(&with("", true), home, Some("eyJ.hint")), None);
    assert_eq!(
        logout_url(&with(end_session, false), home, Some("eyJ.hint")),
        None
    );
}

#[test]
fn the_callback_state_must_equal_the_stored_one() {
    // test_invalid_state, test_missing_state_in_session.
    let rows: Vec<(Pair, Option<Value>)> = vec![
        ((Some("test_state"), Some("test_state")), None),
        (
            (Some("test_state"), Some("other_state")),
            Some(json!("Invalid auth state.")),
        ),
        (
            (Some("test_state"), Some("test_stat")),
            Some(json!("Invalid auth state.")),
        ),
        (
            (Some("test_state"), Some("test_state_")),
            Some(json!("Invalid auth state.")),
        ),
        (
            (Some("test_state"), None),
            Some(json!("Invalid auth state.")),
        ),
        (
            (None, Some("test_state")),
            Some(json!("Invalid auth state.")),
        ),
        ((Some(""), Some("")), Some(json!("Invalid auth state."))),
        ((None, None), Some(json!("Invalid auth state."))),
    ];
    check_rows(&rows, |(stored, returned)| {
        check_state(*stored, *returned)
            .err()
            .map(|e| json!(e.to_string()))
    });
    assert_eq!(
        LoginError::InvalidState.detail("keycloak"),
        "keycloak error: Invalid auth state."
    );
}

#[test]
fn pkce_needs_the_stored_verifier() {
    // test_pkce_flow, test_pkce_flow_fails_if_verifier_is_missing.
    assert_eq!(
        pkce_verifier_for_exchange(true, Some("test_code_verifier")),
        Ok(Some("test_code_verifier"))
    );
    assert_eq!(
        pkce_verifier_for_exchange(true, None),
        Err(LoginError::PkceVerificationFailed)
    );
    assert_eq!(
        pkce_verifier_for_exchange(true, Some("")),
        Err(LoginError::PkceVerificationFailed)
    );
    assert_eq!(pkce_verifier_for_exchange(false, Some("v")), Ok(None));
    assert_eq!(
        LoginError::PkceVerificationFailed.detail("tara"),
        "tara error: PKCE verification failed."
    );
}
