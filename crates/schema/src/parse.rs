//! Parses a chunk of JSON lines into records, setting aside the lines that are not records.

use hela_source::{Chunk, Origin};
use serde_json::{Map, Value};

/// A line that could not become a record, with where it came from and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRecord {
    pub origin: Origin,
    pub line: u64,
    pub reason: String,
    /// The line as read (invalid UTF-8 replaced).
    pub text: String,
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
/// per object, as Spark does. Lines with invalid UTF-8 inside strings are read with the
/// bad bytes replaced rather than rejected.
pub fn parse_chunk(chunk: &Chunk) -> Parsed {
    let mut parsed = Parsed::default();
    for (line_no, line) in chunk.lines() {
        let value = serde_json::from_slice::<Value>(line).or_else(|error| {
            match std::str::from_utf8(line) {
                Ok(_) => Err(error),
                Err(_) => serde_json::from_str::<Value>(&String::from_utf8_lossy(line)).map_err(|_| error),
            }
        });
        let mut reject = |reason: String| {
            parsed.bad.push(BadRecord {
                origin: chunk.origin.clone(),
                line: line_no,
                reason,
                text: String::from_utf8_lossy(line).into_owned(),
            })
        };
        match value {
            Ok(Value::Object(record)) => {
                parsed.records.push(record);
                parsed.bytes += line.len();
            }
            Ok(Value::Array(items)) if items.iter().all(Value::is_object) => {
                parsed.records.extend(items.into_iter().filter_map(|v| match v {
                    Value::Object(record) => Some(record),
                    _ => None,
                }));
                parsed.bytes += line.len();
            }
            Ok(Value::Array(_)) => reject("record is not a JSON object but an array holding non-objects".into()),
            Ok(other) => reject(format!("record is not a JSON object but {}", json_kind(&other))),
            Err(error) => reject(format!("invalid JSON: {error}")),
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
        let parsed = parse_chunk(&chunk(
            b"{\"a\":1}\n{\"a\":\n42\n[{\"a\":2},{\"a\":3}]\n\n[1,2]\n{\"s\":\"caf\xe9\"}\n",
        ));
        assert_eq!(parsed.records.len(), 4);
        assert_eq!(parsed.records[3]["s"], "caf\u{fffd}");
        let bad: Vec<_> = parsed.bad.iter().map(|b| (b.line, b.reason.clone())).collect();
        assert_eq!(bad.len(), 3);
        assert_eq!(bad[0].0, 11);
        assert!(bad[0].1.starts_with("invalid JSON"), "{}", bad[0].1);
        assert_eq!(bad[1], (12, "record is not a JSON object but a number".to_string()));
        assert_eq!(bad[2].0, 15);
        assert_eq!(parsed.bad[1].text, "42");
    }
}
