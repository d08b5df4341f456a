//! One fetch of a discovery document: guarded hops, pinned connections, a time limit and a size
//! cap.

use std::error::Error as StdError;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap, LOCATION};
use url::Url;

use crate::document::DiscoveryDocument;
use crate::error::{FetchError, FetchErrorKind};
use crate::guard::{self, GuardedTarget};
use crate::policy::FetchPolicy;
use crate::transport::{self, BodyError};

/// A fetched document and how long it may be cached (`None`: do not cache).
pub(crate) struct Fetched {
    pub(crate) document: DiscoveryDocument,
    pub(crate) cache_for: Option<Duration>,
}

/// Fetches and parses the document at `raw_url` under `policy`.
pub(crate) async fn fetch_document(
    policy: &FetchPolicy,
    raw_url: &str,
    verify_ssl: bool,
) -> Result<Fetched, FetchError> {
    let url = guard::parse_url(raw_url)?;
    let (body, cache_for) = tokio::time::timeout(policy.timeout, follow(policy, url, verify_ssl))
        .await
        .map_err(|_| FetchError::from(FetchErrorKind::Timeout))??;
    let document = DiscoveryDocument::from_json(&body)?;
    Ok(Fetched {
        document,
        cache_for,
    })
}

/// Requests `url`, following redirects by hand so that every hop passes the guard.
async fn follow(
    policy: &FetchPolicy,
    mut url: Url,
    verify_ssl: bool,
) -> Result<(Vec<u8>, Option<Duration>), FetchError> {
    let mut redirects = 0;
    loop {
        let target = guard::check_url(&url, &policy.allow_networks).await?;
        tracing::debug!(url = %redacted(&url), addrs = ?target.addrs, "fetching discovery document");
        let client = pinned_client(&target, verify_ssl)?;
        let response = client
            .get(url.clone())
            .header(ACCEPT, "application/json, */*;q=0.1")
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        // Python `requests` follows exactly these statuses when a Location is given.
        let followed = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
        if let (true, Some(location)) = (followed, response.headers().get(LOCATION)) {
            if redirects >= policy.max_redirects {
                return Err(FetchErrorKind::TooManyRedirects {
                    limit: policy.max_redirects,
                }
                .into());
            }
            let location = location
                .to_str()
                .map_err(|error| FetchError::caused_by(FetchErrorKind::InvalidRedirect, error))?;
            url = url
                .join(location)
                .map_err(|error| FetchError::caused_by(FetchErrorKind::InvalidRedirect, error))?;
            redirects += 1;
            continue;
        }
        // Like `raise_for_status`, only 4xx and 5xx are errors; any other answer is read as the
        // document.
        if status.is_client_error() || status.is_server_error() {
            return Err(status_error(status, &url));
        }
        let cache_for = cache_lifetime(response.headers(), policy.cache_ttl);
        let body = read_capped(response, policy.max_body_bytes).await?;
        return Ok((body, cache_for));
    }
}

/// A client that can only reach the addresses the guard checked ([`transport::pinned_client`]).
fn pinned_client(target: &GuardedTarget, verify_ssl: bool) -> Result<reqwest::Client, FetchError> {
    transport::pinned_client(target, verify_ssl)
        .map_err(|error| FetchError::caused_by(FetchErrorKind::ClientInit, error.without_url()))
}

async fn read_capped(response: reqwest::Response, limit: usize) -> Result<Vec<u8>, FetchError> {
    transport::read_capped(response, limit)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => FetchError::from(FetchErrorKind::TooLarge { limit }),
            BodyError::Read(error) => classify(error),
        })
}

/// How long a response may be cached: the policy's time, or less when `Cache-Control` says so.
/// `no-store`, `no-cache` and `max-age=0` mean not at all.
fn cache_lifetime(headers: &HeaderMap, policy_ttl: Duration) -> Option<Duration> {
    let mut lifetime = policy_ttl;
    let directives = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|directive| directive.trim().to_ascii_lowercase());
    for directive in directives {
        if directive == "no-store" || directive == "no-cache" {
            return None;
        }
        if let Some(seconds) = directive
            .strip_prefix("max-age=")
            .and_then(|value| value.trim_matches('"').parse::<u64>().ok())
        {
            lifetime = lifetime.min(Duration::from_secs(seconds));
        }
    }
    (!lifetime.is_zero()).then_some(lifetime)
}

fn status_error(status: StatusCode, url: &Url) -> FetchError {
    FetchErrorKind::Status {
        code: status.as_u16(),
        reason: status.canonical_reason().unwrap_or_default().to_owned(),
        url: for_messages(url),
    }
    .into()
}

/// The URL as error messages (and the log lines that quote them) show it: without credentials
/// or fragment, and with every query value replaced by `***` (a discovery URL's query can carry
/// a token); the parameter names stay, so the URL is still recognisable.
pub(crate) fn for_messages(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_fragment(None);
    if let Some(query) = url.query() {
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) if !value.is_empty() => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        shown.set_query(Some(&redacted.join("&")));
    }
    without_credentials(&shown)
}

/// Sorts a reqwest error into the reference's categories. The error is kept as the cause
/// without its URL, which may carry credentials.
fn classify(error: reqwest::Error) -> FetchError {
    FetchError::caused_by(kind_of(&error), error.without_url())
}

fn kind_of(error: &reqwest::Error) -> FetchErrorKind {
    let mut source: Option<&(dyn StdError + 'static)> = error.source();
    let mut innermost = None;
    while let Some(current) = source {
        if is_tls_error(current) {
            return FetchErrorKind::Tls;
        }
        innermost = Some(current);
        source = current.source();
    }
    if error.is_connect() {
        return FetchErrorKind::Connect;
    }
    if error.is_timeout() {
        return FetchErrorKind::Timeout;
    }
    if innermost.is_some_and(is_broken_connection) {
        // Python `requests` reports a connection closed or reset before the answer as a
        // connection error.
        return FetchErrorKind::Connect;
    }
    if error.is_body() || error.is_decode() {
        FetchErrorKind::Body
    } else {
        FetchErrorKind::Request
    }
}

/// Whether a rustls error is inside `error`. I/O errors hide their payload from `source()`
/// (and hyper-rustls nests one in another), so their payloads are searched too.
fn is_tls_error(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    // A bound, in case some error type reports itself as its own payload.
    for _ in 0..8 {
        let Some(error) = current else {
            return false;
        };
        if error.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        current = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .map(|inner| inner as &(dyn StdError + 'static));
    }
    false
}

fn is_broken_connection(error: &(dyn StdError + 'static)) -> bool {
    use std::io::ErrorKind;
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        return matches!(
            io.kind(),
            ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
        );
    }
    // hyper's "connection closed before message completed" has no public type to match on.
    error
        .to_string()
        .contains("connection closed before message completed")
}

/// The URL without user name and password, for messages.
pub(crate) fn without_credentials(url: &Url) -> String {
    let mut url = url.clone();
    // Both only fail for URLs that cannot have credentials, which is fine to ignore.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// The URL without credentials, query or fragment, for logs.
fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    without_credentials(&url)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn lifetime(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(CACHE_CONTROL, value);
        }
        cache_lifetime(&headers, Duration::from_secs(300))
    }

    #[test]
    fn cache_control_can_only_shorten_the_cache_time() {
        assert_eq!(lifetime(""), Some(Duration::from_secs(300)));
        assert_eq!(
            lifetime("public, max-age=60"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(lifetime("max-age=86400"), Some(Duration::from_secs(300)));
        assert_eq!(lifetime("max-age=0"), None);
        assert_eq!(lifetime("No-Store"), None);
        assert_eq!(lifetime("no-cache, max-age=60"), None);
        assert_eq!(lifetime("max-age=abc"), Some(Duration::from_secs(300)));
    }

    #[test]
    fn credentials_never_reach_messages_or_logs() {
        let url = Url::parse("https://user:secret@idp.example.com/x?token=abc#f").unwrap();
        assert_eq!(
            without_credentials(&url),
            "https://idp.example.com/x?token=abc#f"
        );
        assert_eq!(redacted(&url), "https://idp.example.com/x");
        let with_query = Url::parse(
            "https://user:pw@idp.example.com/x/.well-known/openid-configuration?access_token=abc&tenant=&flag#frag",
        )
        .unwrap();
        assert_eq!(
            for_messages(&with_query),
            "https://idp.example.com/x/.well-known/openid-configuration?access_token=***&tenant=&flag"
        );
    }

    #[tokio::test]
    async fn connections_go_to_the_checked_addresses_only() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .expect(1)
            .mount(&server)
            .await;
        // `.invalid` never resolves: the request can only succeed through the pinned address.
        let url = Url::parse(&format!(
            "http://pinned.invalid:{}/x",
            server.address().port()
        ))
        .unwrap();
        let target = GuardedTarget {
            url: url.clone(),
            addrs: vec![*server.address()],
        };
        let response = pinned_client(&target, true)
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
