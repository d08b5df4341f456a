//! What changed since a snapshot in memory was loaded, and PostgreSQL notifications of changes.
//!
//! Triggers (the `snapshot` migration) mark every provider row written with the next number of
//! one counter, log deletions under theirs, and bump an auth version when a token or a user
//! changes; on PostgreSQL they also notify [`CHANNEL`] in the writing transaction. A reader that
//! has applied number N asks for the rows marked above N and the deletions logged above N, in
//! one consistent read (see docs/decisions.md, "Reads from memory").

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::conn::{Backend, DatabaseUrl, DbConnection, with_timeouts};
use crate::error::StoreError;
use crate::provider_rows::Row;
use crate::providers::StoredProvider;
use crate::schema::identity_providers as ip;
use crate::schema::{provider_deletions, registry_state};
use crate::store::Store;

/// The PostgreSQL notification channel; payloads are `providers N` and `auth N`.
pub const CHANNEL: &str = "idp_registry";

/// How often the listener looks for notifications that arrived on its connection.
const LISTEN_POLL: Duration = Duration::from_millis(5);
/// How often the listener makes sure its connection still answers.
const LISTEN_PING: Duration = Duration::from_secs(2);

/// The database's change counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// The number of the last provider write.
    pub providers: i64,
    /// Moves whenever a token or a user changed.
    pub auth: i64,
}

/// One provider row written after the number a reader had applied.
#[derive(Debug)]
pub struct ChangedProvider {
    /// The row's id: list order breaks label ties by it.
    pub id: i64,
    /// The number of the write that left the row as it is.
    pub change_seq: i64,
    /// The provider's name.
    pub name: String,
    /// The provider with its client secret left empty, and the secret as sealed in the row;
    /// or why the row could not be read (a corrupt value).
    pub content: Result<(StoredProvider, String), StoreError>,
}

/// What a reader must apply, besides the rows handed to it in batches.
#[derive(Debug)]
pub struct ProviderChanges {
    /// The counters as of the read; the reader has applied `versions.providers` once it has
    /// applied the rows and the deletions.
    pub versions: Versions,
    /// True when the rows are every provider (a first load, or a reader so far behind that the
    /// deletions it missed were pruned): the reader drops whatever it held that they do not
    /// name.
    pub full: bool,
    /// Names deleted after the number the reader had applied, with the number of each deletion
    /// (a name deleted, then created again, comes back as a row with a higher number).
    pub deleted: Vec<(String, i64)>,
}

impl Store {
    /// The change counters, in one query; the auth version is recorded on the way (see
    /// [`Store::observe_auth_version`]).
    pub fn versions(&self) -> Result<Versions, StoreError> {
        let mut conn = self.read_conn()?;
        let versions = read_versions(&mut conn)?.0;
        self.observe_auth_version(versions.auth);
        Ok(versions)
    }

    /// Records the database's auth version: when it moved since last seen, every cached token
    /// check is dropped.
    pub fn observe_auth_version(&self, version: i64) {
        self.shared.tokens.observe(version);
    }

    /// The providers written after number `seen` (all of them for `None`), handed to `each` in
    /// batches of at most `batch` rows in the order of their numbers, and the deletions after
    /// `seen`; everything from one consistent read of the database.
    pub fn provider_changes(
        &self,
        seen: Option<i64>,
        batch: i64,
        mut each: impl FnMut(Vec<ChangedProvider>),
    ) -> Result<ProviderChanges, StoreError> {
        let mut conn = self.read_conn()?;
        let backend = self.backend;
        let changes = conn.transaction::<_, StoreError, _>(|conn| {
            if backend == Backend::Postgres {
                // Every statement below sees the same committed state.
                conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
            }
            let (versions, pruned_through) = read_versions(conn)?;
            let full = seen.is_none_or(|seen| seen < pruned_through);
            let from = if full { 0 } else { seen.unwrap_or(0) };
            // Strictly after `from`: every write takes a number of its own (the rows that a
            // migration left at the first number are read by the first, full, load).
            let mut after = (from, i64::MAX);
            loop {
                let (after_seq, after_id) = after;
                let rows: Vec<(Row, i64, i64, String, String)> = ip::table
                    .select((
                        Row::as_select(),
                        ip::id,
                        ip::change_seq,
                        ip::provider,
                        ip::client_secret,
                    ))
                    .filter(
                        ip::change_seq
                            .gt(after_seq)
                            .or(ip::change_seq.eq(after_seq).and(ip::id.gt(after_id))),
                    )
                    .order((ip::change_seq.asc(), ip::id.asc()))
                    .limit(batch.max(1))
                    .load(conn)?;
                let Some(last) = rows.last() else { break };
                after = (last.2, last.1);
                let done = (rows.len() as i64) < batch.max(1);
                each(
                    rows.into_iter()
                        .map(|(row, id, change_seq, name, sealed)| ChangedProvider {
                            id,
                            change_seq,
                            name,
                            content: row.into_stored(None).map(|stored| (stored, sealed)),
                        })
                        .collect(),
                );
                if done {
                    break;
                }
            }
            let deleted = if full {
                Vec::new()
            } else {
                provider_deletions::table
                    .select((provider_deletions::provider, provider_deletions::seq))
                    .filter(provider_deletions::seq.gt(from))
                    .order(provider_deletions::seq.asc())
                    .load(conn)?
            };
            Ok(ProviderChanges {
                versions,
                full,
                deleted,
            })
        })?;
        self.observe_auth_version(changes.versions.auth);
        Ok(changes)
    }

    /// On PostgreSQL, starts a thread that listens on [`CHANNEL`] over a connection of its own
    /// and calls `on_change` with the provider version a notification names (`None` after
    /// connecting or reconnecting, when anything may have been missed). Auth notifications drop
    /// the cached token checks by themselves. The thread stops once `keep_going` answers false;
    /// a lost connection is made again (with a pause of up to a second between attempts).
    /// On SQLite there is nothing to listen to: `None`.
    pub fn listen(
        &self,
        on_change: impl Fn(Option<i64>) + Send + 'static,
        keep_going: impl Fn() -> bool + Send + 'static,
    ) -> Option<JoinHandle<()>> {
        let DatabaseUrl::Postgres(url) = &self.url else {
            return None;
        };
        let url = with_timeouts(url, Duration::from_secs(5));
        let store = self.clone();
        std::thread::Builder::new()
            .name("idp-listen".into())
            .spawn(move || store.listen_loop(&url, &on_change, &keep_going))
            .ok()
    }

    fn listen_loop(
        &self,
        url: &str,
        on_change: &dyn Fn(Option<i64>),
        keep_going: &dyn Fn() -> bool,
    ) {
        let mut pause = Duration::from_millis(50);
        while keep_going() {
            let connected = diesel::PgConnection::establish(url)
                .map_err(|error| tracing::debug!(%error, "listener cannot connect"))
                .and_then(|mut conn| {
                    conn.batch_execute(&format!("LISTEN {CHANNEL}"))
                        .map_err(|error| tracing::debug!(%error, "LISTEN failed"))
                        .map(|()| conn)
                });
            let Ok(mut conn) = connected else {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            };
            pause = Duration::from_millis(50);
            tracing::debug!("listening for changes");
            // Whatever was written while not listening is read now.
            on_change(None);
            let mut pinged = Instant::now();
            'connected: while keep_going() {
                std::thread::sleep(LISTEN_POLL);
                let mut newest = None;
                let mut heard = false;
                for notification in conn.notifications_iter() {
                    let Ok(notification) = notification else {
                        break 'connected;
                    };
                    match notification.payload.split_once(' ') {
                        Some(("auth", version)) => {
                            if let Ok(version) = version.parse() {
                                self.observe_auth_version(version);
                            }
                        }
                        Some(("providers", version)) => {
                            heard = true;
                            newest = newest.max(version.parse::<i64>().ok());
                        }
                        _ => {}
                    }
                }
                if heard {
                    on_change(newest);
                }
                if pinged.elapsed() >= LISTEN_PING {
                    pinged = Instant::now();
                    if conn.batch_execute("SELECT 1").is_err() {
                        break 'connected;
                    }
                }
            }
            tracing::debug!("the listening connection was lost");
        }
    }

    /// A connection for reads: a read-only one on SQLite, a pooled one on PostgreSQL.
    fn read_conn(
        &self,
    ) -> Result<diesel::r2d2::PooledConnection<crate::conn::Manager>, StoreError> {
        self.reader().conn()
    }
}

fn read_versions(conn: &mut DbConnection) -> Result<(Versions, i64), StoreError> {
    let (providers, auth, pruned): (i64, i64, i64) = registry_state::table
        .select((
            registry_state::providers_version,
            registry_state::auth_version,
            registry_state::deletions_pruned_through,
        ))
        .filter(registry_state::id.eq(1))
        .first(conn)?;
    Ok((Versions { providers, auth }, pruned))
}
