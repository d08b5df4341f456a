//! Logs a person in with any OpenID Provider, using idp-oidc alone: no database, no web
//! framework.
//!
//! ```text
//! cargo run -p idp-oidc --example login -- DISCOVERY_URL CLIENT_ID SECRET_FILE \
//!     [--port 8765] [--scope "openid profile email"] [--provider NAME] \
//!     [--allow-networks 127.0.0.0/8] [--no-pkce] [--insecure]
//! ```
//!
//! Register `http://127.0.0.1:<port>/callback` as a redirect URI of the client first. The
//! example prints the authorization URL, waits for the browser to come back to that address,
//! exchanges the code, verifies the ID token, fetches userinfo and prints the claims.
//! `--allow-networks` lets it reach a provider on loopback or a private network the SSRF guard
//! would refuse; `--insecure` accepts any TLS certificate.

use std::error::Error;
use std::process::ExitCode;

use idp_oidc::rp::{
    Completion, LoginSecrets, ProviderLoginMetadata, RelyingParty, RelyingPartyConfig,
};
use idp_oidc::{DiscoveryClient, FetchPolicy, parse_networks};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

const USAGE: &str = "usage: login DISCOVERY_URL CLIENT_ID SECRET_FILE [--port N] [--scope S] \
    [--provider NAME] [--allow-networks CIDRS] [--no-pkce] [--insecure]";

struct Options {
    discovery_url: String,
    client_id: String,
    secret_file: String,
    port: u16,
    scope: String,
    provider: String,
    allow_networks: String,
    pkce: bool,
    verify_ssl: bool,
}

fn options() -> Result<Options, String> {
    let mut positional = Vec::new();
    let mut options = Options {
        discovery_url: String::new(),
        client_id: String::new(),
        secret_file: String::new(),
        port: 8765,
        scope: "openid profile email".to_owned(),
        provider: "example".to_owned(),
        allow_networks: String::new(),
        pkce: true,
        verify_ssl: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                options.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port needs a number".to_owned())?;
            }
            "--scope" => options.scope = value("--scope")?,
            "--provider" => options.provider = value("--provider")?,
            "--allow-networks" => options.allow_networks = value("--allow-networks")?,
            "--no-pkce" => options.pkce = false,
            "--insecure" => options.verify_ssl = false,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ => positional.push(arg),
        }
    }
    let [discovery_url, client_id, secret_file] =
        <[String; 3]>::try_from(positional).map_err(|_| USAGE.to_owned())?;
    options.discovery_url = discovery_url;
    options.client_id = client_id;
    options.secret_file = secret_file;
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut text = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("login failed: {text}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let options = options()?;
    let secret = std::fs::read_to_string(&options.secret_file)
        .map_err(|error| format!("cannot read {}: {error}", options.secret_file))?;
    let policy = FetchPolicy {
        allow_networks: parse_networks(&options.allow_networks)?,
        ..FetchPolicy::default()
    };

    let document = DiscoveryClient::new(policy.clone())
        .fetch(&options.discovery_url, options.verify_ssl)
        .await?;
    let metadata = ProviderLoginMetadata::from_document(&document);
    let mut config = RelyingPartyConfig::from_metadata(
        &options.provider,
        &options.client_id,
        secret.trim_end_matches(['\n', '\r']),
        &metadata,
    );
    config.verify_ssl = options.verify_ssl;
    config.policy = policy;
    let rp = RelyingParty::new(config)?;

    let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
    let redirect_uri = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr()?.port()
    );
    let secrets = LoginSecrets::generate(options.pkce);
    let mut pairs = vec![
        ("response_type", "code".to_owned()),
        ("client_id", options.client_id.clone()),
        ("redirect_uri", redirect_uri.clone()),
        ("scope", options.scope.clone()),
        ("state", secrets.state().to_owned()),
        ("nonce", secrets.nonce().to_owned()),
    ];
    if let Some(challenge) = secrets.pkce_challenge() {
        pairs.push(("code_challenge", challenge));
        pairs.push(("code_challenge_method", "S256".to_owned()));
    }
    println!(
        "Open this URL in a browser to log in:\n\n{}\n",
        rp.authorization_url(pairs)
    );
    println!("Waiting for the provider to redirect to {redirect_uri} ...");

    let callback = wait_for_callback(&listener, &redirect_uri).await?;
    let parameter = |name: &str| {
        callback
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if let Some(error) = parameter("error") {
        let description = parameter("error_description").unwrap_or_default();
        return Err(format!("the provider refused the login: {error} {description}").into());
    }
    if parameter("state").as_deref() != Some(secrets.state()) {
        return Err("the callback's state is not the one sent".into());
    }
    let code = parameter("code").ok_or("the callback has no code")?;
    let iss = parameter("iss");
    let outcome = rp
        .complete(&Completion {
            code: &code,
            iss: iss.as_deref(),
            redirect_uri: &redirect_uri,
            nonce: secrets.nonce(),
            pkce_verifier: secrets.pkce_verifier(),
        })
        .await?;
    match &outcome.id_token {
        Some(token) => println!(
            "ID token verified ({}, key {})",
            token.algorithm(),
            token.key_id().unwrap_or("without kid")
        ),
        None => println!("The provider sent no ID token; the claims are userinfo's."),
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&outcome.claims).unwrap_or_default()
    );
    Ok(())
}

/// Accepts connections until one asks for the callback path, answers it with a short page, and
/// returns its full URL.
async fn wait_for_callback(
    listener: &TcpListener,
    redirect_uri: &str,
) -> Result<Url, Box<dyn Error>> {
    let base = Url::parse(redirect_uri)?;
    loop {
        let (mut stream, _) = listener.accept().await?;
        let mut head = Vec::new();
        let mut buffer = [0_u8; 2048];
        while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
            match stream.read(&mut buffer).await? {
                0 => break,
                read => head.extend_from_slice(&buffer[..read]),
            }
        }
        let head = String::from_utf8_lossy(&head);
        let target = head
            .lines()
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .unwrap_or("/");
        let url = base.join(target)?;
        let callback = url.path() == base.path();
        let page = if callback {
            "You are logged in; the terminal shows the claims. You can close this window."
        } else {
            "Not found."
        };
        let status = if callback { "200 OK" } else { "404 Not Found" };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
            page.len()
        );
        stream.write_all(response.as_bytes()).await?;
        if callback {
            return Ok(url);
        }
    }
}
