//! Reading and writing provider configurations.

use diesel::prelude::*;
use idp_core::Provider;

use crate::audit::{AuditAction, AuditContext, lock_provider_writes, provider_changes, record};
use crate::cached::cached;
use crate::conn::{DbConnection, per_backend};
use crate::error::StoreError;
use crate::provider_rows::{Row, changes};
use crate::schema::identity_provider_counts as counts;
use crate::schema::identity_providers as ip;
use crate::schema::registry_state;
use crate::store::Store;

/// A stored provider and the version of its row, which changes on every write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProvider {
    /// The configuration.
    pub provider: Provider,
    /// The row's version: 1 when created, one more on each update.
    pub version: i64,
}

/// One page of providers and the number of providers in the whole list.
#[derive(Debug, Clone)]
pub struct Page {
    /// The providers of this page, ordered by label, then insertion.
    pub items: Vec<StoredProvider>,
    /// How many providers the list holds in all.
    pub total: i64,
}

/// PostgreSQL text cannot hold NUL, and no stored name has one (the field rules refuse it): such
/// a name is simply not there, on either backend.
fn storable_name(name: &str) -> bool {
    !name.contains('\0')
}

fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

impl Store {
    /// One page of providers ordered by label, then insertion, and the total count;
    /// `active_only` limits both to active providers.
    pub fn list_providers(
        &self,
        active_only: bool,
        offset: i64,
        limit: i64,
    ) -> Result<Page, StoreError> {
        self.list_page(active_only, limit, true, |_| Some(offset))
    }

    /// Counts the list and loads one page of it on a single connection: `pick` gets the total
    /// and returns the offset of the page to load, or `None` to load nothing (a page that does
    /// not exist, or a request that needs only the count). Client secrets are opened only with
    /// `open_secrets`, and left empty otherwise.
    pub fn list_page(
        &self,
        active_only: bool,
        limit: i64,
        open_secrets: bool,
        pick: impl FnOnce(i64) -> Option<i64>,
    ) -> Result<Page, StoreError> {
        // No boxed queries here: diesel caches the prepared statements of static queries only,
        // and preparing a 22-column select costs more than running it.
        let mut conn = self.conn()?;
        // Kept by triggers (see the provider_counts migration): constant time at any size.
        let (all, active): (i64, i64) = counts::table
            .select((counts::total, counts::active))
            .filter(counts::id.eq(1))
            .first(&mut conn)?;
        let total = if active_only { active } else { all };
        let Some(offset) = pick(total) else {
            return Ok(Page {
                items: Vec::new(),
                total,
            });
        };
        let order = (ip::label.asc(), ip::id.asc());
        let rows: Vec<Row> = if active_only {
            ip::table
                .select(Row::as_select())
                .filter(ip::is_active.eq(true))
                .order(order)
                .offset(offset)
                .limit(limit)
                .load(&mut conn)?
        } else {
            ip::table
                .select(Row::as_select())
                .order(order)
                .offset(offset)
                .limit(limit)
                .load(&mut conn)?
        };
        let secrets = open_secrets.then_some(&self.secrets);
        let items = rows
            .into_iter()
            .map(|row| row.into_stored(secrets))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }

    /// How many providers there are (active ones only with `active_only`).
    pub fn count_providers(&self, active_only: bool) -> Result<i64, StoreError> {
        let mut conn = self.conn()?;
        let mut count = ip::table.count().into_boxed();
        if active_only {
            count = count.filter(ip::is_active.eq(true));
        }
        Ok(count.get_result(&mut conn)?)
    }

    /// The provider named `name`; with `active_only`, an inactive one counts as absent.
    pub fn get_provider(
        &self,
        name: &str,
        active_only: bool,
    ) -> Result<Option<StoredProvider>, StoreError> {
        self.find_provider(name, active_only, true)
    }

    /// [`Store::get_provider`], opening the client secret only with `open_secret` (it is left
    /// empty otherwise).
    pub fn find_provider(
        &self,
        name: &str,
        active_only: bool,
        open_secret: bool,
    ) -> Result<Option<StoredProvider>, StoreError> {
        if !storable_name(name) {
            return Ok(None);
        }
        let mut conn = self.conn()?;
        let by_name = ip::table
            .select(Row::as_select())
            .filter(ip::provider.eq(name));
        let row: Option<Row> = if active_only {
            by_name
                .filter(ip::is_active.eq(true))
                .first(&mut conn)
                .optional()?
        } else {
            by_name.first(&mut conn).optional()?
        };
        let secrets = open_secret.then_some(&self.secrets);
        row.map(|row| row.into_stored(secrets)).transpose()
    }

    /// True when a provider of that name exists, active or not.
    pub fn provider_exists(&self, name: &str) -> Result<bool, StoreError> {
        if !storable_name(name) {
            return Ok(false);
        }
        let mut conn = self.conn()?;
        let found: Option<i64> = ip::table
            .select(ip::id)
            .filter(ip::provider.eq(name))
            .first(&mut conn)
            .optional()?;
        Ok(found.is_some())
    }

    /// Stores a new provider; [`StoreError::Duplicate`] when the name is taken. Audited as done
    /// by the system ([`Store::insert_provider_by`] names the actor).
    pub fn insert_provider(&self, provider: &Provider) -> Result<StoredProvider, StoreError> {
        self.insert_provider_by(provider, &AuditContext::system())
    }

    /// [`Store::insert_provider`] with its audit event recorded as done by `context`, in the
    /// same transaction.
    pub fn insert_provider_by(
        &self,
        provider: &Provider,
        context: &AuditContext,
    ) -> Result<StoredProvider, StoreError> {
        let changes = changes(provider, &self.secrets)?;
        let mut conn = self.conn()?;
        let stored = conn.transaction::<_, StoreError, _>(|conn| {
            lock_provider_writes(conn)?;
            let row: Row = diesel::insert_into(ip::table)
                .values((ip::created_at.eq(changes.updated_at), &changes))
                .returning(Row::columns())
                .get_result(conn)
                .map_err(|error| {
                    if is_unique_violation(&error) {
                        StoreError::Duplicate
                    } else {
                        error.into()
                    }
                })?;
            let stored = row.into_stored(Some(&self.secrets))?;
            let diff = provider_changes(None, Some(&stored.provider));
            record(
                conn,
                context,
                AuditAction::Create,
                &provider.provider,
                &diff,
            )?;
            Ok(stored)
        })?;
        self.provider_written();
        Ok(stored)
    }

    /// Replaces the stored configuration of `provider.provider`. With `expected_version`, only if
    /// its row is still at that version ([`StoreError::Conflict`] when it changed); without, the
    /// last writer wins. [`StoreError::NotFound`] when the row is gone. Audited as done by the
    /// system ([`Store::update_provider_by`] names the actor).
    pub fn update_provider(
        &self,
        provider: &Provider,
        expected_version: Option<i64>,
    ) -> Result<StoredProvider, StoreError> {
        self.update_provider_by(provider, expected_version, &AuditContext::system())
    }

    /// [`Store::update_provider`] with its audit event (the fields that changed, if any)
    /// recorded as done by `context`, in the same transaction.
    pub fn update_provider_by(
        &self,
        provider: &Provider,
        expected_version: Option<i64>,
        context: &AuditContext,
    ) -> Result<StoredProvider, StoreError> {
        self.replace_provider(provider, expected_version, context, AuditAction::Update)
    }

    /// Changes the stored configuration of `name` by `change`, in one transaction: the row is
    /// read under the provider write lock, changed, written back and audited as done by
    /// `context`. With `expected_version`, only if the row is at that version
    /// ([`StoreError::Conflict`] when it is not); [`StoreError::NotFound`] when there is no such
    /// row. No other write can come between the read and the write, so nothing is retried.
    pub fn modify_provider_by(
        &self,
        name: &str,
        expected_version: Option<i64>,
        context: &AuditContext,
        change: impl FnOnce(&mut Provider),
    ) -> Result<StoredProvider, StoreError> {
        if !storable_name(name) {
            return Err(StoreError::NotFound);
        }
        self.write_over(
            name,
            expected_version,
            context,
            AuditAction::Update,
            |before| {
                let mut provider = before.clone();
                change(&mut provider);
                // The name is the row's key: a change cannot move it to another row.
                provider.provider = name.to_owned();
                provider
            },
        )
    }

    /// Writes `provider` over its row as [`Store::update_provider_by`] does, recording `action`.
    pub(crate) fn replace_provider(
        &self,
        provider: &Provider,
        expected_version: Option<i64>,
        context: &AuditContext,
        action: AuditAction,
    ) -> Result<StoredProvider, StoreError> {
        self.write_over(
            &provider.provider,
            expected_version,
            context,
            action,
            |_| provider.clone(),
        )
    }

    /// Reads the row of `name` under the provider write lock, writes what `next` makes of its
    /// configuration over it and records the event, in one transaction.
    ///
    /// This is the path of every API update, so its statements are kept prepared ([`cached!`])
    /// and run on the backend's own connection (`per_backend!`).
    fn write_over(
        &self,
        name: &str,
        expected_version: Option<i64>,
        context: &AuditContext,
        action: AuditAction,
        next: impl FnOnce(&Provider) -> Provider,
    ) -> Result<StoredProvider, StoreError> {
        let mut conn = self.conn()?;
        let stored = conn.transaction::<_, StoreError, _>(|conn| {
            lock_provider_writes(conn)?;
            let before = self.row_in(conn, name)?.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|version| version != before.version) {
                return Err(StoreError::Conflict);
            }
            let provider = next(&before.provider);
            let changes = changes(&provider, &self.secrets)?;
            let version = per_backend!(conn, |c| {
                // Every column is written (`treat_none_as_null`): the SQL is always the same.
                // The row takes the next change number in this statement (on SQLite a trigger
                // then moves the counter to it; on PostgreSQL the counter's trigger sets it
                // anyway), rather than by a second update of the whole row.
                let next_change = registry_state::table
                    .select(registry_state::providers_version + 1)
                    .filter(registry_state::id.eq(1))
                    .single_value()
                    .assume_not_null();
                cached!(
                    diesel::update(ip::table.filter(ip::provider.eq(name)))
                        .set((
                            &changes,
                            ip::version.eq(ip::version + 1),
                            ip::change_seq.eq(next_change),
                        ))
                        .returning(ip::version)
                )
                .get_result::<i64>(c)?
            });
            let diff = provider_changes(Some(&before.provider), Some(&provider));
            record(conn, context, action, name, &diff)?;
            Ok(StoredProvider { provider, version })
        })?;
        self.provider_written();
        Ok(stored)
    }

    /// The row of `name`, secret opened, read in the caller's transaction.
    fn row_in(
        &self,
        conn: &mut DbConnection,
        name: &str,
    ) -> Result<Option<StoredProvider>, StoreError> {
        let row: Option<Row> = per_backend!(conn, |c| ip::table
            .select(Row::as_select())
            .filter(ip::provider.eq(name))
            .first(c)
            .optional()?);
        row.map(|row| row.into_stored(Some(&self.secrets)))
            .transpose()
    }

    /// Deletes the provider named `name`, if its row is at `expected_version` when one is given.
    /// Audited as done by the system ([`Store::delete_provider_by`] names the actor).
    pub fn delete_provider(
        &self,
        name: &str,
        expected_version: Option<i64>,
    ) -> Result<(), StoreError> {
        self.delete_provider_by(name, expected_version, &AuditContext::system())
    }

    /// [`Store::delete_provider`] with its audit event (every field's last value) recorded as
    /// done by `context`, in the same transaction.
    pub fn delete_provider_by(
        &self,
        name: &str,
        expected_version: Option<i64>,
        context: &AuditContext,
    ) -> Result<(), StoreError> {
        if !storable_name(name) {
            return Err(StoreError::NotFound);
        }
        let mut conn = self.conn()?;
        conn.transaction::<_, StoreError, _>(|conn| {
            lock_provider_writes(conn)?;
            let before = self.row_in(conn, name)?.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|version| version != before.version) {
                return Err(StoreError::Conflict);
            }
            diesel::delete(ip::table.filter(ip::provider.eq(name))).execute(conn)?;
            let diff = provider_changes(Some(&before.provider), None);
            record(conn, context, AuditAction::Delete, name, &diff)
        })?;
        self.provider_written();
        Ok(())
    }

    /// Every provider in list order, for export and key rotation.
    pub fn all_providers(&self) -> Result<Vec<StoredProvider>, StoreError> {
        Ok(self.list_page(false, i64::MAX, true, |_| Some(0))?.items)
    }
}
