//! The event fields `ioc_match` looks in, by what each holds: Windows' (Sysmon and
//! Security), HELK's and Zeek's names.

use arrow::datatypes::Schema;

use crate::index::FieldKind;

/// Field names (compared without regard to case) and what they hold.
pub const FIELDS: &[(&str, FieldKind)] = &[
    ("SourceIp", FieldKind::Address),
    ("DestinationIp", FieldKind::Address),
    ("IpAddress", FieldKind::Address),
    ("SourceAddress", FieldKind::Address),
    ("DestAddress", FieldKind::Address),
    ("DestinationAddress", FieldKind::Address),
    ("ClientAddress", FieldKind::Address),
    ("src_ip_addr", FieldKind::Address),
    ("dst_ip_addr", FieldKind::Address),
    ("id.orig_h", FieldKind::Address),
    ("id.resp_h", FieldKind::Address),
    ("QueryName", FieldKind::Domain),
    ("DestinationHostname", FieldKind::Domain),
    ("dns_query_name", FieldKind::Domain),
    ("dst_host_name", FieldKind::Domain),
    ("query", FieldKind::Domain),
    ("server_name", FieldKind::Domain),
    ("host", FieldKind::Domain),
    ("url", FieldKind::Url),
    ("Hashes", FieldKind::Hashes),
    ("Hash", FieldKind::Hashes),
    ("hash_md5", FieldKind::Hashes),
    ("hash_sha1", FieldKind::Hashes),
    ("hash_sha256", FieldKind::Hashes),
    ("md5", FieldKind::Hashes),
    ("sha1", FieldKind::Hashes),
    ("sha256", FieldKind::Hashes),
    ("Image", FieldKind::File),
    ("ImageLoaded", FieldKind::File),
    ("TargetFilename", FieldKind::File),
    ("OriginalFileName", FieldKind::File),
    ("process_path", FieldKind::File),
    ("file_name", FieldKind::File),
];

/// The columns of `schema` to look in, with what each holds: those named in `chosen`
/// (looked up as any kind unless [`FIELDS`] knows the name), else every column [`FIELDS`]
/// names. A chosen name the schema lacks is an error.
pub fn fields(schema: &Schema, chosen: Option<&[String]>) -> Result<Vec<(usize, FieldKind)>, String> {
    let known = |name: &str| FIELDS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, k)| *k);
    match chosen {
        Some(names) => names
            .iter()
            .map(|name| {
                let at = schema.index_of(name).map_err(|_| format!("the events have no column `{name}`"))?;
                Ok((at, known(name).unwrap_or(FieldKind::Any)))
            })
            .collect(),
        None => Ok(schema.fields().iter().enumerate().filter_map(|(at, f)| known(f.name()).map(|k| (at, k))).collect()),
    }
}
