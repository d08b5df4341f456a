//! JSON types accepted by each kind of field (`docs/decisions.md`, "Field rules"):
//! string fields take strings and numbers, boolean fields take booleans, 1/0 and the usual
//! spellings, and anything else gets the field's message.

use crate::common;

use common::*;
use serde_json::{Value, json};

#[test]
fn string_fields_refuse_booleans_arrays_and_objects() {
    let wrong = [
        json!(true),
        json!(false),
        json!([]),
        json!(["a"]),
        json!({}),
        json!({"a": "b"}),
    ];
    let mut rows = Vec::new();
    for (field, _, _, _) in string_fields() {
        for value in &wrong {
            rows.push((
                (field, value.clone()),
                Some(field_error(field, &[NOT_A_STRING])),
            ));
        }
    }
    check_rows(&rows, |(field, value)| {
        create_result(
            &with(create_body("generic"), &json!({ *field: value })),
            &any_slug(),
        )
    });
}

#[test]
fn numbers_sent_for_string_fields_are_stored_as_python_writes_them() {
    // Python's str(): integers as they are, floats in shortest form with at least one decimal,
    // in exponent form below 1e-4 and from 1e16 on.
    let rows: Vec<(Value, Option<Value>)> = vec![
        (json!(42), Some(json!("42"))),
        (json!(-7), Some(json!("-7"))),
        (json!(0), Some(json!("0"))),
        (
            json!(18446744073709551615u64),
            Some(json!("18446744073709551615")),
        ),
        (json!(1.5), Some(json!("1.5"))),
        (json!(1.0), Some(json!("1.0"))),
        (json!(100.0), Some(json!("100.0"))),
        (json!(-0.0), Some(json!("-0.0"))),
        (json!(0.1), Some(json!("0.1"))),
        (json!(0.0001), Some(json!("0.0001"))),
        (json!(0.00001), Some(json!("1e-05"))),
        (json!(1.5e-7), Some(json!("1.5e-07"))),
        (json!(1234567890123456.0), Some(json!("1234567890123456.0"))),
        (json!(1e16), Some(json!("1e+16"))),
        (json!(2.5e22), Some(json!("2.5e+22"))),
        (
            json!(1.7976931348623157e308),
            Some(json!("1.7976931348623157e+308")),
        ),
    ];
    check_rows(&rows, |number| {
        let body = with(create_body("generic"), &json!({ "label": number }));
        Some(json!(created(&body).label))
    });
}

#[test]
fn numbers_parsed_from_json_text_follow_python_str_too() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        ("1E2", Some(json!("100.0"))),
        ("12.50", Some(json!("12.5"))),
        ("123e-2", Some(json!("1.23"))),
        ("-0.0", Some(json!("-0.0"))),
    ];
    check_rows(&rows, |text| {
        let number: Value = serde_json::from_str(text).unwrap();
        let body = with(create_body("generic"), &json!({ "client_id": number }));
        Some(json!(created(&body).client_id))
    });
}

#[test]
fn numbers_sent_as_provider_names_are_checked_as_their_text() {
    let invalid = Some(field_error("provider", &["Invalid provider."]));
    let rows: Vec<(Value, Option<Value>)> = vec![
        (json!(7), None),
        (json!(0.00001), None),         // "1e-05" is a slug.
        (json!(1e40), invalid.clone()), // "1e+40" is not.
        (json!(1.5), invalid.clone()),
        (json!(-1), invalid),
    ];
    check_rows(&rows, |number| {
        create_result(
            &with(create_body("generic"), &json!({ "provider": number })),
            &any_slug(),
        )
    });
    assert_eq!(
        created(&with(create_body("generic"), &json!({"provider": 0.00001}))).provider,
        "1e-05"
    );
}

#[test]
fn boolean_fields_accept_the_drf_spellings_in_any_letter_case() {
    let truthy = [
        json!(true),
        json!(1),
        json!(1.0),
        json!("1"),
        json!("t"),
        json!("T"),
        json!("y"),
        json!("Y"),
        json!("yes"),
        json!("Yes"),
        json!("YES"),
        json!("yEs"),
        json!("true"),
        json!("True"),
        json!("TRUE"),
        json!("tRuE"),
        json!("on"),
        json!("On"),
        json!("ON"),
        json!("oN"),
    ];
    let falsy = [
        json!(false),
        json!(0),
        json!(0.0),
        json!(-0.0),
        json!("0"),
        json!("f"),
        json!("F"),
        json!("n"),
        json!("N"),
        json!("no"),
        json!("No"),
        json!("NO"),
        json!("nO"),
        json!("false"),
        json!("False"),
        json!("FALSE"),
        json!("fAlSe"),
        json!("off"),
        json!("Off"),
        json!("OFF"),
        json!("oFf"),
    ];
    let mut rows = Vec::new();
    for field in boolean_fields() {
        rows.extend(
            truthy
                .iter()
                .map(|v| ((field, v.clone()), Some(json!(true)))),
        );
        rows.extend(
            falsy
                .iter()
                .map(|v| ((field, v.clone()), Some(json!(false)))),
        );
    }
    check_rows(&rows, |(field, value)| {
        let body = with(create_body("generic"), &json!({ *field: value }));
        created_json(&body).get(*field).cloned()
    });
}

#[test]
fn boolean_fields_refuse_other_strings_numbers_arrays_and_objects() {
    let wrong = [
        json!(""),
        json!(" "),
        json!("maybe"),
        json!(" true"),
        json!("true "),
        json!("2"),
        json!("1.0"),
        json!("null"),
        json!("none"),
        json!("tru"),
        json!("yess"),
        json!(2),
        json!(-1),
        json!(0.5),
        json!(1.1),
        json!([]),
        json!([true]),
        json!({}),
        json!({"value": true}),
    ];
    let mut rows = Vec::new();
    for field in boolean_fields() {
        for value in &wrong {
            rows.push((
                (field, value.clone()),
                Some(field_error(field, &[NOT_A_BOOLEAN])),
            ));
        }
    }
    check_rows(&rows, |(field, value)| {
        create_result(
            &with(create_body("generic"), &json!({ *field: value })),
            &any_slug(),
        )
    });
}

#[test]
fn boolean_fields_default_as_the_model_says() {
    let provider = created(&create_body("generic"));
    assert!(provider.is_active);
    assert!(provider.verify_ssl);
    assert!(provider.enable_post_logout_redirect);
    assert!(!provider.enable_pkce);
}

#[test]
fn json_fields_refuse_values_of_the_wrong_shape_with_the_python_type_name() {
    let list = |name: &str| format!("Expected a list of items but got type \"{name}\".");
    let dict = |name: &str| format!("Expected a dictionary of items but got type \"{name}\".");
    let mut rows = Vec::new();
    for (value, name) in [
        (json!("a"), "str"),
        (json!({}), "dict"),
        (json!({"a": 1}), "dict"),
        (json!(1), "int"),
        (json!(1.5), "float"),
        (json!(true), "bool"),
    ] {
        for field in ["protected_fields", "allowed_redirects"] {
            rows.push((
                (field, value.clone()),
                Some(field_error(field, &[&list(name)])),
            ));
        }
    }
    for (value, name) in [
        (json!([]), "list"),
        (json!([{"email": "email"}]), "list"),
        (json!("email"), "str"),
        (json!(1), "int"),
        (json!(1.5), "float"),
        (json!(false), "bool"),
    ] {
        rows.push((
            ("attribute_mapping", value),
            Some(field_error("attribute_mapping", &[&dict(name)])),
        ));
    }
    check_rows(&rows, |(field, value)| {
        create_result(
            &with(create_body("generic"), &json!({ *field: value })),
            &any_slug(),
        )
    });
}
