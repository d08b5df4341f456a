//! Reads from memory: each instance keeps a snapshot of the providers with their answers
//! prepared, and serves retrieve, list pages, `HEAD` counts and `Link` headers from it without a
//! database call (see docs/decisions.md, "Reads from memory").
//!
//! A thread of its own keeps the snapshot current ([`sync`]): after a write through this
//! process's store (read your own writes), on a PostgreSQL notification, and at a fixed interval
//! as the fallback. Each reload reads only the rows written since the last one, and applies them
//! at once under the write lock, so no answer ever shows half of a write.

mod cache;
mod entry;
mod index;
mod sync;

use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::Duration;

use actix_web::web::Bytes;
use idp_store::Store;
use tokio::sync::watch;

use self::cache::Cache;
use self::index::Index;
use crate::error::ApiError;
use crate::representation::{Prepared, list_etag};

/// Bytes of prepared list pages kept per instance; past it the cache starts again empty.
const PAGE_CACHE_BYTES: usize = 32 << 20;
/// Bytes of prepared staff answers kept per instance.
const STAFF_CACHE_BYTES: usize = 8 << 20;

/// How far the snapshot has come, for readers waiting on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Progress {
    /// The first load is done.
    loaded: bool,
    /// The count of this process's own writes ([`Store::local_writes`]) the snapshot includes.
    local_writes: u64,
}

/// One page of a list, prepared.
#[derive(Debug)]
pub(crate) struct Page {
    /// The body and its ETag.
    pub(crate) prepared: Prepared,
}

/// The key of a prepared page: staff or not, page size, page number.
type PageKey = (bool, i64, i64);

/// Prepared staff answers by provider name, each with the change number it was made from.
type StaffAnswers = Cache<Box<str>, (i64, Arc<Prepared>)>;

/// The snapshot and what keeps it current.
#[derive(Debug)]
pub(crate) struct ReadModel {
    index: RwLock<Index>,
    store: Store,
    expose_secret: bool,
    pages: Mutex<Cache<PageKey, Arc<Page>>>,
    staff: Mutex<StaffAnswers>,
    progress: watch::Sender<Progress>,
    wake: (Mutex<bool>, Condvar),
    check_interval: Duration,
}

impl ReadModel {
    /// Starts the snapshot of `store`'s providers: the first load begins at once, on the
    /// snapshot's own thread.
    pub(crate) fn start(store: Store, expose_secret: bool, check_interval: Duration) -> Arc<Self> {
        let model = Arc::new(Self {
            index: RwLock::default(),
            store,
            expose_secret,
            pages: Mutex::new(Cache::new(PAGE_CACHE_BYTES)),
            staff: Mutex::new(Cache::new(STAFF_CACHE_BYTES)),
            progress: watch::Sender::new(Progress::default()),
            wake: (Mutex::new(true), Condvar::new()),
            check_interval,
        });
        sync::spawn(&model);
        model
    }

    /// True once the first load is done.
    pub(crate) fn loaded(&self) -> bool {
        self.progress.borrow().loaded
    }

    /// Waits up to `timeout` for the first load; true once it is done.
    pub(crate) async fn wait_loaded(&self, timeout: Duration) -> bool {
        if self.loaded() {
            return true;
        }
        let mut progress = self.progress.subscribe();
        let waited = actix_web::rt::time::timeout(timeout, progress.wait_for(|p| p.loaded)).await;
        matches!(waited, Ok(Ok(_)))
    }

    /// Waits until the snapshot includes every write this process has committed, within
    /// `timeout`. Before the first load, that is 503; after it, a reload that does not finish
    /// in time (the database is slow or gone) leaves the snapshot as it is: reads keep working
    /// through a database outage.
    pub(crate) async fn current(&self, timeout: Duration) -> Result<(), ApiError> {
        let wanted = self.store.local_writes();
        let ready = |p: &Progress| p.loaded && p.local_writes >= wanted;
        if ready(&self.progress.borrow()) {
            return Ok(());
        }
        self.wake();
        let mut progress = self.progress.subscribe();
        let waited = actix_web::rt::time::timeout(timeout, progress.wait_for(|p| ready(p))).await;
        if matches!(waited, Ok(Ok(_))) || self.loaded() {
            return Ok(());
        }
        tracing::warn!("the providers are not loaded yet");
        Err(ApiError::Unavailable)
    }

    /// Asks the snapshot's thread to read the database now.
    pub(crate) fn wake(&self) {
        let (flag, condvar) = &self.wake;
        *flag
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        condvar.notify_one();
    }

    /// The answer for provider `name`: `None` when there is none, or when it is inactive and the
    /// caller is not staff.
    pub(crate) fn retrieve(
        &self,
        name: &str,
        staff: bool,
    ) -> Result<Option<Arc<Prepared>>, ApiError> {
        let entry = {
            let index = self.read();
            match index.get(name) {
                Some(entry) if staff || entry.active => entry.clone(),
                _ => return Ok(None),
            }
        };
        if !staff {
            return Ok(Some(entry.public.clone()));
        }
        let mut cache = lock(&self.staff);
        if let Some((seq, prepared)) = cache.get(&entry.name)
            && *seq == entry.change_seq
        {
            return Ok(Some(prepared.clone()));
        }
        drop(cache);
        let body = entry.staff_body(|sealed| self.store.secrets().open(sealed))?;
        let prepared = Arc::new(Prepared::versioned(Bytes::from(body), entry.version));
        cache = lock(&self.staff);
        cache.insert(
            entry.name.clone(),
            (entry.change_seq, prepared.clone()),
            prepared.body.len() * 2,
        );
        Ok(Some(prepared))
    }

    /// The version of provider `name` as the snapshot holds it now (inactive ones included),
    /// without waiting for the snapshot to be current: a hint for a write, which the database
    /// checks again.
    pub(crate) fn version_hint(&self, name: &str) -> Option<i64> {
        self.read().get(name).map(|entry| entry.version)
    }

    /// How many providers the caller's list holds.
    pub(crate) fn count(&self, staff: bool) -> i64 {
        i64::try_from(self.read().list(staff).len()).unwrap_or(i64::MAX)
    }

    /// Page `number` (from 1) of `size` rows of the caller's list, with the list's total; the
    /// page is prepared once per snapshot generation. `number` is checked against `total` by
    /// `check` before anything is prepared.
    pub(crate) fn page<E>(
        &self,
        staff: bool,
        size: i64,
        check: impl FnOnce(i64) -> Result<i64, E>,
    ) -> Result<(Arc<Page>, i64, i64), E>
    where
        E: From<ApiError>,
    {
        let index = self.read();
        let list = index.list(staff);
        let total = i64::try_from(list.len()).unwrap_or(i64::MAX);
        let number = check(total)?;
        let key = (staff, size, number);
        {
            let mut pages = lock(&self.pages);
            pages.keep_generation(index.generation);
            if let Some(page) = pages.get(&key) {
                return Ok((page.clone(), total, number));
            }
        }
        let start = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(size).unwrap_or(usize::MAX));
        let rows = list.get(start..end.min(list.len())).unwrap_or_default();
        let mut body =
            Vec::with_capacity(rows.iter().map(|e| e.public.body.len() + 1).sum::<usize>() + 2);
        body.push(b'[');
        for (i, entry) in rows.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            if staff {
                let staff_body = entry
                    .staff_body(|sealed| self.store.secrets().open(sealed))
                    .map_err(|error| E::from(ApiError::from(error)))?;
                body.extend_from_slice(&staff_body);
            } else {
                body.extend_from_slice(&entry.public.body);
            }
        }
        body.push(b']');
        let etag = list_etag(total, &body);
        let page = Arc::new(Page {
            prepared: Prepared::new(Bytes::from(body), etag),
        });
        let generation = index.generation;
        drop(index);
        let mut pages = lock(&self.pages);
        pages.keep_generation(generation);
        pages.insert(key, page.clone(), page.prepared.body.len() * 2);
        Ok((page, total, number))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
