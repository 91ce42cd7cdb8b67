//! Records read into one flat tape per chunk of lines: each value a node, every string in
//! one buffer, member names interned. Learning shapes and building arrays read it in place
//! ([`TapeValue`] is a [`JsonView`]): no map, key or string is allocated per record, as
//! building serde_json values does.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use foldhash::fast::RandomState;
use serde::de::{DeserializeSeed, Error, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::json::named_twice;
use crate::view::{Json, JsonNumber, JsonView};

/// One value, or one member name, of a tape.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Number(JsonNumber),
    /// A string: bytes `start..start + len` of the tape's text.
    Str {
        start: u32,
        len: u32,
    },
    /// An array; its items are the values from the next node up to node `end`.
    Array {
        end: u32,
    },
    /// An object; its members, from the next node up to node `end`, are each a
    /// [`Node::Name`] followed by the member's value.
    Object {
        end: u32,
    },
    /// A member name: the tape's name number.
    Name(u32),
}

/// Records read from JSON lines, in order.
#[derive(Debug, Default)]
pub struct Tape {
    nodes: Vec<Node>,
    text: String,
    names: Vec<Box<str>>,
    /// The node of each record (an object).
    records: Vec<u32>,
}

impl Tape {
    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Record `row`.
    #[inline]
    pub fn record(&self, row: u32) -> TapeValue<'_> {
        TapeValue { tape: self, node: self.records[row as usize] }
    }

    /// The records, in order.
    #[inline]
    pub fn records(&self) -> impl ExactSizeIterator<Item = TapeValue<'_>> {
        self.records.iter().map(|&node| TapeValue { tape: self, node })
    }

    /// The records as serde_json maps.
    pub fn to_maps(&self) -> Vec<Map<String, Value>> {
        self.records().map(TapeValue::to_map).collect()
    }

    /// The node after the value at `node`, with everything it holds.
    #[inline]
    fn after(&self, node: u32) -> u32 {
        match self.nodes[node as usize] {
            Node::Array { end } | Node::Object { end } => end,
            _ => node + 1,
        }
    }
}

/// A value of a [`Tape`].
#[derive(Debug, Clone, Copy)]
pub struct TapeValue<'a> {
    tape: &'a Tape,
    node: u32,
}

impl<'a> TapeValue<'a> {
    /// The members of this value (an object) as a serde_json map.
    fn to_map(self) -> Map<String, Value> {
        self.members().map(|(name, value)| (name.to_string(), value.to_value().into_owned())).collect()
    }

    /// The values from node `from` up to node `end`, each followed by the next.
    #[inline]
    fn run(self, from: u32, end: u32) -> impl Iterator<Item = TapeValue<'a>> + 'a {
        let tape = self.tape;
        std::iter::successors((from < end).then_some(from), move |&node| Some(tape.after(node)).filter(|&next| next < end))
            .map(move |node| TapeValue { tape, node })
    }
}

impl<'a> JsonView<'a> for TapeValue<'a> {
    #[inline]
    fn kind(self) -> Json<'a, Self> {
        match self.tape.nodes[self.node as usize] {
            // A view is of a value, never of a member name.
            Node::Null | Node::Name(_) => Json::Null,
            Node::Bool(b) => Json::Bool(b),
            Node::Number(n) => Json::Number(n),
            Node::Str { start, len } => Json::Str(&self.tape.text[start as usize..(start + len) as usize]),
            Node::Array { .. } => Json::Array(self),
            Node::Object { .. } => Json::Object(self),
        }
    }

    #[inline]
    fn items(self) -> impl Iterator<Item = Self> + 'a {
        let end = if matches!(self.kind(), Json::Array(_)) { self.tape.after(self.node) } else { self.node };
        self.run(self.node + 1, end)
    }

    #[inline]
    fn members(self) -> impl Iterator<Item = (&'a str, Self)> + 'a {
        let tape = self.tape;
        let end = if matches!(self.kind(), Json::Object(_)) { self.tape.after(self.node) } else { self.node };
        // Each member is a name node and a value: the run steps over names and values alike.
        let mut nodes = self.run(self.node + 1, end);
        std::iter::from_fn(move || {
            let name = match tape.nodes[nodes.next()?.node as usize] {
                Node::Name(number) => &*tape.names[number as usize],
                _ => unreachable!("an object's members start with their names"),
            };
            Some((name, nodes.next()?))
        })
    }

    #[inline]
    fn to_value(self) -> Cow<'a, Value> {
        Cow::Owned(match self.kind() {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => n.to_number().map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s.to_string()),
            Json::Array(_) => Value::Array(self.items().map(|item| item.to_value().into_owned()).collect()),
            Json::Object(_) => Value::Object(self.to_map()),
        })
    }
}

/// Builds a [`Tape`] line by line.
#[derive(Default)]
pub struct TapeBuilder {
    tape: Tape,
    /// The number of each name read.
    numbers: HashMap<Box<str>, u32, RandomState>,
    /// The name number read last at each depth and member place: objects of one source
    /// repeat their members in order, so most names are found without hashing.
    expected: Vec<Vec<u32>>,
    /// The name numbers of the object being read at each depth.
    names_read: Vec<Vec<u32>>,
    /// For each name number, the last object (by [`TapeBuilder::objects`]) found to hold it.
    last_holder: Vec<u32>,
    objects: u32,
}

impl TapeBuilder {
    /// A builder with room for the records of `bytes` of JSON text.
    pub fn for_bytes(bytes: usize) -> TapeBuilder {
        let tape = Tape { nodes: Vec::with_capacity(bytes / 8), text: String::with_capacity(bytes), ..Tape::default() };
        TapeBuilder { tape, ..TapeBuilder::default() }
    }

    /// Reads a line holding a JSON object (a record) or a non-empty array of objects (a
    /// record each), as [`crate::parse_chunk`] takes them, and tells whether it did: any
    /// other line (not JSON, an object naming a key twice, ...) adds nothing.
    pub fn push_line(&mut self, line: &[u8]) -> bool {
        let (nodes, text, records) = (self.tape.nodes.len(), self.tape.text.len(), self.tape.records.len());
        let taken = self.read_line(line);
        if !taken {
            self.tape.nodes.truncate(nodes);
            self.tape.text.truncate(text);
            self.tape.records.truncate(records);
        }
        taken
    }

    fn read_line(&mut self, line: &[u8]) -> bool {
        let top = self.tape.nodes.len() as u32;
        let mut deserializer = serde_json::Deserializer::from_slice(line);
        let read = ValueSeed { builder: self, depth: 0 }.deserialize(&mut deserializer);
        if read.and_then(|()| deserializer.end()).is_err() {
            return false;
        }
        match self.tape.nodes[top as usize] {
            Node::Object { .. } => {
                self.tape.records.push(top);
                true
            }
            Node::Array { .. } => {
                let items: Vec<u32> = TapeValue { tape: &self.tape, node: top }.items().map(|item| item.node).collect();
                let objects = !items.is_empty() && items.iter().all(|&item| matches!(self.tape.nodes[item as usize], Node::Object { .. }));
                if objects {
                    self.tape.records.extend(items);
                }
                objects
            }
            _ => false,
        }
    }

    /// Adds a record read otherwise.
    pub fn push_record(&mut self, record: &Map<String, Value>) {
        let top = self.tape.nodes.len() as u32;
        self.push_object(record, 0);
        self.tape.records.push(top);
    }

    fn push_value(&mut self, value: &Value, depth: usize) {
        match value {
            Value::Array(items) => {
                let at = self.push(Node::Array { end: 0 });
                items.iter().for_each(|item| self.push_value(item, depth + 1));
                self.close(at);
            }
            Value::Object(members) => self.push_object(members, depth),
            Value::String(s) => self.push_str(s),
            scalar => {
                self.push(match scalar.kind() {
                    Json::Bool(b) => Node::Bool(b),
                    Json::Number(n) => Node::Number(n),
                    _ => Node::Null,
                });
            }
        }
    }

    fn push_object(&mut self, members: &Map<String, Value>, depth: usize) {
        let at = self.push(Node::Object { end: 0 });
        for (place, (name, value)) in members.iter().enumerate() {
            let number = self.number_of(name, depth, place);
            self.push(Node::Name(number));
            self.push_value(value, depth + 1);
        }
        self.close(at);
    }

    /// The tape read so far.
    pub fn finish(self) -> Tape {
        self.tape
    }

    fn push(&mut self, node: Node) -> u32 {
        self.tape.nodes.push(node);
        self.tape.nodes.len() as u32 - 1
    }

    fn push_str(&mut self, s: &str) {
        let start = self.tape.text.len() as u32;
        self.tape.text.push_str(s);
        self.push(Node::Str { start, len: s.len() as u32 });
    }

    /// Ends the array or object at node `at` here.
    fn close(&mut self, at: u32) {
        let end = self.tape.nodes.len() as u32;
        match &mut self.tape.nodes[at as usize] {
            Node::Array { end: e } | Node::Object { end: e } => *e = end,
            _ => unreachable!("only containers are closed"),
        }
    }

    /// The number of member name `name`, read at `place` in an object at `depth`.
    fn number_of(&mut self, name: &str, depth: usize, place: usize) -> u32 {
        if self.expected.len() <= depth {
            self.expected.resize_with(depth + 1, Vec::new);
        }
        let expected = &mut self.expected[depth];
        if place == expected.len() {
            expected.push(u32::MAX);
        }
        let guess = expected[place];
        if self.tape.names.get(guess as usize).is_some_and(|known| **known == *name) {
            return guess;
        }
        let number = match self.numbers.get(name) {
            Some(&number) => number,
            None => {
                let number = self.tape.names.len() as u32;
                self.tape.names.push(name.into());
                self.numbers.insert(name.into(), number);
                number
            }
        };
        self.expected[depth][place] = number;
        number
    }

    /// Fails when an object, whose name numbers are `read`, names one twice.
    fn check_names_once<E: Error>(&mut self, read: &[u32]) -> Result<(), E> {
        if self.last_holder.len() < self.tape.names.len() {
            self.last_holder.resize(self.tape.names.len(), 0);
        }
        self.objects += 1;
        for &number in read {
            if std::mem::replace(&mut self.last_holder[number as usize], self.objects) == self.objects {
                return Err(named_twice(&self.tape.names[number as usize]));
            }
        }
        Ok(())
    }
}

/// Reads one value onto the tape.
struct ValueSeed<'b> {
    builder: &'b mut TapeBuilder,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<(), E> {
        self.builder.push(Node::Bool(value));
        Ok(())
    }

    fn visit_i64<E>(self, value: i64) -> Result<(), E> {
        self.builder.push(Node::Number(JsonNumber::Int(value)));
        Ok(())
    }

    fn visit_u64<E>(self, value: u64) -> Result<(), E> {
        let number = i64::try_from(value).map_or(JsonNumber::UInt(value), JsonNumber::Int);
        self.builder.push(Node::Number(number));
        Ok(())
    }

    fn visit_f64<E>(self, value: f64) -> Result<(), E> {
        // As a serde_json value holds it: a number that is not finite is null.
        self.builder.push(if value.is_finite() { Node::Number(JsonNumber::Float(value)) } else { Node::Null });
        Ok(())
    }

    fn visit_str<E>(self, value: &str) -> Result<(), E> {
        self.builder.push_str(value);
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.builder.push(Node::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = self.builder.push(Node::Array { end: 0 });
        while seq.next_element_seed(ValueSeed { builder: &mut *self.builder, depth: self.depth + 1 })?.is_some() {}
        self.builder.close(at);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let builder = self.builder;
        let at = builder.push(Node::Object { end: 0 });
        if builder.names_read.len() <= self.depth {
            builder.names_read.resize_with(self.depth + 1, Vec::new);
        }
        let mut read = std::mem::take(&mut builder.names_read[self.depth]);
        read.clear();
        while let Some(number) = map.next_key_seed(NameSeed { builder: &mut *builder, depth: self.depth, place: read.len() })? {
            builder.push(Node::Name(number));
            read.push(number);
            map.next_value_seed(ValueSeed { builder: &mut *builder, depth: self.depth + 1 })?;
        }
        let checked = builder.check_names_once(&read);
        builder.names_read[self.depth] = read;
        checked?;
        builder.close(at);
        Ok(())
    }
}

/// Reads a member name, giving its number.
struct NameSeed<'b> {
    builder: &'b mut TapeBuilder,
    depth: usize,
    place: usize,
}

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = u32;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_> {
    type Value = u32;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a member name")
    }

    fn visit_str<E>(self, name: &str) -> Result<u32, E> {
        Ok(self.builder.number_of(name, self.depth, self.place))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tape_of(lines: &[&str]) -> (Tape, Vec<bool>) {
        let mut builder = TapeBuilder::default();
        let taken = lines.iter().map(|line| builder.push_line(line.as_bytes())).collect();
        (builder.finish(), taken)
    }

    #[test]
    fn records_read_back_as_serde_json_reads_them() {
        let lines = [
            r#"{"a":[1,-2,3.5,"x\u00e9",null,true,{"b":{}}],"c":18446744073709551615,"d":{"e":[[]],"f":"g"}}"#,
            r#"{"c":1,"a":[],"z":9223372036854775807,"y":-9223372036854775808,"w":1e300}"#,
            r#"[{"a":1},{"b":{"a":2}}]"#,
            r#"{}"#,
        ];
        let (tape, taken) = tape_of(&lines);
        assert_eq!(taken, [true; 4]);
        let mut expected = Vec::new();
        for line in lines {
            match serde_json::from_str::<Value>(line).unwrap() {
                Value::Array(items) => expected.extend(items),
                record => expected.push(record),
            }
        }
        let read: Vec<Value> = tape.records().map(|record| record.to_value().into_owned()).collect();
        assert_eq!(read, expected);
        assert_eq!(tape.len(), 5);
        let first = tape.record(0);
        let names: Vec<&str> = first.members().map(|(name, _)| name).collect();
        assert_eq!(names, ["a", "c", "d"]);
        let items: Vec<Value> = first.members().next().unwrap().1.items().map(|v| v.to_value().into_owned()).collect();
        assert_eq!(items.len(), 7);
        assert!(matches!(first.members().nth(1).unwrap().1.kind(), Json::Number(JsonNumber::UInt(u64::MAX))));
        assert_eq!(tape.record(1).members().nth(2).unwrap().1.as_i64(), Some(i64::MAX));
        assert!(first.items().next().is_none() && tape.record(0).members().next().unwrap().1.members().next().is_none());
    }

    #[test]
    fn lines_that_are_not_records_leave_nothing() {
        let lines = [r#"{"a":1}"#, r#"{"a":"#, "42", "[]", "[1,{}]", r#"{"k":1,"k":2}"#, r#"{"a":{"k":1},"k":2,"b":{"k":3}}"#];
        let (tape, taken) = tape_of(&lines);
        assert_eq!(taken, [true, false, false, false, false, false, true]);
        let read: Vec<Value> = tape.records().map(|record| record.to_value().into_owned()).collect();
        assert_eq!(read, [json!({"a": 1}), json!({"a": {"k": 1}, "k": 2, "b": {"k": 3}})]);
        let mut builder = TapeBuilder::default();
        assert!(!builder.push_line(br#"{"a":{"k":1,"b":2,"k":3}}"#));
        assert!(!builder.push_line(br#"[{"a":1},2]"#));
        assert!(builder.finish().is_empty());
    }

    #[test]
    fn records_added_as_values_read_back_the_same() {
        let record = json!({"a": [1, "x", {"b": null}], "c": {"d": 2.5}, "e": false});
        let mut builder = TapeBuilder::default();
        assert!(builder.push_line(br#"{"c":3}"#));
        builder.push_record(record.as_object().unwrap());
        let tape = builder.finish();
        assert_eq!(tape.record(1).to_value().into_owned(), record);
    }
}
