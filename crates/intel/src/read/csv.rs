//! Indicators in CSV: a header naming at least `type` and `value`, and any of `source`,
//! `confidence`, `valid_from`, `valid_until`, `labels` (separated by `;`), `name`,
//! `reference`.

use serde_json::Value;

use super::{Indicator, Read};
use crate::kind::Kind;

/// The rows of a CSV file; a row of an unknown type or a value not of its type is refused.
pub fn read(text: &str) -> Result<Read, String> {
    let mut reader = ::csv::ReaderBuilder::new().flexible(true).trim(::csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().map_err(|e| format!("the CSV header cannot be read: {e}"))?.iter().map(|h| h.to_ascii_lowercase()).collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(type_at), Some(value_at)) = (column("type"), column("value")) else {
        return Err(format!("not indicators: a CSV file of indicators has a header with `type` and `value` (this one has {})", header.join(", ")));
    };
    let mut read = Read::new("CSV");
    for row in reader.records() {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                read.refuse(format!("line {line}"), format!("the row cannot be read: {e}"), &Value::Null);
                continue;
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        let field = |name: &str| column(name).and_then(|i| row.get(i)).filter(|v| !v.is_empty()).map(str::to_string);
        let entry = Value::String(row.iter().collect::<Vec<_>>().join(","));
        let at = || format!("line {line}");
        let kind_name = row.get(type_at).unwrap_or_default();
        let Some(kind) = Kind::named(kind_name) else {
            read.refuse(at(), format!("`{kind_name}` is not a type hela matches (ip, domain, url, md5, sha1, sha256, file_name)"), &entry);
            continue;
        };
        let confidence = match field("confidence").map(|c| c.parse::<i64>()) {
            Some(Err(_)) => {
                read.refuse(at(), "the confidence is not a whole number".into(), &entry);
                continue;
            }
            Some(Ok(confidence)) => Some(confidence),
            None => None,
        };
        let value = row.get(value_at).unwrap_or_default().to_string();
        read.add(kind, &value, at, &entry, |i: &mut Indicator| {
            i.source = field("source").unwrap_or_else(|| "CSV".into());
            i.confidence = confidence;
            i.valid_from = field("valid_from");
            i.valid_until = field("valid_until");
            i.labels = field("labels").map(|l| l.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default();
            i.name = field("name");
            i.reference = field("reference");
        });
    }
    Ok(read)
}
