//! AlienVault OTX pulses, as OTX's API and HELK's OTX script give them: a pulse, a list of
//! pulses, or an export's `{"results": [...]}`.

use serde_json::Value;

use super::{Read, text_of, texts_of};
use crate::kind::Kind;

fn pulses(json: &Value) -> Vec<&Value> {
    let list: Vec<&Value> = match json {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => match json.get("results").and_then(Value::as_array) {
            Some(items) => items.iter().collect(),
            None => vec![json],
        },
        _ => vec![],
    };
    list.into_iter().filter(|p| p.get("indicators").is_some_and(Value::is_array)).collect()
}

/// Whether `json` is OTX's.
pub fn is_otx(json: &Value) -> bool {
    !pulses(json).is_empty()
}

/// Every indicator of every pulse; one of a type hela does not match is refused.
pub fn read(json: &Value) -> Result<Read, String> {
    let mut read = Read::new("OTX pulse");
    for pulse in pulses(json) {
        let source = text_of(pulse, "author_name").map_or_else(|| "AlienVault OTX".into(), |a| format!("AlienVault OTX: {a}"));
        let tags = texts_of(pulse, "tags", None);
        for indicator in pulse.get("indicators").and_then(Value::as_array).into_iter().flatten() {
            let otx_type = text_of(indicator, "type").unwrap_or_default();
            let value = text_of(indicator, "indicator").unwrap_or_default();
            let at = || format!("indicator {} of pulse {}", value, text_of(pulse, "id").unwrap_or_default());
            let kind = match otx_type.as_str() {
                "IPv4" | "IPv6" | "CIDR" => Kind::Ip,
                "domain" | "hostname" => Kind::Domain,
                "URL" => Kind::Url,
                "FileHash-MD5" => Kind::Md5,
                "FileHash-SHA1" => Kind::Sha1,
                "FileHash-SHA256" => Kind::Sha256,
                other => {
                    read.refuse(at(), format!("the indicator type `{other}` is not one hela matches"), indicator);
                    continue;
                }
            };
            read.add(kind, &value, at, indicator, |i| {
                i.source = source.clone();
                i.labels = tags.clone();
                i.name = text_of(pulse, "name");
                i.reference = text_of(pulse, "id");
                i.valid_from = text_of(indicator, "created");
                i.valid_until = text_of(indicator, "expiration");
            });
        }
    }
    Ok(read)
}
