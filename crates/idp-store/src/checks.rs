//! The last refresh check of each provider: when its discovery document and key set were last
//! read, whether that worked, what differed, and when the key ids last changed. A refresh that
//! changes endpoints writes them, its audit event and the check in one transaction; a failed
//! check writes the check only, never the configuration.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use idp_core::ProviderEndpoints;
use serde_json::Value;

use crate::audit::{AuditAction, AuditContext, lock_provider_writes, provider_changes, record};
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::provider_rows::{Row, changes, now};
use crate::providers::StoredProvider;
use crate::schema::identity_providers as ip;
use crate::schema::provider_checks as pc;
use crate::store::Store;

/// How the last check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The document and the key set were read and used.
    Success,
    /// Something failed; the stored configuration was left as it was.
    Failure,
}

impl CheckOutcome {
    /// The outcome's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Success => "success",
            CheckOutcome::Failure => "failure",
        }
    }
}

/// The last check of one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCheck {
    /// The provider's name.
    pub provider: String,
    /// When it was last checked.
    pub checked_at: NaiveDateTime,
    /// How that went.
    pub outcome: CheckOutcome,
    /// Why the last check failed (`None` after a success).
    pub last_error: Option<String>,
    /// When a check last succeeded.
    pub last_success_at: Option<NaiveDateTime>,
    /// What the last successful check found different from the stored configuration (and
    /// applied): `[{"field", "before", "after"}]`, empty when nothing differed.
    pub drift: Value,
    /// The key ids of the key set at the last successful check, sorted.
    pub jwks_key_ids: Vec<String>,
    /// When the key ids were first seen, or last changed.
    pub jwks_changed_at: Option<NaiveDateTime>,
    /// How many times the key ids changed after they were first seen.
    pub key_rotations: i64,
}

/// What a successful refresh did.
#[derive(Debug, Clone)]
pub struct RefreshApplied {
    /// The provider as stored now.
    pub stored: StoredProvider,
    /// The fields changed, as in an audit event (empty when nothing changed).
    pub changes: Value,
    /// True when the key ids differ from those of the previous successful check.
    pub keys_rotated: bool,
    /// The check as recorded.
    pub check: ProviderCheck,
}

type CheckRow = (
    String,
    NaiveDateTime,
    String,
    Option<String>,
    Option<NaiveDateTime>,
    String,
    String,
    Option<NaiveDateTime>,
    i64,
);

const COLUMNS: (
    pc::provider,
    pc::checked_at,
    pc::outcome,
    pc::last_error,
    pc::last_success_at,
    pc::drift,
    pc::jwks_key_ids,
    pc::jwks_changed_at,
    pc::key_rotations,
) = (
    pc::provider,
    pc::checked_at,
    pc::outcome,
    pc::last_error,
    pc::last_success_at,
    pc::drift,
    pc::jwks_key_ids,
    pc::jwks_changed_at,
    pc::key_rotations,
);

fn check_from_row(row: CheckRow) -> Result<ProviderCheck, StoreError> {
    let (provider, checked_at, outcome, last_error, last_success_at, drift, keys, changed, rot) =
        row;
    let corrupt = |cause| StoreError::Corrupt {
        what: format!("last check of provider {provider}"),
        cause,
    };
    let outcome = match outcome.as_str() {
        "success" => CheckOutcome::Success,
        "failure" => CheckOutcome::Failure,
        _ => return Err(corrupt(None)),
    };
    Ok(ProviderCheck {
        checked_at,
        outcome,
        last_error,
        last_success_at,
        drift: serde_json::from_str(&drift).map_err(|e| corrupt(Some(e)))?,
        jwks_key_ids: serde_json::from_str(&keys).map_err(|e| corrupt(Some(e)))?,
        jwks_changed_at: changed,
        key_rotations: rot,
        provider,
    })
}

fn load_check(conn: &mut DbConnection, name: &str) -> Result<Option<ProviderCheck>, StoreError> {
    let row: Option<CheckRow> = pc::table
        .select(COLUMNS)
        .filter(pc::provider.eq(name))
        .first(conn)
        .optional()?;
    row.map(check_from_row).transpose()
}

/// Writes `check` over the provider's previous one (or as its first).
fn save_check(conn: &mut DbConnection, check: &ProviderCheck) -> Result<(), StoreError> {
    let values = || {
        (
            pc::checked_at.eq(check.checked_at),
            pc::outcome.eq(check.outcome.as_str()),
            pc::last_error.eq(&check.last_error),
            pc::last_success_at.eq(check.last_success_at),
            pc::drift.eq(check.drift.to_string()),
            pc::jwks_key_ids.eq(serde_json::Value::from(check.jwks_key_ids.clone()).to_string()),
            pc::jwks_changed_at.eq(check.jwks_changed_at),
            pc::key_rotations.eq(check.key_rotations),
        )
    };
    let updated = diesel::update(pc::table.filter(pc::provider.eq(&check.provider)))
        .set(values())
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(pc::table)
            .values((pc::provider.eq(&check.provider), values()))
            .execute(conn)?;
    }
    Ok(())
}

impl Store {
    /// The last check of `name`, if it was ever checked.
    pub fn provider_check(&self, name: &str) -> Result<Option<ProviderCheck>, StoreError> {
        if name.contains('\0') {
            return Ok(None);
        }
        let mut conn = self.conn()?;
        load_check(&mut conn, name)
    }

    /// The last check of every provider checked, by name.
    pub fn provider_checks(&self) -> Result<Vec<ProviderCheck>, StoreError> {
        let mut conn = self.conn()?;
        let rows: Vec<CheckRow> = pc::table
            .select(COLUMNS)
            .order(pc::provider.asc())
            .load(&mut conn)?;
        rows.into_iter().map(check_from_row).collect()
    }

    /// Records a failed check of `name`; the configuration is not touched. [`StoreError::NotFound`]
    /// when the provider is gone.
    pub fn record_check_failure(
        &self,
        name: &str,
        error: &str,
    ) -> Result<ProviderCheck, StoreError> {
        let mut conn = self.conn()?;
        conn.transaction::<_, StoreError, _>(|conn| {
            lock_provider_writes(conn)?;
            let exists: Option<i64> = ip::table
                .select(ip::id)
                .filter(ip::provider.eq(name))
                .first(conn)
                .optional()?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            let previous = load_check(conn, name)?;
            let check = ProviderCheck {
                provider: name.to_owned(),
                checked_at: now(),
                outcome: CheckOutcome::Failure,
                last_error: Some(error.to_owned()),
                last_success_at: previous.as_ref().and_then(|p| p.last_success_at),
                drift: previous
                    .as_ref()
                    .map_or_else(|| Value::Array(Vec::new()), |p| p.drift.clone()),
                jwks_key_ids: previous
                    .as_ref()
                    .map(|p| p.jwks_key_ids.clone())
                    .unwrap_or_default(),
                jwks_changed_at: previous.as_ref().and_then(|p| p.jwks_changed_at),
                key_rotations: previous.as_ref().map_or(0, |p| p.key_rotations),
            };
            save_check(conn, &check)?;
            Ok(check)
        })
    }

    /// Records a successful check of `name` that read `endpoints` and a key set with `key_ids`:
    /// the endpoints are written only if they differ, with a `refresh` audit event by `context`,
    /// in the same transaction as the check. With `expected_discovery_url`, the write happens
    /// only if the provider still has that discovery URL ([`StoreError::Conflict`] otherwise: it
    /// was changed while the document was being read).
    pub fn apply_refresh(
        &self,
        name: &str,
        expected_discovery_url: &str,
        endpoints: &ProviderEndpoints,
        key_ids: &[String],
        context: &AuditContext,
    ) -> Result<RefreshApplied, StoreError> {
        let mut conn = self.conn()?;
        let secrets = &self.secrets;
        let applied = conn.transaction::<_, StoreError, _>(|conn| {
            lock_provider_writes(conn)?;
            let row: Option<Row> = ip::table
                .select(Row::as_select())
                .filter(ip::provider.eq(name))
                .first(conn)
                .optional()?;
            let before = row
                .ok_or(StoreError::NotFound)?
                .into_stored(Some(secrets))?;
            if before.provider.discovery_url != expected_discovery_url {
                return Err(StoreError::Conflict);
            }
            let mut provider = before.provider.clone();
            provider.endpoints = endpoints.clone();
            let diff = provider_changes(Some(&before.provider), Some(&provider));
            let stored = if provider == before.provider {
                before
            } else {
                let values = changes(&provider, secrets)?;
                let row: Row = diesel::update(ip::table.filter(ip::provider.eq(name)))
                    .set((&values, ip::version.eq(ip::version + 1)))
                    .returning(Row::columns())
                    .get_result(conn)?;
                record(conn, context, AuditAction::Refresh, name, &diff)?;
                row.into_stored(Some(secrets))?
            };
            let previous = load_check(conn, name)?;
            let mut key_ids = key_ids.to_vec();
            key_ids.sort();
            let at = now();
            let known = previous.as_ref().filter(|p| p.jwks_changed_at.is_some());
            let keys_rotated = known.is_some_and(|p| p.jwks_key_ids != key_ids);
            let check = ProviderCheck {
                provider: name.to_owned(),
                checked_at: at,
                outcome: CheckOutcome::Success,
                last_error: None,
                last_success_at: Some(at),
                drift: diff.clone(),
                jwks_changed_at: match known {
                    Some(p) if !keys_rotated => p.jwks_changed_at,
                    _ => Some(at),
                },
                key_rotations: known.map_or(0, |p| p.key_rotations) + i64::from(keys_rotated),
                jwks_key_ids: key_ids,
            };
            save_check(conn, &check)?;
            Ok(RefreshApplied {
                stored,
                changes: diff,
                keys_rotated,
                check,
            })
        })?;
        if applied.changes.as_array().is_some_and(|c| !c.is_empty()) {
            self.provider_written();
        }
        Ok(applied)
    }
}

/// PostgreSQL advisory lock key held by the instance that refreshes providers (`"idp-rfsh"` as
/// bytes), so that of several instances on one database one refreshes at a time.
const REFRESH_LOCK: i64 = 0x6964_702d_7266_7368;

/// The right to run a refresh round, held until dropped. On PostgreSQL it is a session advisory
/// lock on a connection kept for the purpose; on SQLite every holder gets one (writes are
/// serialised by the database, and a refresh writes only what changed).
pub struct RefreshLock {
    conn: Option<diesel::r2d2::PooledConnection<crate::conn::Manager>>,
}

impl std::fmt::Debug for RefreshLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshLock")
            .field("advisory", &self.conn.is_some())
            .finish()
    }
}

impl Drop for RefreshLock {
    fn drop(&mut self) {
        if let Some(conn) = &mut self.conn {
            use diesel::connection::SimpleConnection;
            // A failure leaves the lock to the session's end (the connection is then broken
            // and dropped by the pool).
            if let Err(error) =
                conn.batch_execute(&format!("SELECT pg_advisory_unlock({REFRESH_LOCK})"))
            {
                tracing::warn!(%error, "the refresh lock could not be released");
            }
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

impl Store {
    /// The refresh lock if no other instance holds it now (`None` when one does); never waits.
    pub fn try_refresh_lock(&self) -> Result<Option<RefreshLock>, StoreError> {
        match self.backend {
            crate::conn::Backend::Sqlite => Ok(Some(RefreshLock { conn: None })),
            crate::conn::Backend::Postgres => {
                let mut conn = self.conn()?;
                let locked: Locked = diesel::sql_query(format!(
                    "SELECT pg_try_advisory_lock({REFRESH_LOCK}) AS locked"
                ))
                .get_result(&mut conn)?;
                Ok(locked.locked.then_some(RefreshLock { conn: Some(conn) }))
            }
        }
    }
}
