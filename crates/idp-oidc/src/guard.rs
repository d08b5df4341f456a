//! The SSRF guard: which URLs and addresses a discovery fetch may reach.
//!
//! The rules are the reference's with the product's additions (`docs/decisions.md`, "Discovery
//! fetches"): the guard runs on every redirect hop, and the connection is made to exactly the
//! addresses it checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use url::{Host, Url};

use crate::cause::Cause;

/// Why the SSRF guard refused a URL. `Display` gives the reference's message; the underlying
/// error, when there is one, is the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The scheme is not `http` or `https`.
    #[error("Only http and https URLs are allowed.")]
    UnsupportedScheme,
    /// The URL names no host.
    #[error("URL must include a host.")]
    MissingHost,
    /// The text is not a URL at all (for example a non-numeric port).
    #[error("Enter a valid URL.")]
    InvalidUrl(#[source] Option<url::ParseError>),
    /// The host name did not resolve to any address.
    #[error("Unable to resolve host '{host}'.")]
    Unresolvable {
        /// The host name as written in the URL (lower-cased, IDNA-encoded).
        host: String,
        /// Why the lookup failed, when it failed rather than found nothing.
        #[source]
        cause: Option<Cause>,
    },
    /// The host is, or resolves to, an address the guard refuses.
    #[error("URL host resolves to a disallowed address ({ip}).")]
    Disallowed {
        /// The refused address; an IPv4-mapped IPv6 address is shown as IPv4.
        ip: IpAddr,
    },
}

/// A URL that passed the guard, with the addresses its connection must use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedTarget {
    /// The URL to request.
    pub url: Url,
    /// The checked addresses (with the URL's port). Connecting anywhere else would reopen the
    /// DNS-rebinding window the guard closes.
    pub addrs: Vec<SocketAddr>,
}

/// Parses a discovery URL and applies the guard's URL rules, in the reference's order: the scheme
/// must be `http` or `https`, then a host is required.
pub fn parse_url(raw: &str) -> Result<Url, GuardError> {
    let scheme = match raw.split_once(':') {
        Some((scheme, _)) if is_scheme(scheme) => scheme.to_ascii_lowercase(),
        _ => return Err(GuardError::UnsupportedScheme),
    };
    if scheme != "http" && scheme != "https" {
        return Err(GuardError::UnsupportedScheme);
    }
    // The `url` crate is lenient where Python's `urlparse` is not: it reads `http:/example.com` and
    // `http:///example.com` as having the host `example.com`. The reference sees no host there.
    if !has_authority_host(&raw[scheme.len() + 1..]) {
        return Err(GuardError::MissingHost);
    }
    match Url::parse(raw) {
        Ok(url) if url.host().is_some() => Ok(url),
        Ok(_) | Err(url::ParseError::EmptyHost) => Err(GuardError::MissingHost),
        Err(error) => Err(GuardError::InvalidUrl(Some(error))),
    }
}

/// Checks a URL's scheme and host, resolves the host (literal addresses are not looked up) and
/// checks every address it resolves to with [`check_ip`].
pub async fn check_url(url: &Url, allow_networks: &[IpNet]) -> Result<GuardedTarget, GuardError> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(GuardError::UnsupportedScheme);
    }
    let port = url
        .port_or_known_default()
        .ok_or(GuardError::InvalidUrl(None))?;
    let addrs: Vec<SocketAddr> = match url.host() {
        None => return Err(GuardError::MissingHost),
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(domain)) => {
            let unresolvable = |cause: Option<std::io::Error>| GuardError::Unresolvable {
                host: domain.to_owned(),
                cause: cause.map(Cause::new),
            };
            let resolved = tokio::net::lookup_host((domain, port))
                .await
                .map_err(|error| unresolvable(Some(error)))?;
            let mut addrs: Vec<SocketAddr> = Vec::new();
            for addr in resolved {
                if !addrs.contains(&addr) {
                    addrs.push(addr);
                }
            }
            if addrs.is_empty() {
                return Err(unresolvable(None));
            }
            addrs
        }
    };
    for addr in &addrs {
        check_ip(addr.ip(), allow_networks)?;
    }
    Ok(GuardedTarget {
        url: url.clone(),
        addrs,
    })
}

/// Checks one address: loopback, link-local, multicast, reserved and unspecified addresses are
/// refused, unless the address lies in one of `allow_networks`. Private ranges (RFC 1918, CGNAT,
/// IPv6 unique-local) are allowed on purpose. An IPv4-mapped IPv6 address is judged as IPv4.
pub fn check_ip(ip: IpAddr, allow_networks: &[IpNet]) -> Result<(), GuardError> {
    let canonical = canonical_ip(ip);
    if allow_networks
        .iter()
        .any(|network| network.contains(&canonical) || network.contains(&ip))
    {
        return Ok(());
    }
    if is_refused(canonical) {
        Err(GuardError::Disallowed { ip: canonical })
    } else {
        Ok(())
    }
}

/// Whether the guard refuses `ip` when no allowed network covers it.
pub fn is_refused(ip: IpAddr) -> bool {
    match canonical_ip(ip) {
        IpAddr::V4(ip) => is_refused_v4(ip),
        IpAddr::V6(ip) => is_refused_v6(ip),
    }
}

fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

fn is_refused_v4(ip: Ipv4Addr) -> bool {
    let [first, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        // 240.0.0.0/4 is reserved and includes the broadcast address 255.255.255.255.
        || first >= 240
        // 0.0.0.0 and the rest of "this network" (0.0.0.0/8): Linux connects 0.0.0.0 to the
        // local host.
        || first == 0
}

fn is_refused_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let global_unicast = first & 0xe000 == 0x2000; // 2000::/3
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7, the IPv6 private range
    let site_local = first & 0xffc0 == 0xfec0; // fec0::/10, deprecated private range
    // Everything else is loopback, unspecified, link-local (fe80::/10), multicast (ff00::/8) or
    // reserved by IANA (as Python's `ipaddress` sees it; this includes the NAT64 prefix
    // 64:ff9b::/96, which can reach IPv4 addresses).
    !(global_unicast || unique_local || site_local)
}

fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Whether the text after `scheme:` starts with `//` and an authority with a non-empty host.
fn has_authority_host(after_scheme: &str) -> bool {
    let Some(rest) = after_scheme.strip_prefix("//") else {
        return false;
    };
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host_port)| host_port);
    if host_port.starts_with('[') {
        return host_port.len() > 2;
    }
    !host_port.split(':').next().unwrap_or_default().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_without_an_authority_have_no_host() {
        for raw in [
            "http:/example.com",
            "http:///example.com",
            "https://",
            "http://:80/x",
            "http://user@/x",
        ] {
            assert_eq!(parse_url(raw), Err(GuardError::MissingHost), "{raw}");
        }
    }

    #[test]
    fn scheme_is_checked_before_anything_else() {
        for raw in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "example.com",
            "",
            "ftp://",
        ] {
            assert_eq!(parse_url(raw), Err(GuardError::UnsupportedScheme), "{raw}");
        }
        assert_eq!(
            parse_url("http://example.com:port/"),
            Err(GuardError::InvalidUrl(Some(url::ParseError::InvalidPort)))
        );
        assert!(parse_url("HTTPS://Example.COM/.well-known/openid-configuration").is_ok());
    }

    #[test]
    fn ipv6_reserved_ranges_are_refused_and_global_or_private_ones_allowed() {
        for refused in [
            "::",
            "::1",
            "fe80::1",
            "ff02::1",
            "64:ff9b::7f00:1",
            "100::1",
            "::7f00:1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(is_refused(ip), "{refused}");
        }
        for allowed in ["2001:db8::1", "2a00:1450::1", "fd00::1", "fec0::1"] {
            let ip: IpAddr = allowed.parse().unwrap();
            assert!(!is_refused(ip), "{allowed}");
        }
    }
}
