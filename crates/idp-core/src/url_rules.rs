//! URL rules: splitting as the reference does, Django's URL validity, and the per-provider
//! discovery-URL host rules.

use crate::errors::ValidationErrors;

/// The five parts of a URL as `scheme://netloc/path?query#fragment`, split without any
/// normalisation (case, default ports and percent-encoding are kept as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// The scheme, as written.
    pub scheme: &'a str,
    /// Userinfo, host and port, as written.
    pub netloc: &'a str,
    /// The path, possibly empty.
    pub path: &'a str,
    /// The query without `?`, possibly empty.
    pub query: &'a str,
    /// The fragment without `#`, possibly empty.
    pub fragment: &'a str,
}

/// Splits a URL into its parts; `None` when it has no `scheme://` prefix.
pub fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let netloc_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (netloc, rest) = rest.split_at(netloc_end);
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Some(UrlParts {
        scheme,
        netloc,
        path,
        query,
        fragment,
    })
}

/// The lower-cased host of a netloc, without userinfo, port or IPv6 brackets; `None` when the
/// brackets do not pair or do not hold an IPv6 address (Python's `urlsplit` refuses such a URL).
fn hostname(netloc: &str) -> Option<String> {
    if netloc.contains('[') != netloc.contains(']') {
        return None;
    }
    if let Some((_, bracketed)) = netloc.split_once('[') {
        let (address, _) = bracketed.split_once(']')?;
        let address = address.split_once('%').map_or(address, |(ip, _zone)| ip);
        address.parse::<std::net::Ipv6Addr>().ok()?;
    }
    let host_port = netloc.rsplit_once('@').map_or(netloc, |(_, host)| host);
    let host = if let Some((_, bracketed)) = host_port.split_once('[') {
        bracketed
            .split_once(']')
            .map_or(bracketed, |(host, _)| host)
    } else {
        host_port
            .split_once(':')
            .map_or(host_port, |(host, _)| host)
    };
    Some(host.to_lowercase())
}

/// True when `url` passes Django's `URLValidator` with the schemes `http`, `https`, `ftp` and
/// `ftps`: a host that is `localhost`, an IP address or a domain with a top-level label, an
/// optional numeric port, and no whitespace.
pub fn is_valid_django_url(url: &str) -> bool {
    if url.chars().count() > 2048 || url.chars().any(char::is_whitespace) {
        return false;
    }
    let Some(parts) = split_url(url) else {
        return false;
    };
    if !["http", "https", "ftp", "ftps"].contains(&parts.scheme.to_ascii_lowercase().as_str()) {
        return false;
    }
    // Userinfo is `user[:password]@`: a non-empty user, and neither part holds `:` or `@`.
    let host_port = match parts.netloc.split_once('@') {
        Some((userinfo, host_port)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            if user.is_empty() || password.contains(':') || host_port.contains('@') {
                return false;
            }
            host_port
        }
        None => parts.netloc,
    };
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return false;
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match (after.is_empty(), after.strip_prefix(':')) {
            (true, _) => (None, None),
            (false, Some(port)) => (None, Some(port)),
            (false, None) => return false,
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(host_port), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    // A host name has at most 253 characters (RFC 1034), a trailing dot included.
    match host {
        None => true,
        // Measured lower-cased, as Django measures `urlsplit().hostname`.
        Some(host) => host.to_lowercase().chars().count() <= 253 && is_valid_host(host),
    }
}

fn is_valid_host(host: &str) -> bool {
    let host = host.to_lowercase();
    if host == "localhost" || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    let host = host.strip_suffix('.').unwrap_or(&host);
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let (tld, names) = labels.split_last().expect("at least two labels");
    let label_ok = |label: &str| {
        let chars: Vec<char> = label.chars().collect();
        let inner_ok = |c: &char| c.is_ascii_alphanumeric() || *c as u32 >= 0xa1 || *c == '-';
        !chars.is_empty()
            && chars.len() <= 63
            && chars.iter().all(inner_ok)
            && chars.first() != Some(&'-')
            && chars.last() != Some(&'-')
    };
    let tld_ok = if let Some(puny) = tld.strip_prefix("xn--") {
        (1..=59).contains(&puny.len()) && puny.bytes().all(|b| b.is_ascii_alphanumeric())
    } else {
        (2..=63).contains(&tld.chars().count())
            && !tld.starts_with('-')
            && !tld.ends_with('-')
            && tld
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c as u32 >= 0xa1 || c == '-')
    };
    tld_ok && names.iter().all(|label| label_ok(label))
}

const TARA_HOSTS: [&str; 2] = ["tara-test.ria.ee", "tara.ria.ee"];

/// The object-level discovery-URL rule: an `http`/`https` URL with a host, where `tara` must
/// use TARA's own hosts and `keycloak` must not use TARA's or eduTEAMS' hosts. Other providers
/// have no host rule.
pub fn check_discovery_url_for_provider(provider: &str, url: &str) -> Result<(), ValidationErrors> {
    let invalid = || ValidationErrors::non_field("Invalid discovery URL.");
    let parts = split_url(url).ok_or_else(invalid)?;
    let scheme = parts.scheme.to_ascii_lowercase();
    let host = hostname(parts.netloc).ok_or_else(invalid)?;
    if !(scheme == "http" || scheme == "https") || host.is_empty() {
        return Err(invalid());
    }
    let allowed = match provider {
        "tara" => TARA_HOSTS.contains(&host.as_str()),
        "keycloak" => !host.ends_with("eduteams.org") && !TARA_HOSTS.contains(&host.as_str()),
        _ => true,
    };
    if allowed { Ok(()) } else { Err(invalid()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_urlsplit() {
        let parts = split_url("HTTPS://User@Example.com:8443/a/b?x=1#frag").unwrap();
        assert_eq!(parts.scheme, "HTTPS");
        assert_eq!(parts.netloc, "User@Example.com:8443");
        assert_eq!(parts.path, "/a/b");
        assert_eq!(parts.query, "x=1");
        assert_eq!(parts.fragment, "frag");
        assert_eq!(split_url("no-scheme"), None);
        assert_eq!(split_url("https://h#a?b").unwrap().fragment, "a?b");
    }

    #[test]
    fn django_url_validity() {
        for ok in [
            "https://example.com",
            "http://localhost:8000/",
            "https://127.0.0.1",
            "https://[::1]:8443",
            "ftp://files.example.org/x",
            "https://sub.example.co.uk/path?q=1#f",
            "https://xn--bcher-kva.example",
        ] {
            assert!(is_valid_django_url(ok), "{ok}");
        }
        for bad in [
            "example.com",
            "https://",
            "https://example",
            "https://*.example.com",
            "https://exa mple.com",
            "mailto://example.com",
            "https://example.com:port",
            "https://example.com:123456",
            "https://-bad.example.com",
            "https://[zz]:1",
        ] {
            assert!(!is_valid_django_url(bad), "{bad}");
        }
    }

    #[test]
    fn discovery_url_host_rules_per_provider() {
        let ok = |p, u| check_discovery_url_for_provider(p, u).is_ok();
        assert!(ok(
            "tara",
            "https://tara.ria.ee/.well-known/openid-configuration"
        ));
        assert!(ok("tara", "https://TARA-TEST.ria.ee:443/x"));
        assert!(!ok(
            "tara",
            "https://example.com/.well-known/openid-configuration"
        ));
        assert!(ok(
            "keycloak",
            "https://kc.example.com/realms/x/.well-known/openid-configuration"
        ));
        assert!(!ok("keycloak", "https://proxy.eduteams.org/x"));
        assert!(!ok("keycloak", "https://fooeduteams.org/x"));
        assert!(!ok("keycloak", "https://tara.ria.ee/x"));
        assert!(ok("eduteams", "https://proxy.eduteams.org/x"));
        assert!(ok("generic", "http://anything.example/x"));
        assert!(!ok("generic", "ftp://example.com/x"));
        assert!(!ok("generic", "https:///path"));
        assert!(!ok("generic", "not a url"));
        let err = check_discovery_url_for_provider("tara", "https://x.example").unwrap_err();
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"non_field_errors":["Invalid discovery URL."]}"#
        );
    }
}
