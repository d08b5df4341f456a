//! Token checks kept in memory, so that a staff request costs no database round trip.
//!
//! A cached check holds the token's user and expiry, never the key (entries are found by the
//! key's SHA-256). Expiry is compared with the clock on every lookup, so an expired token stops
//! working at its expiry. Anything that may end a token or change a user drops the whole cache:
//! on this instance at once (the store's functions that delete or revoke a token or change a
//! user call [`TokenCache::forget_all`]), and on every other instance when it sees the database's
//! auth version move (a trigger bumps it in the writing transaction, see the `snapshot`
//! migration; [`Store::observe_auth_version`](crate::Store::observe_auth_version)).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::NaiveDateTime;

use crate::users::User;

/// Most cached token checks; when full, the cache starts again empty (a token check that misses
/// costs one query, as every check did before there was a cache).
pub(crate) const CAPACITY: usize = 10_000;

/// A token as found in the database.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) user: User,
    pub(crate) expires_at: Option<NaiveDateTime>,
}

/// Token checks by the SHA-256 of their key, with a generation that moves on every invalidation.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], Found>>,
    /// Moves on every invalidation, so that a lookup that read the database before an
    /// invalidation does not put its (possibly revoked) answer into the cache after it.
    generation: AtomicU64,
    /// The database's auth version last seen; 0 before the first.
    seen_version: AtomicI64,
    /// When each token (by key hash) was last used, since the uses were last written.
    uses: Mutex<HashMap<[u8; 32], NaiveDateTime>>,
}

impl TokenCache {
    /// The cached check of a key hash.
    pub(crate) fn get(&self, hash: &[u8; 32]) -> Option<Found> {
        self.lock().get(hash).cloned()
    }

    /// The generation to pass to [`TokenCache::insert`] for a lookup starting now.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches a check made by a lookup that started at `generation`, unless something was
    /// invalidated meanwhile.
    pub(crate) fn insert(&self, generation: u64, hash: [u8; 32], found: Found) {
        let mut entries = self.lock();
        // Checked under the lock that `forget_all` takes too: no invalidation can slip between.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(hash, found);
    }

    /// Notes that the token with this key hash was used at `at`.
    pub(crate) fn used(&self, hash: [u8; 32], at: NaiveDateTime) {
        let mut uses = self
            .uses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if uses.len() < CAPACITY || uses.contains_key(&hash) {
            uses.insert(hash, at);
        }
    }

    /// The uses noted since the last call.
    pub(crate) fn take_uses(&self) -> HashMap<[u8; 32], NaiveDateTime> {
        std::mem::take(
            &mut *self
                .uses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Drops every cached check.
    pub(crate) fn forget_all(&self) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Records the database's auth version; drops every cached check when it moved.
    pub(crate) fn observe(&self, version: i64) {
        let before = self.seen_version.swap(version, Ordering::AcqRel);
        if before != version {
            self.forget_all();
        }
    }

    /// How many checks are cached.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Found>> {
        // A panic while holding the lock leaves nothing half-written worth refusing.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
