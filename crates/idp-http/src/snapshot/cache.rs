//! A cache bounded by the bytes it holds: when full, it starts again empty. Prepared answers are
//! cheap to make again, so a simple bound is worth more than a clever eviction order.

use std::collections::HashMap;
use std::hash::Hash;

/// Values by key, with their weights, up to a total weight.
#[derive(Debug)]
pub(crate) struct Cache<K, V> {
    entries: HashMap<K, V>,
    weight: usize,
    limit: usize,
    generation: u64,
}

impl<K: Eq + Hash, V> Cache<K, V> {
    /// An empty cache holding at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            entries: HashMap::new(),
            weight: 0,
            limit,
            generation: 0,
        }
    }

    /// Empties the cache when it was filled for another generation of the snapshot.
    pub(crate) fn keep_generation(&mut self, generation: u64) {
        if self.generation != generation {
            self.generation = generation;
            self.entries.clear();
            self.weight = 0;
        }
    }

    /// The value cached for `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// Caches `value` for `key`, counting `weight` bytes; a value heavier than the whole cache
    /// is not kept.
    pub(crate) fn insert(&mut self, key: K, value: V, weight: usize) {
        if weight > self.limit {
            return;
        }
        if self.weight + weight > self.limit {
            self.entries.clear();
            self.weight = 0;
        }
        self.weight += weight;
        self.entries.insert(key, value);
    }
}
