//! The providers in memory: by name, and in list order (all of them, and the active ones).

use std::collections::HashMap;
use std::sync::Arc;

use super::entry::Entry;

/// Every provider of the snapshot, and how far it has read the database.
#[derive(Debug, Default)]
pub(crate) struct Index {
    by_name: HashMap<Box<str>, Arc<Entry>>,
    /// Every provider, ordered by label, then id (the order of insertion).
    all: Vec<Arc<Entry>>,
    /// The active providers, in the same order.
    active: Vec<Arc<Entry>>,
    /// The number of the last write applied; `None` before the first load.
    pub(crate) seen: Option<i64>,
    /// Moves whenever an answer may have changed: prepared pages of an older generation are
    /// dropped.
    pub(crate) generation: u64,
    /// Bytes held by the entries (an estimate, for the metrics).
    pub(crate) weight: usize,
}

impl Index {
    /// An index of `entries` (in any order), having read the database up to `seen`.
    pub(crate) fn full(entries: Vec<Arc<Entry>>, seen: i64, generation: u64) -> Self {
        let mut all = entries;
        all.sort_by(|a, b| a.order().cmp(&b.order()));
        let active = all.iter().filter(|e| e.active).cloned().collect();
        let by_name = all.iter().map(|e| (e.name.clone(), e.clone())).collect();
        let weight = all.iter().map(|e| e.weight()).sum();
        Self {
            by_name,
            all,
            active,
            seen: Some(seen),
            generation,
            weight,
        }
    }

    /// The provider named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<Entry>> {
        self.by_name.get(name)
    }

    /// The list a caller sees: every provider for staff, active ones for everyone else.
    pub(crate) fn list(&self, staff: bool) -> &[Arc<Entry>] {
        if staff { &self.all } else { &self.active }
    }

    /// Puts `entry` in place of an older state of its row; a state at or below the one held is
    /// ignored (a reload may bring a row again). True when something changed.
    pub(crate) fn upsert(&mut self, entry: Arc<Entry>) -> bool {
        if let Some(held) = self.by_name.get(&entry.name) {
            if held.change_seq >= entry.change_seq {
                return false;
            }
            let held = held.clone();
            self.remove(&held);
        }
        insert_sorted(&mut self.all, &entry);
        if entry.active {
            insert_sorted(&mut self.active, &entry);
        }
        self.weight += entry.weight();
        self.by_name.insert(entry.name.clone(), entry);
        true
    }

    /// Removes `name` if the row held was written before the deletion numbered `seq` (a name
    /// deleted and created again keeps its newer row). True when something changed.
    pub(crate) fn delete(&mut self, name: &str, seq: i64) -> bool {
        match self.by_name.get(name) {
            Some(held) if held.change_seq < seq => {
                let held = held.clone();
                self.remove(&held);
                true
            }
            _ => false,
        }
    }

    fn remove(&mut self, entry: &Arc<Entry>) {
        remove_sorted(&mut self.all, entry);
        if entry.active {
            remove_sorted(&mut self.active, entry);
        }
        self.weight = self.weight.saturating_sub(entry.weight());
        self.by_name.remove(&entry.name);
    }
}

fn insert_sorted(list: &mut Vec<Arc<Entry>>, entry: &Arc<Entry>) {
    let at = list.partition_point(|e| e.order() < entry.order());
    list.insert(at, entry.clone());
}

fn remove_sorted(list: &mut Vec<Arc<Entry>>, entry: &Arc<Entry>) {
    let at = list.partition_point(|e| e.order() < entry.order());
    if list.get(at).is_some_and(|e| Arc::ptr_eq(e, entry)) {
        list.remove(at);
    }
}
