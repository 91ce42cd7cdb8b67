//! Parses a chunk of JSON lines into records, setting aside the lines that are not records.

use hela_source::{Chunk, Origin};
use serde_json::{Map, Value};

use crate::json::parse_value_sized;
use crate::kept::{KeptFields, KeptLine, Keeper};

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
pub struct Parsed {
    pub records: Vec<Map<String, Value>>,
    pub bad: Vec<BadRecord>,
    /// Bytes of the lines that became records.
    pub bytes: usize,
}

/// Parses every line of `chunk`. A line holding a JSON array of objects gives one record
/// per object, as Spark does. A line that is not UTF-8, names a key twice in one object,
/// or holds no object is a bad record: nothing is stored other than it came. Each record
/// holds the fields `kept`; which lines are bad does not depend on it.
pub fn parse_chunk(chunk: &Chunk, kept: &KeptFields) -> Parsed {
    let mut parsed = Parsed::default();
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
        let mut reject = |reason: String| parsed.bad.push(BadRecord::new(chunk.origin.clone(), line_no, reason, line));
        match parse_value_sized(line, fields) {
            Ok(Value::Object(record)) => {
                fields = record.len().min(MAX_FIELDS_EXPECTED);
                parsed.records.push(record);
                parsed.bytes += line.len();
            }
            Ok(Value::Array(items)) if items.is_empty() => reject("the line is an empty JSON array: it holds no record".into()),
            Ok(Value::Array(items)) if items.iter().all(Value::is_object) => {
                parsed.records.extend(items.into_iter().filter_map(|v| match v {
                    Value::Object(record) => Some(record),
                    _ => None,
                }));
                parsed.bytes += line.len();
            }
            Ok(Value::Array(_)) => reject("record is not a JSON object but an array holding non-objects".into()),
            Ok(other) => reject(format!("record is not a JSON object but {}", json_kind(&other))),
            Err(error) => match std::str::from_utf8(line) {
                Err(bad) => reject(format!("the line is not UTF-8 text (byte {} is not); its exact bytes are kept", bad.valid_up_to() + 1)),
                Ok(_) => reject(format!("invalid JSON: {error}")),
            },
        }
    }
    parsed
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
    }
}
