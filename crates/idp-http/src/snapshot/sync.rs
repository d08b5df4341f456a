//! The snapshot's own thread: reads what changed in the database and applies it.
//!
//! It wakes when a reader finds the snapshot behind this process's own writes, when the
//! PostgreSQL listener hears of a write (or has just connected), and every check interval
//! whatever happens, so that a lost notification or a dropped connection leaves an instance
//! stale for one interval at most.

use std::sync::{Arc, Weak};
use std::time::Instant;

use idp_store::{ChangedProvider, ProviderChanges};

use super::entry::Entry;
use super::index::Index;
use super::{Progress, ReadModel, lock};
use crate::error::Chain;

/// Rows read per query: a reload of 100,000 providers never holds them all as rows at once.
const BATCH: i64 = 1_000;

/// Starts the thread (and, on PostgreSQL, the listener) for `model`. Both stop once the model
/// is dropped.
pub(super) fn spawn(model: &Arc<ReadModel>) {
    let weak = Arc::downgrade(model);
    let spawned = std::thread::Builder::new()
        .name("idp-snapshot".into())
        .spawn(move || run(&weak));
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the snapshot thread");
    }
    let on_change = {
        let weak = Arc::downgrade(model);
        move |version: Option<i64>| {
            if let Some(model) = weak.upgrade() {
                let known = model.read().seen;
                if version.is_none() || known.is_none_or(|seen| version > Some(seen)) {
                    model.wake();
                }
            }
        }
    };
    let keep_going = {
        let weak = Arc::downgrade(model);
        move || weak.strong_count() > 0
    };
    model.store.listen(on_change, keep_going);
}

fn run(weak: &Weak<ReadModel>) {
    loop {
        let Some(model) = weak.upgrade() else { return };
        let woken = model.sleep();
        model.sync(woken);
    }
}

impl ReadModel {
    /// Waits for a wake-up or the check interval; true when woken.
    fn sleep(&self) -> bool {
        let (flag, condvar) = &self.wake;
        let mut woken = lock(flag);
        if !*woken {
            woken = condvar
                .wait_timeout(woken, self.check_interval)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        std::mem::replace(&mut *woken, false)
    }

    /// Reads what changed and applies it. A periodic check asks for the version first and
    /// stops there when nothing changed.
    fn sync(&self, woken: bool) {
        let local_writes = self.store.local_writes();
        let seen = self.read().seen;
        if !woken && let Some(seen) = seen {
            match self.store.versions() {
                Ok(versions) if versions.providers == seen => {
                    self.progressed(local_writes);
                    return;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %Chain(&error), "snapshot check failed");
                    return;
                }
            }
        }
        let started = Instant::now();
        let mut entries = Vec::new();
        let expose = self.expose_secret;
        let changes = self.store.provider_changes(seen, BATCH, |rows| {
            entries.extend(rows.into_iter().map(|row| prepare(row, expose)));
        });
        match changes {
            Ok(changes) => {
                let count = entries.len();
                self.apply(changes, entries);
                self.progressed(local_writes);
                tracing::debug!(
                    rows = count,
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot reloaded"
                );
            }
            Err(error) => tracing::warn!(error = %Chain(&error), "snapshot reload failed"),
        }
    }

    /// Applies a reload under the write lock, all at once.
    fn apply(&self, changes: ProviderChanges, entries: Vec<Prepared>) {
        let mut index = self
            .index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let seen = changes.versions.providers;
        if changes.full {
            let kept = entries
                .into_iter()
                .filter_map(|prepared| prepared.entry)
                .collect();
            *index = Index::full(kept, seen, index.generation + 1);
            return;
        }
        let mut changed = false;
        for prepared in entries {
            changed |= match prepared.entry {
                Some(entry) => index.upsert(entry),
                // A row that cannot be read is served as absent, not in its older state.
                None => index.delete(&prepared.name, prepared.change_seq + 1),
            };
        }
        for (name, seq) in &changes.deleted {
            changed |= index.delete(name, *seq);
        }
        if changed {
            index.generation += 1;
        }
        if index.seen.is_none_or(|held| held < seen) {
            index.seen = Some(seen);
        }
    }

    fn progressed(&self, local_writes: u64) {
        self.progress.send_if_modified(|progress| {
            let next = Progress {
                loaded: true,
                local_writes: progress.local_writes.max(local_writes),
            };
            std::mem::replace(progress, next) != next
        });
    }
}

/// A row read, prepared for the snapshot (or `None` when it could not be read).
struct Prepared {
    name: String,
    change_seq: i64,
    entry: Option<Arc<Entry>>,
}

fn prepare(row: ChangedProvider, expose: bool) -> Prepared {
    let entry = match row.content {
        Ok((stored, sealed)) => Entry::build(
            row.id,
            row.change_seq,
            stored.version,
            &stored.provider,
            sealed,
            expose,
        )
        .map_err(|error| tracing::error!(provider = %row.name, %error, "cannot prepare a provider"))
        .ok(),
        Err(error) => {
            tracing::error!(provider = %row.name, error = %Chain(&error), "a stored provider cannot be read; it is left out");
            None
        }
    };
    Prepared {
        name: row.name,
        change_seq: row.change_seq,
        entry: entry.map(Arc::new),
    }
}
