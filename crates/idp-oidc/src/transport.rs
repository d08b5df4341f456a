//! The one way this crate connects to a provider: to the addresses the SSRF guard checked, with
//! no proxy and no automatic redirects, and with the response body read up to a cap. Discovery
//! fetches and the relying party's token, userinfo and key-set calls all go through here.

use reqwest::Response;
use url::Host;

use crate::guard::GuardedTarget;

/// The `User-Agent` of every outbound request.
pub(crate) const USER_AGENT: &str = concat!("idp-oidc/", env!("CARGO_PKG_VERSION"));

/// A client that can only reach the addresses the guard checked, follows no redirects and uses
/// no proxy (a proxy would make its own DNS lookup and its own connection). It keeps no idle
/// connections, because it serves one target only.
pub(crate) fn pinned_client(
    target: &GuardedTarget,
    verify_ssl: bool,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(0)
        .user_agent(USER_AGENT)
        .danger_accept_invalid_certs(!verify_ssl);
    if let Some(Host::Domain(domain)) = target.url.host() {
        builder = builder.resolve_to_addrs(domain, &target.addrs);
    }
    builder.build()
}

/// Why a response body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is longer than the cap; it was not read any further.
    TooLarge,
    /// The connection failed while the body was read.
    Read(reqwest::Error),
}

/// Reads the body, refusing one longer than `limit` bytes as soon as that is known (from
/// `Content-Length` or from the bytes received so far).
pub(crate) async fn read_capped(
    mut response: Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
