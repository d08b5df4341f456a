//! The pure cost of the rules: validating a create body, and serialising a page of 100
//! providers as the list endpoint does.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idp_core::{NewProvider, Provider, ProviderEndpoints, ProviderNamePolicy};
use serde_json::{Value, json};

fn body(i: usize) -> Value {
    json!({
        "provider": "keycloak",
        "label": format!("Provider {i}"),
        "client_id": "portal",
        "client_secret": "s3cret-value",
        "discovery_url": "https://login.example.org/realms/staff/.well-known/openid-configuration",
        "attribute_mapping": {"email": "email", "first_name": "given_name", "last_name": "family_name"},
        "allowed_redirects": ["https://portal.example.org", "https://admin.example.org:8443"],
        "protected_fields": ["email"],
        "extra_scope": "email profile",
    })
}

fn provider(i: usize) -> Provider {
    NewProvider::parse(&body(i), &ProviderNamePolicy::AnySlug)
        .expect("valid")
        .into_provider(ProviderEndpoints {
            auth_url: "https://login.example.org/auth".into(),
            token_url: "https://login.example.org/token".into(),
            userinfo_url: "https://login.example.org/userinfo".into(),
            logout_url: "https://login.example.org/logout".into(),
        })
}

fn rules(c: &mut Criterion) {
    let names = ProviderNamePolicy::AnySlug;
    let valid = body(0);
    c.bench_function("validate a create body (keycloak, defaults merged)", |b| {
        b.iter(|| NewProvider::parse(black_box(&valid), &names))
    });
    let invalid = json!({"provider": "Bad Name", "label": "", "allowed_redirects": ["http://x.example.com", 3], "attribute_mapping": []});
    c.bench_function("validate an invalid create body", |b| {
        b.iter(|| NewProvider::parse(black_box(&invalid), &names))
    });
    let page: Vec<Provider> = (0..100).map(provider).collect();
    c.bench_function("serialise a page of 100 providers (staff)", |b| {
        b.iter(|| {
            let items: Vec<Value> = black_box(&page)
                .iter()
                .map(|p| p.to_json(true, true))
                .collect();
            serde_json::to_vec(&items).expect("serialisable")
        })
    });
    c.bench_function("serialise a page of 100 providers (anonymous)", |b| {
        b.iter(|| {
            let items: Vec<Value> = black_box(&page)
                .iter()
                .map(|p| p.to_json(false, false))
                .collect();
            serde_json::to_vec(&items).expect("serialisable")
        })
    });
}

criterion_group!(benches, rules);
criterion_main!(benches);
