//! `inspect URL`: the discovery report of any provider, with no database; with `--client-id`
//! and `--client-secret-file`, the probe's checks too (the same checks as
//! `POST /api/identity-providers/probe/`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use idp_oidc::rp::{ProbeStatus, ProbeTarget, probe};
use idp_oidc::{DiscoveryClient, FetchErrorKind, FetchPolicy, parse_networks};

/// What to inspect and how to print it.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The provider's discovery URL (`https://idp.example.com/.well-known/openid-configuration`).
    pub url: String,
    /// Print the JSON answer of `discover_metadata` (or, when probing, the probe's checks) instead
    /// of a table.
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
    /// Probe the provider with this client: every check of the API's probe, the client's
    /// credentials included (a code exchange with an invalid code).
    #[arg(long, requires = "client_secret_file")]
    pub client_id: Option<String>,
    /// The file holding the client secret (its first line); the secret is never printed.
    #[arg(long, requires = "client_id")]
    pub client_secret_file: Option<PathBuf>,
    /// The provider name the client authentication is chosen for (`tara` uses
    /// `client_secret_basic`).
    #[arg(long, default_value = "inspect")]
    pub provider: String,
    /// Check that PKCE (S256) is offered, and send a verifier with the probe's code exchange.
    #[arg(long)]
    pub pkce: bool,
    /// Scopes logins ask for besides `openid`, whitespace-separated.
    #[arg(long)]
    pub extra_scope: Option<String>,
    /// Claims the mapping reads, whitespace-separated (names or JSON Pointers).
    #[arg(long, default_value = "")]
    pub claims: String,
    /// The `redirect_uri` of the probe's code exchange.
    #[arg(long, default_value = "https://localhost/api-auth/inspect/complete/")]
    pub redirect_uri: String,
}

/// Fetches the document and prints its report, or runs the probe; any failure to fetch is one
/// line (what went wrong, then its causes) and a non-zero exit, and so is a probe with a
/// failed check.
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
    if let (Some(client_id), Some(secret_file)) = (&args.client_id, &args.client_secret_file) {
        return run_probe(&runtime, &client, &args, client_id, secret_file);
    }
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

fn run_probe(
    runtime: &tokio::runtime::Runtime,
    client: &DiscoveryClient,
    args: &InspectArgs,
    client_id: &str,
    secret_file: &std::path::Path,
) -> Result<()> {
    // The path is named, the content never.
    let secret = std::fs::read_to_string(secret_file).with_context(|| {
        format!(
            "cannot read the client secret file {}",
            secret_file.display()
        )
    })?;
    let secret = secret.lines().next().unwrap_or("").trim().to_owned();
    if secret.is_empty() {
        bail!("the client secret file {} is empty", secret_file.display());
    }
    let mapped_claims = args
        .claims
        .split_whitespace()
        .map(|name| match idp_core::login::ClaimPath::parse(name) {
            Ok(path) => Ok(path.top_level().to_owned()),
            Err(error) => Err(anyhow::Error::msg(error.to_string())),
        })
        .collect::<Result<Vec<_>>>()
        .context("--claims")?;
    let target = ProbeTarget {
        provider: args.provider.clone(),
        discovery_url: args.url.clone(),
        verify_ssl: !args.insecure,
        client_id: client_id.to_owned(),
        client_secret: secret,
        enable_pkce: args.pkce,
        extra_scope: args.extra_scope.clone(),
        mapped_claims,
        token_url: None,
        redirect_uri: args.redirect_uri.clone(),
    };
    let checks = runtime.block_on(probe(client, &target));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for check in &checks {
            let status = serde_json::to_value(check.status)?;
            println!(
                "{:<20} {:<8} {}",
                check.check,
                status.as_str().unwrap_or_default(),
                check.detail
            );
        }
    }
    let failed: Vec<&str> = checks
        .iter()
        .filter(|check| check.status == ProbeStatus::Fail)
        .map(|check| check.check)
        .collect();
    if !failed.is_empty() {
        bail!("failed checks: {}", failed.join(", "));
    }
    Ok(())
}
