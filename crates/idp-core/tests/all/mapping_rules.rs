//! `attribute_mapping` (`docs/decisions.md`, "Field rules"): an object whose keys are writable user
//! fields and whose values are non-empty strings of claim names.

use crate::common;

use common::*;
use idp_core::{AttributeMapping, USER_FIELDS};
use serde_json::{Value, json};

fn mapping_error(message: &str) -> Value {
    field_error("attribute_mapping", &[message])
}

fn check(mapping: &Value) -> Option<Value> {
    create_result(
        &with(
            create_body("generic"),
            &json!({ "attribute_mapping": mapping }),
        ),
        &any_slug(),
    )
}

#[test]
fn each_mapping_rule_has_its_exact_message() {
    let rows: Vec<(Value, Option<Value>)> = vec![
        (json!({}), None),
        (json!({"email": "email"}), None),
        (json!({"email": " mail  email "}), None),
        // Invalid keys, listed in request order and joined by a bare comma.
        (
            json!({"foo": "x"}),
            Some(mapping_error("Invalid attribute mapping keys: foo")),
        ),
        (
            json!({"zeta": "x", "email": "email", "alpha": "y", "Email": "z"}),
            Some(mapping_error(
                "Invalid attribute mapping keys: zeta,alpha,Email",
            )),
        ),
        (
            json!({"": "x"}),
            Some(mapping_error("Invalid attribute mapping keys: ")),
        ),
        (
            json!({"username": "sub"}),
            Some(mapping_error("Invalid attribute mapping keys: username")),
        ),
        (
            json!({"uid_number": "uid"}),
            Some(mapping_error("Invalid attribute mapping keys: uid_number")),
        ),
        // Keys are checked before any value.
        (
            json!({"email": 1, "bad": ""}),
            Some(mapping_error("Invalid attribute mapping keys: bad")),
        ),
        // Values that are not strings.
        (
            json!({"email": 1}),
            Some(mapping_error(
                "Attribute mapping value for 'email' must be a string.",
            )),
        ),
        (
            json!({"email": 1.5}),
            Some(mapping_error(
                "Attribute mapping value for 'email' must be a string.",
            )),
        ),
        (
            json!({"email": true}),
            Some(mapping_error(
                "Attribute mapping value for 'email' must be a string.",
            )),
        ),
        (
            json!({"email": null}),
            Some(mapping_error(
                "Attribute mapping value for 'email' must be a string.",
            )),
        ),
        (
            json!({"email": ["email"]}),
            Some(mapping_error(
                "Attribute mapping value for 'email' must be a string.",
            )),
        ),
        (
            json!({"email": {"claim": "email"}}),
            Some(mapping_error(
                "Attribute mapping value for 'email' must be a string.",
            )),
        ),
        // Empty and whitespace-only strings.
        (
            json!({"first_name": ""}),
            Some(mapping_error(
                "Attribute mapping value for 'first_name' is empty string.",
            )),
        ),
        (
            json!({"first_name": "   "}),
            Some(mapping_error(
                "Attribute mapping value for 'first_name' is empty string.",
            )),
        ),
        (
            json!({"first_name": "\t\n"}),
            Some(mapping_error(
                "Attribute mapping value for 'first_name' is empty string.",
            )),
        ),
        // Values are checked in request order; the first bad one is the only one reported.
        (
            json!({"last_name": "family_name", "first_name": "", "email": 1}),
            Some(mapping_error(
                "Attribute mapping value for 'first_name' is empty string.",
            )),
        ),
        (
            json!({"email": 1, "first_name": ""}),
            Some(mapping_error(
                "Attribute mapping value for 'email' must be a string.",
            )),
        ),
        // Not an object at all.
        (json!(null), Some(mapping_error(NULL))),
        (
            json!([]),
            Some(mapping_error(
                "Expected a dictionary of items but got type \"list\".",
            )),
        ),
        (
            json!("email"),
            Some(mapping_error(
                "Expected a dictionary of items but got type \"str\".",
            )),
        ),
        (
            json!(3),
            Some(mapping_error(
                "Expected a dictionary of items but got type \"int\".",
            )),
        ),
        (
            json!(true),
            Some(mapping_error(
                "Expected a dictionary of items but got type \"bool\".",
            )),
        ),
    ];
    check_rows(&rows, check);
}

#[test]
fn every_writable_user_field_is_a_valid_key() {
    assert_eq!(USER_FIELDS.len(), 22);
    let mapping: serde_json::Map<String, Value> = USER_FIELDS
        .iter()
        .map(|field| {
            (
                field.name.to_owned(),
                json!(format!("claim_{}", field.name)),
            )
        })
        .collect();
    let provider = created(&with(
        create_body("generic"),
        &json!({ "attribute_mapping": mapping }),
    ));
    let keys: Vec<&str> = provider
        .attribute_mapping
        .0
        .iter()
        .map(|(key, _)| key.as_str())
        .collect();
    let expected: Vec<&str> = USER_FIELDS.iter().map(|field| field.name).collect();
    assert_eq!(keys, expected);
}

#[test]
fn the_writable_user_fields_are_the_22_of_the_reference_in_order() {
    let names: Vec<&str> = USER_FIELDS.iter().map(|field| field.name).collect();
    assert_eq!(
        names,
        [
            "first_name",
            "last_name",
            "identity_source",
            "organization",
            "affiliations",
            "civil_number",
            "email",
            "phone_number",
            "birth_date",
            "gender",
            "personal_title",
            "place_of_birth",
            "address",
            "country_of_residence",
            "nationality",
            "nationalities",
            "organization_country",
            "organization_type",
            "organization_registry_code",
            "organization_vat_code",
            "organization_address",
            "eduperson_assurance",
        ]
    );
}

#[test]
fn values_are_stored_as_written_in_request_order() {
    let body = with(
        create_body("generic"),
        &json!({"attribute_mapping": {"last_name": " family_name sn ", "email": "mail email"}}),
    );
    assert_eq!(
        created_json(&body)["attribute_mapping"],
        json!({"last_name": " family_name sn ", "email": "mail email"})
    );
    assert_eq!(
        keys(&created_json(&body)["attribute_mapping"]),
        ["last_name", "email"]
    );
}

#[test]
fn attribute_mapping_parse_gives_the_same_messages_directly() {
    assert_eq!(
        AttributeMapping::parse(&json!({"email": "mail", "first_name": "given_name"})),
        Ok(AttributeMapping(vec![
            ("email".into(), "mail".into()),
            ("first_name".into(), "given_name".into()),
        ]))
    );
    assert_eq!(
        AttributeMapping::parse(&json!({"b": "x", "a": "y"})),
        Err("Invalid attribute mapping keys: b,a".to_owned())
    );
    assert_eq!(
        AttributeMapping::parse(&json!([])),
        Err("Expected a dictionary of items but got type \"list\".".to_owned())
    );
    assert_eq!(
        AttributeMapping::parse(&json!({"gender": " "})),
        Err("Attribute mapping value for 'gender' is empty string.".to_owned())
    );
    let mapping = AttributeMapping::parse(&json!({"email": "mail"})).unwrap();
    assert_eq!(mapping.get("email"), Some("mail"));
    assert_eq!(mapping.get("first_name"), None);
    assert_eq!(mapping.to_json(), json!({"email": "mail"}));
    assert_eq!(
        serde_json::to_value(&mapping).unwrap(),
        json!({"email": "mail"})
    );
}

#[test]
fn a_mapping_error_waits_for_nothing_else_and_blocks_the_url_check() {
    // Field errors come together; the object-level URL check does not run.
    let body = json!({
        "provider": "tara",
        "client_id": "c",
        "client_secret": "s",
        "discovery_url": "https://example.com/not-tara",
        "label": "",
        "attribute_mapping": {"nope": "x"},
    });
    assert_eq!(
        create_errors(&body),
        json!({
            "label": [BLANK],
            "attribute_mapping": ["Invalid attribute mapping keys: nope"],
        })
    );
}
