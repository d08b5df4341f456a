//! Validating an identity-provider configuration inside another Rust service, with the exact
//! rules and messages of the registry's API and no I/O.
//!
//! Run: `cargo run -p idp-core --example validate`

use idp_core::{NewProvider, ProviderEndpoints, ProviderNamePolicy, generate_mapping};
use serde_json::json;

fn main() {
    let names = ProviderNamePolicy::AnySlug;

    // A body with mistakes gets field-keyed messages, shaped as the API answers them.
    let bad = json!({"provider": "Bad Name", "label": "", "allowed_redirects": ["http://portal.example.com"]});
    match NewProvider::parse(&bad, &names) {
        Ok(_) => unreachable!("the body is invalid"),
        Err(errors) => println!(
            "rejected: {}",
            serde_json::to_string_pretty(&errors).unwrap()
        ),
    }

    // A valid Keycloak body gets Keycloak's defaults merged under the keys it sets.
    let body = json!({
        "provider": "keycloak",
        "label": "Staff login",
        "client_id": "portal",
        "client_secret": "s3cret",
        "discovery_url": "https://login.example.org/realms/staff/.well-known/openid-configuration",
        "attribute_mapping": {"email": "mail"},
    });
    let new = NewProvider::parse(&body, &names).expect("a valid body");
    // The endpoints come from the discovery document; idp-oidc fetches them.
    let provider = new.into_provider(ProviderEndpoints {
        auth_url: "https://login.example.org/auth".into(),
        token_url: "https://login.example.org/token".into(),
        userinfo_url: "https://login.example.org/userinfo".into(),
        logout_url: String::new(),
    });
    println!(
        "stored as: {}",
        serde_json::to_string_pretty(&provider.to_json(true, false)).unwrap()
    );

    // Mapping suggestions from the claims and scopes a provider advertises.
    let mapping = generate_mapping(
        &["sub", "email", "given_name", "family_name"],
        &["openid", "email", "profile"],
    );
    println!("suggested: {}", serde_json::to_string(&mapping).unwrap());
}
