//! Persistence of the identity-provider registry on SQLite and PostgreSQL.
//!
//! One diesel code path serves both backends through a `MultiConnection`; the backend is chosen
//! at run time by the database URL's scheme. Migrations are embedded and applied by
//! [`Store::migrate`]. Client secrets are sealed with AES-256-GCM before they reach a row, and
//! API tokens are kept only as SHA-256 hashes.
//!
//! This crate knows the domain model of `idp-core` and nothing above it: no HTTP, no OIDC.

mod bulk;
mod columns;
mod conn;
mod error;
mod provider_rows;
mod providers;
mod schema;
mod secrets;
mod users;

#[cfg(feature = "test-support")]
pub mod testing;

pub use bulk::ImportOutcome;
pub use conn::{Backend, DatabaseUrl, DbConnection, PoolConfig};
pub use error::StoreError;
pub use providers::{Page, StoredProvider};
pub use secrets::{SecretBox, SecretKey};
pub use users::{Authentication, NewToken, User};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Read-only SQLite connections: one per thread that reads in place, and a few to spare.
const READER_POOL: PoolConfig = PoolConfig {
    max_size: 16,
    connection_timeout: std::time::Duration::from_secs(5),
};

/// The registry's storage: a connection pool and the key ring that seals client secrets.
///
/// Every method is blocking; async callers run them on a blocking thread.
#[derive(Clone)]
pub struct Store {
    pool: Pool<conn::Manager>,
    /// On SQLite, read-only connections for reads run in place (see [`Store::reader`]).
    readers: Option<Pool<conn::Manager>>,
    secrets: SecretBox,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens a pool on `url`. Connections are made lazily, except one made at once so that a
    /// wrong URL or an unreachable server is reported here.
    pub fn open(
        url: &DatabaseUrl,
        pool: &PoolConfig,
        secrets: SecretBox,
    ) -> Result<Self, StoreError> {
        let backend = url.backend();
        let readers = match backend {
            // Readers never wait for SQLite's writer in WAL mode, so their own small pool is
            // never exhausted by writers queueing for the write lock.
            Backend::Sqlite => Some(conn::build_pool(url, &READER_POOL, true)?),
            Backend::Postgres => None,
        };
        let pool = conn::build_pool(url, pool, false)?;
        Ok(Self {
            pool,
            readers,
            secrets,
            backend,
        })
    }

    /// True when reads are cheap enough to run on the calling thread: an embedded SQLite
    /// database, read through [`Store::reader`], answers a lookup in microseconds and never
    /// waits for a writer, so handing it to another thread would cost more than the read.
    pub fn reads_in_place(&self) -> bool {
        self.readers.is_some()
    }

    /// The store as seen through its read-only connections where it has them (SQLite), else
    /// itself. Writes through it fail.
    pub fn reader(&self) -> Store {
        match &self.readers {
            Some(readers) => Store {
                pool: readers.clone(),
                readers: None,
                secrets: self.secrets.clone(),
                backend: self.backend,
            },
            None => self.clone(),
        }
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The key ring used for client secrets.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// Applies pending migrations and returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let applied = conn
            .run_pending_migrations(migrations)
            .map_err(|error| StoreError::Migration(error.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// True when a connection can be had and answers a trivial query.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn()?
            .batch_execute("SELECT 1")
            .map_err(StoreError::from)
    }

    /// Connections in use and idle, and the pool's size.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections - state.idle_connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// Runs `work` on one pooled connection: for queries of an embedding service's own, and for
    /// tests that need to hold a connection.
    pub fn with_connection<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, diesel::result::Error>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        Ok(work(&mut conn)?)
    }

    fn conn(&self) -> Result<PooledConnection<conn::Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|error| StoreError::Unavailable(error.to_string()))
    }
}
