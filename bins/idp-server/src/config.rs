//! Settings shared by the subcommands, each from a flag or its environment variable.

use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use idp_store::{Backend, DatabaseUrl, PoolConfig, SecretBox, SecretKey, Store};

/// Where the database is and how the pool behaves.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` (relative), `sqlite:///ABSOLUTE/FILE` or
    /// `postgres://USER@HOST:PORT/DB`.
    #[arg(
        long,
        env = "IDP_DATABASE_URL",
        default_value = "sqlite://idp.sqlite3",
        hide_env_values = true
    )]
    pub database_url: String,
    /// Base64 of a 32-byte key sealing client secrets; a comma-separated list keeps older keys
    /// (after the first) able to open what they sealed.
    #[arg(long, env = "IDP_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// File holding the key ring, one base64 key per line, the first sealing; created with a
    /// fresh key (mode 0600) if it does not exist.
    #[arg(long, env = "IDP_SECRET_KEY_FILE")]
    pub secret_key_file: Option<std::path::PathBuf>,
    /// Most database connections open at once; 0 chooses: one on SQLite (it has one writer at
    /// a time, and reads use read-only connections of their own), 10 on PostgreSQL.
    #[arg(long, env = "IDP_DB_POOL_SIZE", default_value_t = 0)]
    pub db_pool_size: u32,
    /// Seconds a request waits for a database connection before it is answered with 503.
    #[arg(long, env = "IDP_DB_TIMEOUT", default_value_t = 5)]
    pub db_timeout: u64,
}

impl DatabaseArgs {
    /// The parsed database URL.
    pub fn url(&self) -> Result<DatabaseUrl> {
        DatabaseUrl::parse(&self.database_url).context("IDP_DATABASE_URL")
    }

    /// The pool size for `backend`, with 0 resolved to the default.
    pub fn pool_size(&self, backend: Backend) -> u32 {
        match (self.db_pool_size, backend) {
            // A second writer would only wait in SQLite's busy handler (sleeps of a millisecond
            // and more) rather than in the pool's queue, and each write connection's page cache
            // is dropped whenever another one has written.
            (0, Backend::Sqlite) => 1,
            (0, Backend::Postgres) => 10,
            (size, _) => size,
        }
    }

    /// Opens the store with its key ring (without migrating).
    pub fn open(&self) -> Result<Store> {
        let url = self.url()?;
        let secrets = crate::keys::load_key_ring(
            self.secret_key.as_deref(),
            self.secret_key_file.as_deref(),
            &url,
        )?;
        let pool = PoolConfig {
            max_size: self.pool_size(url.backend()),
            connection_timeout: Duration::from_secs(self.db_timeout.max(1)),
        };
        let store = Store::open(&url, &pool, secrets).with_context(|| match url.backend() {
            Backend::Sqlite => "cannot open the SQLite database".to_owned(),
            Backend::Postgres => "cannot connect to PostgreSQL".to_owned(),
        })?;
        Ok(store)
    }
}

impl DatabaseArgs {
    /// For commands that must write nothing (`--dry-run`): the store when the database exists
    /// (`None` for a SQLite file that does not), neither migrated nor given a new key file. When
    /// the SQLite default key file does not exist, a key held in memory only stands in for it:
    /// a dry run's writes are rolled back.
    pub fn open_without_writing(&self) -> Result<Option<Store>> {
        let url = self.url()?;
        let secrets = match &url {
            DatabaseUrl::Sqlite(db) if !db.exists() => return Ok(None),
            DatabaseUrl::Sqlite(db)
                if self.secret_key.is_none()
                    && self.secret_key_file.is_none()
                    && !crate::keys::default_key_path(db).exists() =>
            {
                SecretBox::new(
                    SecretKey::from_base64(&SecretKey::generate_base64())?,
                    Vec::new(),
                )
            }
            _ => crate::keys::load_key_ring(
                self.secret_key.as_deref(),
                self.secret_key_file.as_deref(),
                &url,
            )?,
        };
        let pool = PoolConfig {
            max_size: 1,
            connection_timeout: Duration::from_secs(self.db_timeout.max(1)),
        };
        Ok(Some(Store::open(&url, &pool, secrets).with_context(
            || match url.backend() {
                Backend::Sqlite => "cannot open the SQLite database".to_owned(),
                Backend::Postgres => "cannot connect to PostgreSQL".to_owned(),
            },
        )?))
    }
}

/// Log format and level.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// `text` (human-readable) or `json`. The level comes from `RUST_LOG` (default `info`).
    #[arg(long, env = "IDP_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

impl LogArgs {
    /// Installs the global tracing subscriber, writing to standard error.
    pub fn init(&self) {
        use tracing_subscriber::EnvFilter;
        let mut filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        // actix-http logs every request it cannot parse (a client's fault, answered 400) at
        // ERROR; those lines are left out unless RUST_LOG names actix_http itself.
        if !std::env::var("RUST_LOG").is_ok_and(|value| value.contains("actix_http")) {
            filter = filter.add_directive(
                "actix_http::h1::dispatcher=off"
                    .parse()
                    .expect("a valid directive"),
            );
        }
        // Colours only on a terminal: log files and collectors get plain text.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(ansi);
        let _ = if self.log_format == "json" {
            builder.json().flatten_event(true).try_init()
        } else {
            builder.try_init()
        };
    }
}
