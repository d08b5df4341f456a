//! The relying party of a stored provider: its stored endpoints and credentials, and the login
//! metadata its discovery document gave (stored by create and update, or fetched through the
//! discovery cache and stored by the first login that finds none).

use actix_web::HttpRequest;
use chrono::NaiveDateTime;
use idp_core::Provider;
use idp_oidc::rp::{ProviderLoginMetadata, RelyingParty, RelyingPartyConfig};
use idp_oidc::{DiscoveryDocument, FetchPolicy};
use idp_store::StoredLoginMetadata;

use super::failure::{Failure, Outcome};
use crate::db::{blocking, read};
use crate::error::Chain;
use crate::handlers::observe_discovery;
use crate::state::AppState;

/// What a discovery document tells a login, as the store keeps it.
pub(crate) fn stored_metadata(
    document: &DiscoveryDocument,
    now: NaiveDateTime,
) -> StoredLoginMetadata {
    let metadata = ProviderLoginMetadata::from_document(document);
    StoredLoginMetadata {
        issuer: metadata.issuer,
        jwks_uri: metadata.jwks_uri,
        id_token_signing_algs: metadata.id_token_signing_alg_values_supported,
        token_endpoint_auth_methods: metadata.token_endpoint_auth_methods_supported,
        iss_parameter_supported: metadata.authorization_response_iss_parameter_supported,
        fetched_at: now,
    }
}

fn login_metadata(stored: StoredLoginMetadata) -> ProviderLoginMetadata {
    ProviderLoginMetadata {
        issuer: stored.issuer,
        jwks_uri: stored.jwks_uri,
        id_token_signing_alg_values_supported: stored.id_token_signing_algs,
        token_endpoint_auth_methods_supported: stored.token_endpoint_auth_methods,
        authorization_response_iss_parameter_supported: stored.iss_parameter_supported,
        ..ProviderLoginMetadata::default()
    }
}

/// The provider's login metadata: stored, or fetched (through the cache) and stored.
async fn metadata(
    req: &HttpRequest,
    state: &AppState,
    provider: &Provider,
) -> Result<ProviderLoginMetadata, Failure> {
    let name = provider.provider.clone();
    if let Some(stored) = read(state, move |store| store.login_metadata(&name)).await? {
        return Ok(login_metadata(stored));
    }
    let outcome = state
        .discovery
        .fetch_cached(&provider.discovery_url, provider.verify_ssl)
        .await;
    observe_discovery(req, &outcome);
    let document = outcome.map_err(|error| {
        tracing::info!(error = %Chain(&error), "discovery failed during a login");
        Failure::provider(
            Outcome::DiscoveryFailed,
            &provider.provider,
            "Unable to fetch the provider's discovery document.",
        )
    })?;
    let stored = stored_metadata(&document, state.settings.login.now());
    let name = provider.provider.clone();
    let saved = stored.clone();
    blocking(state, move |store| store.save_login_metadata(&name, &saved)).await?;
    Ok(login_metadata(stored))
}

/// The relying party of `provider` (its client secret opened), calling the provider under the
/// discovery policy's SSRF guard and the login's time limit.
pub(crate) async fn relying_party(
    req: &HttpRequest,
    state: &AppState,
    provider: &Provider,
) -> Result<RelyingParty, Failure> {
    let metadata = metadata(req, state, provider).await?;
    let login = &state.settings.login;
    let mut config = RelyingPartyConfig::from_metadata(
        &provider.provider,
        &provider.client_id,
        &provider.client_secret,
        &metadata,
    );
    // The stored endpoints win: an admin may have changed them after discovery.
    config.auth_url = provider.endpoints.auth_url.clone();
    config.token_url = provider.endpoints.token_url.clone();
    config.userinfo_url =
        Some(provider.endpoints.userinfo_url.clone()).filter(|url| !url.is_empty());
    config.verify_ssl = provider.verify_ssl;
    config.policy = FetchPolicy {
        timeout: login.provider_timeout,
        ..state.discovery.policy().clone()
    };
    RelyingParty::with_jwks_cache(config, login.jwks.clone()).map_err(|error| {
        tracing::warn!(error = %error, "a provider's configuration cannot log people in");
        Failure::provider(
            Outcome::ConfigurationInvalid,
            &provider.provider,
            "The identity provider's configuration is invalid.",
        )
    })
}
