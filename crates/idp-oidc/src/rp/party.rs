//! The relying party of one provider: the authorization URL out, the callback in.

use std::sync::Arc;

use openidconnect::{AccessToken, IssuerUrl};
use serde_json::{Map, Value};
use url::Url;

use crate::rp::clock::Clock;
use crate::rp::config::RelyingPartyConfig;
use crate::rp::error::{
    CallbackError, ConfigError, IdTokenError, LoginError, TokenError, UserinfoError,
};
use crate::rp::id_token::{self, VerifiedIdToken};
use crate::rp::jwks::JwksCache;
use crate::rp::token::{self, TokenResponse};
use crate::rp::userinfo;

/// The relying party of one provider, built from a [`RelyingPartyConfig`].
///
/// It holds no per-login state: the caller keeps each attempt's [`LoginSecrets`] and hands them
/// back through a [`Completion`]. It needs a Tokio runtime for its calls.
///
/// [`LoginSecrets`]: crate::rp::LoginSecrets
#[derive(Debug, Clone)]
pub struct RelyingParty {
    config: RelyingPartyConfig,
    auth_url: Url,
    token_url: Url,
    userinfo_url: Option<Url>,
    jwks_uri: Option<Url>,
    issuer: Option<IssuerUrl>,
    jwks: JwksCache,
}

/// What completing a login needs: the callback's `code` and `iss`, and what the login attempt
/// kept since it began.
#[derive(Clone, Copy)]
pub struct Completion<'a> {
    /// The callback's `code` parameter.
    pub code: &'a str,
    /// The callback's `iss` parameter (RFC 9207), when it has one.
    pub iss: Option<&'a str>,
    /// The `redirect_uri` the authorization request sent.
    pub redirect_uri: &'a str,
    /// The `nonce` the authorization request sent.
    pub nonce: &'a str,
    /// The PKCE verifier, when the authorization request sent a challenge.
    pub pkce_verifier: Option<&'a str>,
}

impl std::fmt::Debug for Completion<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("redirect_uri", &self.redirect_uri)
            .field("pkce", &self.pkce_verifier.is_some())
            .finish_non_exhaustive()
    }
}

/// A completed login. `Debug` shows claim names only.
#[derive(Clone)]
pub struct LoginOutcome {
    /// What the token endpoint handed out.
    pub tokens: TokenResponse,
    /// The verified ID token, when the token response had one.
    pub id_token: Option<VerifiedIdToken>,
    /// The userinfo claims, when the configuration has a userinfo endpoint.
    pub userinfo: Option<Map<String, Value>>,
    /// The ID token's claims overlaid by userinfo's (userinfo wins; `docs/decisions.md`, "Logging
    /// people in").
    pub claims: Map<String, Value>,
}

impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOutcome")
            .field("tokens", &self.tokens)
            .field("id_token", &self.id_token)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// A relying party with its own key-set cache on the system clock.
    pub fn new(config: RelyingPartyConfig) -> Result<Self, ConfigError> {
        Self::with_jwks_cache(config, JwksCache::default())
    }

    /// A relying party sharing `jwks` (and its clock) with others, as a server does.
    pub fn with_jwks_cache(
        config: RelyingPartyConfig,
        jwks: JwksCache,
    ) -> Result<Self, ConfigError> {
        if config.client_id.is_empty() {
            return Err(ConfigError::MissingClientId);
        }
        let optional = |value: &Option<String>, field| {
            value
                .as_deref()
                .filter(|value| !value.is_empty())
                .map(|value| endpoint(value, field))
                .transpose()
        };
        let issuer = config
            .issuer
            .as_deref()
            .filter(|issuer| !issuer.is_empty())
            .map(|issuer| IssuerUrl::new(issuer.to_owned()).map_err(|_| ConfigError::InvalidIssuer))
            .transpose()?;
        Ok(Self {
            auth_url: endpoint(&config.auth_url, "auth_url")?,
            token_url: endpoint(&config.token_url, "token_url")?,
            userinfo_url: optional(&config.userinfo_url, "userinfo_url")?,
            jwks_uri: optional(&config.jwks_uri, "jwks_uri")?,
            issuer,
            config,
            jwks,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &RelyingPartyConfig {
        &self.config
    }

    /// The key-set cache it verifies with.
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// The clock ID token times are judged by (the key-set cache's).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.jwks.clock()
    }

    /// `auth_url` with `pairs` appended to its query, in order, form-urlencoded (as Python's
    /// `urlencode`). A query the URL already has is kept (`?a=b` becomes `?a=b&response_type=…`,
    /// never a second `?`); a fragment is dropped, since an authorization endpoint may not have
    /// one (RFC 6749 §3.1).
    pub fn authorization_url<I, K, V>(&self, pairs: I) -> Url
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut url = self.auth_url.clone();
        url.set_fragment(None);
        {
            let mut query = url.query_pairs_mut();
            for (key, value) in pairs {
                query.append_pair(key.as_ref(), value.as_ref());
            }
        }
        url
    }

    /// RFC 9207: the callback's `iss`, when present, must be the issuer; when the provider's
    /// discovery promises one (`requires_iss_parameter`), it must be present.
    pub fn check_callback_issuer(&self, iss: Option<&str>) -> Result<(), CallbackError> {
        match (iss, &self.issuer) {
            (Some(iss), Some(issuer)) if iss == issuer.as_str() => Ok(()),
            (Some(_), _) => Err(CallbackError::IssuerMismatch),
            (None, _) if self.config.requires_iss_parameter => Err(CallbackError::IssuerMissing),
            (None, _) => Ok(()),
        }
    }

    /// Exchanges an authorization code at the token endpoint (`code_verifier` sent when
    /// `pkce_verifier` is given), with the configured client authentication.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce_verifier: Option<&str>,
    ) -> Result<TokenResponse, TokenError> {
        token::exchange(self, code, redirect_uri, pkce_verifier).await
    }

    /// Verifies an ID token (signature, algorithm, issuer, audience, authorized party, times with
    /// 120 s leeway, nonce) and returns its claims.
    pub async fn verify_id_token(
        &self,
        id_token: &str,
        nonce: &str,
    ) -> Result<VerifiedIdToken, IdTokenError> {
        id_token::verify(self, id_token, nonce).await
    }

    /// The userinfo claims, or `None` when the configuration has no userinfo endpoint. With
    /// `expected_subject` (the verified ID token's `sub`), the userinfo `sub` must equal it.
    pub async fn userinfo(
        &self,
        access_token: &AccessToken,
        expected_subject: Option<&str>,
    ) -> Result<Option<Map<String, Value>>, UserinfoError> {
        match &self.userinfo_url {
            Some(url) => userinfo::fetch(self, url, access_token, expected_subject)
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    /// Completes a login in the safe order: the callback's `iss`, the code exchange, the ID
    /// token (verified before anything else is used), then userinfo bound to the ID token's
    /// subject. The claims are the ID token's overlaid by userinfo's.
    pub async fn complete(&self, completion: &Completion<'_>) -> Result<LoginOutcome, LoginError> {
        self.check_callback_issuer(completion.iss)?;
        let tokens = self
            .exchange_code(
                completion.code,
                completion.redirect_uri,
                completion.pkce_verifier,
            )
            .await?;
        let id_token = match tokens.id_token() {
            Some(token) => Some(self.verify_id_token(token, completion.nonce).await?),
            None => None,
        };
        let subject = id_token.as_ref().map(VerifiedIdToken::subject);
        let userinfo = self.userinfo(tokens.access_token(), subject).await?;
        let mut claims = id_token
            .as_ref()
            .map(|token| token.claims().clone())
            .unwrap_or_default();
        if let Some(userinfo) = &userinfo {
            for (name, value) in userinfo {
                claims.insert(name.clone(), value.clone());
            }
        }
        Ok(LoginOutcome {
            tokens,
            id_token,
            userinfo,
            claims,
        })
    }

    pub(crate) fn issuer(&self) -> Option<&IssuerUrl> {
        self.issuer.as_ref()
    }

    pub(crate) fn jwks_uri(&self) -> Option<&Url> {
        self.jwks_uri.as_ref()
    }

    pub(crate) fn token_url(&self) -> &Url {
        &self.token_url
    }
}

/// An absolute `http` or `https` URL with a host.
fn endpoint(value: &str, field: &'static str) -> Result<Url, ConfigError> {
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err(ConfigError::InvalidUrl { field }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rp::metadata::ProviderLoginMetadata;

    fn party(auth_url: &str, issuer: Option<&str>, requires_iss: bool) -> RelyingParty {
        let mut config = RelyingPartyConfig::from_metadata(
            "keycloak",
            "client",
            "secret",
            &ProviderLoginMetadata::default(),
        );
        config.auth_url = auth_url.to_owned();
        config.token_url = "https://idp.example.com/token".to_owned();
        config.issuer = issuer.map(str::to_owned);
        config.requires_iss_parameter = requires_iss;
        RelyingParty::new(config).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn pairs_are_appended_in_order_to_an_existing_query() {
        let rp = party(
            "https://idp.example.com/auth?kc_idp_hint=x#frag",
            None,
            false,
        );
        let url = rp.authorization_url([
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("redirect_uri", "https://api/complete/?a=1&b=2"),
        ]);
        assert_eq!(
            url.as_str(),
            "https://idp.example.com/auth?kc_idp_hint=x&response_type=code&scope=openid+profile&redirect_uri=https%3A%2F%2Fapi%2Fcomplete%2F%3Fa%3D1%26b%3D2"
        );
        let bare = party("https://idp.example.com/auth", None, false);
        assert_eq!(
            bare.authorization_url([("state", "s")]).as_str(),
            "https://idp.example.com/auth?state=s"
        );
    }

    #[test]
    fn callback_iss_must_match_when_present_or_promised() {
        let rp = party("https://idp/auth", Some("https://idp.example.com"), false);
        assert_eq!(rp.check_callback_issuer(None), Ok(()));
        assert_eq!(
            rp.check_callback_issuer(Some("https://idp.example.com")),
            Ok(())
        );
        assert_eq!(
            rp.check_callback_issuer(Some("https://idp.example.com/")),
            Err(CallbackError::IssuerMismatch)
        );
        let promised = party("https://idp/auth", Some("https://idp.example.com"), true);
        assert_eq!(
            promised.check_callback_issuer(None),
            Err(CallbackError::IssuerMissing)
        );
        let unknown = party("https://idp/auth", None, false);
        assert_eq!(
            unknown.check_callback_issuer(Some("https://idp.example.com")),
            Err(CallbackError::IssuerMismatch)
        );
    }

    #[test]
    fn configurations_with_unusable_endpoints_are_refused() {
        let mut config = RelyingPartyConfig::from_metadata(
            "p",
            "client",
            "s",
            &ProviderLoginMetadata::default(),
        );
        config.token_url = "https://idp/token".into();
        assert!(matches!(
            RelyingParty::new(config.clone()),
            Err(ConfigError::InvalidUrl { field: "auth_url" })
        ));
        config.auth_url = "ftp://idp/auth".into();
        assert!(matches!(
            RelyingParty::new(config.clone()),
            Err(ConfigError::InvalidUrl { field: "auth_url" })
        ));
        config.auth_url = "https://idp/auth".into();
        config.jwks_uri = Some("not a url".into());
        assert!(matches!(
            RelyingParty::new(config.clone()),
            Err(ConfigError::InvalidUrl { field: "jwks_uri" })
        ));
        config.jwks_uri = Some(String::new());
        assert!(RelyingParty::new(config.clone()).is_ok());
        config.client_id.clear();
        assert!(matches!(
            RelyingParty::new(config),
            Err(ConfigError::MissingClientId)
        ));
    }
}
