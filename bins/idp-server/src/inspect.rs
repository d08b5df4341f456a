//! `inspect URL`: the discovery report of any provider, with no database.

use anyhow::{Context, Result};
use clap::Args;
use idp_oidc::{DiscoveryClient, FetchErrorKind, FetchPolicy, parse_networks};

/// What to inspect and how to print it.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The provider's discovery URL (`https://idp.example.com/.well-known/openid-configuration`).
    pub url: String,
    /// Print the JSON answer of `discover_metadata` instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Do not verify the provider's TLS certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Comma-separated CIDRs the fetcher may reach although the SSRF guard refuses them (the
    /// server's setting of the same name).
    #[arg(
        long,
        alias = "allow-networks",
        env = "IDP_DISCOVERY_ALLOW_NETWORKS",
        default_value = ""
    )]
    pub discovery_allow_networks: String,
}

/// Fetches the document and prints its report; any failure is one line (what went wrong, then
/// its causes) and a non-zero exit.
pub fn run(args: InspectArgs) -> Result<()> {
    let policy = FetchPolicy {
        allow_networks: parse_networks(&args.discovery_allow_networks)
            .map_err(anyhow::Error::msg)
            .context("IDP_DISCOVERY_ALLOW_NETWORKS")?,
        ..FetchPolicy::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = DiscoveryClient::new(policy);
    // The URL is not repeated in the message: it may carry credentials.
    let document = runtime
        .block_on(client.fetch(&args.url, !args.insecure))
        .map_err(|error| {
            // A TLS failure that is not about the certificate: most often an https URL on a
            // server that speaks plain HTTP. With --insecure nothing was verified, so the
            // certificate is never to blame there.
            let chain = format!("{:#}", anyhow::Error::new(error.clone()));
            let plain_http = *error.kind() == FetchErrorKind::Tls
                && (chain.contains("InvalidContentType") || chain.contains("corrupt message"));
            let error = anyhow::Error::new(error);
            if plain_http {
                error.context(
                    "cannot fetch the discovery document: the server does not speak TLS on that \
                     port (is the URL http:// rather than https://?)",
                )
            } else if args.insecure && chain.contains("certificate") {
                error
                    .context("cannot fetch the discovery document (certificates were not verified)")
            } else {
                error.context("cannot fetch the discovery document")
            }
        })?;
    let report = document
        .metadata_report()
        .context("cannot report on the discovery document")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_table());
    }
    Ok(())
}
