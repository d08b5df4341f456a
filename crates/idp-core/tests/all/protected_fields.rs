//! `protected_fields` (`docs/decisions.md`, "Field rules"): a list of non-blank strings, any
//! values.

use crate::common;

use common::*;
use serde_json::json;

#[test]
fn protected_fields_keeps_a_list_of_strings_trimmed_in_order() {
    let body = with(
        create_body("generic"),
        &json!({"protected_fields": [" email ", "first_name", "email", "anything at all", 42]}),
    );
    assert_eq!(
        created(&body).protected_fields,
        ["email", "first_name", "email", "anything at all", "42"]
    );
    let empty = with(create_body("generic"), &json!({"protected_fields": []}));
    assert!(created(&empty).protected_fields.is_empty());
    assert!(created(&create_body("generic")).protected_fields.is_empty());
}

#[test]
fn protected_fields_reports_every_bad_element_by_index() {
    let body = with(
        create_body("generic"),
        &json!({"protected_fields": ["ok", "", "  ", true, null, [], {}, 1.5, "fine"]}),
    );
    assert_eq!(
        create_errors(&body),
        json!({"protected_fields": {
            "1": [BLANK],
            "2": [BLANK],
            "3": [NOT_A_STRING],
            "4": [NULL],
            "5": [NOT_A_STRING],
            "6": [NOT_A_STRING],
        }})
    );
}

#[test]
fn protected_fields_refuses_a_comma_separated_string() {
    // The reference's old string form is gone: only arrays are accepted.
    for value in [json!("email,first_name"), json!("")] {
        let body = with(
            create_body("generic"),
            &json!({ "protected_fields": value }),
        );
        assert_eq!(
            create_errors(&body),
            field_error(
                "protected_fields",
                &["Expected a list of items but got type \"str\"."]
            )
        );
    }
}
