//! The record while it is being normalised: a flat list of fields, each with the hash of its
//! name, so that finding a field is a scan of integers and renaming one is done in place.
//! (A `serde_json::Map` is a B-tree: every lookup compares strings, and a rename is a removal and
//! an insertion; with ~50 fields and ~100 lookups per record that cost more than the rules.)

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::{Map, Value};

/// A fast, non-cryptographic hasher (the Fx hash of rustc) for the rule tables, whose keys are
/// field names from the mapping files.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The hash of a field name.
#[inline]
pub(crate) fn name_hash(name: &str) -> u64 {
    let mut h = FastHasher::default();
    h.write(name.as_bytes());
    h.write_u8(0xff);
    h.finish()
}

/// Buffers kept for the next row of a thread: the field list and the sort keys of `into_map`.
type Spare = (Vec<Field>, Vec<(u128, usize)>);

thread_local! {
    /// The buffers of the last row of this thread, for the next one.
    static SPARE: std::cell::RefCell<Spare> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// One field of a [`Row`].
#[derive(Debug)]
pub(crate) struct Field {
    hash: u64,
    name: String,
    pub value: Value,
}

impl Field {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// A record as a list of uniquely named fields.
#[derive(Debug, Default)]
pub(crate) struct Row {
    fields: Vec<Field>,
    /// A 256-bit filter of the name hashes: a clear bit means "no such field" without a scan.
    /// Bits are never cleared (a removed field only costs a scan).
    seen: [u64; 4],
}

#[inline]
fn bit(hash: u64) -> (usize, u64) {
    let b = (hash >> 56) as usize;
    (b >> 6 & 3, 1u64 << (b & 63))
}

impl Row {
    /// The row of a map's fields. The field list reuses buffers of this thread (given back by
    /// [`Row::into_map`]), so a record costs no large allocation here.
    pub fn from_map(map: Map<String, Value>) -> Row {
        let mut fields = SPARE.with(|spare| std::mem::take(&mut spare.borrow_mut().0));
        fields.clear();
        fields.reserve(map.len() + 16);
        let mut row = Row { fields, seen: [0; 4] };
        for (name, value) in map {
            row.push(name, value);
        }
        row
    }

    /// The record as a map. The fields are put in name order first (comparing 16-byte prefixes
    /// as integers before whole names), so that the map's own sort finds them in order.
    pub fn into_map(mut self) -> Map<String, Value> {
        fn prefix(name: &str) -> u128 {
            let mut p = [0u8; 16];
            let n = name.len().min(16);
            p[..n].copy_from_slice(&name.as_bytes()[..n]);
            u128::from_be_bytes(p)
        }
        let mut order = SPARE.with(|spare| std::mem::take(&mut spare.borrow_mut().1));
        order.clear();
        order.extend(self.fields.iter().enumerate().map(|(i, f)| (prefix(&f.name), i)));
        let fields = &mut self.fields;
        order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| fields[a.1].name.cmp(&fields[b.1].name)));
        let map = order
            .iter()
            .map(|&(_, i)| (std::mem::take(&mut fields[i].name), fields[i].value.take()))
            .collect();
        let mut fields = std::mem::take(&mut self.fields);
        fields.clear();
        if fields.capacity() <= 1024 {
            SPARE.with(|spare| *spare.borrow_mut() = (fields, order));
        }
        map
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// The position of the field `name`.
    #[inline]
    pub fn find(&self, name: &str) -> Option<usize> {
        self.find_hashed(name_hash(name), name)
    }

    /// [`Row::find`] with `name_hash(name)` already known.
    #[inline]
    pub fn find_hashed(&self, hash: u64, name: &str) -> Option<usize> {
        let (word, mask) = bit(hash);
        if self.seen[word] & mask == 0 {
            return None;
        }
        self.fields.iter().position(|f| f.hash == hash && f.name == name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.find(name).map(|i| &self.fields[i].value)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.find(name).map(|i| &mut self.fields[i].value)
    }

    pub fn field(&self, i: usize) -> &Field {
        &self.fields[i]
    }

    pub fn value_mut(&mut self, i: usize) -> &mut Value {
        &mut self.fields[i].value
    }

    /// Renames the field at `i` (the caller makes sure `name` is not taken).
    pub fn rename_at(&mut self, i: usize, name: &str) {
        self.rename_at_hashed(i, name, name_hash(name));
    }

    /// [`Row::rename_at`] with `name_hash(name)` already known.
    pub fn rename_at_hashed(&mut self, i: usize, name: &str, hash: u64) {
        let f = &mut self.fields[i];
        if f.hash != hash || f.name != name {
            f.name.clear();
            f.name.push_str(name);
            f.hash = hash;
            let (word, mask) = bit(hash);
            self.seen[word] |= mask;
        }
    }

    /// Adds a field the row does not have (the caller makes sure).
    pub fn push(&mut self, name: String, value: Value) {
        let hash = name_hash(&name);
        self.push_hashed(name, hash, value);
    }

    /// [`Row::push`] with `name_hash(&name)` already known.
    pub fn push_hashed(&mut self, name: String, hash: u64, value: Value) {
        let (word, mask) = bit(hash);
        self.seen[word] |= mask;
        self.fields.push(Field { hash, name, value });
    }

    /// Adds a field unless the row has one of that name; whether it was added.
    pub fn insert_absent(&mut self, name: &str, value: Value) -> bool {
        if self.contains(name) {
            return false;
        }
        self.push(name.to_owned(), value);
        true
    }

    /// Sets a field, replacing any value it had.
    pub fn set(&mut self, name: &str, value: Value) {
        match self.find(name) {
            Some(i) => self.fields[i].value = value,
            None => self.push(name.to_owned(), value),
        }
    }

    /// Removes a field (the order of the others may change).
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.find(name).map(|i| self.fields.swap_remove(i).value)
    }

    /// Removes the field at `i`; the last field takes its place.
    pub fn remove_at(&mut self, i: usize) -> Value {
        self.fields.swap_remove(i).value
    }

    /// Keeps the fields for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut Value) -> bool) {
        self.fields.retain_mut(|f| keep(&f.name, &mut f.value));
    }

    /// `base`, or `base_2`, `base_3`, ...: the first name the row does not have.
    pub fn free_name(&self, base: String) -> String {
        if !self.contains(&base) {
            return base;
        }
        (2u32..).map(|n| format!("{base}_{n}")).find(|name| !self.contains(name)).unwrap_or(base)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn row_round_trip_and_edits() {
        let map = json!({"b": 1, "a": "x", "c": null}).as_object().cloned().unwrap();
        let mut row = Row::from_map(map.clone());
        assert_eq!(row.get("a"), Some(&json!("x")));
        assert!(row.insert_absent("d", json!(4)));
        assert!(!row.insert_absent("a", json!("y")));
        let i = row.find("b").unwrap();
        row.rename_at(i, "bb");
        assert!(!row.contains("b"));
        assert_eq!(row.remove("c"), Some(Value::Null));
        assert_eq!(row.free_name("a".into()), "a_2");
        row.set("a", json!("z"));
        assert_eq!(Value::Object(row.into_map()), json!({"a": "z", "bb": 1, "d": 4}));
        assert_ne!(name_hash("ProcessId"), name_hash("ProcessID"));
        assert_ne!(name_hash("abcdefgh"), name_hash("abcdefgh\0"));
    }
}
