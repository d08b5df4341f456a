//! Prints the discovery report of any OpenID Connect provider, with no server and no database.
//!
//! ```text
//! cargo run -p idp-oidc --example inspect -- https://accounts.google.com/.well-known/openid-configuration
//! cargo run -p idp-oidc --example inspect -- --insecure https://idp.internal/.well-known/openid-configuration
//! cargo run -p idp-oidc --example inspect -- --allow 127.0.0.0/8 http://127.0.0.1:8080/.well-known/openid-configuration
//! ```
//!
//! `--insecure` skips TLS certificate verification (`verify_ssl = false`); `--allow CIDR` lets the
//! fetch reach a network the SSRF guard refuses (repeatable). The exit status is 0 on success, 1
//! when the document cannot be fetched or used, and 2 for bad arguments.

use std::process::ExitCode;

use idp_oidc::{DiscoveryClient, FetchPolicy, parse_networks};

const USAGE: &str = "usage: inspect [--insecure] [--allow CIDR]... URL";

#[tokio::main]
async fn main() -> ExitCode {
    let mut verify_ssl = true;
    let mut policy = FetchPolicy::default();
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--insecure" | "-k" => verify_ssl = false,
            "--allow" => match args.next().as_deref().map(parse_networks) {
                Some(Ok(networks)) => policy.allow_networks.extend(networks),
                Some(Err(message)) => return usage_error(&message),
                None => return usage_error("--allow needs a network"),
            },
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if arg.starts_with('-') => return usage_error(&format!("unknown option {arg}")),
            _ if url.is_none() => url = Some(arg),
            _ => return usage_error("only one URL, please"),
        }
    }
    let Some(url) = url else {
        return usage_error("a discovery URL is required");
    };

    let client = DiscoveryClient::new(policy);
    let report = match client.fetch(&url, verify_ssl).await {
        Ok(document) => {
            if let Some(problem) = document.strict_error() {
                eprintln!("note: not a strictly conformant OpenID Connect document ({problem})");
            }
            document.metadata_report()
        }
        Err(error) => Err(error),
    };
    match report {
        Ok(report) => {
            print!("{}", report.render_table());
            ExitCode::SUCCESS
        }
        Err(error) => {
            // The error, then each of its causes.
            let mut line = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                line.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{line}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("{message}\n{USAGE}");
    ExitCode::from(2)
}
