//! Where a login returns (as in the reference) and the URLs that send the browser
//! there, with the reference's `MultiHomeportRedirectTest` and default-init cases.

use idp_core::login::{
    LoginError, choose_redirect_origin, default_init_fallback_url, homeport_login_url,
    login_completed_url, login_failed_url,
};
use serde_json::{Value, json};

use super::support::Pair;
use crate::common::check_rows;

const HOME: &str = "https://portal.example.com/";

fn homeports() -> Vec<String> {
    vec![
        "https://homeport1.example.com".into(),
        "https://homeport2.example.com".into(),
    ]
}

fn outcome(result: Result<String, LoginError>) -> Option<Value> {
    Some(match result {
        Ok(origin) => json!({ "origin": origin }),
        Err(error) => json!({ "error": error.to_string() }),
    })
}

fn origin(url: &str) -> Option<Value> {
    Some(json!({ "origin": url }))
}

fn error(message: &str) -> Option<Value> {
    Some(json!({ "error": message }))
}

#[test]
fn the_redirect_origin_follows_every_rule_of_the_reference() {
    const SCHEME: &str = "Invalid URL scheme. Only http and https are allowed.";
    const DOMAIN: &str = "Invalid return URL format. Missing domain.";
    const FORMAT: &str = "Invalid return URL format.";
    let not_allowed = |origin: &str| {
        error(&format!(
            "Return URL domain {origin} is not in the allowed redirects list."
        ))
    };
    // (return_url, referrer) → outcome, with both homeports allowed.
    let rows: Vec<(Pair, Option<Value>)> = vec![
        // test_redirect_to_valid_homeport_from_referrer, test_redirect_to_second_allowed_homeport.
        (
            (None, Some("https://homeport1.example.com/projects/")),
            origin("https://homeport1.example.com"),
        ),
        (
            (None, Some("https://homeport2.example.com")),
            origin("https://homeport2.example.com"),
        ),
        // test_redirect_without_referrer_uses_first_allowed_homeport.
        ((None, None), origin("https://homeport1.example.com")),
        (
            (Some(""), Some("")),
            origin("https://homeport1.example.com"),
        ),
        // test_redirect_blocked_for_unauthorized_homeport.
        (
            (None, Some("https://evil.example.com/")),
            not_allowed("https://evil.example.com"),
        ),
        // test_referrer_with_trailing_slash_matches_exactly, _with_path_is_validated_by_base_url.
        (
            (None, Some("https://homeport1.example.com/")),
            origin("https://homeport1.example.com"),
        ),
        (
            (None, Some("https://homeport1.example.com/a/b?c=d#e")),
            origin("https://homeport1.example.com"),
        ),
        // test_return_url_takes_priority_over_referrer, test_redirect_using_return_url.
        (
            (
                Some("https://homeport2.example.com"),
                Some("https://homeport1.example.com"),
            ),
            origin("https://homeport2.example.com"),
        ),
        (
            (Some(""), Some("https://homeport2.example.com")),
            origin("https://homeport2.example.com"),
        ),
        // test_return_url_blocked_if_not_in_allowed_list (the referrer does not rescue it).
        (
            (
                Some("https://evil.example.com"),
                Some("https://homeport1.example.com"),
            ),
            not_allowed("https://evil.example.com"),
        ),
        // test_return_url_with_path_validated_by_base.
        (
            (Some("https://homeport1.example.com/dashboard?x=1"), None),
            origin("https://homeport1.example.com"),
        ),
        // test_reject_javascript_scheme, test_reject_url_without_domain.
        ((Some("javascript:alert(1)"), None), error(SCHEME)),
        (
            (Some("JavaScript://homeport1.example.com/%0aalert(1)"), None),
            error(SCHEME),
        ),
        ((Some("https://"), None), error(DOMAIN)),
        ((Some("https:///path"), None), error(DOMAIN)),
        ((Some("https:homeport1.example.com"), None), error(DOMAIN)),
        // No scheme at all.
        ((Some("homeport1.example.com"), None), error(SCHEME)),
        ((Some("//homeport1.example.com"), None), error(SCHEME)),
        ((Some("homeport1.example.com:443"), None), error(SCHEME)),
        ((Some("ftp://homeport1.example.com"), None), error(SCHEME)),
        // test_case_insensitive_matching: the origin is lower-cased.
        (
            (Some("HTTPS://HOMEPORT1.EXAMPLE.COM"), None),
            origin("https://homeport1.example.com"),
        ),
        // The port and the userinfo are kept, so they must be allowed too.
        (
            (Some("https://homeport1.example.com:8443/"), None),
            not_allowed("https://homeport1.example.com:8443"),
        ),
        (
            (Some("https://homeport1.example.com:443"), None),
            not_allowed("https://homeport1.example.com:443"),
        ),
        (
            (Some("https://user@homeport1.example.com"), None),
            not_allowed("https://user@homeport1.example.com"),
        ),
        (
            (Some("https://homeport1.example.com.evil.net"), None),
            not_allowed("https://homeport1.example.com.evil.net"),
        ),
        (
            (Some("https://homeport1.example.com@evil.net"), None),
            not_allowed("https://homeport1.example.com@evil.net"),
        ),
        // Split as Python splits: leading blanks and embedded tabs and newlines dropped.
        (
            (Some("  https://homeport1.example.com"), None),
            origin("https://homeport1.example.com"),
        ),
        (
            (Some("https://home\tport1.example.com\n"), None),
            origin("https://homeport1.example.com"),
        ),
        // What Python's urlsplit refuses.
        ((Some("https://[::1"), None), error(FORMAT)),
        ((Some("https://::1]/"), None), error(FORMAT)),
        ((Some("https://[not-an-address]/"), None), error(FORMAT)),
        ((Some("https://[127.0.0.1]/"), None), error(FORMAT)),
        ((Some("https://a[::1]/"), None), error(FORMAT)),
        ((Some("https://[::1]x/"), None), error(FORMAT)),
        ((Some("https://[a]@host/"), None), error(FORMAT)),
        (
            (Some("https://[::1]:8080/"), None),
            not_allowed("https://[::1]:8080"),
        ),
        (
            (Some("https://[v1.x]/"), None),
            not_allowed("https://[v1.x]"),
        ),
    ];
    check_rows(&rows, |(return_url, referrer)| {
        outcome(choose_redirect_origin(
            &homeports(),
            HOME,
            *return_url,
            *referrer,
        ))
    });
}

#[test]
fn without_allowed_redirects_the_homeport_url_is_used_whatever_the_source() {
    // test_fallback_to_homeport_url_when_no_allowed_redirects (TARA).
    let home = "https://fallback.example.com/";
    for (return_url, referrer) in [
        (None, None),
        (Some("https://evil.example.com"), None),
        (None, Some("javascript:alert(1)")),
        (Some("https://"), Some("https://homeport1.example.com")),
    ] {
        let chosen = choose_redirect_origin(&[], home, return_url, referrer).unwrap();
        assert_eq!(chosen, home);
        let code = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            login_completed_url(&chosen, "tara", code),
            "https://fallback.example.com/oauth_login_completed/tara/?code=0123456789abcdef0123456789abcdef"
        );
    }
}

#[test]
fn allowed_redirects_are_compared_in_lower_case() {
    let upper = vec!["HTTPS://Homeport1.Example.com".to_owned()];
    assert_eq!(
        choose_redirect_origin(&upper, HOME, Some("https://homeport1.example.com/x"), None),
        Ok("https://homeport1.example.com".to_owned())
    );
}

#[test]
fn the_browser_is_sent_to_homeport_pages() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        (
            "https://portal.example.com/",
            Some(json!("https://portal.example.com/login/?disableAutoLogin")),
        ),
        (
            "https://portal.example.com",
            Some(json!("https://portal.example.com/login/?disableAutoLogin")),
        ),
        (
            "https://portal.example.com/app/",
            Some(json!(
                "https://portal.example.com/app/login/?disableAutoLogin"
            )),
        ),
    ];
    check_rows(&rows, |home| Some(json!(default_init_fallback_url(home))));
    assert_eq!(
        login_failed_url(
            "https://portal.example.com/",
            "User email is not provided. Account creation is blocked."
        ),
        "https://portal.example.com/login_failed/?message=User+email+is+not+provided.+Account+creation+is+blocked."
    );
    assert_eq!(
        login_failed_url("https://homeport1.example.com", "access_denied: a&b=c?"),
        "https://homeport1.example.com/login_failed/?message=access_denied%3A+a%26b%3Dc%3F"
    );
    assert_eq!(
        homeport_login_url("https://portal.example.com"),
        "https://portal.example.com/login/"
    );
    assert_eq!(
        login_completed_url("https://homeport1.example.com", "keycloak", "3f2a"),
        "https://homeport1.example.com/oauth_login_completed/keycloak/?code=3f2a"
    );
}
