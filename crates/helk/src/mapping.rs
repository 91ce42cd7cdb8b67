//! The mapping files: their serde types, the embedded copies, and loading them from a directory.
//!
//! The format is documented in the header comment of `mappings/common.toml`. Every struct here
//! denies unknown fields, and every enum rejects unknown kinds, so a file never claims a rule
//! the code does not apply.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use crate::error::MappingError;

/// The mapping files built into the binary, as (file name, text), `common.toml` first.
///
/// Write them to a directory to start a copy of your own, then load it with
/// [`Normaliser::from_dir`](crate::Normaliser::from_dir).
pub const EMBEDDED: &[(&str, &str)] = &[
    ("common.toml", include_str!("../mappings/common.toml")),
    ("sysmon.toml", include_str!("../mappings/sysmon.toml")),
    ("security.toml", include_str!("../mappings/security.toml")),
    ("system.toml", include_str!("../mappings/system.toml")),
    ("application.toml", include_str!("../mappings/application.toml")),
    ("powershell.toml", include_str!("../mappings/powershell.toml")),
    ("wmiactivity.toml", include_str!("../mappings/wmiactivity.toml")),
    ("other.toml", include_str!("../mappings/other.toml")),
];

/// The name of the file with the shared rules.
pub const COMMON_FILE: &str = "common.toml";

/// A TOML table read in the order of the file (the order breaks ties between rules).
#[derive(Debug, Clone)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<V> Ordered<V> {
    /// The entries, in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether the table has no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((key, value)) = map.next_entry::<String, V>()? {
                    entries.push((key, value));
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// `common.toml`: the rules shared by every Windows event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonFile {
    /// Source fields whose value `"-"` is removed.
    #[serde(default)]
    pub drop_dash_values: Vec<String>,
    /// Source fields lower-cased before renaming.
    #[serde(default)]
    pub lower_source_fields: Vec<String>,
    /// Renames of event header fields (lowest precedence).
    #[serde(default)]
    pub header_rename: Ordered<String>,
    /// Renames of event-data fields for every channel (beat header renames).
    #[serde(default)]
    pub rename: Ordered<String>,
    /// Fields parsed out of other fields, for every channel.
    #[serde(default)]
    pub extract: Ordered<Extract>,
    /// Value transforms of HELK fields.
    #[serde(default)]
    pub transform: Ordered<TransformKind>,
    /// For each field with transform `user`: the (domain, name) fields it splits into.
    #[serde(default)]
    pub user_split: Ordered<[String; 2]>,
}

/// A per-index file (`sysmon.toml`, `security.toml`, ...).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// The HELK index, which is the hela table name.
    pub index: String,
    /// Channels (`Channel` / `log_name`) of this index, matched case-insensitively.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Providers (`SourceName` / `source_name`), matched case-insensitively, before channels.
    #[serde(default)]
    pub providers: Vec<String>,
    /// This index takes the Windows events no other file takes.
    #[serde(default)]
    pub catch_all: bool,
    /// Rules for every event of the index.
    #[serde(default)]
    pub all: AllRules,
    /// Rules per event id (keys are decimal event ids).
    #[serde(default)]
    pub events: Ordered<EventRules>,
}

/// `[all]` of a per-index file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllRules {
    /// Source field -> HELK field.
    #[serde(default)]
    pub rename: Ordered<String>,
    /// Fields parsed out of other fields.
    #[serde(default)]
    pub extract: Ordered<Extract>,
    /// Value transforms of HELK fields.
    #[serde(default)]
    pub transform: Ordered<TransformKind>,
    /// Constant fields.
    #[serde(default)]
    pub set: Ordered<serde_json::Value>,
}

/// `[events.N]` of a per-index file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRules {
    /// The constant `action` field.
    pub action: Option<String>,
    /// The rules apply only to events of this channel (case-insensitive).
    pub channel: Option<String>,
    /// The rules apply only to events of this provider (case-insensitive).
    pub provider: Option<String>,
    /// Source field -> HELK field.
    #[serde(default)]
    pub rename: Ordered<String>,
    /// Fields parsed out of other fields.
    #[serde(default)]
    pub extract: Ordered<Extract>,
    /// Field (HELK or source name) -> another name it is copied to.
    #[serde(default)]
    pub copy: Ordered<String>,
    /// Code -> text translations, keyed by the field translated.
    #[serde(default)]
    pub lookup: Ordered<Lookup>,
    /// Value transforms of HELK fields.
    #[serde(default)]
    pub transform: Ordered<TransformKind>,
    /// Constant fields.
    #[serde(default)]
    pub set: Ordered<serde_json::Value>,
}

/// A code -> text translation (`[events.N.lookup.F]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    /// The field the text goes to.
    pub target: String,
    /// Code -> text.
    pub map: Ordered<String>,
    /// The text when the code is not in `map`; without it, no text is written.
    pub fallback: Option<String>,
    /// Characters removed from the code before looking it up.
    pub strip: Option<String>,
    /// Only for events whose named fields have these values.
    #[serde(default)]
    pub when: Ordered<String>,
    /// Also write the text over the code.
    #[serde(default)]
    pub overwrite_source: bool,
}

/// How a field is parsed into other fields (`[extract]` entries, keyed by the field read).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Extract {
    /// Copy the raw value to `target`.
    Copy {
        /// The new field.
        target: String,
        /// Remove the field read.
        #[serde(default)]
        remove_source: bool,
    },
    /// `k=v<sep>k=v`: each key (with `prefix`) becomes a field.
    Kv {
        /// Characters that separate pairs.
        field_split: String,
        /// The separator of key and value (the first one in a pair).
        value_split: String,
        /// Put before every key.
        #[serde(default)]
        prefix: String,
        /// Lower-case the keys.
        #[serde(default)]
        lowercase_keys: bool,
        /// Remove the field read when every pair was parsed and written.
        #[serde(default)]
        remove_source: bool,
    },
    /// One `Key=Value` per line.
    KvLines {
        /// The separator of key and value (the first one in a line).
        value_split: String,
        /// Characters trimmed from both ends of keys, besides spaces and tabs.
        #[serde(default)]
        trim_key: String,
        /// Characters removed from anywhere in keys.
        #[serde(default)]
        remove_key_chars: String,
        /// Keep only these keys.
        include_keys: Option<Vec<String>>,
        /// Remove the field read when every line was parsed and written.
        #[serde(default)]
        remove_source: bool,
    },
    /// `a.b.c.d:port` (after removing `strip_chars`) -> `ip` and `port`.
    IpPort {
        /// Characters removed first.
        #[serde(default)]
        strip_chars: String,
        /// The field for the address.
        ip: String,
        /// The field for the port.
        port: String,
        /// The field for the raw value.
        original: Option<String>,
        /// Remove the field read when it was split.
        #[serde(default)]
        remove_source: bool,
    },
    /// Everything after the first `/` (the whole value if none) -> `target`.
    AfterFirstSlash {
        /// The new field.
        target: String,
        /// The field for the raw value.
        original: Option<String>,
        /// Remove the field read.
        #[serde(default)]
        remove_source: bool,
    },
    /// The named groups of `pattern` become fields.
    Regex {
        /// A regular expression (Rust `regex` syntax) with named groups.
        pattern: String,
        /// Only when this field is absent.
        only_if_missing: Option<String>,
        /// Remove the field read when the pattern matched.
        #[serde(default)]
        remove_source: bool,
    },
}

impl Extract {
    /// The kind, as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Extract::Copy { .. } => "copy",
            Extract::Kv { .. } => "kv",
            Extract::KvLines { .. } => "kv_lines",
            Extract::IpPort { .. } => "ip_port",
            Extract::AfterFirstSlash { .. } => "after_first_slash",
            Extract::Regex { .. } => "regex",
        }
    }
}

/// A value transform (`[transform]` values). See `common.toml` for each kind's exact rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformKind {
    /// Lower-case.
    Lower,
    /// Lower-case, and derive the sibling `*_name` field from the last path component.
    Path,
    /// Split `DOMAIN\name` at the last `\` into the fields of `[user_split]`.
    User,
    /// `0x...` hex -> integer.
    LogonId,
    /// `0x...` hex -> integer, original text in `<field>_orig`.
    ProcessId,
    /// Remove `{` and `}`.
    Guid,
    /// Clean an IP address; a value that is not one moves to `not_ip_src` / `not_ip_dst`.
    Ip,
    /// `YYYY-MM-DD HH:MM:SS[.fff]` (UTC) -> RFC 3339.
    UtcTime,
    /// Decimal string -> integer.
    Integer,
}

impl TransformKind {
    /// The kind, as written in the file.
    pub fn name(self) -> &'static str {
        match self {
            TransformKind::Lower => "lower",
            TransformKind::Path => "path",
            TransformKind::User => "user",
            TransformKind::LogonId => "logon_id",
            TransformKind::ProcessId => "process_id",
            TransformKind::Guid => "guid",
            TransformKind::Ip => "ip",
            TransformKind::UtcTime => "utc_time",
            TransformKind::Integer => "integer",
        }
    }
}

/// The parsed mapping files: `common.toml` and the per-index files, in load order.
#[derive(Debug, Clone)]
pub struct MappingSet {
    /// `common.toml`.
    pub common: CommonFile,
    /// (file name, contents) of the per-index files.
    pub sources: Vec<(String, SourceFile)>,
}

impl MappingSet {
    /// Parses files given as (file name, text). One must be `common.toml`.
    pub fn parse<N: AsRef<str>, T: AsRef<str>>(
        files: impl IntoIterator<Item = (N, T)>,
    ) -> Result<MappingSet, MappingError> {
        let mut common = None;
        let mut sources = Vec::new();
        for (name, text) in files {
            let name = name.as_ref();
            if name == COMMON_FILE {
                common = Some(parse_toml::<CommonFile>(name, text.as_ref())?);
            } else {
                sources.push((name.to_owned(), parse_toml::<SourceFile>(name, text.as_ref())?));
            }
        }
        let common = common.ok_or_else(|| {
            MappingError::invalid(COMMON_FILE, "", "missing: every mapping set needs common.toml")
        })?;
        Ok(MappingSet { common, sources })
    }

    /// The embedded mapping files.
    pub fn embedded() -> Result<MappingSet, MappingError> {
        MappingSet::parse(EMBEDDED.iter().copied())
    }

    /// Reads `common.toml` and every other `*.toml` file of `dir` (in file-name order).
    pub fn from_dir(dir: &Path) -> Result<MappingSet, MappingError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| MappingError::Io { path, source }
        };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        if !names.iter().any(|n| n == COMMON_FILE) {
            return Err(MappingError::MissingCommon { dir: dir.to_path_buf() });
        }
        names.sort();
        let mut files = Vec::with_capacity(names.len());
        for name in names {
            let path = dir.join(&name);
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            files.push((name, text));
        }
        MappingSet::parse(files)
    }
}

fn parse_toml<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, MappingError> {
    toml::from_str(text).map_err(|e| MappingError::Parse { file: file.to_owned(), message: e.to_string() })
}
