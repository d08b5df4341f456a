//! Whole-table work in one transaction: importing configurations and re-sealing secrets.

use diesel::prelude::*;
use idp_core::Provider;

use crate::conn::{Backend, DbConnection};
use crate::error::StoreError;
use crate::provider_rows::{Row, changes, now};
use crate::schema::identity_providers as ip;
use crate::secrets::SecretBox;
use crate::store::Store;

/// What an import did to one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// It did not exist and was created.
    Created,
    /// It existed and differed; it was replaced.
    Updated,
    /// It existed and was the same.
    Unchanged,
}

impl Store {
    /// Creates or replaces each provider by name, all in one transaction; with `dry_run` the
    /// transaction is rolled back, so nothing changes but the outcomes are the same.
    pub fn import_providers(
        &self,
        providers: &[Provider],
        dry_run: bool,
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        let mut conn = self.conn()?;
        let secrets = &self.secrets;
        let mut outcomes = Vec::with_capacity(providers.len());
        let result = conn.transaction::<_, StoreError, _>(|conn| {
            for provider in providers {
                outcomes.push(upsert(conn, secrets, provider)?);
            }
            if dry_run {
                // Undo everything, keeping the outcomes.
                Err(diesel::result::Error::RollbackTransaction.into())
            } else {
                Ok(())
            }
        });
        if result.is_ok() && !dry_run {
            self.provider_written();
        }
        if result.is_ok() && !dry_run && self.backend == Backend::Postgres {
            // Fresh planner statistics after a bulk change, so lists use their index at once
            // rather than after the next autovacuum.
            use diesel::connection::SimpleConnection;
            conn.batch_execute("ANALYZE identity_providers")?;
        }
        match result {
            Ok(()) => Ok(outcomes),
            Err(StoreError::Database(diesel::result::Error::RollbackTransaction)) if dry_run => {
                Ok(outcomes)
            }
            Err(error) => Err(error),
        }
    }

    /// Seals every client secret again under the key ring's primary key, in one transaction, so
    /// that older keys can then be dropped. Returns how many rows were re-sealed.
    pub fn reseal_secrets(&self) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let secrets = &self.secrets;
        conn.transaction::<_, StoreError, _>(|conn| {
            let rows: Vec<(i64, String)> =
                ip::table.select((ip::id, ip::client_secret)).load(conn)?;
            let mut count = 0;
            for (id, sealed) in rows {
                if SecretBox::key_id_of(&sealed) == Some(secrets.primary_id()) {
                    continue;
                }
                let plaintext = secrets.open(&sealed)?;
                diesel::update(ip::table.find(id))
                    .set(ip::client_secret.eq(secrets.seal(&plaintext)?))
                    .execute(conn)?;
                count += 1;
            }
            Ok(count)
        })
        .inspect(|count| {
            if *count > 0 {
                self.provider_written();
            }
        })
    }
}

fn upsert(
    conn: &mut DbConnection,
    secrets: &SecretBox,
    provider: &Provider,
) -> Result<ImportOutcome, StoreError> {
    let existing: Option<Row> = ip::table
        .select(Row::as_select())
        .filter(ip::provider.eq(&provider.provider))
        .first(conn)
        .optional()?;
    let values = changes(provider, secrets)?;
    match existing {
        None => {
            diesel::insert_into(ip::table)
                .values((ip::created_at.eq(now()), &values))
                .execute(conn)?;
            Ok(ImportOutcome::Created)
        }
        Some(row) => {
            let stored = row.into_stored(Some(secrets))?;
            if stored.provider == *provider {
                return Ok(ImportOutcome::Unchanged);
            }
            diesel::update(ip::table.filter(ip::provider.eq(&provider.provider)))
                .set((&values, ip::version.eq(ip::version + 1)))
                .execute(conn)?;
            Ok(ImportOutcome::Updated)
        }
    }
}
