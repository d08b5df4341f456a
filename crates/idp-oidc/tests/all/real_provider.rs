//! End to end against a real, certified OpenID Provider (`oidc-provider` in
//! `fixtures/oidc-provider`): discovery, the authorization URL, a login through its HTML forms,
//! the code exchange with both client authentication methods, with and without PKCE, the
//! verified ID token, userinfo and the claims, nested ones included.
//!
//! These tests fail, never skip, when Node.js or the npm packages are missing: run
//! `cargo xtask test` or `npm ci --prefix fixtures/oidc-provider`.

use idp_oidc::DiscoveryClient;
use idp_oidc::rp::{
    CallError, ClientAuthMethod, Completion, LoginError, LoginOutcome, LoginSecrets,
    ProviderLoginMetadata, RelyingParty, RelyingPartyConfig, TokenError,
};
use idp_oidc::testing::{RealProvider, RegisteredClient, browser_login, loopback_policy};
use serde_json::json;
use url::Url;

const REDIRECT_URI: &str = "http://127.0.0.1:9/api-auth/keycloak/complete/";
/// A secret (RFC 6749 allows printable ASCII) with the characters §2.3.1's form-encoding exists for.
const AWKWARD_SECRET: &str = "s3cr:t %/+&=~";

fn client(id: &str, method: &str, pkce: bool, alg: Option<&str>) -> RegisteredClient {
    RegisteredClient {
        client_id: id.to_owned(),
        client_secret: if method == "client_secret_basic" {
            AWKWARD_SECRET.to_owned()
        } else {
            format!("{id}-secret")
        },
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        token_endpoint_auth_method: method.to_owned(),
        pkce_required: pkce,
        id_token_signed_response_alg: alg.map(str::to_owned),
    }
}

fn start(clients: &[RegisteredClient]) -> RealProvider {
    RealProvider::start(clients).unwrap_or_else(|error| panic!("{error}"))
}

/// A relying party for `client`, from the provider's discovery document. Basic clients are
/// configured as the provider named `tara`, which the product authenticates with basic.
async fn relying_party(provider: &RealProvider, client: &RegisteredClient) -> RelyingParty {
    let document = DiscoveryClient::new(loopback_policy())
        .fetch(&provider.discovery_url(), true)
        .await
        .unwrap_or_else(|error| panic!("discovery: {error}"));
    let metadata = ProviderLoginMetadata::from_document(&document);
    assert!(metadata.authorization_response_iss_parameter_supported);
    let name = if client.token_endpoint_auth_method == "client_secret_basic" {
        "tara"
    } else {
        "keycloak"
    };
    let mut config = RelyingPartyConfig::from_metadata(
        name,
        &client.client_id,
        &client.client_secret,
        &metadata,
    );
    config.policy = loopback_policy();
    let expected = match client.token_endpoint_auth_method.as_str() {
        "client_secret_basic" => ClientAuthMethod::ClientSecretBasic,
        _ => ClientAuthMethod::ClientSecretPost,
    };
    assert_eq!(config.client_auth, expected);
    RelyingParty::new(config).unwrap_or_else(|error| panic!("configuration: {error}"))
}

/// Sends the browser to the authorization URL, logs in as `login`, consents, and returns the
/// callback URL the provider redirects to.
async fn authorize(rp: &RelyingParty, secrets: &LoginSecrets, login: &str) -> Url {
    let mut pairs = vec![
        ("response_type", "code".to_owned()),
        ("client_id", rp.config().client_id.clone()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
        ("scope", "openid profile email roles".to_owned()),
        ("state", secrets.state().to_owned()),
        ("nonce", secrets.nonce().to_owned()),
    ];
    if let Some(challenge) = secrets.pkce_challenge() {
        pairs.push(("code_challenge", challenge));
        pairs.push(("code_challenge_method", "S256".to_owned()));
    }
    let url = rp.authorization_url(pairs);
    browser_login(&url, login, REDIRECT_URI)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

fn parameter(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A whole login: authorization, callback checks, completion.
async fn log_in(rp: &RelyingParty, pkce: bool, login: &str) -> Result<LoginOutcome, LoginError> {
    let secrets = LoginSecrets::generate(pkce);
    let callback = authorize(rp, &secrets, login).await;
    assert_eq!(
        parameter(&callback, "state").as_deref(),
        Some(secrets.state())
    );
    let code = parameter(&callback, "code")
        .unwrap_or_else(|| panic!("no code in the callback {callback}"));
    let iss = parameter(&callback, "iss");
    assert_eq!(
        iss.as_deref(),
        rp.config().issuer.as_deref(),
        "RFC 9207 iss"
    );
    rp.complete(&Completion {
        code: &code,
        iss: iss.as_deref(),
        redirect_uri: REDIRECT_URI,
        nonce: secrets.nonce(),
        pkce_verifier: secrets.pkce_verifier(),
    })
    .await
}

fn assert_claims_of(outcome: &LoginOutcome, login: &str, alg: &str) {
    let id_token = outcome
        .id_token
        .as_ref()
        .unwrap_or_else(|| panic!("the provider sent no ID token"));
    assert_eq!(id_token.algorithm(), alg);
    assert_eq!(id_token.subject(), login);
    assert_eq!(
        id_token.claims()["realm_access"]["roles"],
        json!(["staff", "user"])
    );
    let claims = &outcome.claims;
    assert_eq!(claims["sub"], login);
    assert_eq!(claims["email"], format!("{login}@example.org"));
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["family_name"], "Tester");
    assert_eq!(claims["realm_access"]["roles"], json!(["staff", "user"]));
    let userinfo = outcome.userinfo.clone().unwrap_or_default();
    assert_eq!(userinfo["sub"], login);
    assert_eq!(userinfo["realm_access"]["roles"], json!(["staff", "user"]));
}

#[tokio::test]
async fn logins_with_basic_and_post_authentication_with_and_without_pkce() {
    let clients = [
        client("basic-pkce", "client_secret_basic", true, None),
        client("basic-plain", "client_secret_basic", false, Some("EdDSA")),
        client("post-pkce", "client_secret_post", true, Some("ES256")),
        client("post-plain", "client_secret_post", false, None),
    ];
    let provider = start(&clients);
    for (client, pkce, alg) in [
        (&clients[0], true, "RS256"),
        (&clients[1], false, "EdDSA"),
        (&clients[2], true, "ES256"),
        (&clients[3], false, "RS256"),
    ] {
        let rp = relying_party(&provider, client).await;
        let login = format!("ada-{}", client.client_id);
        let outcome = log_in(&rp, pkce, &login)
            .await
            .unwrap_or_else(|error| panic!("{}: {error:?}", client.client_id));
        assert_claims_of(&outcome, &login, alg);
        let keys = rp
            .jwks()
            .snapshot(rp.config().jwks_uri.as_deref().unwrap_or_default(), true);
        assert_eq!(
            keys.map(|keys| keys.key_count),
            Some(3),
            "RSA, P-256 and Ed25519 keys"
        );
    }
}

#[tokio::test]
async fn a_wrong_client_secret_gets_the_providers_invalid_client() {
    let clients = [
        client("post-client", "client_secret_post", false, None),
        client("basic-client", "client_secret_basic", false, None),
    ];
    let provider = start(&clients);
    for registered in &clients {
        let mut wrong = registered.clone();
        wrong.client_secret = "not-the-secret".to_owned();
        let rp = relying_party(&provider, &wrong).await;
        let outcome = log_in(&rp, false, "mallory").await;
        assert!(
            matches!(&outcome, Err(LoginError::Token(TokenError::Call(CallError::ErrorResponse { status: 401, error, .. }))) if error == "invalid_client"),
            "{}: {outcome:?}",
            registered.client_id
        );
    }
}

#[tokio::test]
async fn the_provider_enforces_pkce_and_single_use_codes() {
    let clients = [client("pkce-only", "client_secret_post", true, None)];
    let provider = start(&clients);
    let rp = relying_party(&provider, &clients[0]).await;
    // Without a challenge the provider refuses the authorization request.
    let secrets = LoginSecrets::generate(false);
    let callback = authorize(&rp, &secrets, "ada").await;
    assert_eq!(
        parameter(&callback, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(parameter(&callback, "code"), None);

    // A code is good once; the wrong verifier or a replay is the provider's invalid_grant.
    let secrets = LoginSecrets::generate(true);
    let callback = authorize(&rp, &secrets, "ada").await;
    let code = parameter(&callback, "code").unwrap_or_default();
    let other = LoginSecrets::generate(true);
    let wrong = rp
        .exchange_code(&code, REDIRECT_URI, other.pkce_verifier())
        .await;
    assert!(
        matches!(&wrong, Err(TokenError::Call(CallError::ErrorResponse { error, .. })) if error == "invalid_grant"),
        "{wrong:?}"
    );
    let secrets = LoginSecrets::generate(true);
    let callback = authorize(&rp, &secrets, "ada").await;
    let code = parameter(&callback, "code").unwrap_or_default();
    let first = rp
        .exchange_code(&code, REDIRECT_URI, secrets.pkce_verifier())
        .await;
    assert!(first.is_ok(), "{first:?}");
    let replay = rp
        .exchange_code(&code, REDIRECT_URI, secrets.pkce_verifier())
        .await;
    assert!(
        matches!(&replay, Err(TokenError::Call(CallError::ErrorResponse { error, .. })) if error == "invalid_grant"),
        "{replay:?}"
    );
    // The provider's ID token for another login attempt's nonce is refused.
    let id_token = first
        .ok()
        .and_then(|t| t.id_token().map(str::to_owned))
        .unwrap_or_default();
    let refused = rp.verify_id_token(&id_token, other.nonce()).await;
    assert!(
        matches!(refused, Err(idp_oidc::rp::IdTokenError::WrongNonce)),
        "{refused:?}"
    );
}
