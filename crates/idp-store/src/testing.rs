//! Throwaway databases for tests: a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database created on the server named by `IDP_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and dropped when the value is dropped.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::{Backend, DatabaseUrl, PoolConfig, SecretBox, SecretKey, Store};

/// The PostgreSQL server tests use unless `IDP_TEST_POSTGRES_URL` names another.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for as long as this value.
pub struct TestDatabase {
    url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The admin URL of the PostgreSQL server for tests.
pub fn postgres_admin_url() -> String {
    std::env::var("IDP_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "idp_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDatabase {
    /// A new, empty database of the given kind. Panics with a clear message when the
    /// PostgreSQL server cannot be reached: the PostgreSQL run is not optional.
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("idp.sqlite3");
                Self {
                    url: DatabaseUrl::Sqlite(path),
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = unique_name();
                let mut conn = PgConnection::establish(&admin).unwrap_or_else(|error| {
                    panic!(
                        "PostgreSQL is not reachable at IDP_TEST_POSTGRES_URL ({error}); \
                         start it with `pg_ctlcluster $(ls /etc/postgresql) main start`"
                    )
                });
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("CREATE DATABASE");
                let (base, _) = admin.rsplit_once('/').expect("a database URL has a path");
                let url = format!("{base}/{name}");
                Self {
                    url: DatabaseUrl::Postgres(url),
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The database's URL as a string, as the server's configuration takes it.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// A migrated store on this database, sealing with a fresh key.
    pub fn store(&self) -> Store {
        let key = SecretKey::from_base64(&SecretKey::generate_base64()).expect("a fresh key");
        self.store_with(SecretBox::new(key, vec![]))
    }

    /// A migrated store on this database with the given key ring. On SQLite it has one write connection, as
    /// the server does by default, so that a write path that would wait for a second one shows
    /// in the tests.
    pub fn store_with(&self, secrets: SecretBox) -> Store {
        let pool = match self.url.backend() {
            Backend::Sqlite => PoolConfig {
                max_size: 1,
                ..PoolConfig::default()
            },
            Backend::Postgres => PoolConfig::default(),
        };
        let store = Store::open(&self.url, &pool, secrets).expect("open the test database");
        store.migrate().expect("migrate the test database");
        store
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}
