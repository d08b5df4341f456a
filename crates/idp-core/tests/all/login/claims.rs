//! Claim addressing: top-level names and RFC 6901 JSON Pointers.

use idp_core::login::{ClaimPath, is_truthy, merge_claims, parse_claim_list};
use serde_json::{Value, json};

use super::support::object;
use crate::common::check_rows;

fn claims() -> Value {
    json!({
        "sub": "u1",
        "realm_access": {"roles": ["staff", "support"]},
        "address": {"country": "EE", "street": {"line": "Main 1"}},
        "groups": ["a", "b", {"name": "c"}],
        "a/b": "slash",
        "m~n": "tilde",
        "~1": "literal tilde-one",
        "": "empty key",
        "address.country": "dotted",
        "nothing": null,
    })
}

#[test]
fn names_and_pointers_find_what_rfc_6901_says() {
    let claims = object(claims());
    let rows: Vec<(&str, Option<Value>)> = vec![
        // A name without a leading `/` is a top-level key, dots and all.
        ("sub", Some(json!("u1"))),
        ("address.country", Some(json!("dotted"))),
        ("nothing", Some(Value::Null)),
        ("missing", None),
        // Nested objects.
        ("/address/country", Some(json!("EE"))),
        ("/address/street/line", Some(json!("Main 1"))),
        ("/realm_access/roles", Some(json!(["staff", "support"]))),
        (
            "/realm_access",
            Some(json!({"roles": ["staff", "support"]})),
        ),
        // Arrays: indexes from 0, no leading zeros, `-` and past-the-end are absent.
        ("/groups/0", Some(json!("a"))),
        ("/groups/2/name", Some(json!("c"))),
        ("/realm_access/roles/1", Some(json!("support"))),
        ("/groups/3", None),
        ("/groups/01", None),
        ("/groups/-", None),
        ("/groups/+1", None),
        ("/groups/x", None),
        ("/groups/99999999999999999999999", None),
        // Escapes: `~1` is `/`, `~0` is `~`, and `~01` is the literal `~1`.
        ("/a~1b", Some(json!("slash"))),
        ("/m~0n", Some(json!("tilde"))),
        ("/~01", Some(json!("literal tilde-one"))),
        // `/` is the empty key; a step into a scalar is absent.
        ("/", Some(json!("empty key"))),
        ("/sub/0", None),
        ("/address/country/x", None),
        ("/missing/x", None),
        ("/nothing/x", None),
    ];
    check_rows(&rows, |name| {
        ClaimPath::parse(name)
            .expect("valid")
            .lookup(&claims)
            .cloned()
    });
}

#[test]
fn malformed_pointers_are_refused_with_a_clear_message() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        (
            "/a~2b",
            Some(json!(
                "Invalid JSON Pointer \"/a~2b\": \"~\" must be followed by \"0\" or \"1\"."
            )),
        ),
        (
            "/a~",
            Some(json!(
                "Invalid JSON Pointer \"/a~\": \"~\" must be followed by \"0\" or \"1\"."
            )),
        ),
        (
            "/ok/~x",
            Some(json!(
                "Invalid JSON Pointer \"/ok/~x\": \"~\" must be followed by \"0\" or \"1\"."
            )),
        ),
        // A tilde in a plain name is just a character.
        ("a~2b", None),
        ("/a~0~1", None),
    ];
    check_rows(&rows, |name| {
        ClaimPath::parse(name).err().map(|e| json!(e.to_string()))
    });
}

#[test]
fn a_pointer_reads_its_first_tokens_claim() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        ("email", Some(json!("email"))),
        ("/realm_access/roles", Some(json!("realm_access"))),
        ("/a~1b/c", Some(json!("a/b"))),
        ("/", Some(json!(""))),
    ];
    check_rows(&rows, |name| {
        Some(json!(ClaimPath::parse(name).unwrap().top_level()))
    });
    assert_eq!(ClaimPath::parse("/a~1b").unwrap().to_string(), "/a~1b");
}

#[test]
fn claim_lists_are_whitespace_separated_and_checked_name_by_name() {
    let names: Vec<String> = parse_claim_list("  given_name\t/name/first \n first_name ")
        .unwrap()
        .iter()
        .map(|path| path.as_str().to_owned())
        .collect();
    assert_eq!(names, ["given_name", "/name/first", "first_name"]);
    assert_eq!(parse_claim_list("   ").unwrap(), vec![]);
    let error = parse_claim_list("ok /bad~ /worse~3").unwrap_err();
    assert_eq!(error.pointer, "/bad~");
}

#[test]
fn userinfo_overlays_the_id_token_key_by_key() {
    let merged = merge_claims(
        object(json!({"sub": "s", "email": "id@example.org", "address": {"country": "EE"}})),
        object(json!({"email": "ui@example.org", "address": {"street": "x"}, "phone": "1"})),
    );
    assert_eq!(
        Value::Object(merged),
        json!({"sub": "s", "email": "ui@example.org", "address": {"street": "x"}, "phone": "1"})
    );
}

#[test]
fn truthiness_is_pythons() {
    let falsy = [
        json!(null),
        json!(false),
        json!(0),
        json!(0.0),
        json!(""),
        json!([]),
        json!({}),
    ];
    let truthy = [
        json!(true),
        json!(1),
        json!(-0.5),
        json!(" "),
        json!([0]),
        json!({"a": null}),
    ];
    assert!(falsy.iter().all(|v| !is_truthy(v)));
    assert!(truthy.iter().all(is_truthy));
}
