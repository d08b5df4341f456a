//! The store itself: its connection pools, its key ring and the work that needs no table of its
//! own (migrations, liveness, pool figures).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::conn::{self, Backend, DatabaseUrl, DbConnection, PoolConfig};
use crate::error::StoreError;
use crate::secrets::SecretBox;
use crate::token_cache::TokenCache;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Read-only SQLite connections: one per thread that reads in place, and a few to spare.
const READER_POOL: PoolConfig = PoolConfig {
    max_size: 16,
    connection_timeout: std::time::Duration::from_secs(5),
};

/// PostgreSQL advisory lock key held while migrations run (`"idp-migr"` as bytes), so that
/// instances starting together apply them once.
const MIGRATION_LOCK: i64 = 0x6964_702d_6d69_6772;

/// The registry's storage: a connection pool and the key ring that seals client secrets.
///
/// Every method is blocking; async callers run them on a blocking thread.
#[derive(Clone)]
pub struct Store {
    pool: Pool<conn::Manager>,
    /// On SQLite, read-only connections for reads run in place (see [`Store::reader`]).
    readers: Option<Pool<conn::Manager>>,
    pub(crate) secrets: SecretBox,
    pub(crate) backend: Backend,
    pub(crate) url: DatabaseUrl,
    /// What every clone of this store shares in memory.
    pub(crate) shared: Arc<Shared>,
}

/// The in-memory state every clone of a store shares.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Cached token checks.
    pub(crate) tokens: TokenCache,
    /// How many provider writes this process has committed through the store; see
    /// [`Store::local_writes`].
    pub(crate) local_writes: AtomicU64,
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
        if let DatabaseUrl::Sqlite(path) = url {
            conn::create_private_sqlite_file(path);
        }
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
            url: url.clone(),
            shared: Arc::default(),
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
                url: self.url.clone(),
                shared: self.shared.clone(),
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
    ///
    /// On PostgreSQL they run under an advisory lock, so that when several instances start
    /// together on one database, one applies them while the others wait, then find nothing left
    /// to apply. (SQLite serialises writers by itself.)
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let locked = self.backend == Backend::Postgres;
        if locked {
            conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
        }
        let applied = conn
            .run_pending_migrations(migrations)
            .map(|applied| applied.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(StoreError::Migration);
        if locked {
            // Closing the session would release it too; a pooled connection stays open.
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
        }
        applied
    }

    /// How many provider writes (creates, updates, deletions, imports, re-sealing) this process
    /// has committed through any clone of this store. A reader that remembers the count it had
    /// seen when it last loaded the providers knows, by one atomic load, whether it must look
    /// again before answering: the read-your-writes rule of the snapshot in memory.
    pub fn local_writes(&self) -> u64 {
        self.shared.local_writes.load(Ordering::Acquire)
    }

    /// Counts a committed provider write (see [`Store::local_writes`]).
    pub(crate) fn provider_written(&self) {
        self.shared.local_writes.fetch_add(1, Ordering::AcqRel);
    }

    /// True when the registry's tables exist (the database was migrated at least once); for
    /// commands that must not write, and so cannot migrate.
    pub fn has_registry_tables(&self) -> bool {
        self.conn().is_ok_and(|mut conn| {
            conn.batch_execute("SELECT 1 FROM identity_providers WHERE 1 = 0")
                .is_ok()
        })
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

    /// One pooled connection; [`StoreError::Unavailable`] when none can be had in time.
    pub(crate) fn conn(&self) -> Result<PooledConnection<conn::Manager>, StoreError> {
        self.pool.get().map_err(StoreError::Unavailable)
    }
}
