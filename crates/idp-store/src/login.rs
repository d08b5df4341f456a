//! The login flow's own state: login transactions from init to complete, one-time exchange
//! codes, the API tokens logins make, and the purge of what has expired.
//!
//! Values that are only compared (the state, the browser binding, exchange codes, token keys)
//! are kept as SHA-256 hashes; values that must be sent again (the nonce, the PKCE verifier,
//! the ID token) are sealed with the store's key ring. Every function that depends on time
//! takes `now`, so callers decide the clock.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::audit::{AuditAction, AuditContext, record};
use crate::error::StoreError;
use crate::schema::{api_tokens, exchange_codes, login_transactions as lt};
use crate::store::Store;
use crate::users::{NewToken, generate_key, hash_key};

/// The SHA-256 of a value, as hex: how states, bindings, codes and token keys are stored and
/// compared.
pub fn login_hash(value: &str) -> String {
    hash_key(value)
}

/// A login transaction to store: the values in plain text, hashed or sealed here. `Debug` shows
/// no secret.
#[derive(Clone)]
pub struct NewLoginTransaction {
    /// `login` (an admin test login will use another kind).
    pub kind: String,
    /// The provider's name.
    pub provider: String,
    /// The `state` sent; stored hashed.
    pub state: String,
    /// The random value of the browser's cookie; stored hashed.
    pub binding: String,
    /// The `nonce` sent; stored sealed.
    pub nonce: String,
    /// The PKCE verifier, when a challenge was sent; stored sealed.
    pub pkce_verifier: Option<String>,
    /// The `return_url` the login was started with.
    pub return_url: Option<String>,
    /// The Referer, kept only when there is no `return_url`.
    pub referrer: Option<String>,
    /// The `redirect_uri` sent.
    pub redirect_uri: String,
    /// When the login began.
    pub created_at: NaiveDateTime,
    /// When it can no longer complete.
    pub expires_at: NaiveDateTime,
}

impl std::fmt::Debug for NewLoginTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLoginTransaction")
            .field("kind", &self.kind)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// A stored login transaction, its sealed values opened. `Debug` shows no secret.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginTransaction {
    /// `login`, or another kind.
    pub kind: String,
    /// The provider's name.
    pub provider: String,
    /// The SHA-256 (hex) of the `state` sent.
    pub state_hash: String,
    /// The `nonce` sent.
    pub nonce: String,
    /// The PKCE verifier, when a challenge was sent.
    pub pkce_verifier: Option<String>,
    /// The `return_url` the login was started with.
    pub return_url: Option<String>,
    /// The Referer, when there was no `return_url`.
    pub referrer: Option<String>,
    /// The `redirect_uri` sent.
    pub redirect_uri: String,
    /// When the login began.
    pub created_at: NaiveDateTime,
    /// When it can no longer complete.
    pub expires_at: NaiveDateTime,
}

impl std::fmt::Debug for LoginTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginTransaction")
            .field("kind", &self.kind)
            .field("provider", &self.provider)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = lt)]
struct TransactionRow {
    id: i64,
    kind: String,
    provider: String,
    state_hash: String,
    nonce: String,
    pkce_verifier: Option<String>,
    return_url: Option<String>,
    referrer: Option<String>,
    redirect_uri: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

/// What a login's API token remembers of the login.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenLogin {
    /// The provider the user logged in with; `None` for tokens made otherwise.
    pub provider: Option<String>,
    /// The login's ID token (opened), when the provider sent one.
    pub id_token: Option<String>,
}

impl std::fmt::Debug for TokenLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenLogin")
            .field("provider", &self.provider)
            .field("id_token", &self.id_token.is_some())
            .finish()
    }
}

/// A redeemed exchange code: the new API token and the provider of the login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    /// The token made for the login's user (its key shown once).
    pub token: NewToken,
    /// The provider the user logged in with.
    pub provider: String,
}

/// How many expired rows a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Login transactions.
    pub transactions: usize,
    /// Exchange codes.
    pub exchange_codes: usize,
}

/// 32 lowercase hex characters: a new exchange code.
fn generate_code() -> String {
    let key = generate_key();
    key[..32].to_owned()
}

impl Store {
    /// Stores a login transaction.
    pub fn insert_login_transaction(
        &self,
        transaction: &NewLoginTransaction,
    ) -> Result<(), StoreError> {
        self.insert_transaction(transaction, None)
    }

    /// Stores a test login's transaction (kind `test`) and, in the same database transaction,
    /// the audit event that `context` began it.
    pub fn begin_test_login(
        &self,
        transaction: &NewLoginTransaction,
        context: &AuditContext,
    ) -> Result<(), StoreError> {
        self.insert_transaction(transaction, Some(context))
    }

    fn insert_transaction(
        &self,
        transaction: &NewLoginTransaction,
        audit: Option<&AuditContext>,
    ) -> Result<(), StoreError> {
        let nonce = self.secrets.seal(&transaction.nonce)?;
        let verifier = transaction
            .pkce_verifier
            .as_deref()
            .map(|verifier| self.secrets.seal(verifier))
            .transpose()?;
        let mut conn = self.conn()?;
        conn.transaction::<_, StoreError, _>(|conn| {
            diesel::insert_into(lt::table)
                .values((
                    lt::kind.eq(&transaction.kind),
                    lt::provider.eq(&transaction.provider),
                    lt::state_hash.eq(login_hash(&transaction.state)),
                    lt::binding_hash.eq(login_hash(&transaction.binding)),
                    lt::nonce.eq(nonce),
                    lt::pkce_verifier.eq(verifier),
                    lt::return_url.eq(&transaction.return_url),
                    lt::referrer.eq(&transaction.referrer),
                    lt::redirect_uri.eq(&transaction.redirect_uri),
                    lt::created_at.eq(transaction.created_at),
                    lt::expires_at.eq(transaction.expires_at),
                ))
                .execute(conn)?;
            if let Some(context) = audit {
                let changes =
                    serde_json::json!([{"field": "test_login", "before": null, "after": "begun"}]);
                record(
                    conn,
                    context,
                    AuditAction::TestLogin,
                    &transaction.provider,
                    &changes,
                )?;
            }
            Ok(())
        })
    }

    /// Consumes the login transaction bound to the browser value `binding`, and any whose state
    /// is `state`: they are deleted whatever happens next, so each can be completed at most
    /// once. Returns the one found by `binding`, expired or not (the caller checks everything).
    ///
    /// Of two concurrent calls for one transaction, only one gets it.
    pub fn take_login_transaction(
        &self,
        binding: Option<&str>,
        state: Option<&str>,
    ) -> Result<Option<LoginTransaction>, StoreError> {
        let mut conn = self.conn()?;
        let row = conn.transaction::<_, StoreError, _>(|conn| {
            let mut found = None;
            if let Some(binding) = binding {
                let row: Option<TransactionRow> = lt::table
                    .select(TransactionRow::as_select())
                    .filter(lt::binding_hash.eq(login_hash(binding)))
                    .first(conn)
                    .optional()?;
                if let Some(row) = row {
                    let deleted = diesel::delete(lt::table.find(row.id)).execute(conn)?;
                    found = (deleted == 1).then_some(row);
                }
            }
            if let Some(state) = state {
                diesel::delete(lt::table.filter(lt::state_hash.eq(login_hash(state))))
                    .execute(conn)?;
            }
            Ok(found)
        })?;
        row.map(|row| self.open_transaction(row)).transpose()
    }

    /// Consumes the admin test login transaction (kind `test`) whose state is `state`, if
    /// there is one: test logins are begun through the API, not by the browser that completes
    /// them, so they are found by their state alone (32 random bytes).
    pub fn take_test_transaction(
        &self,
        state: &str,
    ) -> Result<Option<LoginTransaction>, StoreError> {
        let mut conn = self.conn()?;
        let row = conn.transaction::<_, StoreError, _>(|conn| {
            let row: Option<TransactionRow> = lt::table
                .select(TransactionRow::as_select())
                .filter(lt::state_hash.eq(login_hash(state)))
                .filter(lt::kind.eq("test"))
                .first(conn)
                .optional()?;
            let Some(row) = row else {
                return Ok(None);
            };
            let deleted = diesel::delete(lt::table.find(row.id)).execute(conn)?;
            Ok((deleted == 1).then_some(row))
        })?;
        row.map(|row| self.open_transaction(row)).transpose()
    }

    /// Stores `report` (JSON, sealed) as the latest test login report of `provider`, and the
    /// audit event of the test login's end (by `system`; `outcome` is `passed` or `failed`) in
    /// the same database transaction.
    pub fn save_test_login_report(
        &self,
        provider: &str,
        report: &str,
        now: NaiveDateTime,
        outcome: &str,
    ) -> Result<(), StoreError> {
        use crate::schema::test_login_reports as tlr;
        let sealed = self.secrets.seal(report)?;
        let mut conn = self.conn()?;
        conn.transaction::<_, StoreError, _>(|conn| {
            diesel::delete(tlr::table.find(provider)).execute(conn)?;
            diesel::insert_into(tlr::table)
                .values((
                    tlr::provider.eq(provider),
                    tlr::report.eq(&sealed),
                    tlr::created_at.eq(now),
                ))
                .execute(conn)?;
            let changes =
                serde_json::json!([{"field": "test_login", "before": null, "after": outcome}]);
            record(
                conn,
                &AuditContext::system(),
                AuditAction::TestLogin,
                provider,
                &changes,
            )?;
            Ok(())
        })
    }

    /// The latest test login report of `provider` (JSON) and when it was made.
    pub fn test_login_report(
        &self,
        provider: &str,
    ) -> Result<Option<(String, NaiveDateTime)>, StoreError> {
        use crate::schema::test_login_reports as tlr;
        let mut conn = self.conn()?;
        let row: Option<(String, NaiveDateTime)> = tlr::table
            .select((tlr::report, tlr::created_at))
            .filter(tlr::provider.eq(provider))
            .first(&mut conn)
            .optional()?;
        row.map(|(sealed, at)| Ok((self.secrets.open(&sealed)?, at)))
            .transpose()
    }

    fn open_transaction(&self, row: TransactionRow) -> Result<LoginTransaction, StoreError> {
        {
            Ok(LoginTransaction {
                nonce: self.secrets.open(&row.nonce)?,
                pkce_verifier: row
                    .pkce_verifier
                    .map(|sealed| self.secrets.open(&sealed))
                    .transpose()?,
                kind: row.kind,
                provider: row.provider,
                state_hash: row.state_hash,
                return_url: row.return_url,
                referrer: row.referrer,
                redirect_uri: row.redirect_uri,
                created_at: row.created_at,
                expires_at: row.expires_at,
            })
        }
    }

    /// Makes a one-time exchange code for user `user_id`'s login with `provider`, valid for
    /// `ttl` from `now`, remembering the login's ID token (sealed). Returns the code: 32 hex
    /// characters, stored only as a hash.
    pub fn create_exchange_code(
        &self,
        user_id: i64,
        provider: &str,
        id_token: Option<&str>,
        now: NaiveDateTime,
        ttl: TimeDelta,
    ) -> Result<String, StoreError> {
        let id_token = id_token.map(|token| self.secrets.seal(token)).transpose()?;
        let code = generate_code();
        let mut conn = self.conn()?;
        diesel::insert_into(exchange_codes::table)
            .values((
                exchange_codes::code_hash.eq(login_hash(&code)),
                exchange_codes::user_id.eq(user_id),
                exchange_codes::provider.eq(provider),
                exchange_codes::id_token.eq(id_token),
                exchange_codes::created_at.eq(now),
                exchange_codes::expires_at.eq(now + ttl),
            ))
            .execute(&mut conn)?;
        Ok(code)
    }

    /// Redeems an exchange code (32 lowercase hex characters): the code is deleted, even when it
    /// has expired, and unless it had, a new API token is made for its user, remembering the
    /// login's provider and ID token, expiring `token_ttl` after `now` (never with `None`).
    /// `None` for an unknown, replayed or expired code.
    pub fn redeem_exchange_code(
        &self,
        code: &str,
        now: NaiveDateTime,
        token_ttl: Option<TimeDelta>,
    ) -> Result<Option<Redeemed>, StoreError> {
        let mut conn = self.conn()?;
        conn.transaction::<_, StoreError, _>(|conn| {
            let row: Option<(i64, i64, String, Option<String>, NaiveDateTime)> =
                exchange_codes::table
                    .select((
                        exchange_codes::id,
                        exchange_codes::user_id,
                        exchange_codes::provider,
                        exchange_codes::id_token,
                        exchange_codes::expires_at,
                    ))
                    .filter(exchange_codes::code_hash.eq(login_hash(code)))
                    .first(conn)
                    .optional()?;
            let Some((id, user_id, provider, id_token, expires_at)) = row else {
                return Ok(None);
            };
            // Only the request that deletes the row may use it.
            let deleted = diesel::delete(exchange_codes::table.find(id)).execute(conn)?;
            if deleted != 1 || expires_at <= now {
                return Ok(None);
            }
            let username: String = crate::schema::users::table
                .select(crate::schema::users::username)
                .find(user_id)
                .first(conn)?;
            let key = generate_key();
            let expires_at = token_ttl.map(|ttl| now + ttl);
            diesel::insert_into(api_tokens::table)
                .values((
                    api_tokens::user_id.eq(user_id),
                    api_tokens::key_hash.eq(hash_key(&key)),
                    api_tokens::created_at.eq(now),
                    api_tokens::expires_at.eq(expires_at),
                    api_tokens::provider.eq(Some(&provider)),
                    api_tokens::id_token.eq(id_token),
                ))
                .execute(conn)?;
            Ok(Some(Redeemed {
                token: NewToken {
                    key,
                    username,
                    expires_at,
                },
                provider,
            }))
        })
    }

    /// What the token with this key remembers of the login that made it; `None` when no token
    /// has this key.
    pub fn token_login(&self, key: &str) -> Result<Option<TokenLogin>, StoreError> {
        let mut conn = self.conn()?;
        let row: Option<(Option<String>, Option<String>)> = api_tokens::table
            .select((api_tokens::provider, api_tokens::id_token))
            .filter(api_tokens::key_hash.eq(hash_key(key)))
            .first(&mut conn)
            .optional()?;
        row.map(|(provider, id_token)| {
            Ok(TokenLogin {
                provider,
                id_token: id_token
                    .map(|sealed| self.secrets.open(&sealed))
                    .transpose()?,
            })
        })
        .transpose()
    }

    /// Deletes the login transactions and exchange codes that expired before `now`.
    pub fn purge_login_state(&self, now: NaiveDateTime) -> Result<Purged, StoreError> {
        let mut conn = self.conn()?;
        let transactions =
            diesel::delete(lt::table.filter(lt::expires_at.le(now))).execute(&mut conn)?;
        let exchange_codes =
            diesel::delete(exchange_codes::table.filter(exchange_codes::expires_at.le(now)))
                .execute(&mut conn)?;
        Ok(Purged {
            transactions,
            exchange_codes,
        })
    }

    /// How many login transactions and exchange codes are stored, expired or not.
    pub fn login_state_counts(&self) -> Result<(i64, i64), StoreError> {
        let mut conn = self.conn()?;
        let transactions = lt::table.count().get_result(&mut conn)?;
        let codes = exchange_codes::table.count().get_result(&mut conn)?;
        Ok((transactions, codes))
    }
}
