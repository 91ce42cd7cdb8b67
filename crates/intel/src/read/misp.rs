//! MISP events as MISP exports them (`{"Event": {...}}`, a list of them, or a search's
//! `{"response": [...]}`): each attribute, in the event and in its objects.

use serde_json::Value;

use super::{Read, text_of, texts_of};
use crate::kind::Kind;

/// Whether `json` is MISP's.
pub fn is_misp(json: &Value) -> bool {
    !events(json).is_empty()
}

fn events(json: &Value) -> Vec<&Value> {
    let list = match json {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => match json.get("response").and_then(Value::as_array) {
            Some(items) => items.iter().collect(),
            None => vec![json],
        },
        _ => vec![],
    };
    list.into_iter().filter_map(|item| item.get("Event")).filter(|e| e.is_object()).collect()
}

/// The kinds of MISP's attribute types: one for a plain type, two for a composite
/// (`filename|sha256`, `domain|ip`); None for a type hela does not match.
fn kinds(misp_type: &str) -> Option<Vec<Kind>> {
    let one = |t: &str| -> Option<Kind> {
        Some(match t {
            "ip-src" | "ip-dst" | "ip" => Kind::Ip,
            "domain" | "hostname" => Kind::Domain,
            "url" | "link" => Kind::Url,
            "md5" => Kind::Md5,
            "sha1" => Kind::Sha1,
            "sha256" => Kind::Sha256,
            "filename" => Kind::FileName,
            _ => return None,
        })
    };
    match misp_type {
        "ip-src|port" | "ip-dst|port" => Some(vec![Kind::Ip]),
        composite if composite.contains('|') => composite.split('|').map(one).collect(),
        plain => one(plain).map(|k| vec![k]),
    }
}

/// Every attribute of every event; an attribute of a type hela does not match is refused.
pub fn read(json: &Value) -> Result<Read, String> {
    let mut read = Read::new("MISP event");
    for event in events(json) {
        let source = event.get("Orgc").and_then(|o| text_of(o, "name")).unwrap_or_else(|| "MISP".into());
        let tags = texts_of(event, "Tag", Some("name"));
        let mut attributes: Vec<&Value> = event.get("Attribute").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
        for object in event.get("Object").and_then(Value::as_array).into_iter().flatten() {
            attributes.extend(object.get("Attribute").and_then(Value::as_array).into_iter().flatten());
        }
        for attribute in attributes {
            let misp_type = text_of(attribute, "type").unwrap_or_default();
            let value = text_of(attribute, "value").unwrap_or_default();
            let at = || format!("attribute {}", text_of(attribute, "uuid").unwrap_or_else(|| format!("{misp_type} {value}")));
            let Some(kinds) = kinds(&misp_type) else {
                read.refuse(at(), format!("the attribute type `{misp_type}` is not one hela matches"), attribute);
                continue;
            };
            // `ip-dst|port` keeps its address; a composite gives a value per part.
            let parts: Vec<&str> = if misp_type.ends_with("|port") { vec![value.split('|').next().unwrap_or_default()] } else { value.split('|').collect() };
            if parts.len() != kinds.len() {
                read.refuse(at(), format!("a `{misp_type}` value has {} parts, not {}", parts.len(), kinds.len()), attribute);
                continue;
            }
            let mut labels = tags.clone();
            labels.extend(texts_of(attribute, "Tag", Some("name")));
            labels.extend(text_of(attribute, "category"));
            for (kind, part) in kinds.into_iter().zip(parts) {
                read.add(kind, part, at, attribute, |i| {
                    i.source = source.clone();
                    i.labels = labels.clone();
                    i.name = text_of(event, "info");
                    i.reference = text_of(attribute, "uuid");
                    i.valid_from = text_of(attribute, "first_seen");
                    i.valid_until = text_of(attribute, "last_seen");
                });
            }
        }
    }
    Ok(read)
}
