//! STIX 2.1 bundles: each `indicator` object's pattern, read for the values it names.

use std::collections::HashMap;

use serde_json::Value;

use super::{Read, text_of, texts_of};
use crate::stix_pattern;

/// The indicators of a bundle (`{"type": "bundle", "objects": [...]}`). An indicator whose
/// pattern is not STIX's, is revoked, or needs more than one value at once is refused.
pub fn read(bundle: &Value) -> Result<Read, String> {
    let objects = bundle.get("objects").and_then(Value::as_array).ok_or("a STIX bundle without `objects`")?;
    let identities: HashMap<String, String> = objects
        .iter()
        .filter(|o| o.get("type").and_then(Value::as_str) == Some("identity"))
        .filter_map(|o| Some((text_of(o, "id")?, text_of(o, "name")?)))
        .collect();
    let mut read = Read::new("STIX 2.1 bundle");
    for object in objects.iter().filter(|o| o.get("type").and_then(Value::as_str) == Some("indicator")) {
        let id = text_of(object, "id").unwrap_or_else(|| "an indicator without an id".into());
        let at = || format!("indicator {id}");
        if object.get("revoked").and_then(Value::as_bool) == Some(true) {
            read.refuse(at(), "the indicator is revoked".into(), object);
            continue;
        }
        if let Some(kind) = text_of(object, "pattern_type").filter(|k| k != "stix") {
            read.refuse(at(), format!("its pattern is {kind}, not a STIX pattern"), object);
            continue;
        }
        let Some(pattern) = text_of(object, "pattern") else {
            read.refuse(at(), "the indicator has no pattern".into(), object);
            continue;
        };
        let values = match stix_pattern::indicators(&pattern) {
            Ok(values) => values,
            Err(reason) => {
                read.refuse(at(), format!("pattern {pattern}: {reason}"), object);
                continue;
            }
        };
        let source = text_of(object, "created_by_ref").and_then(|r| identities.get(&r).cloned()).unwrap_or_else(|| "STIX".into());
        let mut labels = texts_of(object, "labels", None);
        labels.extend(texts_of(object, "indicator_types", None));
        for (kind, value) in values {
            read.add(kind, &value, at, object, |i| {
                i.source = source.clone();
                i.confidence = object.get("confidence").and_then(Value::as_i64);
                i.valid_from = text_of(object, "valid_from");
                i.valid_until = text_of(object, "valid_until");
                i.labels = labels.clone();
                i.name = text_of(object, "name");
                i.reference = Some(id.clone());
            });
        }
    }
    Ok(read)
}
