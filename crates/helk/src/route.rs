//! Which index (table) and which rules a record gets: by provider, then channel, then event id.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::plan::{Plan, Rules};

/// What routing reads from a record: its channel, provider and event id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventKey<'r> {
    pub channel: Option<&'r str>,
    pub provider: Option<&'r str>,
    pub event_id: Option<u64>,
}

/// The channel, provider and event id of a Windows event record; `None` for any other record
/// (one with neither a channel nor an event id, e.g. Zeek).
pub(crate) fn identify(record: &Map<String, Value>) -> Option<EventKey<'_>> {
    let channel = first_present(record, "Channel", "log_name");
    let id = first_present(record, "EventID", "event_id");
    if channel.is_none() && id.is_none() {
        return None;
    }
    Some(EventKey {
        channel: channel.and_then(Value::as_str),
        provider: first_present(record, "SourceName", "source_name").and_then(Value::as_str),
        event_id: id.and_then(event_id),
    })
}

/// The first of two fields that is present and not null.
fn first_present<'r>(record: &'r Map<String, Value>, a: &str, b: &str) -> Option<&'r Value> {
    record.get(a).filter(|v| !v.is_null()).or_else(|| record.get(b).filter(|v| !v.is_null()))
}

/// An event id given as a number or as a decimal string.
pub(crate) fn event_id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Rules {
    /// The table and rules of a Windows event; `events_table` and the common rules when no file
    /// takes it and there is no catch-all file.
    pub(crate) fn select<'s>(&'s self, key: &EventKey<'_>, events_table: &'s Arc<str>) -> (&'s Arc<str>, &'s Plan) {
        let source = key
            .provider
            .and_then(|p| get_caseless(&self.by_provider, p))
            .or_else(|| key.channel.and_then(|c| get_caseless(&self.by_channel, c)))
            .copied()
            .or(self.catch_all);
        let Some(source) = source.and_then(|i| self.sources.get(i)) else {
            return (events_table, &self.common_only);
        };
        let plan = key
            .event_id
            .and_then(|id| source.events.get(&id))
            .filter(|e| {
                condition_holds(e.channel.as_deref(), key.channel)
                    && condition_holds(e.provider.as_deref(), key.provider)
            })
            .map_or(&source.default, |e| &e.plan);
        (&source.table, plan)
    }
}

/// A rule's channel / provider condition (lower-cased) against the record's value.
fn condition_holds(wanted: Option<&str>, actual: Option<&str>) -> bool {
    match wanted {
        None => true,
        Some(w) => actual.is_some_and(|a| a.eq_ignore_ascii_case(w) || (!a.is_ascii() && a.to_lowercase() == w)),
    }
}

/// Looks `key` up in a map keyed by lower-cased strings, without allocating for short keys.
pub(crate) fn get_caseless<'m, V, S: BuildHasher>(map: &'m HashMap<Box<str>, V, S>, key: &str) -> Option<&'m V> {
    if !key.bytes().any(|b| b.is_ascii_uppercase()) && key.is_ascii() {
        return map.get(key);
    }
    let mut buf = [0u8; 128];
    if key.is_ascii() && key.len() <= buf.len() {
        let lower = &mut buf[..key.len()];
        lower.copy_from_slice(key.as_bytes());
        lower.make_ascii_lowercase();
        return std::str::from_utf8(lower).ok().and_then(|k| map.get(k));
    }
    map.get(key.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn identifies_both_shapes_and_rejects_others() {
        let flat = obj(json!({"Channel": "Security", "EventID": 4624, "SourceName": "Microsoft-Windows-Security-Auditing"}));
        let k = identify(&flat).unwrap();
        assert_eq!(k.channel, Some("Security"));
        assert_eq!(k.event_id, Some(4624));
        let nested = obj(json!({"Channel": null, "log_name": "System", "event_id": "7045", "source_name": "Service Control Manager"}));
        let k = identify(&nested).unwrap();
        assert_eq!(k.channel, Some("System"));
        assert_eq!(k.provider, Some("Service Control Manager"));
        assert_eq!(k.event_id, Some(7045));
        assert!(identify(&obj(json!({"ts": 1.5, "uid": "C1", "id.orig_h": "10.0.0.1"}))).is_none());
        assert_eq!(identify(&obj(json!({"EventID": "x"}))).map(|k| k.event_id), Some(None));
    }

    #[test]
    fn caseless_lookup() {
        let mut m: HashMap<Box<str>, u8> = HashMap::new();
        m.insert("microsoft-windows-sysmon/operational".into(), 1);
        assert_eq!(get_caseless(&m, "Microsoft-Windows-Sysmon/Operational"), Some(&1));
        assert_eq!(get_caseless(&m, "microsoft-windows-sysmon/operational"), Some(&1));
        assert_eq!(get_caseless(&m, &"X".repeat(300)), None);
        assert_eq!(get_caseless(&m, "É"), None);
    }
}
