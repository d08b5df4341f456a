//! `serve` and `migrate`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use idp_core::ProviderNamePolicy;
use idp_http::{ApiSettings, AppState, ServerConfig, purge_login_state_periodically};
use idp_oidc::{DiscoveryClient, FetchPolicy, parse_networks};
use idp_store::Store;

use crate::config::{DatabaseArgs, LogArgs};
use crate::login::LoginArgs;

/// How often expired login transactions and exchange codes are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// Settings of the API server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub login: LoginArgs,
    /// Address and port to listen on.
    #[arg(long, env = "IDP_BIND", default_value = "127.0.0.1:8000")]
    pub bind: String,
    /// Comma-separated CIDRs the discovery fetcher may reach although the SSRF guard refuses
    /// them (e.g. `127.0.0.0/8,::1/128` for a provider on this host).
    #[arg(long, env = "IDP_DISCOVERY_ALLOW_NETWORKS", default_value = "")]
    pub discovery_allow_networks: String,
    /// Allowed provider names: empty for any slug of 1-32 characters `[a-z0-9][a-z0-9_-]*`,
    /// `waldur` for only `tara`, `eduteams` and `keycloak`, or a comma-separated list.
    #[arg(long, env = "IDP_PROVIDER_NAMES", default_value = "")]
    pub provider_names: String,
    /// Whether staff see `client_secret` in responses.
    #[arg(long, env = "IDP_EXPOSE_CLIENT_SECRET", default_value_t = true, action = clap::ArgAction::Set)]
    pub expose_client_secret: bool,
    /// HTTP worker threads; 0 for one per core.
    #[arg(long, env = "IDP_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Seconds a client may take to send a request's head, and again its body; slower clients
    /// are cut off (408 for a stalled body).
    #[arg(long, env = "IDP_CLIENT_TIMEOUT", default_value_t = 10)]
    pub client_timeout: u64,
    /// Seconds (fractions allowed) between checks of the database for writes this instance was not told of:
    /// the fallback behind PostgreSQL notifications (and, on SQLite, how other processes'
    /// writes are seen), so the longest a provider can be served as it was before a write.
    #[arg(long, env = "IDP_SNAPSHOT_CHECK_INTERVAL", default_value_t = 5.0)]
    pub snapshot_check_interval: f64,
    /// Seconds in-flight requests may take to finish after SIGTERM or SIGINT.
    #[arg(long, env = "IDP_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// How often every active provider's discovery document and key set are read again
    /// (seconds, or a number with s, m, h or d; a tenth of jitter is added); 0 turns the
    /// background refresher off. Of several instances on one PostgreSQL database, one refreshes
    /// at a time.
    #[arg(long, env = "IDP_REFRESH_INTERVAL", default_value = "6h")]
    pub refresh_interval: String,
    /// Days audit events are kept (pruned at each refresh round); unset keeps them forever.
    #[arg(long, env = "IDP_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u64>,
}

impl ServeArgs {
    /// The refresher's interval and the audit retention, checked.
    pub fn refresh_settings(&self) -> Result<idp_http::RefreshSettings> {
        let interval = match self.refresh_interval.trim() {
            "0" => None,
            text => Some(crate::login::duration("IDP_REFRESH_INTERVAL", text)?),
        };
        let audit_retention = match self.audit_retention_days {
            None => None,
            Some(0) => anyhow::bail!(
                "IDP_AUDIT_RETENTION_DAYS must be at least 1 (unset keeps events forever)"
            ),
            Some(days) => Some(Duration::from_secs(
                days.checked_mul(86_400)
                    .context("IDP_AUDIT_RETENTION_DAYS is too large")?,
            )),
        };
        Ok(idp_http::RefreshSettings {
            interval,
            audit_retention,
        })
    }
}

/// Applies pending migrations.
pub fn migrate(database: &DatabaseArgs) -> Result<()> {
    let store = database.open()?;
    let applied = store.migrate().context("applying migrations")?;
    if applied.is_empty() {
        tracing::info!("the database is up to date");
    }
    for version in applied {
        tracing::info!(%version, "migration applied");
    }
    Ok(())
}

/// Runs the server until SIGTERM or SIGINT, after which in-flight requests finish.
pub fn run(args: ServeArgs) -> Result<()> {
    let started = Instant::now();
    args.log.init();
    // Settings are checked before the database is touched: a bad one changes nothing.
    let public_url = args.login.public_url()?;
    let login = args.login.settings()?;
    let refresh = args.refresh_settings()?;
    let store = args.database.open()?;
    let applied = store.migrate().context("applying migrations")?;
    for version in &applied {
        tracing::info!(%version, "migration applied");
    }
    bootstrap_admin(&store)?;

    let policy = FetchPolicy {
        allow_networks: parse_networks(&args.discovery_allow_networks)
            .map_err(anyhow::Error::msg)
            .context("IDP_DISCOVERY_ALLOW_NETWORKS")?,
        ..FetchPolicy::default()
    };
    let settings = ApiSettings {
        provider_names: ProviderNamePolicy::from_setting(&args.provider_names)
            .map_err(anyhow::Error::msg)
            .context("IDP_PROVIDER_NAMES")?,
        expose_client_secret: args.expose_client_secret,
        db_timeout: Duration::from_secs(args.database.db_timeout.max(1)),
        snapshot_check_interval: Duration::try_from_secs_f64(args.snapshot_check_interval)
            .ok()
            .filter(|interval| *interval >= Duration::from_millis(10))
            .context("IDP_SNAPSHOT_CHECK_INTERVAL: a number of seconds, at least 0.01")?,
        public_url,
        trust_forwarded_headers: args.login.trust_forwarded_headers,
        login,
        refresh,
        ..ApiSettings::default()
    };
    let listener =
        TcpListener::bind(&args.bind).with_context(|| format!("cannot listen on {}", args.bind))?;
    let address = listener.local_addr()?;
    let workers = match args.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let config = ServerConfig {
        workers: args.workers,
        client_request_timeout: Duration::from_secs(args.client_timeout.max(1)),
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
        // Each blocking task holds one of the pool's connections, and the workers share the
        // pool: more threads than that only wait, and each costs memory.
        blocking_threads: (args.database.pool_size(store.backend()) as usize).div_ceil(workers),
    };
    actix_web::rt::System::new().block_on(async move {
        let state = AppState {
            store,
            discovery: DiscoveryClient::new(policy),
            settings,
        };
        let server = idp_http::serve(listener, state.clone(), &config)?;
        actix_web::rt::spawn(purge_login_state_periodically(
            state.clone(),
            PURGE_INTERVAL,
        ));
        tracing::info!(%address, ready_ms = started.elapsed().as_millis() as u64, "listening");
        server.await?;
        // The uses since the last periodic write, for `token list`.
        if let Err(error) = state.store.record_token_uses() {
            tracing::warn!(%error, "recording token uses failed");
        }
        std::io::Result::Ok(())
    })?;
    tracing::info!("stopped");
    Ok(())
}

/// On a database without any staff user, creates `admin` with a token and prints the key once.
fn bootstrap_admin(store: &Store) -> Result<()> {
    // Instances starting together on an empty database: one of them creates the user.
    let Some(admin) = store.create_first_staff("admin")? else {
        return Ok(());
    };
    let token = store.create_token(&admin, None)?;
    // Standard output, not the log: the key must not end up in log collectors.
    println!("Created staff user 'admin'. Its API token (shown once, keep it safe):");
    println!("{}", token.key);
    tracing::info!("created the staff user 'admin'; its token was printed on standard output");
    Ok(())
}
