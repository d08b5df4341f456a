//! Providers' key sets, cached per `jwks_uri`, refetched on an unknown key at most once a minute.
//!
//! The `openidconnect` crate fetches a key set once and never again (openidconnect-rs #232), so
//! a long-running server would break at the provider's next key rotation. This cache fetches a
//! key set on first use, again when a token names a key the set lacks, but at most once a
//! minute per key set, so forged `kid`s cannot make the server flood the provider, and again
//! when the cached set is older than an hour, so a key the provider withdrew stops being
//! trusted.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use openidconnect::JsonWebKey;
use openidconnect::core::CoreJsonWebKeySet;
use url::Url;

use crate::policy::FetchPolicy;
use crate::rp::call;
use crate::rp::clock::{Clock, SystemClock};
use crate::rp::error::CallError;

/// The least time between two fetches caused by unknown keys.
pub const REFETCH_INTERVAL: TimeDelta = TimeDelta::seconds(60);
/// How long a fetched key set is used before it is fetched again on next use.
pub const MAX_AGE: TimeDelta = TimeDelta::hours(1);

/// What the cache knows about one key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSnapshot {
    /// The `kid`s of the keys, sorted (keys without one are not listed).
    pub key_ids: Vec<String>,
    /// How many keys the set has, with or without a `kid`.
    pub key_count: usize,
    /// When the set was last fetched.
    pub fetched_at: DateTime<Utc>,
    /// When the set was first fetched, or last fetched with different keys than before.
    pub changed_at: DateTime<Utc>,
    /// How many times the set was fetched successfully.
    pub fetches: u64,
}

/// Key sets by `(jwks_uri, verify_ssl)`. Cloning is cheap and clones share the cache, so a server
/// keeps one for all providers and requests.
///
/// The clock decides key-set ages and the refetch limit, and is also the clock relying parties
/// built on this cache judge ID token times by.
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<(String, bool), Arc<Slot>>>,
}

/// One key set: fetches of it take turns (`fetching`), and its state is read and replaced under a
/// short lock.
#[derive(Default)]
struct Slot {
    fetching: tokio::sync::Mutex<()>,
    state: Mutex<State>,
}

#[derive(Default, Clone)]
struct State {
    keys: Option<Arc<CoreJsonWebKeySet>>,
    snapshot: Option<JwksSnapshot>,
    last_refetch: Option<DateTime<Utc>>,
}

impl Slot {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is replaced whole, so a panicking holder cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl Default for JwksCache {
    fn default() -> Self {
        Self::new(Arc::new(SystemClock))
    }
}

/// A key set handed to a verification.
pub(crate) struct Keys {
    pub(crate) set: Arc<CoreJsonWebKeySet>,
    /// Whether this lookup fetched it (so refetching at once would be pointless).
    pub(crate) fresh: bool,
}

impl JwksCache {
    /// An empty cache judging time by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                slots: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The cache's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The key ids and change times of the set at `jwks_uri` (fetched with `verify_ssl`), once it
    /// has been fetched.
    pub fn snapshot(&self, jwks_uri: &str, verify_ssl: bool) -> Option<JwksSnapshot> {
        let slots = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = slots.get(&(jwks_uri.to_owned(), verify_ssl))?;
        slot.state().snapshot.clone()
    }

    /// Fetches the set at `jwks_uri` now, whatever the cache holds (for a periodic check of key
    /// rotations), and returns what is then known.
    pub async fn refresh(
        &self,
        jwks_uri: &Url,
        verify_ssl: bool,
        policy: &FetchPolicy,
    ) -> Result<JwksSnapshot, CallError> {
        let slot = self.slot(jwks_uri.as_str(), verify_ssl);
        let _turn = slot.fetching.lock().await;
        self.fetch_into(&slot, jwks_uri, verify_ssl, policy)
            .await
            .map(|(_, snapshot)| snapshot)
    }

    /// The cached set, fetched first when there is none or it is older than [`MAX_AGE`].
    pub(crate) async fn keys(
        &self,
        jwks_uri: &Url,
        verify_ssl: bool,
        policy: &FetchPolicy,
    ) -> Result<Keys, CallError> {
        let slot = self.slot(jwks_uri.as_str(), verify_ssl);
        let _turn = slot.fetching.lock().await;
        let now = self.inner.clock.now();
        let cached = {
            let state = slot.state();
            let current = state
                .snapshot
                .as_ref()
                .is_some_and(|snapshot| now - snapshot.fetched_at < MAX_AGE);
            state.keys.clone().filter(|_| current)
        };
        match cached {
            Some(set) => Ok(Keys { set, fresh: false }),
            None => {
                let (set, _) = self.fetch_into(&slot, jwks_uri, verify_ssl, policy).await?;
                Ok(Keys { set, fresh: true })
            }
        }
    }

    /// After a token named a key missing from `seen`: the set fetched again, unless the last
    /// such refetch was less than [`REFETCH_INTERVAL`] ago (`Ok(None)`). When another request
    /// fetched the set meanwhile, that set is returned without a new fetch.
    pub(crate) async fn refetch_for_unknown_key(
        &self,
        jwks_uri: &Url,
        verify_ssl: bool,
        policy: &FetchPolicy,
        seen: &Arc<CoreJsonWebKeySet>,
    ) -> Result<Option<Arc<CoreJsonWebKeySet>>, CallError> {
        let slot = self.slot(jwks_uri.as_str(), verify_ssl);
        let _turn = slot.fetching.lock().await;
        let now = self.inner.clock.now();
        {
            let mut state = slot.state();
            if let Some(current) = &state.keys
                && !Arc::ptr_eq(current, seen)
            {
                return Ok(Some(current.clone()));
            }
            if state
                .last_refetch
                .is_some_and(|last| now - last < REFETCH_INTERVAL)
            {
                tracing::info!(
                    jwks_uri = %call::redacted(jwks_uri),
                    "key set refetch refused: the last one was less than a minute ago"
                );
                return Ok(None);
            }
            // Counted before the fetch, so failed fetches are limited too.
            state.last_refetch = Some(now);
        }
        self.fetch_into(&slot, jwks_uri, verify_ssl, policy)
            .await
            .map(|(set, _)| Some(set))
    }

    /// Fetches the set and stores it in `slot`; the caller holds the slot's turn.
    async fn fetch_into(
        &self,
        slot: &Slot,
        jwks_uri: &Url,
        verify_ssl: bool,
        policy: &FetchPolicy,
    ) -> Result<(Arc<CoreJsonWebKeySet>, JwksSnapshot), CallError> {
        let answer = call::send(policy, verify_ssl, jwks_uri, |client| {
            client.get(jwks_uri.clone())
        })
        .await?;
        answer.require_ok()?;
        // Keys of unknown types are skipped by the crate; anything but `{"keys": [...]}` fails.
        let set: CoreJsonWebKeySet =
            serde_json::from_value(answer.json()?).map_err(|_| CallError::NotAnObject)?;
        let set = Arc::new(set);
        let now = self.inner.clock.now();
        let mut key_ids: Vec<String> = set
            .keys()
            .iter()
            .filter_map(|key| key.key_id().map(|kid| kid.as_str().to_owned()))
            .collect();
        key_ids.sort();
        let mut state = slot.state();
        let changed = state.keys.as_deref() != Some(&*set);
        let previous = state.snapshot.take();
        if changed && previous.is_some() {
            tracing::info!(
                jwks_uri = %call::redacted(jwks_uri),
                keys = ?key_ids,
                "the provider's key set changed"
            );
        }
        let snapshot = JwksSnapshot {
            key_ids,
            key_count: set.keys().len(),
            fetched_at: now,
            changed_at: match &previous {
                Some(previous) if !changed => previous.changed_at,
                _ => now,
            },
            fetches: previous.map_or(0, |previous| previous.fetches) + 1,
        };
        state.snapshot = Some(snapshot.clone());
        state.keys = Some(set.clone());
        Ok((set, snapshot))
    }

    fn slot(&self, jwks_uri: &str, verify_ssl: bool) -> Arc<Slot> {
        let mut slots = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slots
            .entry((jwks_uri.to_owned(), verify_ssl))
            .or_default()
            .clone()
    }
}
