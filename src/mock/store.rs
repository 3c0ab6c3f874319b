//! A bounded, insertion-ordered map: the storage under each API's state
//! machine.
//!
//! Why bounded: the mock may run for a long time (`conform mock`, soak tests)
//! and the Ledger API users resource has no delete endpoint, so an unbounded
//! store would grow with every `POST`. When an insert would exceed the cap,
//! the oldest entry that is not pinned (the seeded users are pinned) is
//! evicted, first in, first out. Memory therefore stays flat however many
//! requests arrive, and the seeded users that cases rely on never disappear.

use std::collections::{BTreeMap, HashMap};

/// The default cap on entries per API.
pub(super) const MAX_ENTRIES: usize = 10_000;

/// One stored value with its key and whether it may be evicted.
#[derive(Debug, Clone)]
struct Entry<T> {
    key: String,
    pinned: bool,
    value: T,
}

/// An insertion-ordered map from string keys to values, capped at `cap`
/// entries with FIFO eviction of unpinned entries.
///
/// Lookups, inserts, removals and evictions are all `O(log n)`.
#[derive(Debug, Clone)]
pub(super) struct Store<T> {
    /// Entries by insertion sequence number: iteration order is creation order.
    by_seq: BTreeMap<u64, Entry<T>>,
    /// Key → sequence number.
    index: HashMap<String, u64>,
    next_seq: u64,
    cap: usize,
}

impl<T> Store<T> {
    /// An empty store holding at most `cap` entries (pinned ones excepted).
    pub(super) fn new(cap: usize) -> Self {
        Store {
            by_seq: BTreeMap::new(),
            index: HashMap::new(),
            next_seq: 0,
            cap,
        }
    }

    /// How many entries are stored.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// The value stored under `key`.
    pub(super) fn get(&self, key: &str) -> Option<&T> {
        let seq = self.index.get(key)?;
        self.by_seq.get(seq).map(|e| &e.value)
    }

    /// The value stored under `key`, mutably.
    pub(super) fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        let seq = self.index.get(key)?;
        self.by_seq.get_mut(seq).map(|e| &mut e.value)
    }

    /// Whether `key` is stored.
    pub(super) fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Stores `value` under `key` as the newest entry, replacing any previous
    /// value for `key`. Returns the value evicted to stay within the cap, if
    /// any. A `pinned` entry is never evicted.
    pub(super) fn insert(&mut self, key: String, value: T, pinned: bool) -> Option<T> {
        self.remove(&key);
        let evicted = if self.len() >= self.cap {
            self.evict_oldest()
        } else {
            None
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.index.insert(key.clone(), seq);
        self.by_seq.insert(seq, Entry { key, pinned, value });
        evicted
    }

    /// Removes and returns the value stored under `key`.
    pub(super) fn remove(&mut self, key: &str) -> Option<T> {
        let seq = self.index.remove(key)?;
        self.by_seq.remove(&seq).map(|e| e.value)
    }

    /// Values in creation order.
    pub(super) fn values(&self) -> impl Iterator<Item = &T> {
        self.by_seq.values().map(|e| &e.value)
    }

    /// Removes the oldest entries, in creation order, while `expired` holds
    /// for them; stops at the first entry for which it does not (or at a
    /// pinned one). Returns how many were removed. Callers whose entries
    /// expire in creation order (the token maps) thus prune every expired
    /// entry in `O(k log n)` for `k` removed.
    pub(super) fn prune_oldest_while(&mut self, mut expired: impl FnMut(&T) -> bool) -> usize {
        let mut removed = 0;
        while let Some(entry) = self.by_seq.first_entry() {
            if entry.get().pinned || !expired(&entry.get().value) {
                break;
            }
            let entry = entry.remove();
            self.index.remove(&entry.key);
            removed += 1;
        }
        removed
    }

    /// Removes the oldest unpinned entry. Pinned entries are the few seeded
    /// ones at the front, so the scan stops almost at once.
    fn evict_oldest(&mut self) -> Option<T> {
        let seq = *self.by_seq.iter().find(|(_, e)| !e.pinned)?.0;
        let entry = self.by_seq.remove(&seq)?;
        self.index.remove(&entry.key);
        Some(entry.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_and_replaces_in_place_of_duplicates() {
        let mut store = Store::new(10);
        store.insert("a".into(), 1, false);
        store.insert("b".into(), 2, false);
        store.insert("a".into(), 3, false);
        assert_eq!(store.values().copied().collect::<Vec<_>>(), [2, 3]);
        assert_eq!(store.get("a"), Some(&3));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn evicts_oldest_unpinned_at_the_cap() {
        let mut store = Store::new(3);
        store.insert("seed".into(), 0, true);
        store.insert("a".into(), 1, false);
        store.insert("b".into(), 2, false);
        assert_eq!(store.insert("c".into(), 3, false), Some(1));
        assert_eq!(store.insert("d".into(), 4, false), Some(2));
        assert_eq!(store.len(), 3);
        assert!(store.contains("seed"));
        assert!(!store.contains("a"));
        assert_eq!(store.values().copied().collect::<Vec<_>>(), [0, 3, 4]);
    }

    #[test]
    fn prune_oldest_while_stops_at_the_first_survivor_and_at_pins() {
        let mut store = Store::new(10);
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            store.insert(key.into(), i, false);
        }
        assert_eq!(store.prune_oldest_while(|v| *v < 2), 2);
        assert_eq!(store.values().copied().collect::<Vec<_>>(), [2, 3]);
        assert!(!store.contains("a") && store.contains("c"));
        let mut pinned = Store::new(10);
        pinned.insert("seed".into(), 0, true);
        pinned.insert("x".into(), 1, false);
        assert_eq!(pinned.prune_oldest_while(|_| true), 0);
        assert_eq!(pinned.len(), 2);
    }

    #[test]
    fn remove_and_get_mut() {
        let mut store = Store::new(3);
        store.insert("a".into(), 1, false);
        if let Some(v) = store.get_mut("a") {
            *v = 5;
        }
        assert_eq!(store.remove("a"), Some(5));
        assert_eq!(store.remove("a"), None);
        assert_eq!(store.len(), 0);
    }
}
