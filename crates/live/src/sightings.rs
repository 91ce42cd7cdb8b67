//! Alerts of the indicators standing on the server: each indicator value found in an event
//! about to be stored is an alert naming the event, the field, and the indicator with its
//! source and labels.

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::util::display::array_value_to_string;
use hela_hunt::{event_places, rows_as_json};
use hela_intel::{Sighting, Watchlist};
use serde_json::{Map, Value};

/// The rule id of an indicator's alerts starts with this, followed by `type:value`.
const INDICATOR_RULE_PREFIX: &str = "indicator:";

/// The alert documents (without their number and time of detection) of `sightings` in
/// `view`, the Sigma view of a batch.
pub fn documents(view: &RecordBatch, watchlist: &Watchlist, sightings: &[Sighting]) -> anyhow::Result<Vec<Map<String, Value>>> {
    if sightings.is_empty() {
        return Ok(Vec::new());
    }
    let places = event_places(view, sightings.iter().map(|s| s.row as usize));
    let indices: UInt32Array = sightings.iter().map(|s| s.indicator).collect();
    let indicators = rows_as_json(&[take_record_batch(watchlist.rows(), &indices)?])?;
    let schema = view.schema();
    Ok(sightings
        .iter()
        .zip(places)
        .zip(indicators)
        .map(|((sighting, mut document), indicator)| {
            let text = |name: &str| indicator.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
            let (kind, value, source) = (text("type"), text("value"), text("source"));
            let column = schema.field(sighting.column).name();
            let found = array_value_to_string(view.column(sighting.column), sighting.row as usize).map_or(Value::Null, Value::from);
            document.insert("rule_id".into(), Value::from(format!("{INDICATOR_RULE_PREFIX}{kind}:{value}")));
            document.insert("rule_title".into(), Value::from(format!("Indicator {kind} {value} from {source}")));
            document.insert("level".into(), Value::from(level(indicator.get("confidence").and_then(Value::as_i64))));
            document.insert("status".into(), Value::Null);
            document.insert("tags".into(), indicator.get("labels").cloned().unwrap_or_else(|| Value::Array(Vec::new())));
            document.insert("fields".into(), Value::Object(Map::from_iter([(column.clone(), found)])));
            document.insert("indicator".into(), Value::Object(indicator));
            document
        })
        .collect())
}

/// The alert's level from the indicator's confidence, on STIX 2.1's None/Low/Med/High
/// scale (0; 1–29; 30–69; 70–100); an indicator without one is taken as high.
fn level(confidence: Option<i64>) -> &'static str {
    match confidence {
        Some(0) => "informational",
        Some(c) if c < 30 => "low",
        Some(c) if c < 70 => "medium",
        _ => "high",
    }
}

/// A hash of what names the alert: the indicator and its source, the field, and the stored
/// document (its index and id), or for an event without them its host, channel, record id
/// and time.
pub fn alert_id(document: &Map<String, Value>) -> String {
    let field = document.get("fields").and_then(Value::as_object).and_then(|f| f.keys().next()).cloned();
    let publisher = document.get("indicator").and_then(|i| i.get("source")).and_then(Value::as_str).map(str::to_string);
    let text = |name: &str| document.get(name).filter(|v| !v.is_null()).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    let mut parts = vec![text("rule_id"), publisher, field];
    match text("source_id") {
        Some(id) => parts.extend([text("source"), Some(id)]),
        None => parts.extend([text("Hostname"), text("Channel"), text("EventRecordID"), text("@timestamp")]),
    }
    crate::alert::hash_of(parts.iter().map(|part| part.as_deref().unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_stix_confidence_scale() {
        assert_eq!(
            [Some(0), Some(1), Some(29), Some(30), Some(69), Some(70), Some(100), None].map(level),
            ["informational", "low", "low", "medium", "medium", "high", "high", "high"]
        );
    }

    #[test]
    fn the_id_names_the_indicator_the_field_and_the_document() {
        let document = |rule: &str, publisher: &str, field: &str, id: &str| {
            let document =
                serde_json::json!({"rule_id": rule, "indicator": {"source": publisher}, "fields": {field: "x"}, "source": "winlogbeat", "source_id": id});
            document.as_object().unwrap().clone()
        };
        let same = alert_id(&document("indicator:ip:10.0.0.1", "CERT", "DestinationIp", "0-1"));
        assert_eq!(same, alert_id(&document("indicator:ip:10.0.0.1", "CERT", "DestinationIp", "0-1")));
        for other in [
            document("indicator:ip:10.0.0.2", "CERT", "DestinationIp", "0-1"),
            document("indicator:ip:10.0.0.1", "OTX", "DestinationIp", "0-1"),
            document("indicator:ip:10.0.0.1", "CERT", "SourceIp", "0-1"),
            document("indicator:ip:10.0.0.1", "CERT", "DestinationIp", "0-2"),
        ] {
            assert_ne!(same, alert_id(&other));
        }
    }
}
