//! Parses a chunk of JSON lines into records, setting aside the lines that are not records.

use hela_source::{Chunk, Origin};
use serde_json::{Map, Value};

use crate::json::parse_value_sized;
use crate::kept::{KeptFields, KeptLine, Keeper};
use crate::tape::{Tape, TapeBuilder};

/// The most members room is made for before a record is read, however wide the one before.
const MAX_FIELDS_EXPECTED: usize = 1024;

/// A line that could not become a record, with where it came from and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRecord {
    pub origin: Origin,
    pub line: u64,
    pub reason: String,
    /// The line as read, when it is UTF-8 text; otherwise with the bad bytes replaced.
    pub text: String,
    /// The line's exact bytes, when they are not UTF-8 text.
    pub raw: Option<Vec<u8>>,
}

impl BadRecord {
    /// A bad line, kept exactly.
    pub fn new(origin: Origin, line: u64, reason: String, bytes: &[u8]) -> BadRecord {
        let (text, raw) = match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_string(), None),
            Err(_) => (String::from_utf8_lossy(bytes).into_owned(), Some(bytes.to_vec())),
        };
        BadRecord { origin, line, reason, text, raw }
    }
}

/// The records of a chunk, in order, and its bad lines.
#[derive(Debug, Default)]
pub struct Parsed<R = Vec<Map<String, Value>>> {
    pub records: R,
    pub bad: Vec<BadRecord>,
    /// Bytes of the lines that became records.
    pub bytes: usize,
}

impl<R> Parsed<R> {
    /// The same lines, their records held as `hold` holds them.
    pub fn map<S>(self, hold: impl FnOnce(R) -> S) -> Parsed<S> {
        Parsed { records: hold(self.records), bad: self.bad, bytes: self.bytes }
    }
}

/// Parses every line of `chunk`. A line holding a JSON array of objects gives one record
/// per object, as Spark does. A line that is not UTF-8, names a key twice in one object,
/// or holds no object is a bad record: nothing is stored other than it came. Each record
/// holds the fields `kept`; which lines are bad does not depend on it.
pub fn parse_chunk(chunk: &Chunk, kept: &KeptFields) -> Parsed {
    let mut parsed: Parsed = Parsed::default();
    let mut keeper = match kept {
        KeptFields::All => None,
        KeptFields::Named(names) => Some(Keeper::new(names)),
    };
    // Records of one source have much the same fields: room is made for as many.
    let mut fields = 0;
    for (line_no, line) in chunk.lines() {
        // A line read keeping some fields that holds no record is read again whole, for
        // the reason it is refused.
        match keeper.as_mut().map(|keeper| keeper.parse_line(line)) {
            Some(Ok(KeptLine::Record(record))) => {
                parsed.records.push(record);
                parsed.bytes += line.len();
                continue;
            }
            Some(Ok(KeptLine::Records(records))) => {
                parsed.records.extend(records);
                parsed.bytes += line.len();
                continue;
            }
            Some(Ok(KeptLine::NoRecord) | Err(_)) | None => {}
        }
        match line_records(line, fields) {
            Ok(LineRecords::One(record)) => {
                fields = record.len().min(MAX_FIELDS_EXPECTED);
                parsed.records.push(record);
            }
            Ok(LineRecords::Many(records)) => parsed.records.extend(records),
            Err(reason) => {
                parsed.bad.push(BadRecord::new(chunk.origin.clone(), line_no, reason, line));
                continue;
            }
        }
        parsed.bytes += line.len();
    }
    parsed
}

/// Parses every line of `chunk` as [`parse_chunk`] does, keeping every field, onto one tape.
pub fn parse_chunk_into_tape(chunk: &Chunk) -> Parsed<Tape> {
    let mut tape = TapeBuilder::for_bytes(chunk.data.len());
    let (mut bad, mut bytes) = (Vec::new(), 0);
    for (line_no, line) in chunk.lines() {
        // A line the tape does not take is read as `parse_chunk` reads it, for the reason it
        // is refused (or, were that reader to take it, for its records).
        let taken = tape.push_line(line)
            || match line_records(line, 0) {
                Ok(LineRecords::One(record)) => {
                    tape.push_record(&record);
                    true
                }
                Ok(LineRecords::Many(records)) => {
                    records.iter().for_each(|record| tape.push_record(record));
                    true
                }
                Err(reason) => {
                    bad.push(BadRecord::new(chunk.origin.clone(), line_no, reason, line));
                    false
                }
            };
        if taken {
            bytes += line.len();
        }
    }
    Parsed { records: tape.finish(), bad, bytes }
}

/// The records of one line.
enum LineRecords {
    One(Map<String, Value>),
    /// The objects of an array.
    Many(Vec<Map<String, Value>>),
}

/// The records of one line (made with room for `fields` members), or why it holds none.
fn line_records(line: &[u8], fields: usize) -> Result<LineRecords, String> {
    match parse_value_sized(line, fields) {
        Ok(Value::Object(record)) => Ok(LineRecords::One(record)),
        Ok(Value::Array(items)) if items.is_empty() => Err("the line is an empty JSON array: it holds no record".into()),
        Ok(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(LineRecords::Many(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(record) => Some(record),
                    _ => None,
                })
                .collect(),
        )),
        Ok(Value::Array(_)) => Err("record is not a JSON object but an array holding non-objects".into()),
        Ok(other) => Err(format!("record is not a JSON object but {}", json_kind(&other))),
        Err(error) => Err(match std::str::from_utf8(line) {
            Err(bad) => format!("the line is not UTF-8 text (byte {} is not); its exact bytes are kept", bad.valid_up_to() + 1),
            Ok(_) => format!("invalid JSON: {error}"),
        }),
    }
}

/// What a JSON value is, for a message: `a string`, `an array`, ...
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &[u8]) -> Chunk {
        Chunk { origin: Origin::file("events.json"), first_line: 10, data: text.to_vec() }
    }

    #[test]
    fn good_bad_and_array_lines() {
        let text = b"{\"a\":1}\n{\"a\":\n42\n[{\"a\":2},{\"a\":3}]\n\n[1,2]\n{\"s\":\"caf\xe9\"}\n[]\n{\"k\":1,\"k\":2}\n";
        let parsed = parse_chunk(&chunk(text), &KeptFields::All);
        assert_eq!(parsed.records.len(), 3);
        let bad: Vec<_> = parsed.bad.iter().map(|b| (b.line, b.reason.clone())).collect();
        assert_eq!(bad.len(), 6);
        assert_eq!(bad[0].0, 11);
        assert!(bad[0].1.starts_with("invalid JSON"), "{}", bad[0].1);
        assert_eq!(bad[1], (12, "record is not a JSON object but a number".to_string()));
        assert_eq!(bad[2].0, 15);
        assert_eq!(parsed.bad[1].text, "42");
        assert_eq!(bad[3], (16, "the line is not UTF-8 text (byte 10 is not); its exact bytes are kept".to_string()));
        assert_eq!(parsed.bad[3].raw.as_deref(), Some(&b"{\"s\":\"caf\xe9\"}"[..]));
        assert_eq!(bad[4], (17, "the line is an empty JSON array: it holds no record".to_string()));
        assert!(bad[5].1.starts_with("invalid JSON: the key `k` appears twice"), "{}", bad[5].1);
        assert!(parsed.bad.iter().filter(|b| b.line != 16).all(|b| b.raw.is_none()));
        // Keeping some fields keeps the same lines and refuses the same, for the same reasons.
        let kept = parse_chunk(&chunk(text), &KeptFields::Named(["s".to_string()].into()));
        assert_eq!(kept.bad, parsed.bad);
        assert_eq!((kept.records.len(), kept.bytes), (3, parsed.bytes));
        assert!(kept.records.iter().all(Map::is_empty));
        // Read onto a tape, the same lines are records and the same refused, for the same reasons.
        let taped = parse_chunk_into_tape(&chunk(text));
        assert_eq!(taped.bad, parsed.bad);
        assert_eq!((taped.records.to_maps(), taped.bytes), (parsed.records, parsed.bytes));
    }
}
