//! `allowed_redirects` (`docs/decisions.md`, "Field rules"): a list of origins, each a non-blank
//! string, checked one by one against seven rules and then normalised.

use crate::common;

use common::*;
use idp_core::normalise_redirects;
use serde_json::{Value, json};

fn redirects(value: Value) -> Result<Value, Value> {
    let body = with(
        create_body("generic"),
        &json!({ "allowed_redirects": value }),
    );
    match create_result(&body, &any_slug()) {
        None => Ok(created_json(&body)["allowed_redirects"].clone()),
        Some(errors) => Err(errors),
    }
}

fn redirect_error(message: &str) -> Value {
    field_error("allowed_redirects", &[message])
}

#[test]
fn each_redirect_rule_has_its_exact_message() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        // 2. Django's URL validator.
        (
            "portal.example.com",
            Some(redirect_error(
                "Invalid redirect URL portal.example.com: Enter a valid URL.",
            )),
        ),
        (
            "https://",
            Some(redirect_error(
                "Invalid redirect URL https://: Enter a valid URL.",
            )),
        ),
        (
            "https://portal",
            Some(redirect_error(
                "Invalid redirect URL https://portal: Enter a valid URL.",
            )),
        ),
        (
            "https://*.example.com",
            Some(redirect_error(
                "Invalid redirect URL https://*.example.com: Enter a valid URL.",
            )),
        ),
        (
            "https://exa mple.com",
            Some(redirect_error(
                "Invalid redirect URL https://exa mple.com: Enter a valid URL.",
            )),
        ),
        (
            "https://example.com:99999x",
            Some(redirect_error(
                "Invalid redirect URL https://example.com:99999x: Enter a valid URL.",
            )),
        ),
        (
            "https://example.com-",
            Some(redirect_error(
                "Invalid redirect URL https://example.com-: Enter a valid URL.",
            )),
        ),
        (
            "https://@example.com",
            Some(redirect_error(
                "Invalid redirect URL https://@example.com: Enter a valid URL.",
            )),
        ),
        (
            "https://a@b@example.com",
            Some(redirect_error(
                "Invalid redirect URL https://a@b@example.com: Enter a valid URL.",
            )),
        ),
        (
            "mailto:someone@example.com",
            Some(redirect_error(
                "Invalid redirect URL mailto:someone@example.com: Enter a valid URL.",
            )),
        ),
        (
            "javascript://example.com",
            Some(redirect_error(
                "Invalid redirect URL javascript://example.com: Enter a valid URL.",
            )),
        ),
        // 3. Scheme: Django also accepts ftp and ftps, the redirect rule does not.
        (
            "ftp://files.example.com",
            Some(redirect_error(
                "Invalid URL scheme for ftp://files.example.com. Only http and https are allowed.",
            )),
        ),
        (
            "FTPS://files.example.com",
            Some(redirect_error(
                "Invalid URL scheme for FTPS://files.example.com. Only http and https are allowed.",
            )),
        ),
        // 4. Plain HTTP only for localhost and 127.0.0.1, judged on the whole netloc.
        (
            "http://portal.example.com",
            Some(redirect_error(
                "HTTPS required for http://portal.example.com. HTTP is only allowed for localhost.",
            )),
        ),
        (
            "http://localhost.example.com",
            Some(redirect_error(
                "HTTPS required for http://localhost.example.com. HTTP is only allowed for localhost.",
            )),
        ),
        (
            "http://user@localhost",
            Some(redirect_error(
                "HTTPS required for http://user@localhost. HTTP is only allowed for localhost.",
            )),
        ),
        (
            "http://[::1]:3000",
            Some(redirect_error(
                "HTTPS required for http://[::1]:3000. HTTP is only allowed for localhost.",
            )),
        ),
        (
            "http://127.0.0.2",
            Some(redirect_error(
                "HTTPS required for http://127.0.0.2. HTTP is only allowed for localhost.",
            )),
        ),
        // 5. Path: empty or "/" only.
        (
            "https://portal.example.com/app",
            Some(redirect_error(
                "Redirect URL must not contain a path: https://portal.example.com/app. Only origin (scheme + domain + port) is allowed.",
            )),
        ),
        (
            "https://portal.example.com//",
            Some(redirect_error(
                "Redirect URL must not contain a path: https://portal.example.com//. Only origin (scheme + domain + port) is allowed.",
            )),
        ),
        (
            "http://localhost:3000/callback",
            Some(redirect_error(
                "Redirect URL must not contain a path: http://localhost:3000/callback. Only origin (scheme + domain + port) is allowed.",
            )),
        ),
        // 6. Query.
        (
            "https://portal.example.com?next=1",
            Some(redirect_error(
                "Redirect URL must not contain query parameters: https://portal.example.com?next=1",
            )),
        ),
        (
            "https://portal.example.com/?a",
            Some(redirect_error(
                "Redirect URL must not contain query parameters: https://portal.example.com/?a",
            )),
        ),
        // 7. Fragment.
        (
            "https://portal.example.com#top",
            Some(redirect_error(
                "Redirect URL must not contain fragments: https://portal.example.com#top",
            )),
        ),
        (
            "https://portal.example.com/?#x",
            Some(redirect_error(
                "Redirect URL must not contain fragments: https://portal.example.com/?#x",
            )),
        ),
        // Accepted origins.
        ("https://portal.example.com", None),
        ("https://portal.example.com/", None),
        ("https://portal.example.com?", None),
        ("https://portal.example.com#", None),
        ("https://portal.example.com/?#", None),
        ("https://user:pw@portal.example.com", None),
        ("https://[2001:db8::1]:8443", None),
        ("https://10.0.0.1", None),
        ("http://localhost", None),
        ("http://LOCALHOST:8080", None),
        ("http://127.0.0.1", None),
        ("http://127.0.0.1:8000/", None),
    ];
    check_rows(&rows, |url| redirects(json!([url])).err());
}

#[test]
fn rules_apply_in_order_so_each_url_gets_the_first_failing_rule() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        (
            "ftp://example.com/path?q#f",
            Some(redirect_error(
                "Invalid URL scheme for ftp://example.com/path?q#f. Only http and https are allowed.",
            )),
        ),
        (
            "http://example.com/path?q#f",
            Some(redirect_error(
                "HTTPS required for http://example.com/path?q#f. HTTP is only allowed for localhost.",
            )),
        ),
        (
            "https://example.com/path?q#f",
            Some(redirect_error(
                "Redirect URL must not contain a path: https://example.com/path?q#f. Only origin (scheme + domain + port) is allowed.",
            )),
        ),
        (
            "https://example.com?q#f",
            Some(redirect_error(
                "Redirect URL must not contain query parameters: https://example.com?q#f",
            )),
        ),
    ];
    check_rows(&rows, |url| redirects(json!([url])).err());
}

#[test]
fn accepted_origins_are_normalised_keeping_order_ports_and_duplicates() {
    let normalised = redirects(json!([
        "HTTPS://Portal.Example.COM/",
        " http://LocalHost:3000 ",
        "https://portal.example.com:443",
        "https://portal.example.com",
        "https://portal.example.com",
        "https://User:PW@Portal.Example.com?#",
        "http://127.0.0.1:8080/",
    ]));
    assert_eq!(
        normalised,
        Ok(json!([
            "https://portal.example.com",
            "http://localhost:3000",
            "https://portal.example.com:443",
            "https://portal.example.com",
            "https://portal.example.com",
            "https://user:pw@portal.example.com",
            "http://127.0.0.1:8080",
        ]))
    );
    assert_eq!(redirects(json!([])), Ok(json!([])));
    assert_eq!(
        created_json(&create_body("generic"))["allowed_redirects"],
        json!([])
    );
}

#[test]
fn the_first_failing_origin_stops_the_check_with_a_single_message() {
    let result = redirects(json!([
        "https://ok.example.com",
        "http://plain.example.com",
        "ftp://files.example.com",
        "not a url",
    ]));
    assert_eq!(
        result,
        Err(redirect_error(
            "HTTPS required for http://plain.example.com. HTTP is only allowed for localhost."
        ))
    );
}

#[test]
fn messages_quote_the_trimmed_url() {
    assert_eq!(
        redirects(json!(["  http://portal.example.com\n"])),
        Err(redirect_error(
            "HTTPS required for http://portal.example.com. HTTP is only allowed for localhost."
        ))
    );
}

#[test]
fn non_string_elements_fail_by_index_before_any_url_rule_runs() {
    // Element checks come first; the URL rules (which would refuse element 0) never run.
    assert_eq!(
        redirects(json!([
            "http://plain.example.com",
            true,
            {},
            "https://ok.example.com",
            [],
            ""
        ])),
        Err(json!({"allowed_redirects": {
            "1": [NOT_A_STRING],
            "2": [NOT_A_STRING],
            "4": [NOT_A_STRING],
            "5": [BLANK],
        }}))
    );
    assert_eq!(
        redirects(json!([null])),
        Err(json!({"allowed_redirects": {"0": [NULL]}}))
    );
}

#[test]
fn numbers_become_strings_and_then_fail_the_url_rule() {
    // "Each redirect URL must be a string." cannot be reached through a body: numbers are
    // turned into strings by the list's element field first.
    assert_eq!(
        redirects(json!([123])),
        Err(redirect_error(
            "Invalid redirect URL 123: Enter a valid URL."
        ))
    );
    assert_eq!(
        redirects(json!([1.5])),
        Err(redirect_error(
            "Invalid redirect URL 1.5: Enter a valid URL."
        ))
    );
}

#[test]
fn django_url_limits_on_length_and_host_name_apply() {
    let label = chars('a', 63);
    let host_253 = format!("{label}.{label}.{label}.{}.com", chars('b', 57));
    assert_eq!(host_253.len(), 253);
    assert_eq!(
        redirects(json!([format!("https://{host_253}")])),
        Ok(json!([format!("https://{host_253}")]))
    );
    // Every label still within 63 characters: only the total is too long.
    let host_254 = format!("{label}.{label}.{label}.{}.com", chars('b', 58));
    assert_eq!(host_254.len(), 254);
    let url = format!("https://{host_254}");
    assert_eq!(
        redirects(json!([url])),
        Err(redirect_error(&format!(
            "Invalid redirect URL {url}: Enter a valid URL."
        )))
    );
    let long_label = format!("https://{}.com", chars('a', 64));
    assert!(redirects(json!([long_label])).is_err());
}

#[test]
fn normalise_redirects_is_the_same_rule_on_plain_strings() {
    let urls = [
        "HTTPS://A.Example.com/".to_owned(),
        "http://localhost:1".to_owned(),
    ];
    assert_eq!(
        normalise_redirects(&urls),
        Ok(vec![
            "https://a.example.com".to_owned(),
            "http://localhost:1".to_owned()
        ])
    );
    assert_eq!(
        normalise_redirects(&["https://a.example.com/x".to_owned()]),
        Err("Redirect URL must not contain a path: https://a.example.com/x. Only origin (scheme + domain + port) is allowed.".to_owned())
    );
}

#[test]
fn normalising_twice_changes_nothing() {
    // A cheap property check: every accepted origin is a fixed point of normalisation.
    let hosts = [
        "Portal.Example.com",
        "localhost",
        "127.0.0.1",
        "xn--bcher-kva.example",
    ];
    let ports = ["", ":443", ":8080"];
    let tails = ["", "/", "?", "#", "/?#"];
    for scheme in ["https", "HTTPS", "http"] {
        for host in hosts {
            for port in ports {
                for tail in tails {
                    let url = format!("{scheme}://{host}{port}{tail}");
                    let Ok(once) = normalise_redirects(std::slice::from_ref(&url)) else {
                        let local = ["localhost", "127.0.0.1"].contains(&host);
                        assert!(scheme == "http" && !local, "{url} refused");
                        continue;
                    };
                    assert_eq!(normalise_redirects(&once), Ok(once.clone()), "{url}");
                    assert_eq!(once[0], once[0].to_lowercase(), "{url}");
                    assert!(!once[0].ends_with('/'), "{url}");
                }
            }
        }
    }
}
