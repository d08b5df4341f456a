//! The discovery client: fresh fetches, and cached, coalesced ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::document::DiscoveryDocument;
use crate::error::{FetchError, FetchErrorKind};
use crate::fetch::{Fetched, fetch_document};
use crate::policy::FetchPolicy;

type CacheKey = (String, bool);
type SharedFetch = Shared<BoxFuture<'static, Result<Arc<DiscoveryDocument>, FetchError>>>;

/// Fetches discovery documents under a [`FetchPolicy`].
///
/// Cloning is cheap and clones share one cache, so a server keeps one client for all requests.
/// Fetches need a Tokio runtime.
#[derive(Clone)]
pub struct DiscoveryClient {
    inner: Arc<Inner>,
}

struct Inner {
    policy: FetchPolicy,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for DiscoveryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryClient")
            .field("policy", &self.inner.policy)
            .field("cached_entries", &self.cached_entries())
            .finish()
    }
}

impl DiscoveryClient {
    /// A client with an empty cache.
    pub fn new(policy: FetchPolicy) -> Self {
        Self {
            inner: Arc::new(Inner {
                policy,
                cache: Mutex::new(Cache::default()),
            }),
        }
    }

    /// The policy every fetch runs under.
    pub fn policy(&self) -> &FetchPolicy {
        &self.inner.policy
    }

    /// Fetches and parses the document at `url`, always from the network (creating and updating a
    /// provider use this). `verify_ssl = false` accepts any TLS certificate.
    ///
    /// Every hop passes the SSRF guard, the connection goes to the checked addresses only, and the
    /// whole fetch is bounded by the policy's time, redirect and size limits.
    pub async fn fetch(
        &self,
        url: &str,
        verify_ssl: bool,
    ) -> Result<DiscoveryDocument, FetchError> {
        fetch_document(&self.inner.policy, url, verify_ssl)
            .await
            .map(|fetched| fetched.document)
    }

    /// Like [`DiscoveryClient::fetch`], but a document fetched for the same `(url, verify_ssl)`
    /// within the policy's `cache_ttl` (or the response's shorter `Cache-Control: max-age`) is
    /// served from memory, and concurrent calls for the same key share one network fetch.
    ///
    /// Only successes are cached; `Cache-Control: no-store`, `no-cache` or `max-age=0` prevent
    /// caching.
    pub async fn fetch_cached(
        &self,
        url: &str,
        verify_ssl: bool,
    ) -> Result<Arc<DiscoveryDocument>, FetchError> {
        let policy = &self.inner.policy;
        if policy.cache_capacity == 0 || policy.cache_ttl.is_zero() {
            return self.fetch(url, verify_ssl).await.map(Arc::new);
        }
        // Without a runtime handle there is nowhere to run a shared fetch; fetch directly.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.fetch(url, verify_ssl).await.map(Arc::new);
        };
        let key = (url.to_owned(), verify_ssl);
        let (generation, shared) = {
            let mut cache = self.lock_cache();
            match cache.lookup(&key, Instant::now()) {
                Lookup::Hit(document) => return Ok(document),
                Lookup::Pending(generation, shared) => (generation, shared),
                Lookup::Miss => {
                    let generation = cache.next_generation();
                    // The fetch runs as its own task, so it completes and fills the cache even
                    // when every caller waiting for it gives up.
                    let task = runtime.spawn(self.clone().fill(key.clone(), generation));
                    let shared = async move {
                        task.await.unwrap_or_else(|error| {
                            Err(FetchError::caused_by(FetchErrorKind::Interrupted, error))
                        })
                    }
                    .boxed()
                    .shared();
                    cache.insert_pending(
                        key.clone(),
                        generation,
                        shared.clone(),
                        policy.cache_capacity,
                    );
                    (generation, shared)
                }
            }
        };
        let result = shared.await;
        if result.is_err() {
            // Normally the fetch task has already dropped its slot; this also clears a slot whose
            // task never finished (its runtime shut down), so the next call fetches again.
            self.lock_cache().complete(&key, generation, None);
        }
        result
    }

    /// How many documents and in-flight fetches the cache holds.
    pub fn cached_entries(&self) -> usize {
        self.lock_cache().entries.len()
    }

    /// Forgets every cached document (in-flight fetches still complete).
    pub fn clear_cache(&self) {
        self.lock_cache().entries.clear();
    }

    async fn fill(
        self,
        key: CacheKey,
        generation: u64,
    ) -> Result<Arc<DiscoveryDocument>, FetchError> {
        let result = fetch_document(&self.inner.policy, &key.0, key.1).await;
        let mut cache = self.lock_cache();
        match result {
            Ok(Fetched {
                document,
                cache_for,
            }) => {
                let document = Arc::new(document);
                cache.complete(
                    &key,
                    generation,
                    cache_for.map(|ttl| (document.clone(), ttl)),
                );
                Ok(document)
            }
            Err(error) => {
                cache.complete(&key, generation, None);
                Err(error)
            }
        }
    }

    fn lock_cache(&self) -> MutexGuard<'_, Cache> {
        // The cache holds no invariant a panicking holder could break half-way.
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Cache {
    entries: HashMap<CacheKey, Slot>,
    generation: u64,
}

enum Slot {
    Pending {
        generation: u64,
        fetch: SharedFetch,
    },
    Ready {
        document: Arc<DiscoveryDocument>,
        stored: Instant,
        expires: Instant,
    },
}

enum Lookup {
    Hit(Arc<DiscoveryDocument>),
    Pending(u64, SharedFetch),
    Miss,
}

impl Cache {
    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    fn lookup(&mut self, key: &CacheKey, now: Instant) -> Lookup {
        match self.entries.get(key) {
            Some(Slot::Ready {
                document, expires, ..
            }) if *expires > now => Lookup::Hit(document.clone()),
            Some(Slot::Pending { generation, fetch }) => {
                Lookup::Pending(*generation, fetch.clone())
            }
            Some(Slot::Ready { .. }) => {
                self.entries.remove(key);
                Lookup::Miss
            }
            None => Lookup::Miss,
        }
    }

    /// Records an in-flight fetch, if there is room. Without room the fetch still runs for its
    /// callers; it is just neither shared nor cached.
    fn insert_pending(
        &mut self,
        key: CacheKey,
        generation: u64,
        fetch: SharedFetch,
        capacity: usize,
    ) {
        if self.make_room(capacity, Instant::now()) {
            self.entries
                .insert(key, Slot::Pending { generation, fetch });
        }
    }

    /// Turns the in-flight slot of `generation` into a cached document, or drops it.
    fn complete(
        &mut self,
        key: &CacheKey,
        generation: u64,
        result: Option<(Arc<DiscoveryDocument>, Duration)>,
    ) {
        let ours = matches!(
            self.entries.get(key),
            Some(Slot::Pending { generation: g, .. }) if *g == generation
        );
        if !ours {
            return;
        }
        let now = Instant::now();
        match result.and_then(|(document, ttl)| Some((document, now.checked_add(ttl)?))) {
            Some((document, expires)) => {
                self.entries.insert(
                    key.clone(),
                    Slot::Ready {
                        document,
                        stored: now,
                        expires,
                    },
                );
            }
            None => {
                self.entries.remove(key);
            }
        }
    }

    /// Makes room for one more entry: expired documents go first, then the oldest one.
    /// In-flight fetches are never evicted, so this can fail.
    fn make_room(&mut self, capacity: usize, now: Instant) -> bool {
        if self.entries.len() < capacity {
            return true;
        }
        self.entries.retain(|_, slot| match slot {
            Slot::Ready { expires, .. } => *expires > now,
            Slot::Pending { .. } => true,
        });
        if self.entries.len() < capacity {
            return true;
        }
        let oldest = self
            .entries
            .iter()
            .filter_map(|(key, slot)| match slot {
                Slot::Ready { stored, .. } => Some((*stored, key)),
                Slot::Pending { .. } => None,
            })
            .min_by_key(|(stored, _)| *stored)
            .map(|(_, key)| key.clone());
        match oldest {
            Some(key) => {
                self.entries.remove(&key);
                self.entries.len() < capacity
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shareable<T: Clone + Send + Sync + 'static>() {}

    #[test]
    fn the_client_and_its_documents_can_be_shared_across_threads() {
        shareable::<DiscoveryClient>();
        shareable::<Arc<DiscoveryDocument>>();
        shareable::<FetchError>();
    }
}
