//! How a relying party is configured, and how it authenticates at the token endpoint.

use std::fmt;

use crate::policy::FetchPolicy;
use crate::rp::metadata::ProviderLoginMetadata;

/// How the client authenticates at the token endpoint (`docs/decisions.md`, "Logging people in").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `client_secret_basic`: `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`,
    /// with the RFC 6749 §2.3.1 form-urlencoding the reference skips.
    ClientSecretBasic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

impl ClientAuthMethod {
    /// The method for a provider: `client_secret_basic` for the provider named `tara` (as the
    /// reference) and for providers whose discovery lists basic but not post among
    /// `token_endpoint_auth_methods_supported`; `client_secret_post` otherwise, the reference's
    /// choice for everyone else (even though OpenID Connect's default is basic).
    pub fn for_provider(provider: &str, supported: Option<&[String]>) -> Self {
        let lists = |method: &str| supported.is_some_and(|all| all.iter().any(|m| m == method));
        if provider == "tara" || (lists("client_secret_basic") && !lists("client_secret_post")) {
            Self::ClientSecretBasic
        } else {
            Self::ClientSecretPost
        }
    }

    /// The method's registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

/// Everything a [`RelyingParty`](crate::rp::RelyingParty) needs to know about one provider.
///
/// The endpoints come from the stored provider configuration (which the admin may have edited
/// after discovery); `issuer`, `jwks_uri`, the signing algorithms and the `iss` promise come from
/// the provider's discovery document ([`RelyingPartyConfig::from_metadata`] fills them all).
/// `Debug` does not show the client secret.
#[derive(Clone)]
pub struct RelyingPartyConfig {
    /// The provider's name (slug), e.g. `keycloak`; only `tara` changes behaviour.
    pub provider: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret; also the key of HS256/384/512 ID tokens.
    pub client_secret: String,
    /// The discovered issuer; without it no ID token and no `iss` parameter is accepted.
    pub issuer: Option<String>,
    /// The authorization endpoint, which may already carry a query.
    pub auth_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The userinfo endpoint; without it the claims are the ID token's alone.
    pub userinfo_url: Option<String>,
    /// The provider's key set; without it only HS* ID tokens can be checked.
    pub jwks_uri: Option<String>,
    /// `id_token_signing_alg_values_supported` from discovery: HS* algorithms are accepted only
    /// when listed here.
    pub id_token_signing_algs: Vec<String>,
    /// Whether discovery promises an `iss` in every authorization response (RFC 9207).
    pub requires_iss_parameter: bool,
    /// How the client authenticates at the token endpoint.
    pub client_auth: ClientAuthMethod,
    /// `false` accepts any TLS certificate from the provider (the API's `verify_ssl`).
    pub verify_ssl: bool,
    /// The SSRF guard's exceptions and the limits of every call: `allow_networks`, the time
    /// limit (10 s by default) and the body cap. Redirect and cache settings do not apply.
    pub policy: FetchPolicy,
}

impl fmt::Debug for RelyingPartyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelyingPartyConfig")
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .field("issuer", &self.issuer)
            .field("auth_url", &self.auth_url)
            .field("token_url", &self.token_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("jwks_uri", &self.jwks_uri)
            .field("id_token_signing_algs", &self.id_token_signing_algs)
            .field("requires_iss_parameter", &self.requires_iss_parameter)
            .field("client_auth", &self.client_auth)
            .field("verify_ssl", &self.verify_ssl)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl RelyingPartyConfig {
    /// A configuration whose endpoints, issuer, key set, algorithms, `iss` promise and client
    /// authentication all come from discovery. A missing endpoint is left empty, which
    /// [`RelyingParty::new`](crate::rp::RelyingParty::new) refuses; callers with stored endpoints
    /// overwrite the fields.
    pub fn from_metadata(
        provider: &str,
        client_id: &str,
        client_secret: &str,
        metadata: &ProviderLoginMetadata,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            issuer: metadata.issuer.clone(),
            auth_url: metadata.authorization_endpoint.clone().unwrap_or_default(),
            token_url: metadata.token_endpoint.clone().unwrap_or_default(),
            userinfo_url: metadata.userinfo_endpoint.clone(),
            jwks_uri: metadata.jwks_uri.clone(),
            id_token_signing_algs: metadata.id_token_signing_alg_values_supported.clone(),
            requires_iss_parameter: metadata.authorization_response_iss_parameter_supported,
            client_auth: ClientAuthMethod::for_provider(
                provider,
                metadata.token_endpoint_auth_methods_supported.as_deref(),
            ),
            verify_ssl: true,
            policy: FetchPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods(list: &[&str]) -> Vec<String> {
        list.iter().map(|m| (*m).to_owned()).collect()
    }

    #[test]
    fn basic_for_tara_and_for_providers_that_list_only_basic() {
        use ClientAuthMethod::{ClientSecretBasic as Basic, ClientSecretPost as Post};
        let both = methods(&["client_secret_basic", "client_secret_post"]);
        let basic = methods(&["client_secret_basic", "private_key_jwt"]);
        let post = methods(&["client_secret_post"]);
        assert_eq!(ClientAuthMethod::for_provider("tara", Some(&post)), Basic);
        assert_eq!(ClientAuthMethod::for_provider("tara", None), Basic);
        assert_eq!(
            ClientAuthMethod::for_provider("keycloak", Some(&basic)),
            Basic
        );
        assert_eq!(
            ClientAuthMethod::for_provider("keycloak", Some(&both)),
            Post
        );
        assert_eq!(
            ClientAuthMethod::for_provider("keycloak", Some(&post)),
            Post
        );
        assert_eq!(ClientAuthMethod::for_provider("keycloak", Some(&[])), Post);
        assert_eq!(ClientAuthMethod::for_provider("eduteams", None), Post);
        assert_eq!(ClientAuthMethod::for_provider("TARA", None), Post);
    }

    #[test]
    fn debug_hides_the_secret() {
        let mut config =
            RelyingPartyConfig::from_metadata("p", "id", "", &ProviderLoginMetadata::default());
        config.client_secret = "hunter2-very-secret".into();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
