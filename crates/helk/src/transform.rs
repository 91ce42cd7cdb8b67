//! Step 7: value transforms of HELK fields (`[transform]` tables). A transform that cannot
//! apply to a value (wrong type, `0xZZ`, an unknown time format) leaves it unchanged.

use std::net::Ipv6Addr;

use serde_json::Value;

use crate::mapping::TransformKind;
use crate::row::{FastMap, Row};

/// Applies the transforms of the fields present in `row`.
pub(crate) fn apply(
    row: &mut Row,
    transforms: &FastMap<Box<str>, TransformKind>,
    user_split: &FastMap<Box<str>, (Box<str>, Box<str>)>,
) {
    let todo: Vec<(usize, &str, TransformKind)> = row
        .fields()
        .iter()
        .enumerate()
        .filter_map(|(i, f)| transforms.get_key_value(f.name()).map(|(k, kind)| (i, &**k, *kind)))
        .collect();
    // Last first: a transform only adds fields at the end or removes its own field (which moves
    // the last field into its place), so the positions still to do stay right.
    for (i, field, kind) in todo.into_iter().rev() {
        apply_at(row, i, field, kind, user_split);
    }
}

fn apply_at(
    row: &mut Row,
    i: usize,
    field: &str,
    kind: TransformKind,
    user_split: &FastMap<Box<str>, (Box<str>, Box<str>)>,
) {
    let value = row.value_mut(i);
    match kind {
        TransformKind::Lower => map_strings(value, lower),
        TransformKind::Path => {
            map_strings(value, lower);
            let (Some(stem), Some(path)) = (field.strip_suffix("_path"), value.as_str()) else { return };
            let name = path.rsplit('\\').next().unwrap_or(path).to_owned();
            row.insert_absent(&format!("{stem}_name"), Value::String(name));
        }
        TransformKind::User => {
            let (Some((domain_field, name_field)), Some(user)) = (user_split.get(field), value.as_str()) else {
                return;
            };
            let Some((domain, name)) = user.rsplit_once('\\') else { return };
            let (domain, name) = (Value::String(domain.to_owned()), Value::String(name.to_owned()));
            row.insert_absent(domain_field, domain);
            row.insert_absent(name_field, name);
        }
        TransformKind::LogonId => {
            // A value beyond a 64-bit signed integer stays the text it was: nothing is lost.
            if let Some(n) = value.as_str().and_then(hex_integer).and_then(|n| i64::try_from(n).ok()) {
                *value = Value::from(n);
            }
        }
        TransformKind::ProcessId => {
            let Some(n) = value.as_str().and_then(hex_integer) else { return };
            let orig = format!("{field}_orig");
            if !row.contains(&orig) {
                let text = std::mem::replace(row.value_mut(i), Value::from(n));
                row.push(orig, text);
            }
        }
        TransformKind::Guid => map_strings(value, |s| s.retain(|c| !matches!(c, '{' | '}'))),
        TransformKind::Ip => ip(row, i, field),
        TransformKind::UtcTime => map_strings(value, utc_time),
        TransformKind::Integer => {
            if let Some(n) = value.as_str().and_then(decimal_integer) {
                *value = n;
            }
        }
    }
}

/// Rewrites a string value, or each string of a list, in place.
fn map_strings(value: &mut Value, f: impl Fn(&mut String)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => {
            for item in items {
                if let Value::String(s) = item {
                    f(s);
                }
            }
        }
        _ => {}
    }
}

/// Lower-cases a string (in place when it is ASCII).
pub(crate) fn lower(s: &mut String) {
    if s.is_ascii() {
        s.make_ascii_lowercase();
    } else if s.chars().any(char::is_uppercase) {
        *s = s.to_lowercase();
    }
}

/// `"0x3e8a1f2"` -> 65577458: a lower-case `0x` followed by 1 to 16 hex digits.
pub(crate) fn hex_integer(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x")?;
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

fn decimal_integer(s: &str) -> Option<Value> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    s.parse::<i64>().ok().map(Value::from).or_else(|| s.parse::<u64>().ok().map(Value::from))
}

/// `YYYY-MM-DD HH:MM:SS[.fff]` (UTC) -> `YYYY-MM-DDTHH:MM:SS[.fff]Z`; anything else unchanged.
fn utc_time(s: &mut String) {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b' '
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let fraction_ok = match &b[19.min(b.len())..] {
        [] => true,
        [b'.', rest @ ..] => !rest.is_empty() && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if shape && fraction_ok {
        s.replace_range(10..11, "T");
        s.push('Z');
    }
}

/// A dotted IPv4 address of four decimal octets (leading zeros allowed).
pub(crate) fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = p.parse().ok()?;
    }
    parts.next().is_none().then_some(octets)
}

fn format_ipv4(o: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])
}

/// HELK's IP clean-up of one value; `None` when it is not an IP address.
pub(crate) fn clean_ip(raw: &str) -> Option<String> {
    let s: String = raw.chars().filter(|c| !matches!(c, '\'' | '"')).collect();
    let s = s.trim();
    let s = s.strip_prefix('\\').map_or(s, |rest| rest.strip_prefix(':').unwrap_or(rest));
    let s = s.trim().to_lowercase();
    if let Some(o) = parse_ipv4(&s) {
        return Some(format_ipv4(o));
    }
    if s.contains(char::is_whitespace) {
        // "IPv6 IPv4" (HELK's IpAddress grok): keep the IPv4 part, else the first IPv6 part
        let parts: Vec<&str> = s.split_whitespace().collect();
        return parts
            .iter()
            .find_map(|p| parse_ipv4(p).map(format_ipv4))
            .or_else(|| parts.iter().find_map(|p| ipv6(p)));
    }
    ipv6(&s)
}

/// A valid IPv6 address (2 to 39 characters, an optional `%zone`), as written; an IPv6 address
/// ending in a dotted IPv4 address (`::ffff:10.1.2.3`) gives that IPv4 address.
fn ipv6(s: &str) -> Option<String> {
    let addr = s.split_once('%').map_or(s, |(a, _)| a);
    if !(2..=39).contains(&addr.len()) || !addr.is_ascii() || addr.parse::<Ipv6Addr>().is_err() {
        return None;
    }
    if let Some(o) = addr.rsplit(':').next().and_then(parse_ipv4) {
        return Some(format_ipv4(o));
    }
    Some(s.to_owned())
}

/// The `ip` transform of one field: clean each value; move values that are not IP addresses
/// to `not_ip_src` / `not_ip_dst` (by the field's prefix; `not_ip_<field>` for other fields).
fn ip(row: &mut Row, i: usize, field: &str) {
    let value = row.value_mut(i);
    let mut rejected = Vec::new();
    let keep = match value {
        Value::String(s) => match clean_ip(s) {
            Some(clean) => {
                *s = clean;
                true
            }
            None => {
                rejected.push(Value::String(std::mem::take(s)));
                false
            }
        },
        Value::Array(items) => {
            let mut kept = Vec::with_capacity(items.len());
            for item in std::mem::take(items) {
                match item.as_str().map(clean_ip) {
                    Some(Some(clean)) => kept.push(Value::String(clean)),
                    Some(None) => rejected.push(item),
                    None => kept.push(item),
                }
            }
            let keep = !kept.is_empty();
            *items = kept;
            keep
        }
        _ => true,
    };
    if !keep {
        row.remove_at(i);
    }
    if rejected.is_empty() {
        return;
    }
    let list = if field.starts_with("src") {
        "not_ip_src".to_owned()
    } else if field.starts_with("dst") {
        "not_ip_dst".to_owned()
    } else {
        format!("not_ip_{field}")
    };
    match row.get_mut(&list) {
        Some(Value::Array(existing)) => existing.extend(rejected),
        Some(other) => {
            let first = other.take();
            *other = Value::Array(std::iter::once(first).chain(rejected).collect());
        }
        None => row.push(list, Value::Array(rejected)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(record: Value, transforms: &[(&str, TransformKind)]) -> Value {
        let mut row = Row::from_map(record.as_object().cloned().unwrap());
        let t = transforms.iter().map(|(f, k)| (Box::from(*f), *k)).collect();
        let split = [("user_account", ("user_domain", "user_name"))]
            .into_iter()
            .map(|(f, (d, n))| (Box::from(f), (Box::from(d), Box::from(n))))
            .collect();
        apply(&mut row, &t, &split);
        Value::Object(row.into_map())
    }

    #[test]
    fn logon_and_process_ids() {
        use TransformKind::*;
        let out = run(
            json!({"user_logon_id": "0x3e8a1f2", "reporter_logon_id": "0xZZ", "target_user_logon_id": "12345", "process_id": "0x44c", "process_parent_id": 4242}),
            &[
                ("user_logon_id", LogonId),
                ("reporter_logon_id", LogonId),
                ("target_user_logon_id", LogonId),
                ("process_id", ProcessId),
                ("process_parent_id", ProcessId),
            ],
        );
        assert_eq!(out["user_logon_id"], 65577458);
        assert_eq!(out["reporter_logon_id"], "0xZZ");
        assert_eq!(out["target_user_logon_id"], "12345");
        assert_eq!(out["process_id"], 1100);
        assert_eq!(out["process_id_orig"], "0x44c");
        assert_eq!(out["process_parent_id"], 4242);
        assert!(out.get("process_parent_id_orig").is_none());
        assert_eq!(hex_integer("0xffffffffffffffff"), Some(u64::MAX));
        assert_eq!(hex_integer("0x1ffffffffffffffff"), None);
        assert_eq!(hex_integer("0X10"), None);
    }

    #[test]
    fn path_user_guid_lower() {
        use TransformKind::*;
        let out = run(
            json!({
                "process_path": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                "process_parent_path": "wmiprvse.exe",
                "user_account": "theshire\\pgustavo",
                "process_guid": "{A98268C1-9C2E-5ACD-0000-0010396CAB00}",
                "host_name": "WORKSTATION5.theshire.local",
                "flag": true
            }),
            &[
                ("process_path", Path),
                ("process_parent_path", Path),
                ("user_account", User),
                ("process_guid", Guid),
                ("host_name", Lower),
                ("flag", Lower),
            ],
        );
        assert_eq!(out["process_path"], "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe");
        assert_eq!(out["process_name"], "powershell.exe");
        assert_eq!(out["process_parent_name"], "wmiprvse.exe");
        assert_eq!(out["user_domain"], "theshire");
        assert_eq!(out["user_name"], "pgustavo");
        assert_eq!(out["user_account"], "theshire\\pgustavo");
        assert_eq!(out["process_guid"], "A98268C1-9C2E-5ACD-0000-0010396CAB00");
        assert_eq!(out["host_name"], "workstation5.theshire.local");
        assert_eq!(out["flag"], true);
        // no backslash: nothing split
        let out = run(json!({"user_account": "S-1-5-18"}), &[("user_account", User)]);
        assert!(out.get("user_name").is_none());
    }

    #[test]
    fn ip_cleanup() {
        assert_eq!(clean_ip("010.001.002.003").as_deref(), Some("10.1.2.3"));
        assert_eq!(clean_ip(" '\\172.18.39.5' ").as_deref(), Some("172.18.39.5"));
        assert_eq!(clean_ip("::ffff:10.1.2.3").as_deref(), Some("10.1.2.3"));
        assert_eq!(clean_ip("FE80::1%12").as_deref(), Some("fe80::1%12"));
        assert_eq!(clean_ip("fe80::1 10.0.0.9").as_deref(), Some("10.0.0.9"));
        assert_eq!(clean_ip("::1").as_deref(), Some("::1"));
        assert_eq!(clean_ip("LOCAL"), None);
        assert_eq!(clean_ip("999.1.1.1"), None);
        assert_eq!(clean_ip(""), None);
        let out = run(
            json!({"src_ip_addr": "LOCAL", "dst_ip_addr": ["10.0.0.1", "dc01", "010.0.0.2"]}),
            &[("src_ip_addr", TransformKind::Ip), ("dst_ip_addr", TransformKind::Ip)],
        );
        assert_eq!(out, json!({"not_ip_src": ["LOCAL"], "dst_ip_addr": ["10.0.0.1", "10.0.0.2"], "not_ip_dst": ["dc01"]}));
    }

    #[test]
    fn times_and_integers() {
        use TransformKind::*;
        let out = run(
            json!({"a": "2021-05-08 12:01:02.123", "b": "2021-05-08 12:01:02", "c": "2021-05-08T12:01:02.123Z", "d": "yesterday", "n": "42", "m": "4x", "e": "-7"}),
            &[("a", UtcTime), ("b", UtcTime), ("c", UtcTime), ("d", UtcTime), ("n", Integer), ("m", Integer), ("e", Integer)],
        );
        assert_eq!(out["a"], "2021-05-08T12:01:02.123Z");
        assert_eq!(out["b"], "2021-05-08T12:01:02Z");
        assert_eq!(out["c"], "2021-05-08T12:01:02.123Z");
        assert_eq!(out["d"], "yesterday");
        assert_eq!(out["n"], 42);
        assert_eq!(out["m"], "4x");
        assert_eq!(out["e"], -7);
    }
}
