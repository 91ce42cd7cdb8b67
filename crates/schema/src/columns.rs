//! Objects split into one column of values per member name, in one pass over each object:
//! what learning their shape and building their Arrow arrays both walk, a column at a time.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use serde_json::{Map, Value};

use crate::tape::{Tape, TapeValue};
use crate::view::{JsonView, map_members};

/// The members of some objects (records, or the values of a struct field), a column per
/// member name in the order the names were first seen. A row whose object lacks a member,
/// or that is not an object, holds `None` in its column.
pub struct ObjectColumns<'a, V = &'a Value> {
    rows: usize,
    names: Vec<&'a str>,
    values: Vec<Vec<Option<V>>>,
    index: HashMap<&'a str, usize, RandomState>,
}

impl<'a> ObjectColumns<'a> {
    /// The columns of `records`.
    pub fn of_records(records: &'a [Map<String, Value>]) -> ObjectColumns<'a> {
        ObjectColumns::of(records.iter().map(|record| Some(map_members(record))), records.len())
    }
}

impl<'a> ObjectColumns<'a, TapeValue<'a>> {
    /// The columns of the records of `tape`.
    pub fn of_tape(tape: &'a Tape) -> ObjectColumns<'a, TapeValue<'a>> {
        ObjectColumns::of(tape.records().map(|record| Some(record.members())), tape.len())
    }
}

impl<'a, V: JsonView<'a>> ObjectColumns<'a, V> {
    /// The columns of `rows` objects, each given by its members (`None` for a row that is
    /// not an object). A member is looked for in the column where the previous object's
    /// member in the same place was (objects of one source repeat their members in order),
    /// and by name otherwise.
    pub fn of<M: Iterator<Item = (&'a str, V)>>(objects: impl Iterator<Item = Option<M>>, rows: usize) -> ObjectColumns<'a, V> {
        let mut columns = ObjectColumns { rows, names: Vec::new(), values: Vec::new(), index: HashMap::default() };
        let mut found_before: Vec<usize> = Vec::new();
        for (row, object) in objects.enumerate() {
            for (place, (name, value)) in object.into_iter().flatten().enumerate() {
                if place == found_before.len() {
                    found_before.push(usize::MAX);
                }
                let column = match found_before[place] {
                    // Names of one tape are one string each: most are the same one.
                    i if columns.names.get(i).is_some_and(|known| std::ptr::eq(*known, name) || *known == name) => i,
                    _ => columns.column_of(name),
                };
                columns.values[column][row] = Some(value);
                found_before[place] = column;
            }
        }
        columns
    }

    /// The column of member `name`, made (empty) when it is new.
    fn column_of(&mut self, name: &'a str) -> usize {
        let (names, values, rows) = (&mut self.names, &mut self.values, self.rows);
        *self.index.entry(name).or_insert_with(|| {
            names.push(name);
            values.push(vec![None; rows]);
            names.len() - 1
        })
    }

    /// The number of objects (rows).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Each member name with its column, in the order first seen.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &[Option<V>])> {
        self.names.iter().copied().zip(self.values.iter().map(Vec::as_slice))
    }

    /// The column of member `name`, if any object has it.
    pub fn get(&self, name: &str) -> Option<&[Option<V>]> {
        self.index.get(name).map(|&i| self.values[i].as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_found_whatever_their_order_from_object_to_object() {
        let values = [json!({"b": 1, "a": "x"}), json!({"a": "y", "c": null}), json!({"b": 2, "a": "z"})];
        let records: Vec<Map<String, Value>> = values.iter().map(|v| v.as_object().unwrap().clone()).collect();
        let columns = ObjectColumns::of_records(&records);
        assert_eq!(columns.iter().map(|(name, _)| name).collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(columns.get("b").unwrap(), [Some(&json!(1)), None, Some(&json!(2))]);
        assert_eq!(columns.get("a").unwrap(), [Some(&json!("x")), Some(&json!("y")), Some(&json!("z"))]);
        assert_eq!(columns.get("c").unwrap(), [None, Some(&Value::Null), None]);
        assert!(columns.get("d").is_none());
        assert_eq!(columns.rows(), 3);
    }
}
