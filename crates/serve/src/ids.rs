//! The document ids the server has stored, so that a document sent again with its `_id` (a
//! shipper's retry after a timeout) is not stored twice. Ids are kept as 128-bit hashes of
//! (index, id), the most recent `capacity` of them: memory stays bounded (some 40 bytes an
//! id) and a retry, which comes within minutes, is always among them.

use std::collections::{HashSet, VecDeque};

/// The most recent ids stored, oldest forgotten first.
pub struct SeenIds {
    set: HashSet<u128>,
    order: VecDeque<u128>,
    capacity: usize,
}

impl SeenIds {
    pub fn new(capacity: usize) -> Self {
        SeenIds { set: HashSet::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Records `(index, id)`; false when it was already there.
    pub fn insert(&mut self, index: &str, id: &str) -> bool {
        let key = key(index, id);
        if !self.set.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity {
            let oldest = self.order.pop_front().expect("over capacity");
            self.set.remove(&oldest);
        }
        true
    }

    /// Forgets `(index, id)` (its document was not stored after all).
    pub fn remove(&mut self, index: &str, id: &str) {
        let key = key(index, id);
        if self.set.remove(&key) {
            self.order.retain(|k| *k != key);
        }
    }

}

fn key(index: &str, id: &str) -> u128 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&(index.len() as u64).to_le_bytes());
    hasher.update(index.as_bytes());
    hasher.update(id.as_bytes());
    u128::from_le_bytes(hasher.finalize().as_bytes()[..16].try_into().expect("16 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_seen_once_per_index_and_the_oldest_are_forgotten() {
        let mut ids = SeenIds::new(3);
        assert!(ids.insert("a", "1"));
        assert!(!ids.insert("a", "1"));
        assert!(ids.insert("b", "1"), "another index");
        assert!(ids.insert("a1", ""), "index and id do not run together");
        assert!(ids.insert("a", "2"));
        assert!(ids.insert("a", "1"), "the oldest was forgotten, keeping three");
        assert!(!ids.insert("a", "2"));
        ids.remove("a", "2");
        assert!(ids.insert("a", "2"));
    }
}
