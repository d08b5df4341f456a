//! The mapping trace: field by field, the lookup, `details`, roles, the verified-email flag
//! and the claims nothing uses; the same value a login applies and a preview shows.

use idp_core::login::{
    IDENTITY_FIELD_MISSING, LoginError, RolesOutcome, SkipReason, is_lookup_field,
};
use serde_json::{Value, json};

use super::support::{Setup, provider};
use crate::common::check_rows;

#[test]
fn the_trace_serialises_with_stable_keys() {
    let setup = Setup::default()
        .map("email", "mail email")
        .map("gender", "gender")
        .map("not_a_field", "x")
        .extra("amr acr")
        .roles("/realm_access/roles");
    let trace = setup.trace(json!({
        "sub": "u1",
        "email": "ada@example.org",
        "email_verified": true,
        "gender": "enigmatic",
        "amr": ["pwd"],
        "acr": "",
        "realm_access": {"roles": ["staff"]},
        "iss": "https://idp.example.org",
        "aud": "portal",
    }));
    assert_eq!(
        serde_json::to_value(&trace).unwrap(),
        json!({
            "fields": [
                {
                    "field": "email",
                    "claims": "mail email",
                    "synced": true,
                    "value": "ada@example.org",
                    "claim": "email",
                    "skipped": [
                        {"claim": "mail", "reason": "absent", "detail": "The claim is not present."}
                    ]
                },
                {
                    "field": "gender",
                    "claims": "gender",
                    "synced": true,
                    "value": null,
                    "claim": null,
                    "skipped": [{
                        "claim": "gender",
                        "reason": "invalid_gender",
                        "detail": "The value is not one of female, male, unknown."
                    }]
                }
            ],
            "lookup": {
                "field": "username",
                "claims": "sub",
                "claim": "sub",
                "value": "u1",
                "skipped": [],
                "error": null
            },
            "details": {
                "claims": "amr acr",
                "value": {"amr": ["pwd"]},
                "skipped": [{"claim": "acr", "reason": "empty", "detail": "The value is empty."}]
            },
            "roles": {
                "claim": "/realm_access/roles",
                "status": "applied",
                "roles": ["staff"],
                "is_staff": true,
                "is_support": false
            },
            "email_verified": true,
            "unused_claims": ["aud", "iss"],
            "unknown_fields": ["not_a_field"]
        })
    );
}

#[test]
fn the_keycloak_defaults_map_a_typical_keycloak_user() {
    let keycloak = provider("keycloak");
    let trace = Setup::of(&keycloak).trace(json!({
        "sub": "f81d4fae",
        "email": "ada@example.org",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "schacPersonalUniqueID": "urn:schac:personalUniqueID:EE:EST:60001019906",
        "birthdate": "1983-01-21",
        "org_country": "EE",
        "preferred_username": "ada",
    }));
    let values: Vec<(&str, Value, &str)> = trace
        .fields
        .iter()
        .filter_map(|f| Some((f.field, f.value.as_ref()?.to_json(), f.claim.as_deref()?)))
        .collect();
    assert_eq!(
        values,
        [
            ("first_name", json!("Ada"), "given_name"),
            ("last_name", json!("Lovelace"), "family_name"),
            (
                "civil_number",
                json!("EE60001019906"),
                "schacPersonalUniqueID"
            ),
            ("email", json!("ada@example.org"), "email"),
            ("birth_date", json!("1983-01-21"), "birthdate"),
            ("organization_country", json!("EE"), "org_country"),
        ]
    );
    // Every mapped field is listed, in catalogue order, valued or not.
    assert_eq!(trace.fields.len(), keycloak.attribute_mapping.0.len());
    assert_eq!(trace.lookup.value(), Ok("f81d4fae"));
    assert_eq!(trace.unused_claims, ["preferred_username"]);
    assert_eq!(trace.details.value, None);
}

#[test]
fn the_lookup_takes_the_first_present_claim() {
    let lookup = |user_claim: &str, claims: Value| {
        let trace = Setup::default()
            .lookup("username", user_claim)
            .trace(claims);
        let reasons: Vec<SkipReason> = trace.lookup.skipped.iter().map(|s| s.reason).collect();
        Some(json!([trace.lookup.claim, trace.lookup.value, reasons]))
    };
    let rows: Vec<((&str, Value), Option<Value>)> = vec![
        (
            ("sub", json!({"sub": "u1"})),
            Some(json!(["sub", "u1", []])),
        ),
        (
            ("voperson_id sub", json!({"sub": "u1"})),
            Some(json!(["sub", "u1", ["absent"]])),
        ),
        (
            ("voperson_id sub", json!({"voperson_id": "v", "sub": "u1"})),
            Some(json!(["voperson_id", "v", []])),
        ),
        // A single-item list is unwrapped (the reference's migration 0016 case).
        (
            ("mail", json!({"mail": ["a@example.com"]})),
            Some(json!(["mail", "a@example.com", []])),
        ),
        (
            ("sub", json!({"sub": 12345})),
            Some(json!(["sub", "12345", []])),
        ),
        (
            ("/ids/0", json!({"ids": ["x"]})),
            Some(json!(["/ids/0", "x", []])),
        ),
        // Presence decides, even of a falsy value, as in the reference: no fallback.
        (
            ("sub email", json!({"sub": "", "email": "a@example.org"})),
            Some(json!([null, null, ["empty"]])),
        ),
        (
            ("sub email", json!({"sub": null, "email": "a@example.org"})),
            Some(json!([null, null, ["empty"]])),
        ),
        (
            ("mail", json!({"mail": ["a@example.com", "b@example.com"]})),
            Some(json!([null, null, ["multi_value"]])),
        ),
        (
            ("sub", json!({"sub": {"id": 1}})),
            Some(json!([null, null, ["not_text"]])),
        ),
        (
            ("sub", json!({"email": "a@example.org"})),
            Some(json!([null, null, ["absent"]])),
        ),
        (
            ("/bad~ sub", json!({"sub": "u1"})),
            Some(json!(["sub", "u1", ["invalid_pointer"]])),
        ),
    ];
    check_rows(&rows, |(claim, claims)| lookup(claim, claims.clone()));
}

#[test]
fn a_missing_lookup_value_is_the_references_error() {
    let trace = Setup::default().trace(json!({"email": "a@example.org"}));
    assert_eq!(trace.lookup.value(), Err(LoginError::IdentityFieldMissing));
    assert_eq!(
        LoginError::IdentityFieldMissing.detail("keycloak"),
        "keycloak error: Unable to match user because identity field is missing from user profile."
    );
    let error = serde_json::to_value(&trace.lookup.error).unwrap();
    assert_eq!(error["message"], IDENTITY_FIELD_MISSING);
    assert_eq!(error["detail"], "None of the user claims is present.");
}

#[test]
fn users_are_looked_up_by_username_or_a_single_value_field() {
    for field in [
        "username",
        "email",
        "civil_number",
        "first_name",
        "birth_date",
    ] {
        assert!(is_lookup_field(field), "{field}");
    }
    for field in ["affiliations", "nationalities", "is_staff", "password", ""] {
        assert!(!is_lookup_field(field), "{field}");
        let trace = Setup::default()
            .lookup(field, "sub")
            .trace(json!({"sub": "u1"}));
        assert_eq!(
            trace.lookup.value(),
            Err(LoginError::IdentityFieldMissing),
            "{field}"
        );
    }
}

#[test]
fn details_keep_truthy_raw_values_of_the_extra_fields() {
    let setup =
        Setup::default().extra("amr profile_attributes_translit /acr_values/0 missing zero");
    let trace = setup.trace(json!({
        "sub": "u1",
        "amr": ["mID"],
        "profile_attributes_translit": {"given_name": "Ada"},
        "acr_values": ["high"],
        "zero": 0,
    }));
    assert_eq!(
        Value::Object(trace.details.value.clone().unwrap()),
        json!({
            "amr": ["mID"],
            "profile_attributes_translit": {"given_name": "Ada"},
            "/acr_values/0": "high",
        })
    );
    let skipped: Vec<(&str, SkipReason)> = trace
        .details
        .skipped
        .iter()
        .map(|s| (s.claim.as_str(), s.reason))
        .collect();
    assert_eq!(
        skipped,
        [("missing", SkipReason::Absent), ("zero", SkipReason::Empty)]
    );
    // Nothing truthy: `details` is left alone.
    assert_eq!(
        setup.trace(json!({"sub": "u1", "amr": []})).details.value,
        None
    );
}

#[test]
fn role_claims_follow_the_reference() {
    let roles = |role_claim: &str, claims: Value| {
        let trace = Setup::default().roles(role_claim).trace(claims);
        trace
            .roles
            .map(|roles| serde_json::to_value(roles).unwrap())
    };
    let rows: Vec<((&str, Value), Option<Value>)> = vec![
        // test_user_assigned_roles_from_claims, test_existing_user_roles_revoked.
        (
            ("roles", json!({"roles": ["staff", "support"]})),
            Some(
                json!({"claim": "roles", "status": "applied", "roles": ["staff", "support"], "is_staff": true, "is_support": true}),
            ),
        ),
        (
            ("roles", json!({"roles": []})),
            Some(
                json!({"claim": "roles", "status": "applied", "roles": [], "is_staff": false, "is_support": false}),
            ),
        ),
        // A string is one role; non-text items are left out.
        (
            ("roles", json!({"roles": "support"})),
            Some(
                json!({"claim": "roles", "status": "applied", "roles": ["support"], "is_staff": false, "is_support": true}),
            ),
        ),
        (
            ("roles", json!({"roles": ["staff", 1, null]})),
            Some(
                json!({"claim": "roles", "status": "applied", "roles": ["staff"], "is_staff": true, "is_support": false}),
            ),
        ),
        // test_custom_role_claim_name, with a pointer into Keycloak's realm roles.
        (
            (
                "/realm_access/roles",
                json!({"realm_access": {"roles": ["staff"]}}),
            ),
            Some(
                json!({"claim": "/realm_access/roles", "status": "applied", "roles": ["staff"], "is_staff": true, "is_support": false}),
            ),
        ),
        // test_invalid_role_claim_format: ignored, flags kept.
        (
            ("roles", json!({"roles": {"staff": true}})),
            Some(
                json!({"claim": "roles", "status": "ignored", "detail": "Roles claim roles is not a list or string."}),
            ),
        ),
        (
            ("roles", json!({"roles": ""})),
            Some(
                json!({"claim": "roles", "status": "ignored", "detail": "Roles claim roles is not a list or string."}),
            ),
        ),
        (
            ("roles", json!({"roles": 7})),
            Some(
                json!({"claim": "roles", "status": "ignored", "detail": "Roles claim roles is not a list or string."}),
            ),
        ),
        // test_configured_role_claim_missing_from_response: flags kept.
        (
            ("roles", json!({"sub": "u1"})),
            Some(json!({"claim": "roles", "status": "absent"})),
        ),
        (
            ("roles", json!({"roles": null})),
            Some(json!({"claim": "roles", "status": "absent"})),
        ),
        // test_empty_role_claim_name: no role claim at all.
        (("", json!({"roles": ["staff"]})), None),
        (("  ", json!({"roles": ["staff"]})), None),
    ];
    check_rows(&rows, |(claim, claims)| roles(claim, claims.clone()));
    let ignored = Setup::default()
        .roles("/x~9")
        .trace(json!({}))
        .roles
        .unwrap();
    assert!(matches!(ignored.outcome, RolesOutcome::Ignored { .. }));
    assert_eq!(ignored.flags(), None);
}

#[test]
fn only_a_boolean_true_verifies_the_email() {
    let rows: Vec<(Value, Option<Value>)> = vec![
        (json!({"email_verified": true}), Some(json!(true))),
        (json!({"email_verified": false}), Some(json!(false))),
        (json!({"email_verified": "true"}), Some(json!(false))),
        (json!({"email_verified": 1}), Some(json!(false))),
        (json!({}), Some(json!(false))),
    ];
    check_rows(&rows, |claims| {
        Some(json!(Setup::default().trace(claims.clone()).email_verified))
    });
}

#[test]
fn unused_claims_are_those_nothing_reads() {
    let setup = Setup::default()
        .map("first_name", "given_name /name/first")
        .map("email", "/bad~")
        .extra("amr")
        .roles("/realm_access/roles");
    let trace = setup.trace(json!({
        "sub": "u1", "given_name": "Ada", "name": {"first": "Ada"}, "amr": [],
        "realm_access": {}, "email_verified": false, "zoneinfo": "x", "bad~": "y", "Acr": 1,
    }));
    assert_eq!(trace.unused_claims, ["Acr", "bad~", "zoneinfo"]);
}
