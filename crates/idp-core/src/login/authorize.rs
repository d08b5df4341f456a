//! The authorization request that starts a login, the checks on the callback, and the
//! RP-initiated logout URL.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::form_urlencoded;

use crate::Provider;
use crate::login::errors::LoginError;

/// The scope of the authorization request: `openid` followed by `extra_scope`, trimmed
/// (`"openid"` or `"openid profile email"`), as the reference builds it.
pub fn scope(extra_scope: Option<&str>) -> String {
    format!("openid {}", extra_scope.unwrap_or(""))
        .trim()
        .to_owned()
}

/// The PKCE `S256` code challenge of a verifier: unpadded base64url of its SHA-256.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The values of one authorization request that the caller chooses: the callback URL and
/// fresh random values.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationParams<'a> {
    /// This server's `…/api-auth/<provider>/complete/` URL.
    pub redirect_uri: &'a str,
    /// The random `state`.
    pub state: &'a str,
    /// The random `nonce`, sent on every login.
    pub nonce: &'a str,
    /// The random PKCE verifier (RFC 7636: 43-128 unreserved characters); its challenge is
    /// sent only when the provider has `enable_pkce`.
    pub pkce_verifier: &'a str,
    /// The `ui_locales` the login was started with, passed through as is.
    pub ui_locales: Option<&'a str>,
}

/// The provider's authorization URL with the request's parameters, in the reference's order:
/// `response_type=code`, `client_id`, `redirect_uri`, `scope`, `state`, then `ui_locales` if
/// given, then `code_challenge` and `code_challenge_method=S256` when PKCE is on, then
/// `nonce`. Parameters are form-encoded (a space is `+`) and appended with `&` when
/// `auth_url` already has a query, so the URL never holds two `?`.
///
/// ```
/// use idp_core::login::{AuthorizationParams, authorization_url};
/// # let mut provider = idp_core::NewProvider::parse(&serde_json::json!({
/// #     "provider": "keycloak", "client_id": "portal", "client_secret": "s",
/// #     "discovery_url": "https://idp.example.org/.well-known/openid-configuration", "label": "K",
/// # }), &idp_core::ProviderNamePolicy::AnySlug).unwrap().into_provider(Default::default());
/// provider.endpoints.auth_url = "https://idp.example.org/auth?kc_idp_hint=x".into();
/// let params = AuthorizationParams {
///     redirect_uri: "https://api.example.org/api-auth/keycloak/complete/",
///     state: "s1",
///     nonce: "n1",
///     pkce_verifier: "v1",
///     ui_locales: None,
/// };
/// assert_eq!(
///     authorization_url(&provider, &params),
///     "https://idp.example.org/auth?kc_idp_hint=x&response_type=code&client_id=portal\
///      &redirect_uri=https%3A%2F%2Fapi.example.org%2Fapi-auth%2Fkeycloak%2Fcomplete%2F\
///      &scope=openid&state=s1&nonce=n1"
/// );
/// ```
pub fn authorization_url(provider: &Provider, params: &AuthorizationParams<'_>) -> String {
    let scope = scope(provider.extra_scope.as_deref());
    let mut pairs: Vec<(&str, String)> = vec![
        ("response_type", "code".to_owned()),
        ("client_id", provider.client_id.clone()),
        ("redirect_uri", params.redirect_uri.to_owned()),
        ("scope", scope),
        ("state", params.state.to_owned()),
    ];
    if let Some(locales) = params.ui_locales {
        pairs.push(("ui_locales", locales.to_owned()));
    }
    if provider.enable_pkce {
        pairs.push(("code_challenge", pkce_challenge(params.pkce_verifier)));
        pairs.push(("code_challenge_method", "S256".to_owned()));
    }
    pairs.push(("nonce", params.nonce.to_owned()));
    append_query(&provider.endpoints.auth_url, &pairs)
}

/// The RP-initiated logout URL, or `None` when the provider has no `end_session_endpoint`
/// or does not send users back (`enable_post_logout_redirect` off), as in the reference.
///
/// Parameters: `post_logout_redirect_uri` (see [`crate::login::homeport_login_url`]), then
/// `client_id`, then `id_token_hint` when the login's ID token was kept; appended with `&`
/// when the endpoint already has a query.
pub fn logout_url(
    provider: &Provider,
    post_logout_redirect_uri: &str,
    id_token_hint: Option<&str>,
) -> Option<String> {
    let endpoint = provider.endpoints.logout_url.as_str();
    if endpoint.is_empty() || !provider.enable_post_logout_redirect {
        return None;
    }
    let mut pairs = vec![
        (
            "post_logout_redirect_uri",
            post_logout_redirect_uri.to_owned(),
        ),
        ("client_id", provider.client_id.clone()),
    ];
    if let Some(hint) = id_token_hint {
        pairs.push(("id_token_hint", hint.to_owned()));
    }
    Some(append_query(endpoint, &pairs))
}

/// `base` with `pairs` form-encoded into its query: after `?` when it has none, after `&`
/// when it has one, and before any `#fragment`.
pub fn append_query(base: &str, pairs: &[(&str, String)]) -> String {
    let (head, fragment) = match base.split_once('#') {
        Some((head, fragment)) => (head, Some(fragment)),
        None => (base, None),
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    let query = query.finish();
    let separator = match head.find('?') {
        None => "?",
        Some(_) if head.ends_with('?') || head.ends_with('&') || query.is_empty() => "",
        Some(_) => "&",
    };
    let mut url = format!("{head}{separator}{query}");
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

/// Checks the `state` returned to the callback against the one the login stored, in
/// constant time; a missing or empty stored state never matches.
pub fn check_state(stored: Option<&str>, returned: Option<&str>) -> Result<(), LoginError> {
    match (stored, returned) {
        (Some(stored), Some(returned)) if !stored.is_empty() && same(stored, returned) => Ok(()),
        _ => Err(LoginError::InvalidState),
    }
}

/// Compares two strings without stopping at the first difference, so timing tells nothing
/// about how much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut difference = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b.iter()) {
        difference |= x ^ y;
    }
    difference == 0
}

/// The PKCE verifier to send with the token request: `None` when PKCE is off, the stored
/// verifier when it is on, and the reference's error when PKCE is on and none (or an empty
/// one) was kept.
pub fn pkce_verifier_for_exchange(
    enable_pkce: bool,
    stored: Option<&str>,
) -> Result<Option<&str>, LoginError> {
    if !enable_pkce {
        return Ok(None);
    }
    match stored {
        Some(verifier) if !verifier.is_empty() => Ok(Some(verifier)),
        _ => Err(LoginError::PkceVerificationFailed),
    }
}
