//! Our OpenAPI document against the reference's (Waldur's `identity-providers` fragment), the
//! committed `docs/openapi.json` against the code, and `/api/schema/` itself.
//!
//! The reference OpenAPI fragment is not part of the repository: the tests that compare with it
//! are an extra suite that reads it from `IDP_REFERENCE_OPENAPI`, else from
//! `shared/fixtures/waldur-openapi-identity-providers.yaml` beside the checkout, and is skipped with
//! one line when it is absent (a failure with `IDP_REQUIRE_EXTRA_SUITES=1`). Every other test here
//! needs nothing outside the repository.
//!
//! The comparison resolves `$ref`s on both sides, then requires every operation, parameter,
//! status code, request body, response schema and response header of the reference to be in
//! ours and equal, and every component schema of the reference to be in ours and equal keyword
//! for keyword. Ours may add operations' descriptions, responses, headers and parameters (they
//! are listed in `docs/api-schema-additions.md`); inside a schema nothing may differ.
//!
//! The reference is OpenAPI 3.0.3 and utoipa writes 3.1.0, so one spelling is translated before
//! comparing: 3.0's `type: T` plus `nullable: true` and 3.1's `type: [T, "null"]` both become
//! `type: T, nullable: true`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use actix_web::test as atest;
use actix_web::{App, http::StatusCode};
use idp_fixtures::REFERENCE_OPENAPI;
use serde_json::{Map, Value, json};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Keywords that only show examples; ours may add or change them.
const EXAMPLE_KEYWORDS: [&str; 2] = ["example", "examples"];

/// The security scheme the reference offers that we do not implement.
const UNIMPLEMENTED_SCHEME: &str = "waldurOIDCAuth";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The reference OpenAPI fragment, or `None` (after saying so) when `test` must be skipped.
fn reference(test: &str) -> Option<Value> {
    let path = REFERENCE_OPENAPI.path_for_test(test)?;
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read the reference {}: {error}", path.display()));
    Some(yaml_serde::from_str(&text).expect("the reference document is YAML"))
}

fn ours() -> Value {
    serde_json::to_value(idp_http::openapi::document()).expect("our document serializes")
}

// ---------------------------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------------------------

/// Replaces every local `$ref` with what it points to, recursively.
fn resolve(root: &Value, value: &Value, depth: usize) -> Value {
    assert!(depth < 64, "a $ref cycle");
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let pointer = target
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("only local $refs are expected, got {target}"));
                let found = root
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling $ref {target}"));
                // 3.1 allows siblings of $ref (description, summary); they override the target's.
                let mut resolved = resolve(root, found, depth + 1);
                if let Value::Object(resolved_map) = &mut resolved {
                    for (key, sibling) in map.iter().filter(|(key, _)| *key != "$ref") {
                        resolved_map.insert(key.clone(), resolve(root, sibling, depth + 1));
                    }
                }
                return resolved;
            }
            Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), resolve(root, value, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| resolve(root, item, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A schema with nullability spelled one way: `nullable: true` next to a single `type`.
fn normalize_schema(schema: &Value) -> Map<String, Value> {
    let mut map = schema.as_object().cloned().unwrap_or_default();
    let mut nullable = map.remove("nullable") == Some(Value::Bool(true));
    if let Some(Value::Array(types)) = map.get("type").cloned() {
        let rest: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if rest.len() != types.len() {
            nullable = true;
        }
        match rest.len() {
            0 => {
                map.insert("type".into(), json!("null"));
            }
            1 => {
                map.insert("type".into(), rest[0].clone());
            }
            _ => {
                map.insert("type".into(), Value::Array(rest));
            }
        }
    }
    if nullable {
        map.insert("nullable".into(), Value::Bool(true));
    }
    // An empty description says nothing; utoipa drops some and keeps others.
    if map.get("description") == Some(&json!("")) {
        map.remove("description");
    }
    // 3.1's `propertyNames: {type: string}` (utoipa writes it for maps) restates that JSON
    // object keys are strings: no constraint, and 3.0 has no such keyword.
    if map.get("propertyNames") == Some(&json!({"type": "string"})) {
        map.remove("propertyNames");
    }
    // Defaults of the specification: absent means false.
    for flag in ["readOnly", "writeOnly", "deprecated", "uniqueItems"] {
        if map.get(flag) == Some(&Value::Bool(false)) {
            map.remove(flag);
        }
    }
    for keyword in EXAMPLE_KEYWORDS {
        map.remove(keyword);
    }
    map
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(absent)".to_owned(), Value::to_string)
}

/// Schemas must be equal keyword for keyword (nested schemas likewise).
fn compare_schema(at: &str, reference: &Value, ours: &Value, out: &mut Vec<String>) {
    let reference = normalize_schema(reference);
    let ours = normalize_schema(ours);
    let keys: BTreeSet<&String> = reference.keys().chain(ours.keys()).collect();
    for key in keys {
        let (r, o) = (reference.get(key), ours.get(key));
        let here = format!("{at}.{key}");
        match key.as_str() {
            "properties" => {
                let empty = Map::new();
                let r = r.and_then(Value::as_object).unwrap_or(&empty);
                let o = o.and_then(Value::as_object).unwrap_or(&empty);
                for (name, r_schema) in r {
                    match o.get(name) {
                        Some(o_schema) => {
                            compare_schema(&format!("{here}.{name}"), r_schema, o_schema, out)
                        }
                        None => out.push(format!("{here}.{name}: missing in ours")),
                    }
                }
                for name in o.keys().filter(|name| !r.contains_key(*name)) {
                    out.push(format!("{here}.{name}: in ours, not in the reference"));
                }
                // Generated clients and the docs list fields in this order.
                let r_order: Vec<&String> = r.keys().filter(|k| o.contains_key(*k)).collect();
                let o_order: Vec<&String> = o.keys().filter(|k| r.contains_key(*k)).collect();
                if r_order != o_order {
                    out.push(format!(
                        "{here}: property order: reference {r_order:?}, ours {o_order:?}"
                    ));
                }
            }
            "required" => {
                let set = |v: Option<&Value>| -> BTreeSet<String> {
                    v.and_then(Value::as_array)
                        .map(|items| {
                            items
                                .iter()
                                .filter_map(|i| i.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let (r, o) = (set(r), set(o));
                if r != o {
                    out.push(format!("{here}: reference {r:?}, ours {o:?}"));
                }
            }
            "items" | "additionalProperties" | "not"
                if r.is_some_and(Value::is_object) && o.is_some_and(Value::is_object) =>
            {
                compare_schema(&here, r.unwrap(), o.unwrap(), out)
            }
            "allOf" | "oneOf" | "anyOf" => {
                let empty = Vec::new();
                let r = r.and_then(Value::as_array).unwrap_or(&empty);
                let o = o.and_then(Value::as_array).unwrap_or(&empty);
                if r.len() != o.len() {
                    out.push(format!(
                        "{here}: reference has {} schemas, ours {}",
                        r.len(),
                        o.len()
                    ));
                }
                for (index, (r, o)) in r.iter().zip(o).enumerate() {
                    compare_schema(&format!("{here}[{index}]"), r, o, out);
                }
            }
            _ => {
                if r != o {
                    out.push(format!("{here}: reference {}, ours {}", show(r), show(o)));
                }
            }
        }
    }
}

fn object(value: Option<&Value>) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    value
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn is_true(value: Option<&Value>) -> bool {
    value == Some(&Value::Bool(true))
}

/// Compares a content map (media type → `{schema}`).
fn compare_content(at: &str, reference: &Value, ours: &Value, out: &mut Vec<String>) {
    for (media, r_media) in object(reference.get("content")) {
        match object(ours.get("content")).get(media) {
            None => out.push(format!("{at}.content.{media}: missing in ours")),
            Some(o_media) => match (r_media.get("schema"), o_media.get("schema")) {
                (Some(r), Some(o)) => {
                    compare_schema(&format!("{at}.content.{media}.schema"), r, o, out)
                }
                (Some(_), None) => out.push(format!("{at}.content.{media}.schema: missing")),
                _ => {}
            },
        }
    }
}

fn compare_operation(at: &str, reference: &Value, ours: &Value, out: &mut Vec<String>) {
    if reference.get("operationId") != ours.get("operationId") {
        out.push(format!(
            "{at}.operationId: reference {}, ours {}",
            show(reference.get("operationId")),
            show(ours.get("operationId"))
        ));
    }
    for key in ["summary", "description"] {
        if let Some(r) = reference.get(key)
            && ours.get(key) != Some(r)
        {
            out.push(format!(
                "{at}.{key}: reference {r}, ours {}",
                show(ours.get(key))
            ));
        }
    }
    let tags = |v: &Value| -> BTreeSet<String> {
        v.get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let missing_tags: Vec<String> = tags(reference).difference(&tags(ours)).cloned().collect();
    if !missing_tags.is_empty() {
        out.push(format!("{at}.tags: ours lack {missing_tags:?}"));
    }

    // Parameters, matched by (name, in).
    let params = |v: &Value| -> BTreeMap<(String, String), Value> {
        v.get("parameters")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|p| {
                        let key = (
                            p["name"].as_str().unwrap_or_default().to_owned(),
                            p["in"].as_str().unwrap_or_default().to_owned(),
                        );
                        (key, p.clone())
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let ours_params = params(ours);
    for ((name, place), r) in params(reference) {
        let here = format!("{at}.parameters[{place} {name}]");
        let Some(o) = ours_params.get(&(name.clone(), place.clone())) else {
            out.push(format!("{here}: missing in ours"));
            continue;
        };
        if is_true(r.get("required")) != is_true(o.get("required")) {
            out.push(format!(
                "{here}.required: reference {}, ours {}",
                show(r.get("required")),
                show(o.get("required"))
            ));
        }
        if let Some(description) = r.get("description")
            && o.get("description") != Some(description)
        {
            out.push(format!(
                "{here}.description: reference {description}, ours {}",
                show(o.get("description"))
            ));
        }
        compare_schema(
            &format!("{here}.schema"),
            r.get("schema").unwrap_or(&Value::Null),
            o.get("schema").unwrap_or(&Value::Null),
            out,
        );
    }
    // A parameter ours requires and the reference lacks would break the reference's clients.
    for ((name, place), o) in &ours_params {
        let known = params(reference).contains_key(&(name.clone(), place.clone()));
        if !known && is_true(o.get("required")) && place != "path" {
            out.push(format!(
                "{at}.parameters[{place} {name}]: required in ours only"
            ));
        }
    }

    // Request body.
    match (reference.get("requestBody"), ours.get("requestBody")) {
        (Some(r), Some(o)) => {
            let here = format!("{at}.requestBody");
            if is_true(r.get("required")) != is_true(o.get("required")) {
                out.push(format!(
                    "{here}.required: reference {}, ours {}",
                    show(r.get("required")),
                    show(o.get("required"))
                ));
            }
            compare_content(&here, r, o, out);
        }
        (Some(_), None) => out.push(format!("{at}.requestBody: missing in ours")),
        (None, Some(_)) => out.push(format!("{at}.requestBody: in ours only")),
        (None, None) => {}
    }

    // Responses, their descriptions, bodies and headers.
    let ours_responses = object(ours.get("responses"));
    for (status, r) in object(reference.get("responses")) {
        let here = format!("{at}.responses.{status}");
        let Some(o) = ours_responses.get(status) else {
            out.push(format!("{here}: missing in ours"));
            continue;
        };
        // The reference leaves most response descriptions empty; 3.1 requires one, so ours
        // says something there. A description the reference gives must be ours too.
        let described = r.get("description").is_some_and(|d| d != "");
        if described && r.get("description") != o.get("description") {
            out.push(format!(
                "{here}.description: reference {}, ours {}",
                show(r.get("description")),
                show(o.get("description"))
            ));
        }
        if r.get("content").is_none() && o.get("content").is_some() {
            out.push(format!(
                "{here}.content: ours has a body, the reference none"
            ));
        }
        compare_content(&here, r, o, out);
        let o_headers = object(o.get("headers"));
        for (name, r_header) in object(r.get("headers")) {
            let found = o_headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name));
            let Some((o_name, o_header)) = found else {
                out.push(format!("{here}.headers.{name}: missing in ours"));
                continue;
            };
            if o_name != name {
                out.push(format!("{here}.headers.{name}: spelled {o_name} in ours"));
            }
            if r_header.get("description") != o_header.get("description") {
                out.push(format!(
                    "{here}.headers.{name}.description: reference {}, ours {}",
                    show(r_header.get("description")),
                    show(o_header.get("description"))
                ));
            }
            compare_schema(
                &format!("{here}.headers.{name}.schema"),
                r_header.get("schema").unwrap_or(&Value::Null),
                o_header.get("schema").unwrap_or(&Value::Null),
                out,
            );
        }
    }

    // Security: token authentication on every operation, and no scheme we do not implement.
    let requirements = ours.get("security").and_then(Value::as_array);
    let names: Vec<&str> = requirements
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys().map(String::as_str))
        .collect();
    if !names.contains(&"tokenAuth") {
        out.push(format!("{at}.security: tokenAuth is not required"));
    }
    if names.contains(&UNIMPLEMENTED_SCHEME) {
        out.push(format!("{at}.security: claims {UNIMPLEMENTED_SCHEME}"));
    }
    let reference_names: Vec<&str> = reference
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys().map(String::as_str))
        .collect();
    if !reference_names.contains(&"tokenAuth") {
        out.push(format!(
            "{at}.security: the reference no longer names tokenAuth"
        ));
    }
}

/// Every mismatch between the reference and ours, one line each.
fn mismatches(reference_doc: &Value, ours_doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let reference = resolve(reference_doc, reference_doc, 0);
    let ours = resolve(ours_doc, ours_doc, 0);

    let ours_paths = object(ours.get("paths"));
    for (path, r_item) in object(reference.get("paths")) {
        let Some(o_item) = ours_paths.get(path) else {
            out.push(format!("paths.{path}: missing in ours"));
            continue;
        };
        for method in METHODS {
            match (r_item.get(method), o_item.get(method)) {
                (Some(r), Some(o)) => {
                    compare_operation(&format!("{method} {path}"), r, o, &mut out)
                }
                (Some(_), None) => out.push(format!("{method} {path}: missing in ours")),
                _ => {}
            }
        }
    }

    // Component schemas by name (resolved, so nested references are compared as content).
    let ours_schemas = object(ours.pointer("/components/schemas"));
    for (name, r) in object(reference.pointer("/components/schemas")) {
        match ours_schemas.get(name) {
            Some(o) => compare_schema(&format!("components.schemas.{name}"), r, o, &mut out),
            None => out.push(format!("components.schemas.{name}: missing in ours")),
        }
    }

    // The token scheme, exactly as in the reference; the OIDC bearer scheme is not claimed.
    let schemes = object(ours.pointer("/components/securitySchemes"));
    match (
        reference.pointer("/components/securitySchemes/tokenAuth"),
        schemes.get("tokenAuth"),
    ) {
        (Some(r), Some(o)) if r == o => {}
        (r, o) => out.push(format!(
            "components.securitySchemes.tokenAuth: reference {}, ours {}",
            show(r),
            show(o)
        )),
    }
    if schemes.contains_key(UNIMPLEMENTED_SCHEME) {
        out.push(format!(
            "components.securitySchemes: ours claims {UNIMPLEMENTED_SCHEME}"
        ));
    }
    // Every scheme an operation names must exist.
    for (path, item) in object(ours.get("paths")) {
        for (method, operation) in object(Some(item)) {
            for requirement in operation
                .get("security")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for name in object(Some(requirement)).keys() {
                    if !schemes.contains_key(name) {
                        out.push(format!("{method} {path}.security: unknown scheme {name}"));
                    }
                }
            }
        }
    }
    out
}

fn assert_no_mismatches(found: &[String]) {
    assert!(
        found.is_empty(),
        "our OpenAPI document differs from the reference in {} place(s):\n  {}",
        found.len(),
        found.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn ours_matches_the_reference() {
    let Some(reference) = reference("ours_matches_the_reference") else {
        return;
    };
    assert_no_mismatches(&mismatches(&reference, &ours()));
}

#[test]
fn every_operation_id_and_schema_name_of_the_reference_is_ours() {
    let doc = ours();
    let mut ids = BTreeSet::new();
    for item in object(doc.get("paths")).values() {
        for method in METHODS {
            if let Some(id) = item.get(method).and_then(|op| op["operationId"].as_str()) {
                ids.insert(id.to_owned());
            }
        }
    }
    for id in [
        "identity_providers_list",
        "identity_providers_retrieve",
        "identity_providers_create",
        "identity_providers_update",
        "identity_providers_partial_update",
        "identity_providers_destroy",
        "identity_providers_count",
        "identity_providers_discover_metadata",
        "identity_providers_generate_mapping",
    ] {
        assert!(ids.contains(id), "operationId {id} is missing: {ids:?}");
    }
    let schemas = object(doc.pointer("/components/schemas"));
    for name in [
        "IdentityProvider",
        "IdentityProviderRequest",
        "PatchedIdentityProviderRequest",
        "DiscoverMetadataRequestRequest",
        "DiscoverMetadataResponse",
        "WaldurFieldSuggestion",
    ] {
        assert!(schemas.contains_key(name), "schema {name} is missing");
    }
}

/// A change to our document.
type Mutation = Box<dyn Fn(&mut Value)>;

/// The comparison is real: each kind of change to our document is reported, taking our own
/// unchanged document as the reference (no file outside the repository needed).
#[test]
fn the_comparison_reports_every_kind_of_difference() {
    let ours = ours();
    assert_no_mismatches(&mismatches(&ours, &ours));
    assert_every_change_is_reported(&ours);
}

/// The same against the reference OpenAPI fragment itself (an extra suite).
#[test]
fn the_comparison_reports_every_kind_of_difference_from_the_reference() {
    let test = "the_comparison_reports_every_kind_of_difference_from_the_reference";
    let Some(reference) = reference(test) else {
        return;
    };
    assert_every_change_is_reported(&reference);
}

/// Applies each kind of change to our document and requires `mismatches` to report it.
fn assert_every_change_is_reported(reference: &Value) {
    let base = ours();
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "operationId",
            Box::new(|d| {
                d["paths"]["/api/identity-providers/"]["get"]["operationId"] = json!("list")
            }),
        ),
        (
            "missing in ours",
            Box::new(|d| {
                d["paths"]["/api/identity-providers/"]
                    .as_object_mut()
                    .unwrap()
                    .remove("head");
            }),
        ),
        (
            "parameters[query page_size]",
            Box::new(|d| {
                let params = d["paths"]["/api/identity-providers/"]["get"]["parameters"]
                    .as_array_mut()
                    .unwrap();
                params.retain(|p| p["name"] != "page_size");
            }),
        ),
        (
            "maxLength",
            Box::new(|d| {
                d["components"]["schemas"]["IdentityProvider"]["properties"]["provider"]["maxLength"] =
                    json!(33)
            }),
        ),
        (
            "nullable",
            Box::new(|d| {
                d["components"]["schemas"]["IdentityProvider"]["properties"]["extra_scope"]["type"] =
                    json!("string")
            }),
        ),
        (
            "protected_fields.type",
            Box::new(|d| {
                d["components"]["schemas"]["IdentityProviderRequest"]["properties"]["protected_fields"]
                    ["type"] = json!("object")
            }),
        ),
        (
            "readOnly",
            Box::new(|d| {
                d["components"]["schemas"]["IdentityProvider"]["properties"]["auth_url"]
                    .as_object_mut()
                    .unwrap()
                    .remove("readOnly");
            }),
        ),
        (
            "default",
            Box::new(|d| {
                d["components"]["schemas"]["DiscoverMetadataRequestRequest"]["properties"]["verify_ssl"]
                    ["default"] = json!(false)
            }),
        ),
        (
            "required",
            Box::new(|d| {
                d["components"]["schemas"]["WaldurFieldSuggestion"]["required"] = json!(["field"])
            }),
        ),
        (
            "requestBody.required",
            Box::new(|d| {
                d["paths"]["/api/identity-providers/{provider}/"]["patch"]["requestBody"]["required"] =
                    json!(true)
            }),
        ),
        (
            "responses.201",
            Box::new(|d| {
                let responses = d["paths"]["/api/identity-providers/"]["post"]["responses"]
                    .as_object_mut()
                    .unwrap();
                let created = responses.remove("201").unwrap();
                responses.insert("200".into(), created);
            }),
        ),
        (
            "headers.x-result-count",
            Box::new(|d| {
                d["paths"]["/api/identity-providers/"]["get"]["responses"]["200"]["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("x-result-count");
            }),
        ),
        (
            "tokenAuth",
            Box::new(|d| {
                d["paths"]["/api/identity-providers/discover_metadata/"]["post"]["security"] =
                    json!([])
            }),
        ),
        (
            "property order",
            Box::new(|d| {
                let properties = d["components"]["schemas"]["WaldurFieldSuggestion"]["properties"]
                    .as_object_mut()
                    .unwrap();
                let field = properties.remove("field").unwrap();
                properties.insert("field".into(), field);
            }),
        ),
        (
            "additionalProperties",
            Box::new(|d| {
                d["components"]["schemas"]["DiscoverMetadataResponse"]["properties"]["endpoints"]
                    ["additionalProperties"] = json!({"type": "integer"})
            }),
        ),
    ];
    let mut undetected = Vec::new();
    for (expected, mutate) in &mutations {
        let mut doc = base.clone();
        mutate(&mut doc);
        let found = mismatches(reference, &doc);
        if !found.iter().any(|line| line.contains(expected)) {
            undetected.push(format!("{expected}: {found:?}"));
        }
    }
    assert!(
        undetected.is_empty(),
        "undetected changes:\n{}",
        undetected.join("\n")
    );
}

/// `docs/openapi.json` is what the code generates. `cargo xtask openapi` rewrites it by running
/// this test with `IDP_BLESS=1`.
#[test]
fn committed_document_is_current() {
    let path = manifest_dir().join("../../docs/openapi.json");
    let generated = idp_http::openapi::document_json();
    if std::env::var_os("IDP_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale (or missing): run `cargo xtask openapi` and commit the result"
    );
}

#[actix_web::test]
async fn schema_endpoint_serves_json_and_yaml_to_anyone() {
    let app = atest::init_service(App::new().configure(idp_http::openapi::configure)).await;
    let expected = ours();

    let response = atest::call_service(
        &app,
        atest::TestRequest::get().uri("/api/schema/").to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = serde_json::from_slice(&atest::read_body(response).await).unwrap();
    assert_eq!(body, expected);

    let request = atest::TestRequest::get()
        .uri("/api/schema/?format=yaml")
        .to_request();
    let response = atest::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/yaml"),
        "{content_type}"
    );
    let text = String::from_utf8(atest::read_body(response).await.to_vec()).unwrap();
    assert!(
        text.starts_with("openapi:"),
        "not YAML: {}",
        &text[..text.len().min(80)]
    );
    let body: Value = yaml_serde::from_str(&text).unwrap();
    assert_eq!(body, expected);

    let request = atest::TestRequest::get()
        .uri("/api/schema/?format=xml")
        .to_request();
    let response = atest::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
