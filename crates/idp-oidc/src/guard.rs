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
    /// The host is the name of a cloud provider's metadata service; it is refused without
    /// being looked up.
    #[error("URL host is a cloud metadata service ({host}).")]
    MetadataHost {
        /// The host name as written in the URL (lower-cased, without a trailing dot).
        host: String,
    },
}

/// Addresses of cloud metadata services (instance credentials live there). They are refused even
/// where their range is allowed (the private ranges by default, or a broad network in
/// `allow_networks`); only an allowed network of exactly that one address lets one through.
pub const METADATA_ADDRESSES: [IpAddr; 12] = [
    // AWS, Azure, GCP, OpenStack, DigitalOcean and others: the instance metadata service.
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    // AWS: the Amazon DNS resolver and the ECS task and EKS pod-identity credential endpoints.
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 253)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 23)),
    // AWS over IPv6: instance metadata, DNS, EKS pod identity.
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x253)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23)),
    // GCP over IPv6.
    IpAddr::V6(Ipv6Addr::new(0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254)),
    // Alibaba Cloud.
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    // Oracle Cloud.
    IpAddr::V4(Ipv4Addr::new(192, 0, 0, 192)),
    // Azure's host agent (WireServer), a public address reachable only from inside Azure.
    IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16)),
    // Tencent Cloud and Huawei Cloud use 169.254.0.x for their metadata services.
    IpAddr::V4(Ipv4Addr::new(169, 254, 0, 23)),
];

/// Host names of cloud metadata services, refused before any lookup (a resolver could answer
/// anything for them, and they exist only to reach the metadata service).
pub const METADATA_HOSTS: [&str; 8] = [
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "metadata.tencentyun.com",
    "metadata.platformequinix.com",
];

/// Whether `host` (a URL's host name) names a cloud metadata service.
pub fn is_metadata_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    METADATA_HOSTS.contains(&host.as_str())
}

/// Whether `ip` is a cloud metadata address ([`METADATA_ADDRESSES`]); an IPv4-mapped IPv6
/// address is judged as IPv4.
pub fn is_metadata_address(ip: IpAddr) -> bool {
    METADATA_ADDRESSES.contains(&canonical_ip(ip))
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
        Some(Host::Domain(domain)) if is_metadata_host(domain) => {
            return Err(GuardError::MetadataHost {
                host: domain.trim_end_matches('.').to_ascii_lowercase(),
            });
        }
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

/// The guard's rules for a URL that is stored but not fetched now (an import, for example): the
/// scheme and host rules of [`parse_url`], a metadata service's host name, and a literal address
/// checked with [`check_ip`]. Host names are not looked up; they are checked when a request is
/// made.
pub fn check_url_offline(raw: &str, allow_networks: &[IpNet]) -> Result<(), GuardError> {
    let url = parse_url(raw)?;
    match url.host() {
        None => Err(GuardError::MissingHost),
        Some(Host::Domain(domain)) if is_metadata_host(domain) => Err(GuardError::MetadataHost {
            host: domain.trim_end_matches('.').to_ascii_lowercase(),
        }),
        Some(Host::Domain(_)) => Ok(()),
        Some(Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip), allow_networks),
        Some(Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip), allow_networks),
    }
}

/// Checks one address: loopback, link-local, multicast, reserved and unspecified addresses are
/// refused, unless the address lies in one of `allow_networks`. Private ranges (RFC 1918, CGNAT,
/// IPv6 unique-local) are allowed on purpose. Cloud metadata addresses ([`METADATA_ADDRESSES`])
/// are refused wherever they lie, unless `allow_networks` names that very address (a /32 or
/// /128). An IPv4-mapped IPv6 address is judged as IPv4.
pub fn check_ip(ip: IpAddr, allow_networks: &[IpNet]) -> Result<(), GuardError> {
    let canonical = canonical_ip(ip);
    if is_metadata_address(canonical) {
        let named = allow_networks.iter().any(|network| {
            network.prefix_len() == network.max_prefix_len()
                && (network.addr() == canonical || network.addr() == ip)
        });
        return if named {
            Ok(())
        } else {
            Err(GuardError::Disallowed { ip: canonical })
        };
    }
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
    if is_metadata_address(ip) {
        return true;
    }
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

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|net| net.parse().unwrap()).collect()
    }

    #[test]
    fn metadata_addresses_are_refused_even_inside_allowed_ranges() {
        let broad = nets(&[
            "169.254.0.0/16",
            "100.64.0.0/10",
            "192.0.0.0/24",
            "fd00::/8",
            "fd00:ec2::/32",
            "168.63.0.0/16",
            "0.0.0.0/0",
            "::/0",
        ]);
        for address in [
            "169.254.169.254",
            "fd00:ec2::254",
            "100.100.100.200",
            "192.0.0.192",
            "168.63.129.16",
            "fd20:ce::254",
            "169.254.170.2",
            "::ffff:169.254.169.254",
            "::ffff:100.100.100.200",
        ] {
            let ip: IpAddr = address.parse().unwrap();
            assert!(is_refused(ip), "{address}");
            assert!(is_metadata_address(ip), "{address}");
            // By default: refused, even the ones inside the private ranges allowed by default.
            assert!(
                matches!(check_ip(ip, &[]), Err(GuardError::Disallowed { .. })),
                "{address}"
            );
            // Inside broad allowed networks: still refused.
            assert!(
                matches!(check_ip(ip, &broad), Err(GuardError::Disallowed { .. })),
                "{address}"
            );
            // Named on its own: allowed.
            let own = IpNet::from(canonical_ip(ip));
            assert_eq!(check_ip(ip, &[own]), Ok(()), "{address}");
        }
        // Their neighbours keep the ordinary rules.
        for neighbour in [
            "100.100.100.201",
            "192.0.0.191",
            "fd00:ec2::255",
            "10.0.0.1",
        ] {
            let ip: IpAddr = neighbour.parse().unwrap();
            assert_eq!(check_ip(ip, &[]), Ok(()), "{neighbour}");
        }
        let link_local: IpAddr = "169.254.1.1".parse().unwrap();
        assert!(check_ip(link_local, &[]).is_err());
        assert_eq!(check_ip(link_local, &nets(&["169.254.0.0/16"])), Ok(()));
    }

    #[tokio::test]
    async fn metadata_host_names_are_refused_without_a_lookup() {
        for raw in [
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://METADATA.google.internal./x",
            "https://metadata.goog/",
            "http://metadata/",
            "http://instance-data/latest/",
        ] {
            let url = parse_url(raw).unwrap();
            // Even with every network allowed: a name is never looked up.
            let everything = nets(&["0.0.0.0/0", "::/0"]);
            assert!(
                matches!(
                    check_url(&url, &everything).await,
                    Err(GuardError::MetadataHost { .. })
                ),
                "{raw}"
            );
        }
        assert!(!is_metadata_host("metadata.example.org"));
        let allowed = nets(&["127.0.0.0/8"]);
        for (raw, refused) in [
            ("http://metadata.google.internal/token", true),
            ("http://169.254.169.254/latest/meta-data/", true),
            ("http://[fd00:ec2::254]/latest/", true),
            ("http://100.100.100.200/latest/", true),
            ("http://192.0.0.192/opc/v2/", true),
            ("http://127.0.0.1:9/token", false),
            ("http://[::1]/token", true),
            ("https://idp.example.org/token", false),
            ("http://10.1.2.3/token", false),
            ("ftp://idp.example.org/", true),
        ] {
            assert_eq!(
                check_url_offline(raw, &allowed).is_err(),
                refused,
                "{raw}: {:?}",
                check_url_offline(raw, &allowed)
            );
        }
        assert!(is_metadata_host("Metadata.Google.Internal."));
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
