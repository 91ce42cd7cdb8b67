//! Step 3: fields parsed out of other fields (`[extract]` tables).
//!
//! A new field is only written when the record has no field of that name (nothing is
//! overwritten). The field read is removed (`remove_source`) only when the whole value went
//! into new fields and every one of them was written, so nothing is lost.

use std::sync::Arc;

use serde_json::Value;

use crate::mapping::Extract;
use crate::plan::ExtractRule;
use crate::row::Row;
use crate::transform::parse_ipv4;

/// Applies the extracts of a plan, in order.
pub(crate) fn apply(row: &mut Row, rules: &[Arc<ExtractRule>]) {
    for rule in rules {
        let Some(value) = row.get(&rule.source) else { continue };
        let (fields, complete) = extract(rule, value, row);
        if fields.is_empty() {
            continue;
        }
        let mut all_written = true;
        for (name, v) in fields {
            if row.contains(&name) {
                all_written = false;
            } else {
                row.push(name, v);
            }
        }
        if complete && all_written && remove_source(&rule.spec) {
            row.remove(&rule.source);
        }
    }
}

fn remove_source(spec: &Extract) -> bool {
    match spec {
        Extract::Copy { remove_source, .. }
        | Extract::Kv { remove_source, .. }
        | Extract::KvLines { remove_source, .. }
        | Extract::IpPort { remove_source, .. }
        | Extract::AfterFirstSlash { remove_source, .. }
        | Extract::Regex { remove_source, .. } => *remove_source,
    }
}

/// The new fields, and whether they hold the whole value (so the source may go).
fn extract(rule: &ExtractRule, value: &Value, row: &Row) -> (Vec<(String, Value)>, bool) {
    let none = (Vec::new(), false);
    if let Extract::Copy { target, .. } = &rule.spec {
        return (vec![(target.clone(), value.clone())], true);
    }
    let Some(text) = value.as_str() else { return none };
    match &rule.spec {
        Extract::Copy { .. } => none,
        Extract::Kv { field_split, value_split, prefix, lowercase_keys, .. } => {
            let mut out = Vec::new();
            let mut complete = true;
            for piece in text.split(|c| field_split.contains(c)) {
                let piece = piece.trim();
                if piece.is_empty() {
                    continue;
                }
                match piece.split_once(value_split.as_str()) {
                    Some((k, v)) if !k.trim().is_empty() => {
                        let k = k.trim();
                        let key = if *lowercase_keys { k.to_lowercase() } else { k.to_owned() };
                        out.push((format!("{prefix}{key}"), Value::String(v.trim().to_owned())));
                    }
                    _ => complete = false,
                }
            }
            (out, complete)
        }
        Extract::KvLines { value_split, trim_key, remove_key_chars, include_keys, .. } => {
            let mut out = Vec::new();
            let mut complete = true;
            for line in text.split(['\r', '\n']) {
                if line.trim().is_empty() {
                    continue;
                }
                let Some((k, v)) = line.split_once(value_split.as_str()) else {
                    complete = false;
                    continue;
                };
                let key: String = k
                    .trim_matches(|c: char| c == ' ' || c == '\t' || trim_key.contains(c))
                    .chars()
                    .filter(|c| !remove_key_chars.contains(*c))
                    .collect();
                let wanted = include_keys.as_ref().is_none_or(|keys| keys.contains(&key));
                if key.is_empty() || !wanted {
                    complete = false;
                    continue;
                }
                out.push((key, Value::String(v.trim().to_owned())));
            }
            (out, complete)
        }
        Extract::IpPort { strip_chars, ip, port, original, .. } => {
            let stripped: String = text.chars().filter(|c| !strip_chars.contains(*c)).collect();
            let stripped = stripped.trim();
            let (addr, p) = match stripped.split_once(':') {
                Some((a, p)) => (a, Some(p)),
                None => (stripped, None),
            };
            if parse_ipv4(addr).is_none() || p.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
                return none;
            }
            let mut out = vec![(ip.clone(), Value::String(addr.to_owned()))];
            if let Some(p) = p {
                out.push((port.clone(), Value::String(p.to_owned())));
            }
            if let Some(o) = original {
                out.push((o.clone(), value.clone()));
            }
            (out, true)
        }
        Extract::AfterFirstSlash { target, original, .. } => {
            let after = text.split_once('/').map_or(text, |(_, rest)| rest);
            let mut out = vec![(target.clone(), Value::String(after.to_owned()))];
            if let Some(o) = original {
                out.push((o.clone(), value.clone()));
            }
            (out, true)
        }
        Extract::Regex { only_if_missing, .. } => {
            if only_if_missing.as_ref().is_some_and(|f| row.contains(f)) {
                return none;
            }
            let Some(re) = &rule.regex else { return none };
            let Some(caps) = re.captures(text) else { return none };
            let out = re
                .capture_names()
                .flatten()
                .filter_map(|name| caps.name(name).map(|m| (name.to_owned(), Value::String(m.as_str().to_owned()))))
                .collect();
            (out, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;
    use serde_json::json;

    use super::*;

    fn rule(source: &str, spec: Value) -> Arc<ExtractRule> {
        let spec: Extract = serde_json::from_value(spec).unwrap();
        let regex = match &spec {
            Extract::Regex { pattern, .. } => Some(Regex::new(pattern).unwrap()),
            _ => None,
        };
        Arc::new(ExtractRule { source: source.into(), spec, regex })
    }

    fn run(record: Value, rules: &[Arc<ExtractRule>]) -> Value {
        let mut row = Row::from_map(record.as_object().cloned().unwrap());
        apply(&mut row, rules);
        Value::Object(row.into_map())
    }

    #[test]
    fn kv_hashes() {
        let r = rule(
            "Hashes",
            json!({"kind": "kv", "field_split": ",", "value_split": "=", "prefix": "hash_", "lowercase_keys": true, "remove_source": true}),
        );
        let out = run(json!({"Hashes": "SHA1=AB12,MD5=CD34,IMPHASH=EF56"}), std::slice::from_ref(&r));
        assert_eq!(out, json!({"hash_sha1": "AB12", "hash_md5": "CD34", "hash_imphash": "EF56"}));
        // a piece without "=": what could be parsed is written, the source stays
        let out = run(json!({"Hashes": "SHA1=AB12,junk"}), &[r]);
        assert_eq!(out, json!({"Hashes": "SHA1=AB12,junk", "hash_sha1": "AB12"}));
    }

    #[test]
    fn kv_lines_with_key_cleanup_and_include_list() {
        let r = rule(
            "ContextInfo",
            json!({"kind": "kv_lines", "value_split": "=", "remove_key_chars": " ", "include_keys": ["HostName", "Severity"]}),
        );
        let out = run(
            json!({"ContextInfo": "        Severity = Informational\r\n        Host Name = ConsoleHost\r\n        User = THESHIRE\\pgustavo\r\n"}),
            &[r],
        );
        assert_eq!(out["HostName"], "ConsoleHost");
        assert_eq!(out["Severity"], "Informational");
        assert!(out.get("User").is_none());
        assert!(out.get("ContextInfo").is_some());
    }

    #[test]
    fn ip_port_and_after_first_slash() {
        let r = rule(
            "ClientIP",
            json!({"kind": "ip_port", "strip_chars": "[]", "ip": "src_ip_addr", "port": "port_src", "original": "src_original_value", "remove_source": true}),
        );
        let out = run(json!({"ClientIP": "[10.0.0.5]:50123"}), std::slice::from_ref(&r));
        assert_eq!(out, json!({"src_ip_addr": "10.0.0.5", "port_src": "50123", "src_original_value": "[10.0.0.5]:50123"}));
        let out = run(json!({"ClientIP": "[fe80::1]:3389"}), &[r]);
        assert_eq!(out, json!({"ClientIP": "[fe80::1]:3389"}));
        let r = rule(
            "TargetServer",
            json!({"kind": "after_first_slash", "target": "dst_ip_addr", "original": "dst_original_value", "remove_source": true}),
        );
        let out = run(json!({"TargetServer": "HTTP/dc01.theshire.local"}), &[r]);
        assert_eq!(out, json!({"dst_ip_addr": "dc01.theshire.local", "dst_original_value": "HTTP/dc01.theshire.local"}));
    }

    #[test]
    fn copy_keeps_existing_target() {
        let r = rule("IpAddress", json!({"kind": "copy", "target": "src_original_value"}));
        let out = run(json!({"IpAddress": "10.0.0.1"}), std::slice::from_ref(&r));
        assert_eq!(out, json!({"IpAddress": "10.0.0.1", "src_original_value": "10.0.0.1"}));
        let out = run(json!({"IpAddress": "10.0.0.1", "src_original_value": "x"}), &[r]);
        assert_eq!(out["src_original_value"], "x");
    }

    #[test]
    fn regex_only_if_missing() {
        let r = rule(
            "message",
            json!({"kind": "regex", "pattern": "^Block (?P<Number>\\d+): (?P<Text>.*)$", "only_if_missing": "Text"}),
        );
        let out = run(json!({"message": "Block 3: hello"}), std::slice::from_ref(&r));
        assert_eq!(out, json!({"message": "Block 3: hello", "Number": "3", "Text": "hello"}));
        let out = run(json!({"message": "Block 3: hello", "Text": "kept"}), std::slice::from_ref(&r));
        assert_eq!(out, json!({"message": "Block 3: hello", "Text": "kept"}));
        let out = run(json!({"message": 42}), &[r]);
        assert_eq!(out, json!({"message": 42}));
    }
}
