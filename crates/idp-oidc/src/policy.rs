//! The limits every discovery fetch runs under.

use std::time::Duration;

use ipnet::IpNet;

/// The limits and exceptions every discovery fetch runs under.
///
/// The defaults are the product's (`docs/decisions.md`, "Discovery fetches"): 10 s for the whole
/// fetch, a 1 MiB body, at most 5 redirects, and documents cached for 5 minutes. `allow_networks`
/// is empty, so loopback, link-local, multicast, reserved and unspecified addresses are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Networks the fetcher may reach even where the SSRF guard would refuse them, for tests and
    /// for identity providers inside a cluster (`IDP_DISCOVERY_ALLOW_NETWORKS`).
    pub allow_networks: Vec<IpNet>,
    /// The limit for the whole fetch: every DNS lookup, connection, redirect hop and the body.
    pub timeout: Duration,
    /// The largest body accepted; a longer one is an error and is not read any further.
    pub max_body_bytes: usize,
    /// How many redirects are followed; one more is an error.
    pub max_redirects: usize,
    /// How long [`DiscoveryClient::fetch_cached`](crate::DiscoveryClient::fetch_cached) serves a
    /// document from memory, unless the response's `Cache-Control` asks for less.
    pub cache_ttl: Duration,
    /// How many documents the cache holds at most; expired and then the oldest entries make room.
    pub cache_capacity: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow_networks: Vec::new(),
            timeout: Duration::from_secs(10),
            max_body_bytes: 1024 * 1024,
            max_redirects: 5,
            cache_ttl: Duration::from_secs(300),
            cache_capacity: 1000,
        }
    }
}

/// Parses a comma-separated list of networks such as `127.0.0.0/8,::1/128`, the format of
/// `IDP_DISCOVERY_ALLOW_NETWORKS`. A bare address means that address alone; blanks are skipped.
///
/// The error names the first entry that is neither a network nor an address.
pub fn parse_networks(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("'{entry}' is not a network (CIDR) or an IP address."))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_from_a_comma_separated_list() {
        let networks = parse_networks(" 127.0.0.0/8, ::1 ,,10.1.2.3").unwrap_or_default();
        let shown: Vec<String> = networks.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.0/8", "::1/128", "10.1.2.3/32"]);
        assert_eq!(
            parse_networks("10.0.0.0/8,nonsense"),
            Err("'nonsense' is not a network (CIDR) or an IP address.".to_owned())
        );
        assert_eq!(parse_networks(""), Ok(Vec::new()));
    }
}
