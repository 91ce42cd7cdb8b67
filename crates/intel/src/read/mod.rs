//! Reading threat-intelligence files into indicators: STIX 2.1 bundles, MISP events,
//! AlienVault OTX pulses and CSV, told apart by their content.

mod csv;
mod misp;
mod otx;
mod stix;

use serde_json::{Map, Value};

use crate::kind::Kind;

/// One indicator, as the `indicators` table holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Indicator {
    pub kind: Option<Kind>,
    /// The value, normalised for its kind ([`Kind::normalise`]).
    pub value: String,
    /// Who published it (a STIX identity, a MISP organisation, an OTX author, a CSV's
    /// `source` column), else the file's format.
    pub source: String,
    /// 0 to 100, where the source gives it.
    pub confidence: Option<i64>,
    /// ISO 8601 times, as the source gives them.
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    /// Tags, labels and indicator types.
    pub labels: Vec<String>,
    /// The report, event or pulse it belongs to, or its own name.
    pub name: Option<String>,
    /// Its id in the source (a STIX id, a MISP attribute uuid, an OTX pulse id).
    pub reference: Option<String>,
}

impl Indicator {
    /// The record stored for it, read from `file`.
    pub fn record(&self, file: &str) -> Map<String, Value> {
        let mut record = Map::new();
        let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        record.insert("type".into(), Value::String(self.kind.map(Kind::name).unwrap_or_default().to_string()));
        record.insert("value".into(), Value::String(self.value.clone()));
        record.insert("source".into(), Value::String(self.source.clone()));
        record.insert("confidence".into(), self.confidence.map_or(Value::Null, Value::from));
        record.insert("valid_from".into(), text(&self.valid_from));
        record.insert("valid_until".into(), text(&self.valid_until));
        record.insert("labels".into(), Value::Array(self.labels.iter().cloned().map(Value::String).collect()));
        record.insert("name".into(), text(&self.name));
        record.insert("reference".into(), text(&self.reference));
        record.insert("file".into(), Value::String(file.to_string()));
        record
    }
}

/// An entry of a file that gives no indicator hela can match, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// Where in the file: a STIX id, a MISP attribute, an OTX indicator, a CSV line.
    pub at: String,
    pub reason: String,
    /// The entry as written.
    pub text: String,
}

/// What a file gave.
#[derive(Debug, Default)]
pub struct Read {
    /// The file's format, as its name for messages (`STIX 2.1 bundle`, ...).
    pub format: &'static str,
    pub indicators: Vec<Indicator>,
    pub refused: Vec<Refused>,
}

impl Read {
    fn new(format: &'static str) -> Read {
        Read { format, ..Read::default() }
    }

    /// Adds the indicator of `kind` and `value`, or refuses the entry when the value is not
    /// one of that kind.
    fn add(&mut self, kind: Kind, value: &str, at: impl FnOnce() -> String, entry: &Value, fill: impl FnOnce(&mut Indicator)) {
        match kind.normalise(value) {
            Ok(value) => {
                let mut indicator = Indicator { kind: Some(kind), value, ..Indicator::default() };
                fill(&mut indicator);
                self.indicators.push(indicator);
            }
            Err(reason) => self.refuse(at(), reason, entry),
        }
    }

    fn refuse(&mut self, at: String, reason: String, entry: &Value) {
        self.refused.push(Refused { at, reason, text: entry.to_string() });
    }
}

/// Reads the indicators of a file's bytes: JSON is a STIX bundle, a MISP event (or a list
/// of them) or OTX pulses (one, a list, or an export's `results`); anything else is CSV
/// with a header naming `type` and `value`.
pub fn read(bytes: &[u8]) -> Result<Read, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the file is not UTF-8 text ({e})"))?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return csv::read(text);
    }
    let json: Value = hela_schema::parse_value(trimmed.as_bytes()).map_err(|e| format!("the file is not JSON: {e}"))?;
    if json.get("type").and_then(Value::as_str) == Some("bundle") {
        return stix::read(&json);
    }
    if misp::is_misp(&json) {
        return misp::read(&json);
    }
    if otx::is_otx(&json) {
        return otx::read(&json);
    }
    Err("JSON that is none of a STIX 2.1 bundle (`\"type\": \"bundle\"`), a MISP event (`\"Event\"`) or OTX pulses (`\"indicators\"`)".into())
}

/// Text of `key` in `object`, if it is text.
fn text_of(object: &Value, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The texts of an array of `key` (strings, or objects with `field`).
fn texts_of(object: &Value, key: &str, field: Option<&str>) -> Vec<String> {
    let Some(items) = object.get(key).and_then(Value::as_array) else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| match field {
            Some(field) => item.get(field).and_then(Value::as_str),
            None => item.as_str(),
        })
        .map(str::to_string)
        .collect()
}
