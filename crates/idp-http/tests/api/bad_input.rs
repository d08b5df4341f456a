//! Every bad input gets a 4xx with the exact DRF-shaped body, and changes nothing: no row is
//! written or altered and no discovery document is fetched (`docs/decisions.md`, "Errors" and
//! "Field rules").

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    As, COLLECTION, Case, Effects, Expect, TestApp, detail, provider, spawn_app, spawn_app_with,
    waldur_names,
};
use crate::on_both_backends;
use idp_core::{Access, FieldRule, PROVIDER_FIELDS};
use idp_store::Backend;

on_both_backends!(
    create_rejects_bodies_that_are_not_a_json_object,
    create_with_an_empty_body_lists_the_five_required_fields_in_model_order,
    create_rejects_wrong_types_in_every_field,
    create_rejects_null_and_blank_where_they_are_not_allowed,
    create_rejects_strings_over_their_limits,
    create_rejects_unknown_fields_and_ignores_read_only_ones,
    create_rejects_invalid_provider_names,
    reference_names_setting_rejects_any_other_provider_name,
    create_of_an_existing_provider_reports_the_unique_error_with_the_others,
    create_rejects_non_object_attribute_mappings_and_bad_keys_and_values,
    create_reports_each_allowed_redirects_rule_and_element_errors_by_index,
    create_reports_protected_fields_errors_by_index,
    create_reports_all_field_errors_together_in_model_order,
    discovery_url_host_rules_are_checked_before_any_fetch,
    wrong_content_type_is_415_and_too_large_body_is_413,
    paths_without_trailing_slash_redirect_with_308_and_dotted_names_are_404,
    put_and_patch_reject_bad_bodies_and_leave_the_row_unchanged,
    put_lists_the_four_required_fields_in_model_order,
    update_checks_the_discovery_url_host_rule_against_the_stored_provider,
);

const REQUIRED: &str = "This field is required.";
const BLANK: &str = "This field may not be blank.";
const NULL: &str = "This field may not be null.";
const NOT_A_STRING: &str = "Not a valid string.";
const NOT_A_BOOLEAN: &str = "Must be a valid boolean.";
const INVALID_PROVIDER: &str = "Invalid provider.";
const DUPLICATE: &str = "identity provider with this provider already exists.";
const INVALID_DISCOVERY_URL: &str = "Invalid discovery URL.";

/// The writable fields whose rule `keep` selects, in model order, from the field definition:
/// a field added there is tested too.
fn fields_where(keep: impl Fn(FieldRule) -> bool) -> Vec<&'static str> {
    PROVIDER_FIELDS
        .iter()
        .filter(|field| matches!(field.access, Access::Writable { rule, .. } if keep(rule)))
        .map(|field| field.name)
        .collect()
}

/// The fields read as strings.
fn string_fields() -> Vec<&'static str> {
    fields_where(|rule| rule.text_limits().is_some())
}

/// The fields read as booleans.
fn boolean_fields() -> Vec<&'static str> {
    fields_where(|rule| rule == FieldRule::Boolean)
}

/// The fields read as lists.
fn list_fields() -> Vec<&'static str> {
    fields_where(|rule| matches!(rule, FieldRule::List | FieldRule::Redirects))
}

/// `{"<field>": ["<message>"]}`.
fn error(field: &str, message: &str) -> Value {
    json!({ field: [message] })
}

/// `body` with `key` set to `value`.
fn with(body: &Value, key: &str, value: Value) -> Value {
    let mut body = body.clone();
    body[key] = value;
    body
}

/// `body` without `keys`.
fn without(body: &Value, keys: &[&str]) -> Value {
    let mut body = body.clone();
    for key in keys {
        body.as_object_mut().unwrap().shift_remove(*key);
    }
    body
}

/// A valid create body for `acme` (its document is served, though no row should fetch it).
async fn acme_body(app: &TestApp) -> Value {
    app.new_provider_body("acme", "Acme").await
}

/// A create row as staff.
fn create<'a>(app: &'a TestApp, body: Value) -> Case<'a> {
    Case::new(Method::POST, COLLECTION, As::Token(&app.staff)).json(body)
}

/// A raw create row as staff.
fn create_raw<'a>(app: &'a TestApp, content_type: &'static str, bytes: &str) -> Case<'a> {
    Case::new(Method::POST, COLLECTION, As::Token(&app.staff)).raw(content_type, bytes)
}

fn five_required() -> Value {
    json!({
        "provider": [REQUIRED],
        "client_id": [REQUIRED],
        "client_secret": [REQUIRED],
        "discovery_url": [REQUIRED],
        "label": [REQUIRED],
    })
}

async fn create_rejects_bodies_that_are_not_a_json_object(backend: Backend) {
    let app = spawn_app(backend).await;
    let not_a_dict = |kind: &str| json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {kind}.")]});
    let cases = [
        create_raw(&app, "application/json", "{not json")
            .expect(400, Expect::DetailStartingWith("JSON parse error - ")),
        create_raw(&app, "application/json", r#"{"provider": "acme",}"#)
            .expect(400, Expect::DetailStartingWith("JSON parse error - ")),
        create_raw(&app, "application/json", r#"{"provider": "acme"} trailing"#)
            .expect(400, Expect::DetailStartingWith("JSON parse error - ")),
        create_raw(&app, "application/json", "\u{feff}{}")
            .expect(400, Expect::DetailStartingWith("JSON parse error - ")),
        create_raw(&app, "application/json", "[1, 2")
            .expect(400, Expect::DetailStartingWith("JSON parse error - ")),
        create(&app, json!([])).answers(400, not_a_dict("list")),
        create(&app, json!([{"provider": "acme"}])).answers(400, not_a_dict("list")),
        create(&app, json!("acme")).answers(400, not_a_dict("str")),
        create(&app, json!(42)).answers(400, not_a_dict("int")),
        create(&app, json!(4.2)).answers(400, not_a_dict("float")),
        create(&app, json!(true)).answers(400, not_a_dict("bool")),
        create(&app, json!(null)).answers(400, json!({"non_field_errors": ["No data provided"]})),
        create_raw(&app, "application/json", "null")
            .answers(400, json!({"non_field_errors": ["No data provided"]})),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_with_an_empty_body_lists_the_five_required_fields_in_model_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        create(&app, json!({})).answers(400, five_required()),
        create_raw(&app, "application/json", "").answers(400, five_required()),
        create_raw(&app, "application/json", " \n\t ").answers(400, five_required()),
        Case::new(Method::POST, COLLECTION, As::Token(&app.staff))
            .answers(400, five_required())
            .note("no body and no content type"),
        create(&app, json!({"is_active": false})).answers(400, five_required()),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_rejects_wrong_types_in_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let mut cases = Vec::new();
    for field in string_fields() {
        for value in [
            json!(true),
            json!(false),
            json!([]),
            json!(["a"]),
            json!({}),
            json!({"a": "b"}),
        ] {
            cases.push(
                create(&app, with(&base, field, value)).answers(400, error(field, NOT_A_STRING)),
            );
        }
    }
    for field in boolean_fields() {
        for value in [
            json!("maybe"),
            json!(""),
            json!(2),
            json!(-1),
            json!(0.5),
            json!([]),
            json!([true]),
            json!({}),
        ] {
            cases.push(
                create(&app, with(&base, field, value)).answers(400, error(field, NOT_A_BOOLEAN)),
            );
        }
    }
    for field in list_fields() {
        for (value, kind) in [
            (json!("a"), "str"),
            (json!(""), "str"),
            (json!({}), "dict"),
            (json!({"0": "a"}), "dict"),
            (json!(1), "int"),
            (json!(1.5), "float"),
            (json!(true), "bool"),
        ] {
            let message = format!("Expected a list of items but got type \"{kind}\".");
            cases
                .push(create(&app, with(&base, field, value)).answers(400, error(field, &message)));
        }
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_rejects_null_and_blank_where_they_are_not_allowed(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let mut cases = Vec::new();
    // `extra_scope` and `extra_fields` are nullable; `management_url` may be blank.
    for field in fields_where(|rule| rule.text_limits().is_none_or(|(_, _, null)| !null)) {
        cases.push(create(&app, with(&base, field, json!(null))).answers(400, error(field, NULL)));
    }
    for field in fields_where(|rule| rule.text_limits().is_some_and(|(_, blank, _)| !blank)) {
        for blank in ["", "   ", "\t\n"] {
            cases.push(
                create(&app, with(&base, field, json!(blank))).answers(400, error(field, BLANK)),
            );
        }
    }
    cases.push(
        create(&app, with(&base, "label", json!("a\u{0}b")))
            .answers(400, error("label", "Null characters are not allowed.")),
    );
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_rejects_strings_over_their_limits(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let long = |n: usize| "a".repeat(n);
    let too_long = |max: usize| format!("Ensure this field has no more than {max} characters.");
    let url_of = |n: usize| {
        let prefix = "https://idp.example.com/";
        format!("{prefix}{}", "a".repeat(n - prefix.len()))
    };
    let cases = [
        create(&app, with(&base, "provider", json!(long(33))))
            .answers(400, error("provider", &too_long(32))),
        create(&app, with(&base, "client_id", json!(long(201))))
            .answers(400, error("client_id", &too_long(200))),
        create(&app, with(&base, "client_secret", json!(long(201))))
            .answers(400, error("client_secret", &too_long(200))),
        create(&app, with(&base, "discovery_url", json!(url_of(201))))
            .answers(400, error("discovery_url", &too_long(200))),
        create(&app, with(&base, "label", json!(long(201))))
            .answers(400, error("label", &too_long(200))),
        create(&app, with(&base, "label", json!("é".repeat(201))))
            .answers(400, error("label", &too_long(200))),
        create(&app, with(&base, "management_url", json!(url_of(201))))
            .answers(400, error("management_url", &too_long(200))),
        create(&app, with(&base, "extra_scope", json!(long(201))))
            .answers(400, error("extra_scope", &too_long(200))),
        create(&app, with(&base, "extra_fields", json!(long(201))))
            .answers(400, error("extra_fields", &too_long(200))),
        create(&app, with(&base, "user_field", json!(long(101))))
            .answers(400, error("user_field", &too_long(100))),
        create(&app, with(&base, "user_claim", json!(long(101))))
            .answers(400, error("user_claim", &too_long(100))),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_rejects_unknown_fields_and_ignores_read_only_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let unknown = |key: &str| error(key, "Unknown field.");
    let cases = [
        create(&app, with(&base, "foo", json!(1))).answers(400, unknown("foo")),
        create(&app, with(&base, "id", json!(7))).answers(400, unknown("id")),
        create(&app, with(&base, "Provider", json!("acme"))).answers(400, unknown("Provider")),
        create(&app, with(&base, "scope", json!("openid"))).answers(400, unknown("scope")),
        create(&app, with(&base, "endpoints", json!({}))).answers(400, unknown("endpoints")),
        create(&app, with(&with(&base, "a", json!(1)), "b", json!(null))).answers(
            400,
            json!({"a": ["Unknown field."], "b": ["Unknown field."]}),
        ),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;

    // Read-only keys (even of the wrong type) are ignored: the endpoints come from the document.
    let mut body = base.clone();
    for key in ["userinfo_url", "token_url", "auth_url", "logout_url"] {
        body[key] = json!("https://attacker.example.com/");
    }
    body["auth_url"] = json!(5);
    let response = app.create(&body).await;
    let (status, created) = crate::helpers::status_and_json(response).await;
    assert_eq!(status, 201, "{created}");
    let idp = app.idp.uri();
    assert_eq!(created["auth_url"], format!("{idp}/acme/auth"));
    assert_eq!(created["token_url"], format!("{idp}/acme/token"));
    assert_eq!(created["userinfo_url"], format!("{idp}/acme/userinfo"));
    assert_eq!(created["logout_url"], format!("{idp}/acme/logout"));
}

async fn create_rejects_invalid_provider_names(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let mut cases = Vec::new();
    for name in [
        "Bad Name", "UPPER", "-lead", "_lead", "a.b", "a/b", "é", "tara!", "a b",
    ] {
        cases.push(
            create(&app, with(&base, "provider", json!(name)))
                .answers(400, error("provider", INVALID_PROVIDER)),
        );
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn reference_names_setting_rejects_any_other_provider_name(backend: Backend) {
    let app = spawn_app_with(backend, waldur_names()).await;
    let base = acme_body(&app).await;
    let mut cases = Vec::new();
    for name in [
        "generic",
        "remote-eduteams",
        "TARA",
        "Keycloak",
        "acme",
        "eduteams2",
    ] {
        cases.push(
            create(&app, with(&base, "provider", json!(name)))
                .answers(400, error("provider", INVALID_PROVIDER)),
        );
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_of_an_existing_provider_reports_the_unique_error_with_the_others(backend: Backend) {
    let app = spawn_app(backend).await;
    app.insert(&provider("acme", "Acme"));
    app.insert(&idp_core::Provider {
        is_active: false,
        ..provider("sleepy", "Sleepy")
    });
    let base = acme_body(&app).await;
    let cases = [
        create(&app, base.clone()).answers(400, error("provider", DUPLICATE)),
        create(&app, with(&base, "provider", json!("  acme "))).answers(400, error("provider", DUPLICATE)),
        create(&app, with(&base, "provider", json!("sleepy")))
            .answers(400, error("provider", DUPLICATE))
            .note("an inactive provider is taken too"),
        create(&app, with(&base, "label", json!("")))
            .answers(400, json!({"provider": [DUPLICATE], "label": [BLANK]}))
            .note("both errors, in model order"),
        create(&app, without(&base, &["client_id", "label"]))
            .answers(
                400,
                json!({"provider": [DUPLICATE], "client_id": [REQUIRED], "label": [REQUIRED]}),
            )
            .note("all errors, in model order"),
        create(&app, with(&base, "allowed_redirects", json!(["http://example.com"])))
            .answers(
                400,
                json!({
                    "allowed_redirects": ["HTTPS required for http://example.com. HTTP is only allowed for localhost."],
                    "provider": [DUPLICATE],
                }),
            )
            .note("allowed_redirects comes before provider in model order"),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;

    // A name outside the reference's three that is already stored: the unique rule wins.
    let app = spawn_app_with(backend, waldur_names()).await;
    app.insert(&provider("generic", "Generic"));
    let base = with(&acme_body(&app).await, "provider", json!("generic"));
    let cases = [create(&app, base).answers(400, error("provider", DUPLICATE))];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_rejects_non_object_attribute_mappings_and_bad_keys_and_values(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let mapping = |value: Value| with(&base, "attribute_mapping", value);
    let expect = |message: &str| error("attribute_mapping", message);
    let not_a_dict = |kind: &str| {
        expect(&format!(
            "Expected a dictionary of items but got type \"{kind}\"."
        ))
    };
    let cases = [
        create(&app, mapping(json!([]))).answers(400, not_a_dict("list")),
        create(&app, mapping(json!([["email", "email"]]))).answers(400, not_a_dict("list")),
        create(&app, mapping(json!("email=email"))).answers(400, not_a_dict("str")),
        create(&app, mapping(json!(""))).answers(400, not_a_dict("str")),
        create(&app, mapping(json!(5))).answers(400, not_a_dict("int")),
        create(&app, mapping(json!(2.5))).answers(400, not_a_dict("float")),
        create(&app, mapping(json!(true))).answers(400, not_a_dict("bool")),
        create(&app, mapping(json!({"foo": "bar"})))
            .answers(400, expect("Invalid attribute mapping keys: foo")),
        create(&app, mapping(json!({"email": "email", "username": "sub"})))
            .answers(400, expect("Invalid attribute mapping keys: username")),
        create(&app, mapping(json!({"Email": "email"})))
            .answers(400, expect("Invalid attribute mapping keys: Email")),
        create(&app, mapping(json!({"": "email"})))
            .answers(400, expect("Invalid attribute mapping keys: ")),
        create(&app, mapping(json!({"email": 1}))).answers(
            400,
            expect("Attribute mapping value for 'email' must be a string."),
        ),
        create(&app, mapping(json!({"email": null}))).answers(
            400,
            expect("Attribute mapping value for 'email' must be a string."),
        ),
        create(&app, mapping(json!({"email": ["mail"]}))).answers(
            400,
            expect("Attribute mapping value for 'email' must be a string."),
        ),
        create(&app, mapping(json!({"email": {"a": "b"}}))).answers(
            400,
            expect("Attribute mapping value for 'email' must be a string."),
        ),
        create(&app, mapping(json!({"email": ""}))).answers(
            400,
            expect("Attribute mapping value for 'email' is empty string."),
        ),
        create(
            &app,
            mapping(json!({"first_name": "given_name", "email": "  "})),
        )
        .answers(
            400,
            expect("Attribute mapping value for 'email' is empty string."),
        ),
        create(&app, mapping(json!({"first_name": 1, "email": ""})))
            .answers(
                400,
                expect("Attribute mapping value for 'first_name' must be a string."),
            )
            .note("the first bad value in order is reported"),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_reports_each_allowed_redirects_rule_and_element_errors_by_index(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let redirects = |value: Value| with(&base, "allowed_redirects", value);
    let expect = |message: &str| error("allowed_redirects", message);
    let cases = [
        create(&app, redirects(json!(["not a url"])))
            .answers(400, expect("Invalid redirect URL not a url: Enter a valid URL.")),
        create(&app, redirects(json!(["https://*.example.com"])))
            .answers(400, expect("Invalid redirect URL https://*.example.com: Enter a valid URL.")),
        create(&app, redirects(json!([1])))
            .answers(400, expect("Invalid redirect URL 1: Enter a valid URL."))
            .note("numbers are coerced to strings first"),
        create(&app, redirects(json!(["ftp://example.com"])))
            .answers(400, expect("Invalid URL scheme for ftp://example.com. Only http and https are allowed.")),
        create(&app, redirects(json!(["http://example.com"])))
            .answers(400, expect("HTTPS required for http://example.com. HTTP is only allowed for localhost.")),
        create(&app, redirects(json!(["http://localhost.evil.com"])))
            .answers(400, expect("HTTPS required for http://localhost.evil.com. HTTP is only allowed for localhost.")),
        create(&app, redirects(json!(["https://example.com/app"]))).answers(
            400,
            expect("Redirect URL must not contain a path: https://example.com/app. Only origin (scheme + domain + port) is allowed."),
        ),
        create(&app, redirects(json!(["https://example.com?a=1"])))
            .answers(400, expect("Redirect URL must not contain query parameters: https://example.com?a=1")),
        create(&app, redirects(json!(["https://example.com#top"])))
            .answers(400, expect("Redirect URL must not contain fragments: https://example.com#top")),
        create(&app, redirects(json!(["https://ok.example.com", "http://bad.example.com", "ftp://x.example.com"])))
            .answers(400, expect("HTTPS required for http://bad.example.com. HTTP is only allowed for localhost."))
            .note("the first bad element stops the check"),
        create(&app, redirects(json!(["https://ok.example.com", true])))
            .answers(400, json!({"allowed_redirects": {"1": [NOT_A_STRING]}})),
        create(&app, redirects(json!([{"url": "https://ok.example.com"}])))
            .answers(400, json!({"allowed_redirects": {"0": [NOT_A_STRING]}})),
        create(&app, redirects(json!(["", "https://ok.example.com", null, ["x"]])))
            .answers(400, json!({"allowed_redirects": {"0": [BLANK], "2": [NULL], "3": [NOT_A_STRING]}})),
        create(&app, redirects(json!("https://example.com")))
            .answers(400, expect("Expected a list of items but got type \"str\".")),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_reports_protected_fields_errors_by_index(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let fields = |value: Value| with(&base, "protected_fields", value);
    let cases = [
        create(&app, fields(json!("email,first_name"))).answers(
            400,
            error(
                "protected_fields",
                "Expected a list of items but got type \"str\".",
            ),
        ),
        create(&app, fields(json!({"email": true}))).answers(
            400,
            error(
                "protected_fields",
                "Expected a list of items but got type \"dict\".",
            ),
        ),
        create(&app, fields(json!([""]))).answers(400, json!({"protected_fields": {"0": [BLANK]}})),
        create(&app, fields(json!(["email", "  "])))
            .answers(400, json!({"protected_fields": {"1": [BLANK]}})),
        create(&app, fields(json!(["email", {}])))
            .answers(400, json!({"protected_fields": {"1": [NOT_A_STRING]}})),
        create(&app, fields(json!([false, null]))).answers(
            400,
            json!({"protected_fields": {"0": [NOT_A_STRING], "1": [NULL]}}),
        ),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn create_reports_all_field_errors_together_in_model_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({
        "label": "",
        "verify_ssl": "perhaps",
        "provider": "Bad Name",
        "allowed_redirects": "https://example.com",
        "attribute_mapping": [],
        "protected_fields": [true],
    });
    let cases = [create(&app, body).answers(
        400,
        json!({
            "protected_fields": {"0": [NOT_A_STRING]},
            "allowed_redirects": ["Expected a list of items but got type \"str\"."],
            "provider": [INVALID_PROVIDER],
            "client_id": [REQUIRED],
            "client_secret": [REQUIRED],
            "verify_ssl": [NOT_A_BOOLEAN],
            "discovery_url": [REQUIRED],
            "label": [BLANK],
            "attribute_mapping": ["Expected a dictionary of items but got type \"list\"."],
        }),
    )];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn discovery_url_host_rules_are_checked_before_any_fetch(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    // The loopback IdP's URL: if a rule let it through, the fetch would show up.
    let loopback = base["discovery_url"].as_str().unwrap().to_owned();
    let invalid = json!({"non_field_errors": [INVALID_DISCOVERY_URL]});
    let as_provider = |name: &str, url: &str| {
        with(
            &with(&base, "provider", json!(name)),
            "discovery_url",
            json!(url),
        )
    };
    let cases = [
        create(
            &app,
            as_provider(
                "keycloak",
                "https://proxy.eduteams.org/.well-known/openid-configuration",
            ),
        )
        .answers(400, invalid.clone()),
        create(
            &app,
            as_provider(
                "keycloak",
                "https://fooeduteams.org/.well-known/openid-configuration",
            ),
        )
        .answers(400, invalid.clone()),
        create(
            &app,
            as_provider("keycloak", "https://PROXY.EDUTEAMS.ORG:8443/x"),
        )
        .answers(400, invalid.clone()),
        create(
            &app,
            as_provider(
                "keycloak",
                "https://tara.ria.ee/.well-known/openid-configuration",
            ),
        )
        .answers(400, invalid.clone()),
        create(&app, as_provider("tara", &loopback)).answers(400, invalid.clone()),
        create(
            &app,
            as_provider("acme", "ftp://127.0.0.1/.well-known/openid-configuration"),
        )
        .answers(400, invalid.clone()),
        create(&app, as_provider("acme", "not a url")).answers(400, invalid.clone()),
        create(
            &app,
            as_provider("acme", "https:///.well-known/openid-configuration"),
        )
        .answers(400, invalid.clone()),
        create(
            &app,
            as_provider("acme", "127.0.0.1/.well-known/openid-configuration"),
        )
        .answers(400, invalid.clone()),
        create(
            &app,
            with(
                &as_provider("keycloak", "https://proxy.eduteams.org/x"),
                "label",
                json!(""),
            ),
        )
        .answers(400, error("label", BLANK))
        .note("the object-level rule runs only when every field is valid"),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn wrong_content_type_is_415_and_too_large_body_is_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = acme_body(&app).await;
    let valid = base.to_string();
    let unsupported =
        |media: &str| detail(&format!("Unsupported media type \"{media}\" in request."));
    let huge = with(&base, "label", json!("a".repeat(70 * 1024))).to_string();
    let just_over = {
        // Exactly 64 KiB + 1 byte of JSON.
        let text = with(&base, "management_url", json!("")).to_string();
        let pad = 64 * 1024 + 1 - text.len();
        with(&base, "management_url", json!(" ".repeat(pad))).to_string()
    };
    assert_eq!(just_over.len(), 64 * 1024 + 1);
    let cases = [
        create_raw(&app, "text/plain", &valid).answers(415, unsupported("text/plain")),
        create_raw(&app, "application/json; charset=utf-8", "{bad")
            .expect(400, Expect::DetailStartingWith("JSON parse error - "))
            .note("parameters of application/json are accepted"),
        create_raw(&app, "text/plain; charset=utf-8", &valid)
            .answers(415, unsupported("text/plain; charset=utf-8")),
        create_raw(
            &app,
            "application/x-www-form-urlencoded",
            "provider=acme&label=Acme",
        )
        .answers(415, unsupported("application/x-www-form-urlencoded")),
        create_raw(&app, "text/html", &valid).answers(415, unsupported("text/html")),
        create_raw(&app, "application/xml", "<provider/>")
            .answers(415, unsupported("application/xml")),
        create_raw(&app, "application/json", &huge).expect(413, Expect::AnyDetail),
        create_raw(&app, "application/json", &just_over).expect(413, Expect::AnyDetail),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;

    let multipart = app
        .send_raw(
            Method::POST,
            COLLECTION,
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"provider\"\r\n\r\nacme\r\n--x--\r\n"
                .to_vec(),
        )
        .await;
    let (status, body) = crate::helpers::status_and_json(multipart).await;
    assert_eq!(
        (status, body),
        (415, unsupported("multipart/form-data; boundary=x"))
    );
    assert!(app.snapshot().is_empty());
}

async fn paths_without_trailing_slash_redirect_with_308_and_dotted_names_are_404(backend: Backend) {
    let app = spawn_app(backend).await;
    app.insert(&provider("acme", "Acme"));
    let base = acme_body(&app).await;
    let staff = As::Token(&app.staff);
    let not_found = detail("Not found.");
    let cases = [
        Case::new(Method::POST, "/api/identity-providers", staff)
            .json(base.clone())
            .expect(308, Expect::Empty)
            .header("location", "/api/identity-providers/"),
        Case::new(Method::GET, "/api/identity-providers", As::Anonymous)
            .expect(308, Expect::Empty)
            .header("location", "/api/identity-providers/"),
        Case::new(
            Method::GET,
            "/api/identity-providers?page=2&page_size=5",
            As::Anonymous,
        )
        .expect(308, Expect::Empty)
        .header("location", "/api/identity-providers/?page=2&page_size=5"),
        Case::new(Method::PUT, "/api/identity-providers/acme", staff)
            .json(base.clone())
            .expect(308, Expect::Empty)
            .header("location", "/api/identity-providers/acme/"),
        Case::new(Method::PATCH, "/api/identity-providers/acme", staff)
            .json(json!({"label": "Changed"}))
            .expect(308, Expect::Empty)
            .header("location", "/api/identity-providers/acme/"),
        Case::new(Method::DELETE, "/api/identity-providers/acme", staff)
            .expect(308, Expect::Empty)
            .header("location", "/api/identity-providers/acme/"),
        Case::new(
            Method::POST,
            "/api/identity-providers/discover_metadata",
            staff,
        )
        .json(json!({"discovery_url": base["discovery_url"].clone()}))
        .expect(308, Expect::Empty)
        .header("location", "/api/identity-providers/discover_metadata/"),
        Case::new(Method::GET, "/api/identity-providers/a.b/", As::Anonymous)
            .answers(404, not_found.clone()),
        Case::new(Method::GET, "/api/identity-providers/a.b/", staff)
            .answers(404, not_found.clone()),
        Case::new(Method::PUT, "/api/identity-providers/acme.json/", staff)
            .json(base.clone())
            .answers(404, not_found.clone()),
        Case::new(Method::PATCH, "/api/identity-providers/a.b/", staff)
            .json(json!({"label": "x"}))
            .answers(404, not_found.clone()),
        Case::new(Method::DELETE, "/api/identity-providers/a.b/", staff)
            .answers(404, not_found.clone()),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
}

async fn put_and_patch_reject_bad_bodies_and_leave_the_row_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    let stored = app.insert(&provider("acme", "Acme"));
    let base = without(&acme_body(&app).await, &["provider"]);
    let staff = As::Token(&app.staff);
    let path = "/api/identity-providers/acme/";
    let not_a_dict = |kind: &str| json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {kind}.")]});
    let unsupported =
        |media: &str| detail(&format!("Unsupported media type \"{media}\" in request."));
    let huge = with(&base, "label", json!("a".repeat(70 * 1024))).to_string();
    let mut cases = Vec::new();
    for method in [Method::PUT, Method::PATCH] {
        let row = |body: Value| Case::new(method.clone(), path, staff).json(body);
        let raw = |content_type: &'static str, bytes: &str| {
            Case::new(method.clone(), path, staff).raw(content_type, bytes)
        };
        // For PATCH one key is enough; for PUT the rest of the body is valid.
        let one = |key: &str, value: Value| {
            if method == Method::PUT {
                row(with(&base, key, value))
            } else {
                row(json!({ key: value }))
            }
        };
        cases.extend([
            raw("application/json", "{not json").expect(400, Expect::DetailStartingWith("JSON parse error - ")),
            row(json!([])).answers(400, not_a_dict("list")),
            row(json!("acme")).answers(400, not_a_dict("str")),
            row(json!(null)).answers(400, json!({"non_field_errors": ["No data provided"]})),
            raw("text/plain", &base.to_string()).answers(415, unsupported("text/plain")),
            raw("application/x-www-form-urlencoded", "label=x").answers(415, unsupported("application/x-www-form-urlencoded")),
            raw("application/json", &huge).expect(413, Expect::AnyDetail),
            one("foo", json!(1)).answers(400, error("foo", "Unknown field.")),
            one("is_active", json!("maybe")).answers(400, error("is_active", NOT_A_BOOLEAN)),
            one("verify_ssl", json!(null)).answers(400, error("verify_ssl", NULL)),
            one("client_id", json!(true)).answers(400, error("client_id", NOT_A_STRING)),
            one("client_secret", json!("")).answers(400, error("client_secret", BLANK)),
            one("label", json!("a".repeat(201)))
                .answers(400, error("label", "Ensure this field has no more than 200 characters.")),
            one("discovery_url", json!(null)).answers(400, error("discovery_url", NULL)),
            one("user_field", json!(null)).answers(400, error("user_field", NULL)),
            one("user_claim", json!("a".repeat(101)))
                .answers(400, error("user_claim", "Ensure this field has no more than 100 characters.")),
            one("extra_scope", json!([])).answers(400, error("extra_scope", NOT_A_STRING)),
            one("protected_fields", json!("email"))
                .answers(400, error("protected_fields", "Expected a list of items but got type \"str\".")),
            one("protected_fields", json!(["email", ""])).answers(400, json!({"protected_fields": {"1": [BLANK]}})),
            one("allowed_redirects", json!(["http://example.com"])).answers(
                400,
                error("allowed_redirects", "HTTPS required for http://example.com. HTTP is only allowed for localhost."),
            ),
            one("allowed_redirects", json!(["https://ok.example.com", 1.5, false]))
                .answers(400, json!({"allowed_redirects": {"2": [NOT_A_STRING]}}))
                .note("1.5 is coerced to \"1.5\" and only fails the URL rules once every element is a string"),
            one("attribute_mapping", json!([]))
                .answers(400, error("attribute_mapping", "Expected a dictionary of items but got type \"list\".")),
            one("attribute_mapping", json!("email"))
                .answers(400, error("attribute_mapping", "Expected a dictionary of items but got type \"str\".")),
            one("attribute_mapping", json!(3))
                .answers(400, error("attribute_mapping", "Expected a dictionary of items but got type \"int\".")),
            one("attribute_mapping", json!({"foo": "x"}))
                .answers(400, error("attribute_mapping", "Invalid attribute mapping keys: foo")),
            one("attribute_mapping", json!({"email": ""}))
                .answers(400, error("attribute_mapping", "Attribute mapping value for 'email' is empty string.")),
            one("discovery_url", json!("ftp://idp.example.com/x"))
                .answers(400, json!({"non_field_errors": [INVALID_DISCOVERY_URL]})),
            one("label", json!(""))
                .json_with("provider", json!("renamed"))
                .answers(400, error("label", BLANK))
                .note("provider is ignored, the other errors are reported"),
        ]);
        cases.push(
            Case::new(method.clone(), "/api/identity-providers/unknown/", staff)
                .raw("application/json", "{not json")
                .no_provider()
                .note("the provider is looked up before the body is read"),
        );
    }
    app.check(&cases, Effects::NoWritesNoFetch).await;
    let after = app.stored("acme").expect("still there");
    assert_eq!(after, stored, "row and version unchanged");
}

async fn put_lists_the_four_required_fields_in_model_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let stored = app.insert(&provider("acme", "Acme"));
    let base = without(&acme_body(&app).await, &["provider"]);
    let staff = As::Token(&app.staff);
    let path = "/api/identity-providers/acme/";
    let put = |body: Value| Case::new(Method::PUT, path, staff).json(body);
    let cases = [
        put(json!({})).answers(
            400,
            json!({"client_id": [REQUIRED], "client_secret": [REQUIRED], "discovery_url": [REQUIRED], "label": [REQUIRED]}),
        ),
        Case::new(Method::PUT, path, staff).answers(
            400,
            json!({"client_id": [REQUIRED], "client_secret": [REQUIRED], "discovery_url": [REQUIRED], "label": [REQUIRED]}),
        ),
        put(json!({"provider": "acme", "is_active": true, "label": "Acme"})).answers(
            400,
            json!({"client_id": [REQUIRED], "client_secret": [REQUIRED], "discovery_url": [REQUIRED]}),
        ),
        put(without(&base, &["label"])).answers(400, error("label", REQUIRED)),
        put(without(&base, &["client_secret"])).answers(400, error("client_secret", REQUIRED)),
        put(without(&base, &["discovery_url"])).answers(400, error("discovery_url", REQUIRED)),
        put(without(&base, &["client_id", "label"]))
            .answers(400, json!({"client_id": [REQUIRED], "label": [REQUIRED]})),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
    assert_eq!(app.stored("acme"), Some(stored));
}

async fn update_checks_the_discovery_url_host_rule_against_the_stored_provider(backend: Backend) {
    let app = spawn_app(backend).await;
    let keycloak = app.insert(&provider("keycloak", "Keycloak"));
    let tara = app.insert(&idp_core::Provider {
        discovery_url: "https://tara.ria.ee/.well-known/openid-configuration".into(),
        ..provider("tara", "TARA")
    });
    let staff = As::Token(&app.staff);
    let loopback = app.serve_idp("elsewhere").await;
    let invalid = json!({"non_field_errors": [INVALID_DISCOVERY_URL]});
    let full = |url: &str| json!({"client_id": "c", "client_secret": "s", "label": "L", "discovery_url": url});
    let cases = [
        Case::new(Method::PATCH, "/api/identity-providers/keycloak/", staff)
            .json(json!({"discovery_url": "https://proxy.eduteams.org/.well-known/openid-configuration"}))
            .answers(400, invalid.clone()),
        Case::new(Method::PUT, "/api/identity-providers/keycloak/", staff)
            .json(full("https://tara-test.ria.ee/.well-known/openid-configuration"))
            .answers(400, invalid.clone()),
        Case::new(Method::PATCH, "/api/identity-providers/tara/", staff)
            .json(json!({"discovery_url": loopback}))
            .answers(400, invalid.clone()),
        Case::new(Method::PUT, "/api/identity-providers/tara/", staff)
            .json(full(&loopback))
            .answers(400, invalid.clone()),
        Case::new(Method::PATCH, "/api/identity-providers/tara/", staff)
            .json(json!({"provider": "acme", "discovery_url": loopback}))
            .answers(400, invalid.clone())
            .note("the stored name counts, not the one in the body"),
    ];
    app.check(&cases, Effects::NoWritesNoFetch).await;
    assert_eq!(app.stored("keycloak"), Some(keycloak));
    assert_eq!(app.stored("tara"), Some(tara));
}
