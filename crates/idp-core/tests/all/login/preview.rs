//! The admin's mapping preview: the bodies it reads (a stored provider's mapping or a draft
//! one, with the defaults of the named provider merged as on create), and what the trace shows
//! for the reference's coercion cases and for claim pointers.

use idp_core::login::{
    MAX_CLAIM_DEPTH, MappingConfig, MappingOptions, SyncFields, map_claims, parse_draft_preview,
    parse_preview,
};
use idp_core::{NewProvider, ProviderNamePolicy};
use serde_json::{Value, json};

/// The preview of `body` (a draft) as the trace serialises it.
fn preview(body: Value) -> Value {
    let draft = parse_draft_preview(&body).unwrap_or_else(|errors| panic!("{errors}"));
    let sync = SyncFields::Mapped;
    let trace = map_claims(
        &MappingConfig::from(&draft.provider),
        &MappingOptions {
            sync_fields: &sync,
            role_claim: None,
        },
        &draft.claims,
    );
    serde_json::to_value(trace).expect("JSON")
}

/// A field's trace in a preview.
fn field<'v>(preview: &'v Value, name: &str) -> &'v Value {
    preview["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|trace| trace["field"] == name)
        .unwrap_or_else(|| panic!("{name} is not mapped"))
}

fn errors(result: Result<impl std::fmt::Debug, idp_core::ValidationErrors>) -> Value {
    serde_json::to_value(result.expect_err("refused")).expect("JSON")
}

#[test]
fn a_draft_gets_the_named_providers_defaults_as_a_create_does() {
    for name in ["tara", "eduteams", "keycloak", "custom"] {
        let draft = parse_draft_preview(&json!({"claims": {}, "provider": name}))
            .unwrap_or_else(|errors| panic!("{errors}"));
        let created = NewProvider::parse(
            &json!({
                "provider": name, "client_id": "c", "client_secret": "s", "label": "L",
                "discovery_url": if name == "tara" {
                    "https://tara.ria.ee/oidc/.well-known/openid-configuration"
                } else {
                    "https://idp.example.org/.well-known/openid-configuration"
                },
            }),
            &ProviderNamePolicy::AnySlug,
        )
        .unwrap_or_else(|errors| panic!("{errors}"))
        .into_provider(Default::default());
        assert_eq!(draft.provider.user_field, created.user_field, "{name}");
        assert_eq!(draft.provider.user_claim, created.user_claim, "{name}");
        assert_eq!(draft.provider.extra_fields, created.extra_fields, "{name}");
        assert_eq!(
            draft.provider.attribute_mapping, created.attribute_mapping,
            "{name}"
        );
    }
    // What the draft gives wins; the defaults fill in the rest, after it.
    let draft = parse_draft_preview(&json!({
        "claims": {}, "provider": "keycloak", "user_claim": "email",
        "attribute_mapping": {"organization": "org"},
    }))
    .unwrap();
    assert_eq!(draft.provider.user_claim, "email");
    assert_eq!(draft.provider.attribute_mapping.0[0].0, "organization");
    assert!(draft.provider.attribute_mapping.get("email").is_some());
    // Without a name there are no defaults: the create defaults of any provider.
    let draft = parse_draft_preview(&json!({"claims": {}})).unwrap();
    assert_eq!(
        (
            draft.provider.user_field.as_str(),
            draft.provider.user_claim.as_str()
        ),
        ("username", "sub")
    );
    assert!(draft.provider.attribute_mapping.0.is_empty());
}

#[test]
fn bad_bodies_are_refused_with_field_keyed_messages() {
    let rows: Vec<(Value, Value)> = vec![
        (
            json!([]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
        (json!({}), json!({"claims": ["This field is required."]})),
        (
            json!({"claims": null}),
            json!({"claims": ["This field may not be null."]}),
        ),
        (
            json!({"claims": ["sub"]}),
            json!({"claims": ["Expected a dictionary of items but got type \"list\"."]}),
        ),
        (
            json!({"claims": "sub"}),
            json!({"claims": ["Expected a dictionary of items but got type \"str\"."]}),
        ),
        (
            json!({"claims": {}, "client_secret": "x", "discovery_url": "y"}),
            json!({"client_secret": ["Unknown field."], "discovery_url": ["Unknown field."]}),
        ),
        (
            json!({"claims": {}, "attribute_mapping": {"email": "/a~2b"}}),
            json!({"attribute_mapping": ["Attribute mapping value for 'email' is invalid: Invalid JSON Pointer \"/a~2b\": \"~\" must be followed by \"0\" or \"1\"."]}),
        ),
        (
            json!({"claims": {}, "attribute_mapping": {"password": "pw"}}),
            json!({"attribute_mapping": ["Invalid attribute mapping keys: password"]}),
        ),
        (
            json!({"claims": {}, "user_claim": "/x~"}),
            json!({"user_claim": ["Invalid JSON Pointer \"/x~\": \"~\" must be followed by \"0\" or \"1\"."]}),
        ),
        (
            json!({"claims": {}, "extra_fields": "amr /~3"}),
            json!({"extra_fields": ["Invalid JSON Pointer \"/~3\": \"~\" must be followed by \"0\" or \"1\"."]}),
        ),
        (
            json!({"claims": {}, "user_field": ""}),
            json!({"user_field": ["This field may not be blank."]}),
        ),
        (
            json!({"claims": {}, "provider": []}),
            json!({"provider": ["Not a valid string."]}),
        ),
        (
            json!({"claims": 1, "user_field": null, "extra": 1}),
            json!({"extra": ["Unknown field."], "claims": ["Expected a dictionary of items but got type \"int\"."], "user_field": ["This field may not be null."]}),
        ),
    ];
    for (body, expected) in rows {
        assert_eq!(errors(parse_draft_preview(&body)), expected, "{body}");
    }
    // A stored provider's preview takes the claims only.
    assert_eq!(
        errors(parse_preview(&json!({"claims": {}, "user_claim": "sub"}))),
        json!({"user_claim": ["Unknown field."]})
    );
    assert_eq!(
        errors(parse_preview(&json!({"claims": []}))),
        json!({"claims": ["Expected a dictionary of items but got type \"list\"."]})
    );
}

/// Claims nested `levels` deep, the claims object being the first level.
fn nested(levels: usize) -> Value {
    let mut value = json!("leaf");
    for level in (1..levels).rev() {
        value = if level % 2 == 0 {
            json!([value])
        } else {
            json!({ "k": value })
        };
    }
    json!({ "deep": value })
}

#[test]
fn claims_nested_too_deep_are_refused() {
    assert_eq!(MAX_CLAIM_DEPTH, 63);
    assert!(parse_preview(&json!({ "claims": nested(MAX_CLAIM_DEPTH) })).is_ok());
    assert_eq!(
        errors(parse_preview(
            &json!({ "claims": nested(MAX_CLAIM_DEPTH + 1) })
        )),
        json!({"claims": ["Claims may be nested at most 63 levels deep."]})
    );
    assert!(parse_draft_preview(&json!({ "claims": nested(100) })).is_err());
}

#[test]
fn the_references_coercion_cases_show_why_each_claim_was_skipped() {
    let p = preview(json!({
        "attribute_mapping": {
            "first_name": "given_name",
            "last_name": "family_name",
            "organization": "schac_home_organization",
            "affiliations": "eduperson_affiliation",
            "civil_number": "schacPersonalUniqueID",
            "email": "mail email",
            "birth_date": "date_of_birth birthdate",
            "gender": "gender",
            "nationality": "nationalities nationality",
            "country_of_residence": "country",
        },
        "claims": {
            "sub": "user-1",
            "given_name": ["Mari"],
            "family_name": ["Maasikas", "Kask"],
            "schac_home_organization": "",
            "eduperson_affiliation": "member",
            "schacPersonalUniqueID": "urn:schac:personalUniqueID:ee:EST:60001019906",
            "email": "mari@example.org",
            "date_of_birth": "2001-02-29",
            "birthdate": "2000-02-29",
            "gender": "Other",
            "nationalities": ["EE", "FI"],
            "nationality": "EST",
            "country": true,
            "iss": "https://idp.example.org",
        },
    }));
    let value = |name: &str| field(&p, name)["value"].clone();
    let claim = |name: &str| field(&p, name)["claim"].clone();
    let reasons = |name: &str| -> Vec<Value> {
        field(&p, name)["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|skip| json!([skip["claim"], skip["reason"]]))
            .collect()
    };
    // Catalogue order, not the mapping's.
    let order: Vec<&str> = p["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|trace| trace["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "first_name",
            "last_name",
            "organization",
            "affiliations",
            "civil_number",
            "email",
            "birth_date",
            "gender",
            "country_of_residence",
            "nationality",
        ]
    );
    assert_eq!(value("first_name"), "Mari");
    assert_eq!(value("last_name"), Value::Null);
    assert_eq!(
        reasons("last_name"),
        [json!(["family_name", "multi_value"])]
    );
    assert_eq!(
        reasons("organization"),
        [json!(["schac_home_organization", "empty"])]
    );
    assert_eq!(value("affiliations"), json!(["member"]));
    assert_eq!(value("civil_number"), "EE60001019906");
    assert_eq!(
        (value("email"), claim("email")),
        (json!("mari@example.org"), json!("email"))
    );
    assert_eq!(reasons("email"), [json!(["mail", "absent"])]);
    assert_eq!(
        (value("birth_date"), claim("birth_date")),
        (json!("2000-02-29"), json!("birthdate"))
    );
    assert_eq!(
        reasons("birth_date"),
        [json!(["date_of_birth", "invalid_date"])]
    );
    assert_eq!(reasons("gender"), [json!(["gender", "invalid_gender"])]);
    assert_eq!(
        reasons("nationality"),
        [
            json!(["nationalities", "multi_value"]),
            json!(["nationality", "too_long"])
        ]
    );
    assert_eq!(
        reasons("country_of_residence"),
        [json!(["country", "not_text"])]
    );
    assert_eq!(p["lookup"]["claim"], "sub");
    assert_eq!(p["lookup"]["value"], "user-1");
    assert_eq!(p["unused_claims"], json!(["iss"]));
    // No value is quoted in a skip.
    for trace in p["fields"].as_array().unwrap() {
        for skip in trace["skipped"].as_array().unwrap() {
            let detail = skip["detail"].as_str().unwrap();
            for secret in ["Maasikas", "Other", "EST", "2001-02-29"] {
                assert!(!detail.contains(secret), "{detail}");
            }
        }
    }
}

#[test]
fn a_field_the_deployment_does_not_sync_is_shown_as_not_synced() {
    let draft = parse_draft_preview(&json!({
        "attribute_mapping": {"organization": "org", "email": "email"},
        "claims": {"sub": "u", "org": "Example", "email": "a@example.org"},
    }))
    .unwrap();
    let sync = SyncFields::parse("").unwrap();
    let trace = map_claims(
        &MappingConfig::from(&draft.provider),
        &MappingOptions {
            sync_fields: &sync,
            role_claim: None,
        },
        &draft.claims,
    );
    let p = serde_json::to_value(trace).unwrap();
    assert_eq!(field(&p, "organization")["value"], Value::Null);
    assert_eq!(
        field(&p, "organization")["skipped"][0]["reason"],
        "not_synced"
    );
    assert_eq!(field(&p, "email")["value"], "a@example.org");
}

#[test]
fn pointers_reach_into_objects_and_lists_and_say_where_they_stopped() {
    let p = preview(json!({
        "user_field": "civil_number",
        "user_claim": "/ids/9 /ids/national",
        "attribute_mapping": {
            "affiliations": "/realm_access/roles",
            "organization": "/groups/2 /groups/1",
            "country_of_residence": "/address/country/code /address/country",
            "first_name": "/names/first /names/0 /a~1b",
            "email": "/emails/01 /emails/-",
        },
        "extra_fields": "/realm_access/roles /missing/x",
        "claims": {
            "realm_access": {"roles": ["staff", "member"]},
            "groups": ["g0", "g1"],
            "address": {"country": "EE"},
            "names": ["Mari"],
            "a/b": "slash",
            "emails": ["a@example.org"],
            "ids": {"national": "EE600"},
            "unused": 1,
        },
    }));
    assert_eq!(
        field(&p, "affiliations")["value"],
        json!(["staff", "member"])
    );
    let organization = field(&p, "organization");
    assert_eq!(organization["value"], "g1");
    assert_eq!(organization["skipped"][0]["reason"], "absent");
    assert_eq!(
        organization["skipped"][0]["detail"],
        "Index 2 is past the end of /groups, a list of 2."
    );
    let country = field(&p, "country_of_residence");
    assert_eq!(country["value"], "EE");
    assert_eq!(
        country["skipped"][0]["detail"],
        "/address/country is neither an object nor a list."
    );
    let first_name = field(&p, "first_name");
    assert_eq!(
        first_name["skipped"][0]["detail"],
        "\"first\" is not an index into the list /names."
    );
    assert_eq!(first_name["value"], "Mari");
    let email = field(&p, "email");
    assert_eq!(email["value"], Value::Null);
    assert_eq!(
        email["skipped"][0]["detail"],
        "\"01\" is not an index into the list /emails."
    );
    assert_eq!(
        email["skipped"][1]["detail"],
        "\"-\" is not an index into the list /emails."
    );
    assert_eq!(
        p["lookup"]["skipped"][0]["detail"],
        "/ids has no key \"9\"."
    );
    assert_eq!(p["lookup"]["claim"], "/ids/national");
    assert_eq!(p["lookup"]["value"], "EE600");
    assert_eq!(
        p["details"]["value"],
        json!({"/realm_access/roles": ["staff", "member"]})
    );
    assert_eq!(
        p["details"]["skipped"][0]["detail"],
        "The claim is not present."
    );
    // A pointer uses its first token's claim; `a/b` is read by `/a~1b` only when tried.
    assert_eq!(p["unused_claims"], json!(["unused"]));
    // The draft's escaped pointer reads the key with a slash.
    let p = preview(json!({
        "attribute_mapping": {"first_name": "/a~1b"},
        "claims": {"a/b": "slash"},
    }));
    assert_eq!(field(&p, "first_name")["value"], "slash");
}
