//! Whole-table work in one transaction: importing configurations and re-sealing secrets.

use diesel::prelude::*;
use idp_core::Provider;

use crate::conn::{Backend, DbConnection};
use crate::error::StoreError;
use crate::provider_rows::{Row, changes, now};
use crate::schema::api_tokens as at;
use crate::schema::exchange_codes as ec;
use crate::schema::identity_providers as ip;
use crate::schema::login_transactions as lt;
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
        let backend = self.backend;
        let result = conn.transaction::<_, StoreError, _>(|conn| {
            lock_for_bulk_write(conn, backend)?;
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

    /// Seals every client secret, and every value a login sealed (nonces and PKCE verifiers of
    /// logins under way, ID tokens of exchange codes and of login tokens, test login reports), again under the key
    /// ring's primary key, in one transaction, so that older keys can then be dropped. Returns
    /// how many rows were re-sealed.
    pub fn reseal_secrets(&self) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let secrets = &self.secrets;
        let backend = self.backend;
        conn.transaction::<_, StoreError, _>(|conn| {
            lock_for_bulk_write(conn, backend)?;
            let rows: Vec<(i64, String)> =
                ip::table.select((ip::id, ip::client_secret)).load(conn)?;
            let primary = secrets.primary_id();
            let stale = |sealed: &str| SecretBox::key_id_of(sealed) != Some(primary.as_str());
            let mut count = 0;
            for (id, sealed) in rows {
                if !stale(&sealed) {
                    continue;
                }
                let plaintext = secrets.open(&sealed)?;
                diesel::update(ip::table.find(id))
                    .set(ip::client_secret.eq(secrets.seal(&plaintext)?))
                    .execute(conn)?;
                count += 1;
            }
            let providers = count;
            // What logins sealed: a login under way, an exchange code not yet redeemed, the
            // ID token a login's API token keeps for logout. Re-sealed too, so that dropping
            // the old keys breaks none of them.
            let reseal = |sealed: &str| secrets.open(sealed).and_then(|plain| secrets.seal(&plain));
            let transactions: Vec<(i64, String, Option<String>)> = lt::table
                .select((lt::id, lt::nonce, lt::pkce_verifier))
                .load(conn)?;
            for (id, nonce, verifier) in transactions {
                if stale(&nonce) || verifier.as_deref().is_some_and(stale) {
                    diesel::update(lt::table.find(id))
                        .set((
                            lt::nonce.eq(reseal(&nonce)?),
                            lt::pkce_verifier.eq(verifier.as_deref().map(reseal).transpose()?),
                        ))
                        .execute(conn)?;
                    count += 1;
                }
            }
            let codes: Vec<(i64, Option<String>)> = ec::table
                .select((ec::id, ec::id_token))
                .filter(ec::id_token.is_not_null())
                .load(conn)?;
            for (id, sealed) in codes {
                if let Some(sealed) = sealed.filter(|sealed| stale(sealed)) {
                    diesel::update(ec::table.find(id))
                        .set(ec::id_token.eq(reseal(&sealed)?))
                        .execute(conn)?;
                    count += 1;
                }
            }
            let tokens: Vec<(i64, Option<String>)> = at::table
                .select((at::id, at::id_token))
                .filter(at::id_token.is_not_null())
                .load(conn)?;
            for (id, sealed) in tokens {
                if let Some(sealed) = sealed.filter(|sealed| stale(sealed)) {
                    diesel::update(at::table.find(id))
                        .set(at::id_token.eq(reseal(&sealed)?))
                        .execute(conn)?;
                    count += 1;
                }
            }
            // Test login reports hold claim names and the matched user, sealed.
            use crate::schema::test_login_reports as tlr;
            let reports: Vec<(String, String)> =
                tlr::table.select((tlr::provider, tlr::report)).load(conn)?;
            for (provider, sealed) in reports {
                if stale(&sealed) {
                    diesel::update(tlr::table.find(provider))
                        .set(tlr::report.eq(reseal(&sealed)?))
                        .execute(conn)?;
                    count += 1;
                }
            }
            Ok((count, providers))
        })
        .map(|(count, providers)| {
            if providers > 0 {
                self.provider_written();
            }
            count
        })
    }

    /// The ids of the keys stored client secrets are sealed under that the key ring does not
    /// hold (after looking at its key file again): empty when every stored secret can be opened.
    pub fn missing_secret_keys(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let sealed: Vec<String> = ip::table.select(ip::client_secret).load(&mut conn)?;
        let mut ids: Vec<String> = sealed
            .iter()
            .map(|value| {
                SecretBox::key_id_of(value)
                    .unwrap_or("(malformed)")
                    .to_owned()
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids.retain(|id| !self.secrets.holds(id));
        Ok(ids)
    }
}

/// Makes a transaction that writes many rows the only writer of the providers before it reads
/// them: writes of single rows (a `PATCH`) wait for it, or it for them, instead of the two
/// locking rows and the change counter in opposite orders (a deadlock on PostgreSQL; on SQLite,
/// a read snapshot that can no longer be upgraded to a write). Reads go on.
fn lock_for_bulk_write(conn: &mut DbConnection, backend: Backend) -> Result<(), StoreError> {
    use diesel::connection::SimpleConnection;
    match backend {
        Backend::Postgres => {
            conn.batch_execute("LOCK TABLE identity_providers IN SHARE ROW EXCLUSIVE MODE")?;
        }
        // A write as the transaction's first statement takes SQLite's write lock (waiting for
        // it as any writer does) before anything is read.
        Backend::Sqlite => conn.batch_execute("UPDATE registry_state SET id = id WHERE id = 1")?,
    }
    Ok(())
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
