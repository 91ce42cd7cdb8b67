//! Records read with only the top-level fields a query needs. The values of the other
//! fields are read through as JSON, so a line is refused exactly when reading it whole
//! refuses it, but nothing is built from them.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;

use serde::de::{DeserializeSeed, Error, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

use crate::json::{UniqueKeys, named_twice};

/// The top-level fields of each record that are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KeptFields {
    /// Every field.
    #[default]
    All,
    /// The fields whose names, in lower case, are listed; a record keeping none of its
    /// fields is still a record (a row of nulls).
    Named(HashSet<String>),
}

/// What a line holds, read keeping some fields.
#[derive(Debug, PartialEq)]
pub enum KeptLine {
    Record(Map<String, Value>),
    /// A JSON array of objects (at least one), a record each.
    Records(Vec<Map<String, Value>>),
    /// Valid JSON that holds no record, or an array holding something else than objects.
    NoRecord,
}

/// Reads lines keeping the fields named; whether a key is kept is decided once per
/// distinct key.
pub struct Keeper<'a> {
    names: &'a HashSet<String>,
    decided: HashMap<Box<str>, bool, RandomState>,
    read_through: KeyHashes,
}

/// The hashes of the keys of the objects being read through, innermost last: a key named
/// twice in one object gives the same hash twice.
#[derive(Default)]
struct KeyHashes {
    state: RandomState,
    hashes: Vec<u64>,
}

impl KeyHashes {
    /// Takes the key of an object being read through.
    fn add(&mut self, key: &str) {
        let hash = self.state.hash_one(key);
        self.hashes.push(hash);
    }

    /// An error when two of the hashes from `start` on are equal (a key named twice, or,
    /// rarely, two keys of the same hash); they are then taken off.
    fn end_object<E: Error>(&mut self, start: usize) -> Result<(), E> {
        let object = &mut self.hashes[start..];
        object.sort_unstable();
        let unique = object.windows(2).all(|pair| pair[0] != pair[1]);
        self.hashes.truncate(start);
        match unique {
            true => Ok(()),
            false => Err(E::custom("a key may appear twice in one object")),
        }
    }
}

/// Distinct keys whose decision is remembered; others are decided each time they come.
const KEYS_REMEMBERED: usize = 4096;

impl<'a> Keeper<'a> {
    /// Keeps the fields named, in lower case, in `names`.
    pub fn new(names: &'a HashSet<String>) -> Keeper<'a> {
        Keeper { names, decided: HashMap::default(), read_through: KeyHashes::default() }
    }

    fn keeps(&mut self, key: &str) -> bool {
        if let Some(&kept) = self.decided.get(key) {
            return kept;
        }
        let kept = self.names.contains(&key.to_lowercase());
        if self.decided.len() < KEYS_REMEMBERED {
            self.decided.insert(key.into(), kept);
        }
        kept
    }

    /// Reads one line of JSON (the whole of `bytes`, whitespace around it allowed). It is an
    /// error whenever [`crate::parse_value`] is one, though maybe worded otherwise, and
    /// (rarely) when two keys of an object read through share a hash: such a line is to be
    /// read whole.
    pub fn parse_line(&mut self, bytes: &[u8]) -> Result<KeptLine, serde_json::Error> {
        self.read_through.hashes.clear();
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let line = serde::Deserializer::deserialize_any(&mut deserializer, LineVisitor(self))?;
        deserializer.end()?;
        Ok(line)
    }
}

/// A line: a record, an array of records, or something else.
struct LineVisitor<'k, 'a>(&'k mut Keeper<'a>);

impl<'de> Visitor<'de> for LineVisitor<'_, '_> {
    type Value = KeptLine;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<KeptLine, E> {
        Ok(KeptLine::NoRecord)
    }

    fn visit_i64<E>(self, _: i64) -> Result<KeptLine, E> {
        Ok(KeptLine::NoRecord)
    }

    fn visit_u64<E>(self, _: u64) -> Result<KeptLine, E> {
        Ok(KeptLine::NoRecord)
    }

    fn visit_f64<E>(self, _: f64) -> Result<KeptLine, E> {
        Ok(KeptLine::NoRecord)
    }

    fn visit_str<E>(self, _: &str) -> Result<KeptLine, E> {
        Ok(KeptLine::NoRecord)
    }

    fn visit_unit<E>(self) -> Result<KeptLine, E> {
        Ok(KeptLine::NoRecord)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<KeptLine, A::Error> {
        read_record(map, self.0).map(KeptLine::Record)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeptLine, A::Error> {
        let mut records = Vec::new();
        let mut all_objects = true;
        while let Some(item) = seq.next_element_seed(ItemSeed(&mut *self.0))? {
            match item {
                Some(record) => records.push(record),
                None => all_objects = false,
            }
        }
        Ok(match all_objects && !records.is_empty() {
            true => KeptLine::Records(records),
            false => KeptLine::NoRecord,
        })
    }
}

/// An item of a line's array: a record, or `None` for anything else (read through).
struct ItemSeed<'k, 'a>(&'k mut Keeper<'a>);

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_> {
    type Value = Option<Map<String, Value>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match deserializer.deserialize_any(LineVisitor(self.0))? {
            KeptLine::Record(record) => Ok(Some(record)),
            KeptLine::Records(_) | KeptLine::NoRecord => Ok(None),
        }
    }
}

/// The kept fields of an object, built as [`UniqueKeys`] builds them; the others read
/// through. A key named twice is an error, kept or not.
fn read_record<'de, A: MapAccess<'de>>(mut map: A, keeper: &mut Keeper) -> Result<Map<String, Value>, A::Error> {
    let mut record = Map::new();
    let start = keeper.read_through.hashes.len();
    while let Some(key) = map.next_key_seed(KeyText)? {
        if !keeper.keeps(&key) {
            keeper.read_through.add(&key);
            map.next_value_seed(ReadThrough(&mut keeper.read_through))?;
            continue;
        }
        match record.entry(key.into_owned()) {
            Entry::Occupied(entry) => return Err(named_twice(entry.key())),
            Entry::Vacant(entry) => {
                entry.insert(map.next_value_seed(UniqueKeys::default())?);
            }
        }
    }
    keeper.read_through.end_object(start)?;
    Ok(record)
}

/// A key, borrowed from the input when it holds no escapes.
struct KeyText;

impl<'de> DeserializeSeed<'de> for KeyText {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyText {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

/// Any JSON value, read as [`UniqueKeys`] reads it (keys named twice refused) but not built.
struct ReadThrough<'k>(&'k mut KeyHashes);

impl<'de> DeserializeSeed<'de> for ReadThrough<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ReadThrough<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ReadThrough(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let start = self.0.hashes.len();
        while let Some(key) = map.next_key_seed(KeyText)? {
            self.0.add(&key);
            map.next_value_seed(ReadThrough(&mut *self.0))?;
        }
        self.0.end_object(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_value;

    fn names(list: &[&str]) -> HashSet<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    /// The line read whole, then with only the fields named kept.
    fn kept_of(line: &str, kept: &[&str]) -> Option<Value> {
        let whole = parse_value(line.as_bytes()).ok()?;
        let keep = |value: &Value| match value {
            Value::Object(record) => {
                Value::Object(record.iter().filter(|(k, _)| kept.contains(&k.to_lowercase().as_str())).map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            other => other.clone(),
        };
        Some(match whole {
            Value::Array(items) => Value::Array(items.iter().map(keep).collect()),
            other => keep(&other),
        })
    }

    #[test]
    fn keeps_the_fields_named_in_any_case_and_refuses_what_reading_whole_refuses() {
        let keep = ["eventid", "event_data", "@timestamp"];
        let names = names(&keep);
        let lines = [
            r#"{"EventID":4688,"Image":"C:\\x.exe","event_data":{"A":[1,{"b":null}]},"@timestamp":"2020","Other":{"x":[1.5,true]}}"#,
            r#"{"eventid":1,"EVENTID":2,"nested":{"deep":{"k":"caf\u00e9"}}}"#,
            r#"{}"#,
            r#"{"skipped":{"k":1,"j":2,"k":3}}"#,
            r#"{"skipped":1,"Skipped":2,"skipped":3}"#,
            r#"{"EventID":1,"EventID":2}"#,
            r#"[{"EventID":1,"x":2},{"y":3}]"#,
            r#"[{"EventID":1},2]"#,
            r#"[]"#,
            r#""text""#,
            r#"{"EventID":1,"x":[1,2"#,
            r#"{"x":"\ud800"}"#,
            r#"{"x":1} {"y":2}"#,
        ];
        for line in lines {
            let mut keeper = Keeper::new(&names);
            let read = keeper.parse_line(line.as_bytes());
            let expected = kept_of(line, &keep);
            match (read, expected) {
                (Ok(KeptLine::Record(record)), Some(expected)) => assert_eq!(Value::Object(record), expected, "{line}"),
                (Ok(KeptLine::Records(records)), Some(Value::Array(expected))) => {
                    assert_eq!(records.into_iter().map(Value::Object).collect::<Vec<_>>(), expected, "{line}")
                }
                (Ok(KeptLine::NoRecord), Some(whole)) => {
                    let holds_records = whole.as_array().is_some_and(|items| !items.is_empty() && items.iter().all(Value::is_object));
                    assert!(!whole.is_object() && !holds_records, "{line}");
                }
                (Err(_), None) => {}
                (read, expected) => panic!("{line}: read {read:?}, whole {expected:?}"),
            }
        }
        let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert!(Keeper::new(&names).parse_line(deep.as_bytes()).is_err());
        assert!(Keeper::new(&names).parse_line(b"{\"x\":\"caf\xe9\"}").is_err());
    }
}
