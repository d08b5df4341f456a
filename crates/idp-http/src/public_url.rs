//! Absolute URLs of this server (the login's `redirect_uri`, the pagination `Link` header),
//! built in one place (`docs/decisions.md`, "Operating it").
//!
//! With `IDP_PUBLIC_URL` set, every absolute URL starts with it and no request header counts.
//! Without it, the scheme is the connection's and the host is the request's `Host`, which must be
//! a plain `host[:port]`; `X-Forwarded-Proto` and `X-Forwarded-Host` replace them only with
//! `IDP_TRUST_FORWARDED_HEADERS=true`. A `Host` that is not a plain `host[:port]` is answered 400,
//! so a client cannot plant its own text in a URL the server hands out.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap};

use crate::error::ApiError;
use crate::state::ApiSettings;

/// The detail of a request whose `Host` (or trusted `X-Forwarded-Host`) is not `host[:port]`,
/// worded as Django's host validation words it (`Invalid HTTP_HOST header: 'HOST'.`). The host
/// is quoted as sent (JSON-escaped in the body, cut at 255 characters).
pub fn invalid_host_detail(host: &str) -> String {
    let shown: String = host.chars().take(255).collect();
    format!("Invalid HTTP_HOST header: '{shown}'.")
}

/// The absolute URL of `path` (which starts with `/`) on this server.
pub(crate) fn absolute_url(
    req: &HttpRequest,
    settings: &ApiSettings,
    path: &str,
) -> Result<String, ApiError> {
    Ok(format!("{}{path}", base_url(req, settings)?))
}

/// `scheme://host[:port]` (and the path prefix of `IDP_PUBLIC_URL`), without a trailing slash.
pub(crate) fn base_url(req: &HttpRequest, settings: &ApiSettings) -> Result<String, ApiError> {
    if let Some(public) = &settings.public_url {
        return Ok(public.as_str().trim_end_matches('/').to_owned());
    }
    let headers = req.headers();
    let forwarded = |name: &str| {
        settings
            .trust_forwarded_headers
            .then(|| first_value(headers, name))
            .flatten()
    };
    let scheme = match forwarded("x-forwarded-proto") {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        Some(proto) if proto.eq_ignore_ascii_case("http") => "http",
        _ if req.app_config().secure() => "https",
        _ => "http",
    };
    let host = match forwarded("x-forwarded-host") {
        Some(host) => host,
        None => request_host(req).ok_or_else(|| invalid_host(&raw_host(req)))?,
    };
    if !is_host_and_port(&host) {
        return Err(invalid_host(&host));
    }
    Ok(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// Whether absolute URLs are https: the login cookie is `Secure` then.
pub(crate) fn is_https(base: &str) -> bool {
    base.starts_with("https://")
}

fn invalid_host(host: &str) -> ApiError {
    ApiError::BadRequest(invalid_host_detail(host))
}

/// The `Host` header as text even when it is not visible ASCII (for the error's detail).
fn raw_host(req: &HttpRequest) -> String {
    req.headers()
        .get(header::HOST)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// The first comma-separated value of a header, trimmed.
fn first_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then(|| first.to_owned())
}

/// The `Host` header, or the authority of an absolute request target (HTTP/2).
fn request_host(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get(header::HOST) {
        return value.to_str().ok().map(str::to_owned);
    }
    req.uri()
        .authority()
        .map(|authority| authority.as_str().to_owned())
}

/// `host[:port]`: a DNS name (letters, digits, `-`, `_`, dots), an IPv4 address or a bracketed
/// IPv6 address, then optionally `:` and a port of 1-5 digits (at most 65535).
pub fn is_host_and_port(text: &str) -> bool {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else {
            return false;
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("[ipv6]", Some(port)),
                None => return false,
            },
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port_ok = port.is_none_or(|port| {
        !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|port| port <= 65535)
    });
    let host_ok = host == "[ipv6]"
        || (!host.is_empty()
            && host.len() <= 253
            && host.split('.').enumerate().all(|(index, label)| {
                // A trailing dot (an absolute name) leaves one empty label at the end.
                (label.is_empty() && index > 0 && host.ends_with('.'))
                    || (!label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            }));
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::is_host_and_port;

    #[test]
    fn only_plain_hosts_and_ports_pass() {
        for good in [
            "api.example.org",
            "api.example.org:8443",
            "127.0.0.1:8000",
            "localhost",
            "[::1]:8000",
            "[2001:db8::1]",
            "example.org.",
            "under_score.example",
        ] {
            assert!(is_host_and_port(good), "{good}");
        }
        for bad in [
            "",
            "api.example.org:",
            "api.example.org:99999",
            "api.example.org:80:80",
            "a b",
            "evil.example/path",
            "evil.example>; rel=\"next\", <http://elsewhere",
            "user@host",
            "[::1",
            "[not-ipv6]:80",
            "-bad.example",
            "a..b",
            "host:8a",
        ] {
            assert!(!is_host_and_port(bad), "{bad}");
        }
    }
}
