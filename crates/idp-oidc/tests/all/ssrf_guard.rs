//! The SSRF guard, checked directly and through the client. No test here sends traffic anywhere:
//! refused URLs never get a connection, and allowed non-loopback addresses are only checked.

use std::net::IpAddr;

use idp_oidc::guard::{check_ip, check_url, parse_url};
use idp_oidc::{DiscoveryClient, FetchErrorKind, FetchPolicy, GuardError};
use ipnet::IpNet;

fn disallowed(ip: &str) -> String {
    format!("URL host resolves to a disallowed address ({ip}).")
}

/// The guard's verdict on a URL under the default policy, as the action message.
async fn verdict(raw: &str) -> Result<(), String> {
    let url = parse_url(raw).map_err(|e| e.to_string())?;
    check_url(&url, &[])
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn loopback_link_local_multicast_reserved_and_unspecified_hosts_are_refused() {
    let cases = [
        ("http://127.0.0.1/", "127.0.0.1"),
        ("http://127.1.2.3:8080/x", "127.1.2.3"),
        ("http://[::1]/", "::1"),
        ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://[fe80::1]/", "fe80::1"),
        ("http://0.0.0.0/", "0.0.0.0"),
        ("http://[::]/", "::"),
        ("http://224.0.0.1/", "224.0.0.1"),
        ("http://[ff02::1]/", "ff02::1"),
        ("http://240.0.0.1/", "240.0.0.1"),
        ("http://255.255.255.255/", "255.255.255.255"),
        // The URL standard reads these as 127.0.0.1 too; so does the guard.
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
    ];
    for (url, ip) in cases {
        assert_eq!(verdict(url).await, Err(disallowed(ip)), "{url}");
    }
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused() {
    let message = verdict("http://localhost:8080/.well-known/openid-configuration").await;
    let either = [Err(disallowed("127.0.0.1")), Err(disallowed("::1"))];
    assert!(either.contains(&message), "{message:?}");
}

#[tokio::test]
async fn private_and_cgnat_addresses_pass_the_guard() {
    for url in [
        "http://10.0.0.1/.well-known/openid-configuration",
        "https://192.168.1.1/",
        "https://172.16.5.4:8443/x",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
    ] {
        assert_eq!(verdict(url).await, Ok(()), "{url}");
    }
    for ip in ["10.0.0.1", "192.168.1.1", "8.8.8.8", "2a00:1450:4001::1"] {
        let ip: IpAddr = ip.parse().unwrap();
        assert_eq!(check_ip(ip, &[]), Ok(()), "{ip}");
    }
}

#[tokio::test]
async fn literal_hosts_are_pinned_without_dns() {
    let url = parse_url("https://10.0.0.1:8443/.well-known/openid-configuration").unwrap();
    let target = check_url(&url, &[]).await.unwrap();
    assert_eq!(target.addrs, ["10.0.0.1:8443".parse().unwrap()]);
    let url = parse_url("http://[fd00::1]/").unwrap();
    let target = check_url(&url, &[]).await.unwrap();
    assert_eq!(target.addrs, ["[fd00::1]:80".parse().unwrap()]);
}

#[test]
fn allowed_networks_override_the_guard() {
    let allow: Vec<IpNet> = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
        assert_eq!(check_ip(ip.parse().unwrap(), &allow), Ok(()), "{ip}");
    }
    let metadata: IpAddr = "169.254.169.254".parse().unwrap();
    assert_eq!(
        check_ip(metadata, &allow),
        Err(GuardError::Disallowed { ip: metadata })
    );
    // A broad network lets its other addresses through, never a metadata address; only a
    // network of exactly that address does.
    let cluster: Vec<IpNet> = vec!["169.254.0.0/16".parse().unwrap()];
    assert_eq!(
        check_ip(metadata, &cluster),
        Err(GuardError::Disallowed { ip: metadata })
    );
    assert_eq!(check_ip("169.254.10.1".parse().unwrap(), &cluster), Ok(()));
    let named: Vec<IpNet> = vec!["169.254.169.254/32".parse().unwrap()];
    assert_eq!(check_ip(metadata, &named), Ok(()));
}

#[tokio::test]
async fn scheme_and_host_are_checked_first() {
    assert_eq!(
        verdict("ftp://idp.example.com/x").await,
        Err("Only http and https URLs are allowed.".to_owned())
    );
    assert_eq!(
        verdict("file:///etc/passwd").await,
        Err("Only http and https URLs are allowed.".to_owned())
    );
    assert_eq!(
        verdict("http:///.well-known/openid-configuration").await,
        Err("URL must include a host.".to_owned())
    );
}

#[tokio::test]
async fn an_unresolvable_host_is_named_in_quotes() {
    // A 64-character label is longer than DNS allows, so the resolver fails without sending a
    // query (checked with strace): this test stays off the network.
    let host = format!("{}.example", "a".repeat(64));
    assert_eq!(
        verdict(&format!("https://{host}/.well-known/openid-configuration")).await,
        Err(format!("Unable to resolve host '{host}'."))
    );
}

#[tokio::test]
async fn the_client_reports_guard_refusals_as_the_guards_error_everywhere() {
    let client = DiscoveryClient::new(FetchPolicy::default());
    for (url, ip) in [
        ("http://127.0.0.1:9/x", "127.0.0.1"),
        ("http://[::1]:9/x", "::1"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ] {
        let refused = GuardError::Disallowed {
            ip: ip.parse().unwrap(),
        };
        let error = client.fetch(url, true).await.unwrap_err();
        assert!(error.is_guard(), "{url}");
        assert_eq!(error.kind(), &FetchErrorKind::Guard(refused.clone()));
        let cause = std::error::Error::source(&error).expect("the guard's error is the cause");
        assert_eq!(cause.to_string(), disallowed(ip));
        let error = client.fetch_cached(url, false).await.unwrap_err();
        assert_eq!(error.kind(), &FetchErrorKind::Guard(refused));
    }
}
