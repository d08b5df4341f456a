//! Users and their API tokens. A token's key is shown once; only its SHA-256 is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::provider_rows::now;
use crate::schema::{api_tokens, users};
use crate::store::Store;

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

/// The SHA-256 of a key, as stored.
pub(crate) fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    pub fn set_user_active(&self, username: &str, active: bool) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let changed = diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::is_active.eq(active))
            .execute(&mut conn)?;
        Ok(changed == 1)
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
    pub fn revoke_token(&self, key: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let deleted =
            diesel::delete(api_tokens::table.filter(api_tokens::key_hash.eq(hash_key(key))))
                .execute(&mut conn)?;
        Ok(deleted > 0)
    }

    /// Deletes every token of `username`; returns how many there were.
    pub fn revoke_user_tokens(&self, username: &str) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let ids = users::table
            .select(users::id)
            .filter(users::username.eq(username));
        Ok(
            diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq_any(ids)))
                .execute(&mut conn)?,
        )
    }

    /// Looks a presented key up.
    pub fn authenticate(&self, key: &str) -> Result<Authentication, StoreError> {
        let mut conn = self.conn()?;
        let found: Option<(User, Option<NaiveDateTime>)> = api_tokens::table
            .inner_join(users::table)
            .select((USER, api_tokens::expires_at))
            .filter(api_tokens::key_hash.eq(hash_key(key)))
            .first(&mut conn)
            .optional()?;
        Ok(match found {
            None => Authentication::Invalid,
            Some((_, Some(expires_at))) if expires_at <= now() => Authentication::Expired,
            Some((user, _)) if !user.is_active => Authentication::Inactive,
            Some((user, _)) => Authentication::User(user),
        })
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
