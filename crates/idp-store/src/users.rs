//! Users and their API tokens. A token's key is shown once; only its SHA-256 is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::provider_rows::now;
use crate::schema::{api_tokens, registry_state, users};
use crate::store::Store;
use crate::token_cache::Found;

/// A user of the API.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub username: String,
    /// Staff may change providers and see their hidden fields.
    pub is_staff: bool,
    /// Inactive users cannot authenticate.
    pub is_active: bool,
}

/// A row of `token list`: id, user, created, expires, last used, provider.
type TokenRow = (
    i64,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
);

/// A token as `token list` shows it: never its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Row id (`token revoke --id`).
    pub id: i64,
    /// Its user.
    pub username: String,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// When it stops working, if ever.
    pub expires_at: Option<NaiveDateTime>,
    /// When it was last used, as far as the servers have recorded (about once a minute).
    pub last_used_at: Option<NaiveDateTime>,
    /// The provider of the login that made it, for tokens made by a login.
    pub provider: Option<String>,
}

/// What a presented token key turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// A valid key of an active user.
    User(User),
    /// No token has this key.
    Invalid,
    /// The token has expired.
    Expired,
    /// The token's user is inactive.
    Inactive,
}

/// A token just created: its key, which is not stored and cannot be shown again.
#[derive(Clone, PartialEq, Eq)]
pub struct NewToken {
    /// 40 hexadecimal characters.
    pub key: String,
    /// The user it belongs to.
    pub username: String,
    /// When it stops working, if ever.
    pub expires_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The SHA-256 of a key.
fn key_digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The SHA-256 of a key, as stored.
pub(crate) fn hash_key(key: &str) -> String {
    hex_digest(&key_digest(key))
}

fn hex_digest(digest: &[u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a token found in the database (or the cache) means now.
fn judge(found: Found) -> Authentication {
    match found {
        Found {
            expires_at: Some(expires_at),
            ..
        } if expires_at <= now() => Authentication::Expired,
        Found { user, .. } if !user.is_active => Authentication::Inactive,
        Found { user, .. } => Authentication::User(user),
    }
}

pub(crate) fn generate_key() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const USER: (
    users::id,
    users::username,
    users::is_staff,
    users::is_active,
) = (
    users::id,
    users::username,
    users::is_staff,
    users::is_active,
);

impl Store {
    /// The user named `username`, created if absent; an existing user keeps its flags unless
    /// `is_staff` asks for staff.
    pub fn ensure_user(&self, username: &str, is_staff: bool) -> Result<User, StoreError> {
        let mut conn = self.conn()?;
        let existing: Option<User> = users::table
            .select(USER)
            .filter(users::username.eq(username))
            .first(&mut conn)
            .optional()?;
        if let Some(user) = existing {
            if is_staff && !user.is_staff {
                diesel::update(users::table.find(user.id))
                    .set(users::is_staff.eq(true))
                    .execute(&mut conn)?;
                self.tokens_changed();
                return Ok(User {
                    is_staff: true,
                    ..user
                });
            }
            return Ok(user);
        }
        Ok(diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::is_staff.eq(is_staff),
                users::is_active.eq(true),
                users::created_at.eq(now()),
            ))
            .returning(USER)
            .get_result(&mut conn)?)
    }

    /// Activates or deactivates a user; false when there is no such user.
    ///
    /// Its tokens stop working at once on this instance (cached token checks are dropped), and
    /// within the snapshot check interval on every other (the database's auth version moves in
    /// the same transaction; see [`Store::tokens_changed`]).
    pub fn set_user_active(&self, username: &str, active: bool) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let changed = diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::is_active.eq(active))
            .execute(&mut conn)?;
        self.tokens_changed();
        Ok(changed == 1)
    }

    /// Creates `username` as a staff user when no staff user exists yet, and returns it; `None`
    /// when there is one already, or when another instance starting at the same time created
    /// it first (so that only one of them makes a token for it).
    pub fn create_first_staff(&self, username: &str) -> Result<Option<User>, StoreError> {
        if self.has_staff_user()? {
            return Ok(None);
        }
        let mut conn = self.conn()?;
        let inserted = diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::is_staff.eq(true),
                users::is_active.eq(true),
                users::created_at.eq(now()),
            ))
            .returning(USER)
            .get_result(&mut conn);
        match inserted {
            Ok(user) => Ok(Some(user)),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) if self.has_staff_user()? => Ok(None),
            // The name is taken by a user who is not staff: make it staff, as `ensure_user` does.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => self.ensure_user(username, true).map(Some),
            Err(error) => Err(error.into()),
        }
    }

    /// True when at least one staff user exists.
    pub fn has_staff_user(&self) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let found: Option<i64> = users::table
            .select(users::id)
            .filter(users::is_staff.eq(true))
            .first(&mut conn)
            .optional()?;
        Ok(found.is_some())
    }

    /// Creates a token for `user`, valid until `expires_at` if given.
    pub fn create_token(
        &self,
        user: &User,
        expires_at: Option<NaiveDateTime>,
    ) -> Result<NewToken, StoreError> {
        let key = generate_key();
        let mut conn = self.conn()?;
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::user_id.eq(user.id),
                api_tokens::key_hash.eq(hash_key(&key)),
                api_tokens::created_at.eq(now()),
                api_tokens::expires_at.eq(expires_at),
            ))
            .execute(&mut conn)?;
        Ok(NewToken {
            key,
            username: user.username.clone(),
            expires_at,
        })
    }

    /// Deletes the token with this key; false when there is none.
    ///
    /// It stops working at once on this instance and within the snapshot check interval on
    /// every other (see [`Store::tokens_changed`]).
    pub fn revoke_token(&self, key: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let deleted =
            diesel::delete(api_tokens::table.filter(api_tokens::key_hash.eq(hash_key(key))))
                .execute(&mut conn)?;
        self.tokens_changed();
        Ok(deleted > 0)
    }

    /// Deletes every token of `username`; returns how many there were.
    ///
    /// They stop working at once on this instance and within the snapshot check interval on
    /// every other (see [`Store::tokens_changed`]).
    pub fn revoke_user_tokens(&self, username: &str) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let ids = users::table
            .select(users::id)
            .filter(users::username.eq(username));
        let deleted = diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq_any(ids)))
            .execute(&mut conn)?;
        self.tokens_changed();
        Ok(deleted)
    }

    /// Looks a presented key up in the database, and caches the check when the token exists
    /// (for [`Store::authenticate_cached`]). Expiry is judged against the clock on every call.
    pub fn authenticate(&self, key: &str) -> Result<Authentication, StoreError> {
        let digest = key_digest(key);
        let mut conn = self.conn()?;
        // The auth version is read before the token, and recorded before the check is cached:
        // a later observation of the same version keeps the entry (a process's first
        // observation would otherwise drop checks cached before it), and a revocation that
        // commits after this read moves the version and drops it.
        let version: i64 = registry_state::table
            .select(registry_state::auth_version)
            .first(&mut conn)?;
        self.shared.tokens.observe(version);
        let generation = self.shared.tokens.generation();
        let found: Option<(User, Option<NaiveDateTime>)> = api_tokens::table
            .inner_join(users::table)
            .select((USER, api_tokens::expires_at))
            .filter(api_tokens::key_hash.eq(hex_digest(&digest)))
            .first(&mut conn)
            .optional()?;
        Ok(match found {
            None => Authentication::Invalid,
            Some((user, expires_at)) => {
                let found = Found { user, expires_at };
                self.shared.tokens.insert(generation, digest, found.clone());
                let checked = judge(found);
                if let Authentication::User(_) = checked {
                    self.shared.tokens.used(digest, now());
                }
                checked
            }
        })
    }

    /// The check of a key from the cache alone, with no database call: `None` when it is not
    /// cached (then [`Store::authenticate`] asks the database). Expiry is judged against the
    /// clock on every call.
    ///
    /// Only a process that keeps the cache current should rely on it: one that observes the
    /// database's auth version (the HTTP server's snapshot thread does, through
    /// [`Store::versions`], [`Store::provider_changes`] and [`Store::listen`]), so that a token
    /// revoked by another process stops working here within the check interval.
    pub fn authenticate_cached(&self, key: &str) -> Option<Authentication> {
        let digest = key_digest(key);
        let checked = self.shared.tokens.get(&digest).map(judge);
        if let Some(Authentication::User(_)) = checked {
            self.shared.tokens.used(digest, now());
        }
        checked
    }

    /// Writes the token uses noted since the last call (each token's latest) to `last_used_at`,
    /// for `token list`; returns how many tokens were written. The server calls it about once a
    /// minute and when it stops. Writing it changes no token check (the auth version does not
    /// move).
    pub fn record_token_uses(&self) -> Result<usize, StoreError> {
        let uses = self.shared.tokens.take_uses();
        if uses.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn()?;
        let mut written = 0;
        for (digest, at) in uses {
            written += diesel::update(
                api_tokens::table
                    .filter(api_tokens::key_hash.eq(hex_digest(&digest)))
                    .filter(
                        api_tokens::last_used_at
                            .is_null()
                            .or(api_tokens::last_used_at.lt(at)),
                    ),
            )
            .set(api_tokens::last_used_at.eq(at))
            .execute(&mut conn)?;
        }
        Ok(written)
    }

    /// Every token, oldest first: ids, owners, creation, expiry and last use; never keys.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let mut conn = self.conn()?;
        let rows: Vec<TokenRow> = api_tokens::table
            .inner_join(users::table)
            .select((
                api_tokens::id,
                users::username,
                api_tokens::created_at,
                api_tokens::expires_at,
                api_tokens::last_used_at,
                api_tokens::provider,
            ))
            .order(api_tokens::id)
            .load(&mut conn)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, username, created_at, expires_at, last_used_at, provider)| TokenInfo {
                    id,
                    username,
                    created_at,
                    expires_at,
                    last_used_at,
                    provider,
                },
            )
            .collect())
    }

    /// Deletes the token with this id; false when there is none. It stops working as
    /// [`Store::revoke_token`] describes.
    pub fn revoke_token_id(&self, id: i64) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let deleted = diesel::delete(api_tokens::table.find(id)).execute(&mut conn)?;
        self.tokens_changed();
        Ok(deleted > 0)
    }

    /// Every user, by name.
    pub fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let mut conn = self.conn()?;
        Ok(users::table
            .select(USER)
            .order(users::username)
            .load(&mut conn)?)
    }

    /// Makes a user staff or not; false when there is no such user. Its tokens are checked
    /// again as [`Store::set_user_active`] describes.
    pub fn set_user_staff(&self, username: &str, staff: bool) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let changed = diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::is_staff.eq(staff))
            .execute(&mut conn)?;
        self.tokens_changed();
        Ok(changed == 1)
    }

    /// How many token checks are cached (for metrics and tests).
    pub fn cached_token_checks(&self) -> usize {
        self.shared.tokens.len()
    }

    /// Drops every cached token check of this instance.
    ///
    /// **Every store function that deletes, revokes or changes a token, or deactivates, deletes
    /// or changes a user, calls this after its write**, so that the change holds at once on the
    /// instance that made it. Other instances learn of it from the database: triggers on
    /// `api_tokens` and `users` (the `snapshot` migration) bump the auth version in the writing
    /// transaction and notify, and each instance drops its cache when it sees the version move
    /// (at once with PostgreSQL notifications, else at its next periodic check).
    pub fn tokens_changed(&self) {
        self.shared.tokens.forget_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_40_hex_and_hashes_64_hex() {
        let key = generate_key();
        assert_eq!(key.len(), 40);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(hash_key(&key).len(), 64);
        assert_ne!(generate_key(), key);
    }
}
