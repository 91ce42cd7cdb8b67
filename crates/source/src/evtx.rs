//! Windows event log (`.evtx`) files, read with the `evtx` crate and flattened into the same
//! flat JSON records as the NXLog datasets: `Channel`, `EventID`, `Hostname`, `SourceName`,
//! `EventRecordID`, `@timestamp`, `ProcessID`, `ThreadID`, ... and every `EventData` or
//! `UserData` field at top level, so SQL and Sigma field names apply unchanged.
//!
//! A damaged chunk or record is reported and skipped; the rest of the file is still read.

use std::io::{Read, Seek};

use evtx::{EvtxParser, ParserSettings};
use serde_json::{Map, Value};

use crate::{Chunk, ChunkEvent, Origin, Refused, Warning};

/// The first bytes of every EVTX file.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// Prefix given to an `EventData`/`UserData` field whose name is already taken by a
/// system field (`Channel`, `EventID`, ...), so neither value is lost.
const DATA_COLLISION_PREFIX: &str = "EventData_";

/// Reads every record of one EVTX stream, emitting them as chunks of flat JSON lines of
/// about `chunk_bytes`. Chunk line numbers count records from 1 in file order.
pub fn read_evtx<R: Read + Seek>(
    origin: &Origin,
    stream: R,
    chunk_bytes: usize,
    emit: &mut dyn FnMut(ChunkEvent),
) {
    let warn = |emit: &mut dyn FnMut(ChunkEvent), message: String| {
        emit(ChunkEvent::Warning(Warning { origin: origin.clone(), message }))
    };
    let parser = match EvtxParser::from_read_seek(stream) {
        Ok(parser) => parser,
        Err(e) => {
            let reason = format!("not a readable EVTX file: {}", error_chain(&e));
            return emit(ChunkEvent::Refused(Refused { origin: origin.clone(), line: None, reason, head: Vec::new() }));
        }
    };
    let settings = ParserSettings::new().separate_json_attributes(true).indent(false);
    let mut parser = parser.with_configuration(settings);
    let mut buffer = Vec::with_capacity(chunk_bytes + (64 << 10));
    let mut first_line = 1u64;
    let mut records = 0u64;
    for record in parser.records_json_value() {
        match record {
            Ok(record) => {
                let flat = flatten_event(record.data, record.event_record_id);
                // Serialising a `Value` cannot fail: its keys are strings.
                serde_json::to_writer(&mut buffer, &flat).expect("a JSON value serialises");
                buffer.push(b'\n');
                records += 1;
                if buffer.len() >= chunk_bytes {
                    let data = std::mem::take(&mut buffer);
                    emit(ChunkEvent::Chunk(Chunk { origin: origin.clone(), first_line, data }));
                    first_line = records + 1;
                }
            }
            Err(e) => warn(
                emit,
                format!("damaged EVTX data skipped after record {records}: {}", error_chain(&e)),
            ),
        }
    }
    if !buffer.is_empty() {
        emit(ChunkEvent::Chunk(Chunk { origin: origin.clone(), first_line, data: buffer }));
    }
}

/// An error and every cause under it, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Turns the `evtx` crate's JSON rendering of one event (`{"Event": {"System": ...,
/// "EventData": ...}}`) into one flat record. Nothing of the event is dropped but XML
/// namespace declarations.
pub fn flatten_event(event: Value, record_id: u64) -> Map<String, Value> {
    let mut flat = Map::new();
    let Value::Object(mut root) = event else { return flat };
    let Some(Value::Object(mut event)) = root.remove("Event") else { return flat };
    if let Some(Value::Object(system)) = event.remove("System") {
        flatten_system(system, &mut flat);
    }
    flat.entry("EventRecordID").or_insert(Value::from(record_id));
    for (section, value) in event {
        match (section.as_str(), value) {
            ("EventData" | "UserData", Value::Object(data)) => flatten_data(&section, data, &mut flat),
            ("#attributes", Value::Object(attributes)) => insert_attributes(&mut flat, "Event", attributes),
            (_, Value::Null) => {}
            (_, value) => insert_data(&mut flat, section, value),
        }
    }
    flat
}

/// Attributes of `System` elements stored under NXLog's names; any other attribute `a` of
/// an element `E` is stored as `E_a`.
const SYSTEM_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("Provider", "Name", "SourceName"),
    ("Provider", "Guid", "ProviderGuid"),
    ("Provider", "EventSourceName", "EventSourceName"),
    ("TimeCreated", "SystemTime", "TimeCreated"),
    ("Execution", "ProcessID", "ProcessID"),
    ("Execution", "ThreadID", "ThreadID"),
    ("Security", "UserID", "UserID"),
    ("Correlation", "ActivityID", "ActivityID"),
    ("Correlation", "RelatedActivityID", "RelatedActivityID"),
];

/// The `System` element: the event's identity, named as NXLog names it where it has a name.
fn flatten_system(system: Map<String, Value>, flat: &mut Map<String, Value>) {
    for (key, value) in system {
        match (key.strip_suffix("_attributes"), value) {
            (_, Value::Null) => {}
            (Some(element), Value::Object(attributes)) => {
                for (name, value) in attributes.into_iter().filter(|(name, value)| !value.is_null() && !is_namespace(name)) {
                    let known = SYSTEM_ATTRIBUTES.iter().find(|(e, a, _)| *e == element && *a == name);
                    let field = known.map_or_else(|| format!("{element}_{name}"), |(_, _, field)| field.to_string());
                    if field == "TimeCreated" && value.is_string() {
                        flat.insert("@timestamp".into(), value.clone());
                    }
                    flat.insert(field, value);
                }
            }
            (None, value) if key == "Computer" => {
                flat.insert("Hostname".into(), value);
            }
            (_, value) => insert_data(flat, key, value),
        }
    }
}

/// `EventData` fields go to the top level as they are. `UserData` holds one element named
/// after the event (`<LogFileCleared>`), whose fields go to the top level in turn. An
/// element's attributes are kept as `element_attributes`.
fn flatten_data(element: &str, data: Map<String, Value>, flat: &mut Map<String, Value>) {
    for (key, value) in data {
        match value {
            Value::Object(attributes) if key == "#attributes" => insert_attributes(flat, element, attributes),
            Value::Object(inner) if !key.ends_with("_attributes") && !inner.contains_key("#text") => flatten_data(&key, inner, flat),
            value => insert_data(flat, key, text_of(value)),
        }
    }
}

/// Keeps the attributes of `element` that are not namespace declarations, as one object.
fn insert_attributes(flat: &mut Map<String, Value>, element: &str, mut attributes: Map<String, Value>) {
    attributes.retain(|name, value| !is_namespace(name) && !value.is_null());
    if !attributes.is_empty() {
        insert_data(flat, format!("{element}_attributes"), Value::Object(attributes));
    }
}

/// `xmlns` and `xmlns:prefix` declare namespaces: XML's plumbing, not the event's data.
fn is_namespace(attribute: &str) -> bool {
    attribute == "xmlns" || attribute.starts_with("xmlns:")
}

/// An element with attributes renders as `{"#text": ...}`; its text is the value. One with
/// more than its text is kept whole.
fn text_of(value: Value) -> Value {
    match value {
        Value::Object(mut element) if element.len() == 1 && element.contains_key("#text") => element.remove("#text").unwrap_or(Value::Null),
        value => value,
    }
}

/// Stores a data field under its name, or when a system field (or an earlier data field)
/// has the name, under `EventData_name` (then `EventData_name_2`, ...): no value is lost.
fn insert_data(flat: &mut Map<String, Value>, key: String, value: Value) {
    if value.is_null() {
        return;
    }
    if !flat.contains_key(&key) {
        flat.insert(key, value);
        return;
    }
    let prefixed = format!("{DATA_COLLISION_PREFIX}{key}");
    let free = std::iter::once(prefixed.clone())
        .chain((2..).map(|n| format!("{prefixed}_{n}")))
        .find(|name| !flat.contains_key(name))
        .expect("an unbounded sequence of names has a free one");
    flat.insert(free, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sysmon_event_becomes_one_flat_record() {
        let event = json!({"Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": null,
                "Provider_attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F-C22A-43E0-BF4C-06F5698FFBD9"},
                "EventID": 1, "Version": 5, "Level": 4,
                "TimeCreated": null,
                "TimeCreated_attributes": {"SystemTime": "2025-10-24T23:41:48.497170Z"},
                "EventRecordID": 24322,
                "Execution": null,
                "Execution_attributes": {"ProcessID": 3308, "ThreadID": 4008},
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Computer": "ws1.example.local",
                "Security": null,
                "Security_attributes": {"UserID": "S-1-5-18"}
            },
            "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "ProcessId": 10048, "Channel": "shadowed"}
        }});
        let flat = flatten_event(event, 7);
        assert_eq!(flat["EventID"], json!(1));
        assert_eq!(flat["Channel"], json!("Microsoft-Windows-Sysmon/Operational"));
        assert_eq!(flat["Hostname"], json!("ws1.example.local"));
        assert_eq!(flat["SourceName"], json!("Microsoft-Windows-Sysmon"));
        assert_eq!(flat["@timestamp"], json!("2025-10-24T23:41:48.497170Z"));
        assert_eq!(flat["EventRecordID"], json!(24322));
        assert_eq!(flat["ProcessID"], json!(3308));
        assert_eq!(flat["ThreadID"], json!(4008));
        assert_eq!(flat["UserID"], json!("S-1-5-18"));
        assert_eq!(flat["Image"], json!("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(flat["ProcessId"], json!(10048));
        assert_eq!(flat["EventData_Channel"], json!("shadowed"));
        assert!(!flat.keys().any(|k| k.ends_with("_attributes") || k == "System"), "{flat:?}");
    }

    #[test]
    fn colliding_names_and_attributes_keep_every_value() {
        let event = json!({"Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {"EventID": 4, "EventID_attributes": {"Qualifiers": 16384}, "Channel": "System", "Keywords": "0x80"},
            "UserData": {"Evt": {
                "#attributes": {"xmlns": "urn:x", "Version": "2"},
                "Channel": "first", "Inner": {"Channel": "second", "Param": {"#text": "p", "Extra": "e"}},
                "Note_attributes": {"Lang": "en"}, "Note": "n"
            }}
        }});
        let flat = flatten_event(event, 1);
        assert_eq!(flat["Channel"], json!("System"));
        assert_eq!(flat["EventData_Channel"], json!("first"));
        assert_eq!(flat["EventData_Channel_2"], json!("second"));
        assert_eq!(flat["EventID_Qualifiers"], json!(16384));
        assert_eq!(flat["Keywords"], json!("0x80"));
        assert_eq!(flat["Evt_attributes"], json!({"Version": "2"}));
        assert_eq!(flat["Note_attributes"], json!({"Lang": "en"}));
        assert_eq!(flat["Param"], json!({"#text": "p", "Extra": "e"}));
        assert!(!flat.contains_key("Event_attributes"), "namespaces are not data: {flat:?}");
    }

    #[test]
    fn user_data_fields_and_attributed_values_are_lifted() {
        let event = json!({"Event": {
            "System": {"EventID": 1102, "EventID_attributes": {"Qualifiers": 0}, "Channel": "Security"},
            "UserData": {"LogFileCleared": {
                "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
                "SubjectUserName": "alice",
                "SubjectDomainName": {"#text": "CORP"}
            }}
        }});
        let flat = flatten_event(event, 3);
        assert_eq!(flat["EventID"], json!(1102));
        assert_eq!(flat["SubjectUserName"], json!("alice"));
        assert_eq!(flat["SubjectDomainName"], json!("CORP"));
        assert_eq!(flat["EventRecordID"], json!(3));
    }

    #[test]
    fn odd_shapes_give_what_they_have_and_never_panic() {
        for event in [json!(null), json!({"Event": 5}), json!({"Event": {"System": 1, "EventData": [1, 2]}}), json!([])] {
            let _ = flatten_event(event, 1);
        }
        let flat = flatten_event(json!({"Event": {"EventData": {"Data": {"#text": ["a", "b"]}}}}), 9);
        assert_eq!(flat["Data"], json!(["a", "b"]));
    }
}
