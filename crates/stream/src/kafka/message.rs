//! A message read from Kafka, and the record it is stored as.

use std::sync::Arc;

use hela_schema::BadRecord;
use hela_schema::parse::json_kind;
use hela_source::Origin;
use serde_json::{Map, Value};

/// A message: where it was read and its payload.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    /// None for a message without a value (a tombstone).
    pub payload: Option<Vec<u8>>,
}

impl Message {
    /// The record stored: the payload's JSON object (one event, flat as NXLog ships it or
    /// nested as Winlogbeat does) with `_index` (the topic) and `_id` (`PARTITION-OFFSET`)
    /// added; or, for a payload that is not a JSON object, the quarantine's record of it,
    /// which names the topic, partition and offset.
    pub fn record(&self) -> Result<Map<String, Value>, BadRecord> {
        let Some(payload) = &self.payload else {
            return Err(self.bad("the message has no value".into(), &[]));
        };
        match hela_schema::parse_value(payload) {
            Ok(Value::Object(mut record)) => {
                record.insert("_index".into(), Value::String(self.topic.to_string()));
                record.insert("_id".into(), Value::String(format!("{}-{}", self.partition, self.offset)));
                Ok(record)
            }
            Ok(other) => Err(self.bad(format!("the message is not a JSON object but {}", json_kind(&other)), payload)),
            Err(e) => Err(self.bad(format!("the message is not JSON: {e}"), payload)),
        }
    }

    fn bad(&self, reason: String, payload: &[u8]) -> BadRecord {
        let origin = Origin::file(format!("kafka topic {} partition {}", self.topic, self.partition));
        BadRecord::new(origin, self.offset.max(0) as u64, format!("offset {}: {reason}", self.offset), payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(payload: Option<&[u8]>) -> Message {
        Message { topic: "winlogbeat".into(), partition: 2, offset: 41, payload: payload.map(<[u8]>::to_vec) }
    }

    #[test]
    fn a_json_object_is_stored_with_its_topic_and_position() {
        let record = message(Some(br#"{"EventID": 4624, "winlog": {"event_data": {"LogonType": "3"}}}"#)).record().unwrap();
        assert_eq!(record["EventID"], 4624);
        assert_eq!(record["winlog"]["event_data"]["LogonType"], "3");
        assert_eq!(record["_index"], "winlogbeat");
        assert_eq!(record["_id"], "2-41");
    }

    #[test]
    fn anything_else_is_quarantined_with_topic_partition_and_offset() {
        for (payload, reason) in [
            (Some(&b"[1, 2]"[..]), "not a JSON object but an array"),
            (Some(&b"{\"a\": "[..]), "not JSON"),
            (Some(&b"{\"a\": \"\xff\"}"[..]), "not JSON"),
            (None, "no value"),
        ] {
            let bad = message(payload).record().unwrap_err();
            assert_eq!(bad.origin.to_string(), "kafka topic winlogbeat partition 2");
            assert_eq!(bad.line, 41);
            assert!(bad.reason.starts_with("offset 41: ") && bad.reason.contains(reason), "{}", bad.reason);
            assert_eq!(!bad.text.is_empty(), payload.is_some());
        }
    }
}
