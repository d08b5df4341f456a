//! Coercing claim values into user fields (the reference's rules), with the reference's
//! `SchacPersonalUniqueIDParsingTest` and `EnabledUserProfileAttributesSyncTest` cases.

use idp_core::USER_FIELDS;
use idp_core::login::{
    FieldKind, GENDER_CHOICES, PROFILE_FIELDS, SkipReason, coerce_value, parse_date,
    parse_schac_personal_unique_id, profile_field,
};
use serde_json::{Value, json};

use super::support::Setup;
use crate::common::{chars, check_rows};

/// The value a claim gives `field`, or the reason it was skipped.
fn coerce(field: &str, value: &Value) -> Value {
    match coerce_value(profile_field(field).expect("a field"), value) {
        Ok(value) => json!({ "ok": value }),
        Err(skip) => json!({ "skip": skip.reason }),
    }
}

fn ok(value: Value) -> Option<Value> {
    Some(json!({ "ok": value }))
}

fn skip(reason: &str) -> Option<Value> {
    Some(json!({ "skip": reason }))
}

#[test]
fn the_profile_fields_are_the_catalogues_in_its_order() {
    let names: Vec<&str> = PROFILE_FIELDS.iter().map(|f| f.name).collect();
    let catalogue: Vec<&str> = USER_FIELDS.iter().map(|f| f.name).collect();
    assert_eq!(names, catalogue);
    let lists: Vec<&str> = PROFILE_FIELDS
        .iter()
        .filter(|f| f.kind == FieldKind::List)
        .map(|f| f.name)
        .collect();
    assert_eq!(
        lists,
        ["affiliations", "nationalities", "eduperson_assurance"]
    );
    assert_eq!(GENDER_CHOICES, ["female", "male", "unknown"]);
}

#[test]
fn schac_personal_unique_ids_become_country_and_id() {
    // SchacPersonalUniqueIDParsingTest.
    let rows: Vec<(&str, Option<Value>)> = vec![
        (
            "urn:schac:personalUniqueID:EE:EST:60001019906",
            Some(json!("EE60001019906")),
        ),
        (
            "urn:schac:personalUniqueID:FI:FIN:010190-123A",
            Some(json!("FI010190-123A")),
        ),
        ("EE60001019906", Some(json!("EE60001019906"))),
        ("60001019906", Some(json!("60001019906"))),
        (
            "urn:schac:personalUniqueID:int:orcid:0000-0002-1825-0097",
            Some(json!("INT0000-0002-1825-0097")),
        ),
        (
            "urn:schac:personalUniqueID:lt:LTU:37501011234",
            Some(json!("LT37501011234")),
        ),
        // The identifier is the last part, even when the type holds colons.
        (
            "urn:schac:personalUniqueID:se:a:b:c:42",
            Some(json!("SE42")),
        ),
        // Fewer than three parts after the prefix, or another prefix: unchanged.
        (
            "urn:schac:personalUniqueID:EE:60001019906",
            Some(json!("urn:schac:personalUniqueID:EE:60001019906")),
        ),
        (
            "urn:schac:personalUniqueId:EE:EST:1",
            Some(json!("urn:schac:personalUniqueId:EE:EST:1")),
        ),
    ];
    check_rows(&rows, |value| {
        Some(json!(parse_schac_personal_unique_id(value)))
    });
}

#[test]
fn every_coercion_rule_for_every_kind_of_field() {
    let long = |n| json!(chars('x', n));
    let rows: Vec<((&str, Value), Option<Value>)> = vec![
        // Scalar text: lists unwrapped when they hold one value.
        (("first_name", json!("Ada")), ok(json!("Ada"))),
        (("first_name", json!(["Ada"])), ok(json!("Ada"))),
        (("first_name", json!(["Ada", "Eve"])), skip("multi_value")),
        (("first_name", json!([])), skip("empty")),
        (("organization_country", json!(["EE"])), ok(json!("EE"))),
        (
            ("organization_country", json!(["EE", "FI"])),
            skip("multi_value"),
        ),
        // Falsy values never enter the payload.
        (("first_name", json!("")), skip("empty")),
        (("first_name", json!(null)), skip("empty")),
        (("first_name", json!(false)), skip("empty")),
        (("first_name", json!(0)), skip("empty")),
        (("first_name", json!({})), skip("empty")),
        (("first_name", json!([""])), skip("empty")),
        (("first_name", json!([null])), skip("empty")),
        // Numbers are their JSON text; other non-text values are skipped.
        (
            ("organization_registry_code", json!(12345)),
            ok(json!("12345")),
        ),
        (("phone_number", json!(-1.5)), ok(json!("-1.5"))),
        (("first_name", json!(true)), skip("not_text")),
        (("first_name", json!({"a": 1})), skip("not_text")),
        (("first_name", json!([["Ada"]])), skip("not_text")),
        // Maximum lengths count characters; longer values are skipped, never cut.
        (("nationality", json!("EE")), ok(json!("EE"))),
        (("nationality", json!("EST")), skip("too_long")),
        (("nationality", json!("ÕÜ")), ok(json!("ÕÜ"))),
        (("first_name", long(100)), ok(long(100))),
        (("first_name", long(101)), skip("too_long")),
        (("email", long(320)), ok(long(320))),
        (("email", long(321)), skip("too_long")),
        (("organization_vat_code", long(21)), skip("too_long")),
        (("identity_source", long(51)), skip("too_long")),
        (("organization_country", json!(123)), skip("too_long")),
        // Dates: YYYY-MM-DD calendar days, zero-padded.
        (("birth_date", json!("1983-01-21")), ok(json!("1983-01-21"))),
        (("birth_date", json!(["1983-1-2"])), ok(json!("1983-01-02"))),
        (("birth_date", json!("2024-02-29")), ok(json!("2024-02-29"))),
        (("birth_date", json!("2023-02-29")), skip("invalid_date")),
        (("birth_date", json!("1900-02-29")), skip("invalid_date")),
        (("birth_date", json!("2000-02-29")), ok(json!("2000-02-29"))),
        (("birth_date", json!("1983-13-01")), skip("invalid_date")),
        (("birth_date", json!("1983-04-31")), skip("invalid_date")),
        (("birth_date", json!("0000-01-01")), skip("invalid_date")),
        (("birth_date", json!("21.01.1983")), skip("invalid_date")),
        (
            ("birth_date", json!("1983-01-21T00:00:00Z")),
            skip("invalid_date"),
        ),
        (("birth_date", json!("19830121")), skip("invalid_date")),
        (("birth_date", json!(19830121)), skip("invalid_date")),
        (("birth_date", json!("")), skip("empty")),
        // civil_number: schac parsing, and the limit applies to what is stored.
        (
            (
                "civil_number",
                json!("urn:schac:personalUniqueID:EE:EST:60001019906"),
            ),
            ok(json!("EE60001019906")),
        ),
        (
            (
                "civil_number",
                json!("urn:schac:personalUniqueID:int:orcid:0000-0002-1825-0097"),
            ),
            ok(json!("INT0000-0002-1825-0097")),
        ),
        (
            ("civil_number", json!(["EE60001019906"])),
            ok(json!("EE60001019906")),
        ),
        (
            ("civil_number", json!("urn:schac:personalUniqueID:::")),
            skip("empty"),
        ),
        (("civil_number", long(51)), skip("too_long")),
        // gender: lower-cased and one of the choices.
        (("gender", json!("MALE")), ok(json!("male"))),
        (("gender", json!(["Female"])), ok(json!("female"))),
        (("gender", json!("unknown")), ok(json!("unknown"))),
        (("gender", json!("enigmatic")), skip("invalid_gender")),
        (("gender", json!(1)), skip("invalid_gender")),
        (("gender", json!("not-applicable")), skip("too_long")),
        // List fields keep lists; one value becomes a one-item list.
        (
            (
                "affiliations",
                json!(["member@example.org", "staff@example.org"]),
            ),
            ok(json!(["member@example.org", "staff@example.org"])),
        ),
        (
            ("affiliations", json!("member@example.org")),
            ok(json!(["member@example.org"])),
        ),
        (
            ("nationalities", json!(["EE", "FI"])),
            ok(json!(["EE", "FI"])),
        ),
        (
            (
                "eduperson_assurance",
                json!([1, "https://refeds.org/assurance"]),
            ),
            ok(json!(["1", "https://refeds.org/assurance"])),
        ),
        (("affiliations", json!([])), skip("empty")),
        (("affiliations", json!("")), skip("empty")),
        (("affiliations", json!(["a", null])), skip("not_text")),
        (("affiliations", json!(["a", ["b"]])), skip("not_text")),
        (("affiliations", json!({"a": "b"})), skip("not_text")),
    ];
    check_rows(&rows, |(field, value)| Some(coerce(field, value)));
}

#[test]
fn skips_explain_themselves_without_the_value() {
    let field = profile_field("nationality").unwrap();
    let skip = coerce_value(field, &json!("EST")).unwrap_err();
    assert_eq!(skip.reason, SkipReason::TooLong);
    assert_eq!(skip.detail, "Value length 3 exceeds max_length 2.");
    let gender = profile_field("gender").unwrap();
    let skip = coerce_value(gender, &json!("enigmatic")).unwrap_err();
    assert_eq!(
        skip.detail,
        "The value is not one of female, male, unknown."
    );
    assert!(!skip.detail.contains("enigmatic"));
}

#[test]
fn dates_are_checked_without_a_date_library() {
    let rows: Vec<(&str, Option<Value>)> = vec![
        ("0001-01-01", Some(json!("0001-01-01"))),
        ("9999-12-31", Some(json!("9999-12-31"))),
        ("2024-1-1", Some(json!("2024-01-01"))),
        ("2024-001-01", None),
        ("24-01-01", None),
        ("2024-01-00", None),
        ("2024-00-01", None),
        ("2024-06-31", None),
        ("2024-01-01-", None),
        ("+024-01-01", None),
        ("２０２４-01-01", None),
        ("", None),
    ];
    check_rows(&rows, |text| parse_date(text).map(|d| json!(d)));
}

#[test]
fn enabled_attributes_are_synced_and_disabled_ones_are_not() {
    // EnabledUserProfileAttributesSyncTest.
    let setup = Setup::default()
        .map("first_name", "given_name")
        .map("last_name", "family_name")
        .map("email", "email")
        .map("birth_date", "birthdate")
        .map("gender", "gender")
        .map("civil_number", "schacPersonalUniqueID")
        .map("nationality", "schacCountryOfCitizenship");
    let claims = json!({
        "sub": "u1",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.org",
        "birthdate": "1983-01-21",
        "gender": "MALE",
        "schacPersonalUniqueID": "urn:schac:personalUniqueID:EE:EST:60001019906",
        "schacCountryOfCitizenship": "EE",
    });
    let values = |setup: &Setup| {
        let trace = setup.trace(claims.clone());
        trace
            .payload()
            .map(|(field, value)| (field, value.to_json()))
            .collect::<Vec<_>>()
    };

    // The default syncs every mapped field.
    assert_eq!(
        values(&setup),
        [
            ("first_name", json!("Ada")),
            ("last_name", json!("Lovelace")),
            ("civil_number", json!("EE60001019906")),
            ("email", json!("ada@example.org")),
            ("birth_date", json!("1983-01-21")),
            ("gender", json!("male")),
            ("nationality", json!("EE")),
        ]
    );
    // An empty list still syncs the core fields.
    assert_eq!(
        values(&setup.clone().sync_only("")),
        [
            ("first_name", json!("Ada")),
            ("last_name", json!("Lovelace")),
            ("email", json!("ada@example.org")),
        ]
    );
    // Selective sync.
    assert_eq!(
        values(&setup.clone().sync_only("birth_date, civil_number")),
        [
            ("first_name", json!("Ada")),
            ("last_name", json!("Lovelace")),
            ("civil_number", json!("EE60001019906")),
            ("email", json!("ada@example.org")),
            ("birth_date", json!("1983-01-21")),
        ]
    );
    // A disabled field says which claim would have filled it.
    let trace = setup.clone().sync_only("").trace(claims.clone());
    let gender = trace.fields.iter().find(|f| f.field == "gender").unwrap();
    assert!(!gender.synced);
    assert_eq!(gender.value, None);
    assert_eq!(gender.skipped[0].claim, "gender");
    assert_eq!(gender.skipped[0].reason, SkipReason::NotSynced);
}

#[test]
fn the_sync_setting_names_writable_fields_only() {
    assert_eq!(
        idp_core::login::SyncFields::parse("gender,username").unwrap_err(),
        "username is not a writable user field."
    );
}

#[test]
fn fallback_claims_are_tried_in_order() {
    // Keycloak's organization_country: org_reg_country, then the legacy org_country.
    let setup = Setup::default().map("organization_country", "org_reg_country org_country");
    let rows: Vec<(Value, Option<Value>)> = vec![
        (
            json!({"org_reg_country": ["EE"], "org_country": "FI"}),
            Some(json!(["EE", "org_reg_country", []])),
        ),
        (
            json!({"org_country": "FI"}),
            Some(json!(["FI", "org_country", ["absent"]])),
        ),
        (
            json!({"org_reg_country": ["EE", "FI"], "org_country": "LV"}),
            Some(json!(["LV", "org_country", ["multi_value"]])),
        ),
        (
            json!({"org_reg_country": "EST", "org_country": ""}),
            Some(json!([null, null, ["too_long", "empty"]])),
        ),
    ];
    check_rows(&rows, |claims| {
        let trace = setup.trace(claims.clone());
        let field = &trace.fields[0];
        let reasons: Vec<SkipReason> = field.skipped.iter().map(|s| s.reason).collect();
        Some(json!([field.value, field.claim, reasons]))
    });
}
