//! An alert: a detection as sinks receive it and the `detections` table stores it.

use std::sync::Arc;
use std::time::Instant;

use hela_hunt::{Detection, to_json};
use hela_sigma::Engine;
use serde_json::{Map, Value};

/// One detection raised live.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The same for the same rule firing on the same stored document, so that a receiver
    /// can drop one delivered again after a restart.
    pub id: Arc<str>,
    /// Its place among the server's detections, from 1: sinks remember how far they got.
    pub seq: u64,
    /// The detection's JSON object, with `detection_id`, `detection_seq` and `detected_at`.
    pub document: Map<String, Value>,
    /// When the batch holding its event was taken to be stored.
    pub taken: Instant,
}

impl Alert {
    /// The alert of `detection`, the `seq`th, found at `detected_at` (RFC 3339).
    pub fn new(detection: &Detection, engine: &Engine, seq: u64, detected_at: &str, taken: Instant) -> Alert {
        let id = detection_id(&engine.meta(detection.rule).id, detection);
        let Value::Object(document) = to_json(detection, engine) else { unreachable!("a detection is a JSON object") };
        Alert::numbered(document, id, seq, detected_at, taken)
    }

    /// The alert of an indicator found in an event (a document of
    /// [`crate::sightings::documents`]), the `seq`th, found at `detected_at`.
    pub fn sighted(document: Map<String, Value>, seq: u64, detected_at: &str, taken: Instant) -> Alert {
        let id = crate::sightings::alert_id(&document);
        Alert::numbered(document, id, seq, detected_at, taken)
    }

    /// `document` with its id, number and time of detection.
    fn numbered(mut document: Map<String, Value>, id: String, seq: u64, detected_at: &str, taken: Instant) -> Alert {
        document.insert("detection_id".into(), Value::from(id.as_str()));
        document.insert("detection_seq".into(), Value::from(seq));
        document.insert("detected_at".into(), Value::from(detected_at));
        Alert { id: Arc::from(id), seq, document, taken }
    }

    /// An alert read back from the `detections` table; none without its id and number.
    pub fn stored(document: Map<String, Value>) -> Option<Alert> {
        let id = Arc::from(document.get("detection_id")?.as_str()?);
        let seq = document.get("detection_seq")?.as_u64()?;
        Some(Alert { id, seq, document, taken: Instant::now() })
    }

    /// The alert as one line of JSON.
    pub fn to_json_line(&self) -> String {
        Value::Object(self.document.clone()).to_string()
    }
}

/// A hash of the rule's id and the stored document's index and id; for an event without
/// them, of its host, channel, record id and time; for a correlation, of its group, time
/// and the newest event behind it.
pub(crate) fn detection_id(rule_id: &str, detection: &Detection) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(correlated) = &detection.correlation {
        for (name, value) in &correlated.group {
            parts.extend([name.as_str(), value.as_deref().unwrap_or("")]);
        }
        if let Some(newest) = correlated.events.last() {
            parts.push(newest.source_id.as_deref().unwrap_or(""));
        }
    }
    let named: [Option<&str>; 5] = match &detection.source_id {
        Some(id) => [Some(rule_id), detection.source.as_deref(), Some(id), None, None],
        None => [
            Some(rule_id),
            detection.host.as_deref(),
            detection.channel.as_deref(),
            detection.record_id.as_deref(),
            detection.timestamp.as_deref(),
        ],
    };
    parts.extend(named.iter().map(|part| part.unwrap_or("")));
    hash_of(parts)
}

/// An alert's id: 32 hex digits of a hash of `parts`, each followed by a zero byte.
pub(crate) fn hash_of<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    hasher.finalize().to_hex()[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(source: &str, id: &str) -> Detection {
        Detection {
            rule: 0,
            timestamp: Some("2020-09-21T00:14:36Z".into()),
            host: Some("WS1".into()),
            channel: Some("Security".into()),
            event_id: Some("4624".into()),
            record_id: Some("7".into()),
            fields: Vec::new(),
            source: Some(Arc::from(source)),
            source_id: Some(id.into()),
            event: None,
            correlation: None,
        }
    }

    #[test]
    fn the_id_names_the_rule_and_the_stored_document() {
        let same = detection_id("rule-a", &detection("winlogbeat", "0-41"));
        assert_eq!(same, detection_id("rule-a", &detection("winlogbeat", "0-41")));
        assert_eq!(same.len(), 32);
        for other in [
            detection_id("rule-b", &detection("winlogbeat", "0-41")),
            detection_id("rule-a", &detection("winlogbeat", "0-42")),
            detection_id("rule-a", &detection("sysmon", "0-41")),
        ] {
            assert_ne!(same, other);
        }
    }
}
