//! Field rules of create bodies (`docs/decisions.md`, "Field rules"): required, blank, null,
//! maximum length, trimming, NUL characters, the body's own shape, unknown and read-only keys, and
//! the order in which several errors are reported.

use crate::common;

use common::*;
use serde_json::{Value, json};

#[test]
fn create_with_an_empty_body_requires_the_five_create_fields_in_model_order() {
    let errors = create_errors(&json!({}));
    assert_eq!(
        errors,
        json!({
            "provider": [REQUIRED],
            "client_id": [REQUIRED],
            "client_secret": [REQUIRED],
            "discovery_url": [REQUIRED],
            "label": [REQUIRED],
        })
    );
    assert_eq!(
        keys(&errors),
        [
            "provider",
            "client_id",
            "client_secret",
            "discovery_url",
            "label"
        ]
    );
}

#[test]
fn each_missing_create_field_is_reported_alone() {
    let rows: Vec<(&str, Option<Value>)> = [
        "provider",
        "client_id",
        "client_secret",
        "discovery_url",
        "label",
    ]
    .into_iter()
    .map(|field| (field, Some(field_error(field, &[REQUIRED]))))
    .collect();
    check_rows(&rows, |field| {
        create_result(&without(create_body("generic"), &[field]), &any_slug())
    });
}

#[test]
fn optional_fields_may_be_left_out() {
    let provider = created(&create_body("generic"));
    assert_eq!(provider.label, "Label");
}

#[test]
fn blank_is_refused_on_non_blank_string_fields_and_kept_empty_elsewhere() {
    let mut rows = Vec::new();
    for (field, _, blank_ok, _) in string_fields() {
        for blank in ["", "   ", "\t\n "] {
            let expected = (!blank_ok).then(|| field_error(field, &[BLANK]));
            rows.push(((field, blank), expected));
        }
    }
    check_rows(&rows, |(field, blank)| {
        create_result(
            &with(create_body("generic"), &json!({ *field: blank })),
            &any_slug(),
        )
    });

    let provider = created(&with(
        create_body("generic"),
        &json!({"management_url": " ", "extra_scope": "", "extra_fields": "\t"}),
    ));
    assert_eq!(provider.management_url, "");
    assert_eq!(provider.extra_scope.as_deref(), Some(""));
    assert_eq!(provider.extra_fields.as_deref(), Some(""));
}

#[test]
fn null_is_refused_on_every_field_but_extra_scope_and_extra_fields() {
    let mut rows = Vec::new();
    for (field, _, _, null_ok) in string_fields() {
        rows.push((field, (!null_ok).then(|| field_error(field, &[NULL]))));
    }
    for field in boolean_fields().into_iter().chain(structured_fields()) {
        rows.push((field, Some(field_error(field, &[NULL]))));
    }
    check_rows(&rows, |field| {
        create_result(
            &with(create_body("generic"), &json!({ *field: null })),
            &any_slug(),
        )
    });

    let provider = created(&with(
        create_body("generic"),
        &json!({"extra_scope": null, "extra_fields": null}),
    ));
    assert_eq!(provider.extra_scope, None);
    assert_eq!(provider.extra_fields, None);
}

/// A value of exactly `len` characters for `field` that passes every other rule of the field.
fn value_of_length(field: &str, len: usize) -> String {
    match field {
        "provider" => chars('p', len),
        "discovery_url" => {
            let prefix = "https://idp.example.com/";
            format!("{prefix}{}", chars('x', len - prefix.len()))
        }
        _ => chars('é', len),
    }
}

#[test]
fn too_long_values_name_the_field_maximum_and_the_maximum_itself_is_accepted() {
    let mut rows = Vec::new();
    for (field, max, _, _) in string_fields() {
        let message = format!("Ensure this field has no more than {max} characters.");
        rows.push(((field, max), None));
        rows.push(((field, max + 1), Some(field_error(field, &[&message]))));
        rows.push(((field, max + 50), Some(field_error(field, &[&message]))));
    }
    check_rows(&rows, |(field, len)| {
        let value = value_of_length(field, *len);
        create_result(
            &with(create_body("generic"), &json!({ *field: value })),
            &any_slug(),
        )
    });
}

#[test]
fn length_counts_characters_after_trimming() {
    // 200 two-byte characters with surrounding spaces: 400+ bytes, yet exactly at the limit.
    let label = format!("  {}  ", chars('é', 200));
    let provider = created(&with(create_body("generic"), &json!({ "label": label })));
    assert_eq!(provider.label, chars('é', 200));
}

#[test]
fn surrounding_whitespace_is_trimmed_from_every_string_field() {
    let provider = created(&json!({
        "provider": " tara\n",
        "client_id": "  client ",
        "client_secret": "\tsecret\t",
        "discovery_url": format!(" {TARA_URL} "),
        "label": " My  label ",
        "management_url": " https://manage.example.com ",
        "extra_scope": " profile email ",
        "user_field": " email ",
        "user_claim": " email sub ",
        "extra_fields": " a b ",
    }));
    assert_eq!(provider.provider, "tara");
    assert_eq!(provider.client_id, "client");
    assert_eq!(provider.client_secret, "secret");
    assert_eq!(provider.discovery_url, TARA_URL);
    assert_eq!(provider.label, "My  label", "inner whitespace is kept");
    assert_eq!(provider.management_url, "https://manage.example.com");
    assert_eq!(provider.extra_scope.as_deref(), Some("profile email"));
    assert_eq!(provider.user_field, "email");
    assert_eq!(provider.user_claim, "email sub");
    assert_eq!(provider.extra_fields.as_deref(), Some("a b"));
}

#[test]
fn null_characters_are_refused_in_string_fields_with_every_failing_check_reported() {
    const NUL: &str = "Null characters are not allowed.";
    let rows = vec![
        (
            ("label", "a\0b".to_owned()),
            Some(field_error("label", &[NUL])),
        ),
        (
            ("client_secret", "\0".to_owned()),
            Some(field_error("client_secret", &[NUL])),
        ),
        (
            ("extra_scope", "openid\0".to_owned()),
            Some(field_error("extra_scope", &[NUL])),
        ),
        (
            ("user_claim", format!("{}\0", chars('c', 100))),
            Some(field_error(
                "user_claim",
                &["Ensure this field has no more than 100 characters.", NUL],
            )),
        ),
    ];
    check_rows(&rows, |(field, value)| {
        create_result(
            &with(create_body("generic"), &json!({ *field: value })),
            &any_slug(),
        )
    });
}

#[test]
fn a_body_that_is_not_an_object_is_refused_with_its_python_type_name() {
    let invalid = |name: &str| {
        Some(json!({
            "non_field_errors": [format!("Invalid data. Expected a dictionary, but got {name}.")]
        }))
    };
    let rows = vec![
        (
            json!(null),
            Some(json!({"non_field_errors": ["No data provided"]})),
        ),
        (json!([]), invalid("list")),
        (json!([create_body("generic")]), invalid("list")),
        (json!("body"), invalid("str")),
        (json!(1), invalid("int")),
        (json!(1.5), invalid("float")),
        (json!(true), invalid("bool")),
    ];
    check_rows(&rows, |body| create_result(body, &any_slug()));
}

#[test]
fn unknown_keys_are_reported_and_read_only_endpoint_keys_are_ignored() {
    let errors = create_errors(&with(
        create_body("generic"),
        &json!({"id": 1, "scope": "openid", "Label": "x"}),
    ));
    assert_eq!(
        errors,
        json!({
            "id": ["Unknown field."],
            "scope": ["Unknown field."],
            "Label": ["Unknown field."],
        })
    );

    let provider = created(&with(
        create_body("generic"),
        &json!({
            "userinfo_url": "https://evil.example.com/u",
            "token_url": 7,
            "auth_url": null,
            "logout_url": ["ignored"],
        }),
    ));
    assert_eq!(
        provider.endpoints,
        endpoints(),
        "endpoints come from discovery"
    );
}

#[test]
fn every_field_error_of_one_body_is_reported_in_model_field_order() {
    // Keys deliberately sent in reverse order: the report follows the model, not the body.
    let body = json!({
        "extra_fields": [],
        "attribute_mapping": [],
        "user_claim": "",
        "user_field": {},
        "extra_scope": true,
        "management_url": null,
        "label": "",
        "discovery_url": null,
        "enable_pkce": "maybe",
        "enable_post_logout_redirect": [],
        "verify_ssl": null,
        "client_secret": chars('s', 201),
        "client_id": false,
        "is_active": 2,
        "provider": "",
        "allowed_redirects": "https://portal.example.com",
        "protected_fields": [""],
    });
    let errors = create_errors(&body);
    assert_eq!(
        errors,
        json!({
            "protected_fields": {"0": [BLANK]},
            "allowed_redirects": ["Expected a list of items but got type \"str\"."],
            "provider": [BLANK],
            "is_active": [NOT_A_BOOLEAN],
            "client_id": [NOT_A_STRING],
            "client_secret": ["Ensure this field has no more than 200 characters."],
            "verify_ssl": [NULL],
            "enable_post_logout_redirect": [NOT_A_BOOLEAN],
            "enable_pkce": [NOT_A_BOOLEAN],
            "discovery_url": [NULL],
            "label": [BLANK],
            "management_url": [NULL],
            "extra_scope": [NOT_A_STRING],
            "user_field": [NOT_A_STRING],
            "user_claim": [BLANK],
            "attribute_mapping": ["Expected a dictionary of items but got type \"list\"."],
            "extra_fields": [NOT_A_STRING],
        })
    );
    assert_eq!(
        keys(&errors),
        [
            "protected_fields",
            "allowed_redirects",
            "provider",
            "is_active",
            "client_id",
            "client_secret",
            "verify_ssl",
            "enable_post_logout_redirect",
            "enable_pkce",
            "discovery_url",
            "label",
            "management_url",
            "extra_scope",
            "user_field",
            "user_claim",
            "attribute_mapping",
            "extra_fields",
        ]
    );
}

#[test]
fn missing_and_invalid_fields_are_reported_together() {
    let errors = create_errors(&json!({"label": "", "verify_ssl": "x"}));
    assert_eq!(
        errors,
        json!({
            "provider": [REQUIRED],
            "client_id": [REQUIRED],
            "client_secret": [REQUIRED],
            "verify_ssl": [NOT_A_BOOLEAN],
            "discovery_url": [REQUIRED],
            "label": [BLANK],
        })
    );
    assert_eq!(
        keys(&errors),
        [
            "provider",
            "client_id",
            "client_secret",
            "verify_ssl",
            "discovery_url",
            "label"
        ]
    );
}

#[test]
fn validation_errors_serialise_to_the_same_text_as_their_json_value() {
    let body = json!({"provider": "", "protected_fields": [1, true]});
    let errors = idp_core::NewProvider::parse(&body, &any_slug()).unwrap_err();
    assert_eq!(
        errors.to_string(),
        serde_json::to_string(&serde_json::to_value(&errors).unwrap()).unwrap()
    );
    assert_eq!(
        errors.to_string(),
        r#"{"protected_fields":{"1":["Not a valid string."]},"provider":["This field may not be blank."],"client_id":["This field is required."],"client_secret":["This field is required."],"discovery_url":["This field is required."],"label":["This field is required."]}"#
    );
}
