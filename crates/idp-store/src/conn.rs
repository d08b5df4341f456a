//! Connections: choosing the backend by URL scheme, SQLite settings, and the pool.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, Pool};

use crate::error::StoreError;
use crate::liveness;

/// One connection to either backend; queries are written once for both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// A PostgreSQL connection.
    Postgresql(diesel::PgConnection),
    /// A SQLite connection. Kept last: SQLite accepts any path as a URL.
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection, once written for both. A
/// query run through [`DbConnection`] has its SQL written out again each time it runs (twice:
/// to ask whether it may be cached, then to bind its values), even when its statement is
/// cached; on the write path of an update that was a tenth of the request's CPU.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {{
        let conn: &mut $crate::conn::DbConnection = $conn;
        match conn {
            $crate::conn::DbConnection::Postgresql($c) => $body,
            $crate::conn::DbConnection::Sqlite($c) => $body,
        }
    }};
}
pub(crate) use per_backend;

/// The database kinds the store supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A parsed database URL: `sqlite://relative.sqlite3`, `sqlite:///abs/path.sqlite3` or
/// `postgres://user@host:port/db`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string, kept whole for libpq.
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    // A PostgreSQL URL may hold a password: show only the backend and path.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(_) => f.write_str("postgres://…"),
        }
    }
}

impl DatabaseUrl {
    /// Parses a URL, rejecting any scheme other than `sqlite:` and `postgres:`/`postgresql:`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl(
                    "a sqlite URL needs a file path".into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        Err(StoreError::InvalidUrl(
            "expected sqlite://FILE, sqlite:///ABSOLUTE/FILE or postgres://USER@HOST/DB".into(),
        ))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Pool sizing and waiting.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub connection_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_size: 10,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// Makes connections for the pool, choosing the backend from the URL.
#[derive(Debug)]
pub(crate) struct Manager {
    url: DatabaseUrl,
    timeout: Duration,
    read_only: bool,
}

/// Adds libpq's `connect_timeout` and TCP keepalives to a PostgreSQL URL that does not set them,
/// so that a server that hangs (rather than refuses) cannot hold a connection attempt forever.
pub(crate) fn with_timeouts(url: &str, timeout: Duration) -> String {
    let mut url = url.to_owned();
    let settings = [
        ("connect_timeout", timeout.as_secs().max(1).to_string()),
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", "10".to_owned()),
        (
            "tcp_user_timeout",
            timeout.as_millis().max(1000).to_string(),
        ),
    ];
    for (key, value) in settings {
        if !url.contains(&format!("{key}=")) {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{key}={value}"));
        }
    }
    url
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                diesel::PgConnection::establish(&with_timeouts(url, self.timeout))
                    .map(DbConnection::Postgresql)
                    .map_err(r2d2::Error::ConnectionError)
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn = diesel::SqliteConnection::establish(&path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; NORMAL sync in WAL mode loses nothing
                // that was committed when the process dies; the busy timeout makes writers queue
                // instead of failing.
                // A 1 MiB page cache per connection: the file is in the OS cache anyway, and
                // every pooled connection would otherwise keep 2 MiB of its own.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -1024;",
                )
                .map_err(r2d2::Error::QueryError)?;
                if self.read_only {
                    conn.batch_execute("PRAGMA query_only = ON;")
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        // A query per checkout would double the round trips of every request; connections are
        // tested only for a while after one of them was found closed (the server restarted).
        if !liveness::suspect() {
            return Ok(());
        }
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Creates a SQLite database file that does not exist yet, empty and readable by its owner only
/// (mode 0600), before SQLite opens it: SQLite gives its `-wal` and `-shm` files the database
/// file's mode, so they are private too. An existing file is left as it is.
pub(crate) fn create_private_sqlite_file(path: &std::path::Path) {
    let name = path.to_string_lossy();
    if name == ":memory:" || name.starts_with("file:") || path.exists() {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // Another process may have created it in between (it then opens as an existing file), or
    // the directory may be missing: SQLite reports what matters when it opens the file.
    let _ = options.open(path);
}

pub(crate) fn build_pool(
    url: &DatabaseUrl,
    config: &PoolConfig,
    read_only: bool,
) -> Result<Pool<Manager>, StoreError> {
    let manager = Manager {
        url: url.clone(),
        timeout: config.connection_timeout,
        read_only,
    };
    let pool = Pool::builder()
        .max_size(config.max_size.max(1))
        .min_idle(Some(0))
        .connection_timeout(config.connection_timeout)
        // A PostgreSQL connection that died with its server is found and replaced before it is
        // handed out (see `is_valid`), so the store recovers by itself once the database is
        // back. A SQLite connection cannot lose its server, so it is never tested.
        .test_on_check_out(url.backend() == Backend::Postgres)
        // Failed connection attempts are reported by the requests that wait for them (503
        // and one warning each), not once more per retry.
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build_unchecked(manager);
    // One connection now, so that a wrong URL or a server that is down is reported at start.
    pool.get().map_err(StoreError::Unavailable)?;
    Ok(pool)
}
