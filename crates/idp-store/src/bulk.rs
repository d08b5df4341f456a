//! Whole-table work in one transaction: importing configurations and re-sealing secrets.

use diesel::prelude::*;
use idp_core::Provider;

use crate::audit::{
    AuditAction, AuditContext, AuditEvent, lock_provider_writes, provider_changes, record, restore,
};
use crate::conn::{Backend, DbConnection};
use crate::error::StoreError;
use crate::provider_rows::{Row, changes, now};
use crate::schema::api_tokens as at;
use crate::schema::audit_events as ae;
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
    ///
    /// Each create and update is audited as done by the system.
    pub fn import_providers(
        &self,
        providers: &[Provider],
        dry_run: bool,
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        self.import_with_history(providers, &[], dry_run)
    }

    /// [`Store::import_providers`], also restoring the audit `history` of an export (events
    /// already held, same time, provider, action and actor, are not written twice), in the same
    /// transaction and before the import's own events.
    pub fn import_with_history(
        &self,
        providers: &[Provider],
        history: &[AuditEvent],
        dry_run: bool,
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        let mut conn = self.conn()?;
        let secrets = &self.secrets;
        let context = AuditContext::system();
        let mut outcomes = Vec::with_capacity(providers.len());
        let result = conn.transaction::<_, StoreError, _>(|conn| {
            lock_provider_writes(conn)?;
            let mut fresh = Vec::new();
            for event in history {
                let held: i64 = ae::table
                    .filter(ae::occurred_at.eq(event.occurred_at))
                    .filter(ae::provider.eq(&event.provider))
                    .filter(ae::action.eq(event.action.as_str()))
                    .filter(ae::actor.eq(&event.actor))
                    .count()
                    .get_result(conn)?;
                if held == 0 {
                    fresh.push(event.clone());
                }
            }
            restore(conn, &fresh)?;
            for provider in providers {
                outcomes.push(upsert(conn, secrets, provider, &context)?);
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
        let context = AuditContext::system();
        conn.transaction::<_, StoreError, _>(|conn| {
            lock_provider_writes(conn)?;
            let rows: Vec<(i64, String, String)> = ip::table
                .select((ip::id, ip::provider, ip::client_secret))
                .load(conn)?;
            let primary = secrets.primary_id();
            let stale = |sealed: &str| SecretBox::key_id_of(sealed) != Some(primary.as_str());
            let mut count = 0;
            for (id, name, sealed) in rows {
                if !stale(&sealed) {
                    continue;
                }
                let plaintext = secrets.open(&sealed)?;
                diesel::update(ip::table.find(id))
                    .set(ip::client_secret.eq(secrets.seal(&plaintext)?))
                    .execute(conn)?;
                let changes = serde_json::json!([{"field": "client_secret", "changed": true}]);
                record(conn, &context, AuditAction::Reseal, &name, &changes)?;
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

fn upsert(
    conn: &mut DbConnection,
    secrets: &SecretBox,
    provider: &Provider,
    context: &AuditContext,
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
            let diff = provider_changes(None, Some(provider));
            record(
                conn,
                context,
                AuditAction::Create,
                &provider.provider,
                &diff,
            )?;
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
            let diff = provider_changes(Some(&stored.provider), Some(provider));
            record(
                conn,
                context,
                AuditAction::Update,
                &provider.provider,
                &diff,
            )?;
            Ok(ImportOutcome::Updated)
        }
    }
}
