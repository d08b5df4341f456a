//! Where the browser goes after a login (as in the reference), and the URLs that
//! send it there.

use url::form_urlencoded;

use crate::login::errors::LoginError;

/// Chooses the origin a login returns to, as the reference does:
///
/// 1. The source is `return_url`, else the Referer (empty values count as missing).
/// 2. With no `allowed_redirects`, the homeport URL, whatever the source.
/// 3. With no source, the first allowed redirect.
/// 4. Otherwise the source's `scheme://host[:port]`, lower-cased (path, query and fragment
///    dropped, port and userinfo kept), which must equal an allowed redirect.
///
/// `allowed_redirects` are stored normalised (lower case, no trailing slash); entries are
/// lower-cased again here so a hand-built provider compares the same way.
///
/// ```
/// use idp_core::login::{LoginError, choose_redirect_origin};
///
/// let allowed = ["https://homeport1.example.com".to_owned()];
/// let home = "https://portal.example.com/";
/// let origin = choose_redirect_origin(&allowed, home, Some("HTTPS://HOMEPORT1.EXAMPLE.COM/x?y"), None);
/// assert_eq!(origin.as_deref(), Ok("https://homeport1.example.com"));
/// assert_eq!(
///     choose_redirect_origin(&allowed, home, None, Some("javascript:alert(1)")),
///     Err(LoginError::InvalidUrlScheme)
/// );
/// assert_eq!(choose_redirect_origin(&[], home, Some("https://evil.example"), None).as_deref(), Ok(home));
/// ```
pub fn choose_redirect_origin(
    allowed_redirects: &[String],
    homeport_url: &str,
    return_url: Option<&str>,
    referrer: Option<&str>,
) -> Result<String, LoginError> {
    let source = return_url
        .filter(|url| !url.is_empty())
        .or(referrer.filter(|url| !url.is_empty()));
    let Some(first) = allowed_redirects.first() else {
        return Ok(homeport_url.to_owned());
    };
    let Some(source) = source else {
        return Ok(first.clone());
    };
    let (scheme, netloc) = split_origin(source).ok_or(LoginError::InvalidReturnUrl)?;
    if scheme != "http" && scheme != "https" {
        return Err(LoginError::InvalidUrlScheme);
    }
    if netloc.is_empty() {
        return Err(LoginError::MissingDomain);
    }
    let origin = format!("{scheme}://{}", netloc.to_lowercase());
    if allowed_redirects
        .iter()
        .any(|allowed| allowed.to_lowercase() == origin)
    {
        Ok(origin)
    } else {
        Err(LoginError::RedirectNotAllowed(origin))
    }
}

/// The lower-cased scheme (`""` when there is none) and the netloc of a URL, split as
/// Python's `urlsplit` splits it; `None` where `urlsplit` raises (unbalanced or invalid
/// IPv6 brackets).
///
/// Python also refuses a non-ASCII netloc whose NFKC form holds `/?#@:`; such a URL is not
/// refused here, but it cannot equal a normalised allowed redirect either, so it is turned
/// away all the same (with the "not in the allowed redirects list" message).
fn split_origin(url: &str) -> Option<(String, String)> {
    // `urlsplit` drops leading C0 controls and spaces, and every tab and newline.
    let cleaned: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let (scheme, rest) = match cleaned.split_once(':') {
        Some((scheme, rest)) if is_scheme(scheme) => (scheme.to_ascii_lowercase(), rest),
        _ => (String::new(), cleaned.as_str()),
    };
    let netloc = match rest.strip_prefix("//") {
        Some(after) => &after[..after.find(['/', '?', '#']).unwrap_or(after.len())],
        None => "",
    };
    brackets_ok(netloc).then(|| (scheme, netloc.to_owned()))
}

fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Python's bracket rules: both or neither of `[` and `]`; with them, nothing between
/// userinfo and `[`, only a `:port` after `]`, and an IPv6 address (or a `v…` IPvFuture)
/// as the host.
fn brackets_ok(netloc: &str) -> bool {
    let (open, close) = (netloc.contains('['), netloc.contains(']'));
    if open != close {
        return false;
    }
    if !open {
        return true;
    }
    let host_port = netloc.rsplit_once('@').map_or(netloc, |(_, host)| host);
    let host = match host_port.split_once('[') {
        Some((before, _)) if !before.is_empty() => return false,
        Some((_, bracketed)) => {
            let (host, port) = bracketed.split_once(']').unwrap_or((bracketed, ""));
            if !port.is_empty() && !port.starts_with(':') {
                return false;
            }
            host
        }
        // The brackets sit in the userinfo: Python then checks the bare host as if it
        // were bracketed, and a name is no address.
        None => host_port
            .split_once(':')
            .map_or(host_port, |(host, _)| host),
    };
    if let Some(future) = host.strip_prefix('v') {
        return is_ipv_future(future);
    }
    let address = host
        .split_once('%')
        .map_or(host, |(address, _zone)| address);
    address.parse::<std::net::Ipv6Addr>().is_ok()
}

/// `HEXDIG+ "." <anything>+`, after the leading `v` (Python's check).
fn is_ipv_future(text: &str) -> bool {
    let Some((version, rest)) = text.split_once('.') else {
        return false;
    };
    !version.is_empty() && version.bytes().all(|b| b.is_ascii_hexdigit()) && !rest.is_empty()
}

fn form_encode(key: &str, value: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair(key, value)
        .finish()
}

/// `<origin>/oauth_login_completed/<provider>/?code=<code>`: where a successful login sends
/// the browser, with the one-time exchange code (32 hex characters).
///
/// ```
/// use idp_core::login::login_completed_url;
///
/// assert_eq!(
///     login_completed_url("https://portal.example.com/", "keycloak", "3f2a"),
///     "https://portal.example.com/oauth_login_completed/keycloak/?code=3f2a"
/// );
/// ```
pub fn login_completed_url(origin: &str, provider: &str, code: &str) -> String {
    let provider: String = form_urlencoded::byte_serialize(provider.as_bytes()).collect();
    format!(
        "{}/oauth_login_completed/{provider}/?{}",
        origin.trim_end_matches('/'),
        form_encode("code", code)
    )
}

/// `<base>/login_failed/?message=<message>`: where a login that failed in a way the user
/// should read sends the browser (the message form-encoded, as Python's `urlencode` does).
pub fn login_failed_url(base: &str, message: &str) -> String {
    format!(
        "{}/login_failed/?{}",
        base.trim_end_matches('/'),
        form_encode("message", message)
    )
}

/// `<homeport>/login/?disableAutoLogin`: where the default init sends the browser when no
/// usable default provider is configured.
///
/// ```
/// use idp_core::login::default_init_fallback_url;
///
/// for home in ["https://portal.example.com/", "https://portal.example.com"] {
///     assert_eq!(default_init_fallback_url(home), "https://portal.example.com/login/?disableAutoLogin");
/// }
/// ```
pub fn default_init_fallback_url(homeport_url: &str) -> String {
    format!(
        "{}/login/?disableAutoLogin",
        homeport_url.trim_end_matches('/')
    )
}

/// `<homeport>/login/`: where the provider sends the browser after a logout.
pub fn homeport_login_url(homeport_url: &str) -> String {
    format!("{}/login/", homeport_url.trim_end_matches('/'))
}
