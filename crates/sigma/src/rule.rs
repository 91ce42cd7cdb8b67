//! One Sigma rule read from YAML and compiled: its metadata, the events its logsource
//! names, and its detection as field tests, keyword tests and a condition.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::condition::{self, Condition};
use crate::correlation::{Correlation, aggregation};
use crate::logsource::{self, Source};
use crate::matcher::{Comparison, Matcher, Network, TextKind, regex_matcher, text_matcher};
use crate::value::{Transform, literal, pieces};

/// Sigma severity levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] = [Level::Informational, Level::Low, Level::Medium, Level::High, Level::Critical];

    pub fn parse(text: &str) -> Option<Level> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// What every rule has, a detection rule or a correlation: who it is and how much its
/// detections matter.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    /// The `name` other rules refer to it by (correlations name their rules by `name` or
    /// `id`).
    pub name: Option<String>,
    pub title: String,
    pub level: Level,
    pub status: String,
    pub tags: Vec<String>,
    pub path: PathBuf,
}

impl Meta {
    /// The metadata of a rule's YAML document.
    pub fn from_yaml(document: &Value, path: &Path) -> Result<Meta, String> {
        let text = |key: &str| document.get(key).and_then(Value::as_str).map(str::to_string);
        let title = text("title").ok_or("no `title`")?;
        let level = match text("level") {
            Some(level) => Level::parse(&level).ok_or_else(|| format!("unknown level `{level}`"))?,
            None => Level::Medium,
        };
        let tags = match document.get("tags") {
            Some(Value::Sequence(tags)) => tags.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        };
        Ok(Meta {
            id: text("id").unwrap_or_default(),
            name: text("name"),
            title,
            level,
            status: text("status").unwrap_or_default(),
            tags,
            path: path.to_path_buf(),
        })
    }
}

/// A loaded rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: Meta,
    pub source: Source,
    pub searches: Vec<Search>,
    pub condition: Condition,
    /// The event fields worth showing with a detection: the rule's `fields`, else the
    /// fields its detection tests; and those correlations read from its events.
    pub key_fields: Vec<String>,
    /// Whether its detections are raised on their own, and not only fed to the
    /// correlations that reference it.
    pub standalone: bool,
}

/// One search identifier of a detection.
#[derive(Debug, Clone)]
pub enum Search {
    /// Any of these maps matches; a map matches when all its field tests do.
    Fields(Vec<Vec<FieldTest>>),
    /// Any of these values appears in any field.
    Keywords(Vec<Matcher>),
}

/// A test of one field: each value gives alternatives (from `windash`, `base64offset`...);
/// the test passes when any value passes, or every value with `all`.
#[derive(Debug, Clone)]
pub struct FieldTest {
    pub field: String,
    pub all: bool,
    pub values: Vec<Vec<Matcher>>,
}

impl Rule {
    /// Compiles a rule from one YAML document, with the correlation an aggregation in its
    /// condition (`| count() by ...`) stands for; the error says why it cannot be used.
    pub fn from_yaml(document: &Value, path: &Path) -> Result<(Rule, Option<Correlation>), String> {
        let meta = Meta::from_yaml(document, path)?;
        let logsource = document.get("logsource").ok_or("no `logsource`")?;
        let part = |key: &str| logsource.get(key).and_then(Value::as_str);
        let source = logsource::resolve(part("product"), part("category"), part("service"))?;
        let detection = document.get("detection").and_then(Value::as_mapping).ok_or("no `detection` map")?;
        let mut names = Vec::new();
        let mut searches = Vec::new();
        let mut condition_text = None;
        let mut timeframe = document.get("timeframe");
        for (key, value) in detection {
            let name = key.as_str().ok_or("a detection key is not a string")?;
            match name {
                "condition" => condition_text = Some(value),
                "timeframe" => timeframe = Some(value),
                _ => {
                    searches.push(search(value).map_err(|e| format!("search `{name}`: {e}"))?);
                    names.push(name.to_string());
                }
            }
        }
        let timeframe = timeframe.and_then(Value::as_str);
        let mut aggregated = None;
        let condition = match condition_text.ok_or("detection has no `condition`")? {
            Value::String(text) => match aggregation(text, &meta, timeframe)? {
                Some((search, correlation)) => {
                    aggregated = Some(correlation);
                    condition::parse(&search, &names)?
                }
                None => condition::parse(text, &names)?,
            },
            Value::Sequence(list) => Condition::Or(
                list.iter()
                    .map(|c| c.as_str().ok_or_else(|| "a condition is not a string".to_string()).and_then(|t| condition::parse(t, &names)))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err("`condition` is not a string".into()),
        };
        let key_fields = match document.get("fields") {
            Some(Value::Sequence(fields)) if !fields.is_empty() => fields.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => tested_fields(&searches),
        };
        let rule = Rule { meta, source, searches, condition, key_fields, standalone: true };
        Ok((rule, aggregated))
    }
}

fn tested_fields(searches: &[Search]) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for search in searches {
        if let Search::Fields(maps) = search {
            for test in maps.iter().flatten() {
                if !fields.contains(&test.field) {
                    fields.push(test.field.clone());
                }
            }
        }
    }
    fields
}

/// A search identifier's value: a map of field tests, a list of such maps, or a list of
/// keywords.
fn search(value: &Value) -> Result<Search, String> {
    match value {
        Value::Mapping(map) => Ok(Search::Fields(vec![field_map(map)?])),
        Value::Sequence(items) if items.iter().all(|i| i.is_mapping()) && !items.is_empty() => {
            Ok(Search::Fields(items.iter().map(|i| field_map(i.as_mapping().unwrap())).collect::<Result<_, _>>()?))
        }
        Value::Sequence(items) => {
            let matchers = items.iter().map(keyword).collect::<Result<_, _>>()?;
            Ok(Search::Keywords(matchers))
        }
        scalar => Ok(Search::Keywords(vec![keyword(scalar)?])),
    }
}

fn keyword(value: &Value) -> Result<Matcher, String> {
    let text = scalar_text(value).ok_or("a keyword is not a plain value")?;
    text_matcher(pieces(&text), TextKind::Contains, false)
}

fn field_map(map: &serde_yaml::Mapping) -> Result<Vec<FieldTest>, String> {
    map.iter()
        .map(|(key, value)| {
            let key = key.as_str().ok_or("a field name is not a string")?;
            field_test(key, value).map_err(|e| format!("`{key}`: {e}"))
        })
        .collect()
}

/// What the modifiers after a field name ask for.
struct Modifiers {
    transforms: Vec<Transform>,
    /// How text compares: `contains`, `startswith`, `endswith`, or equality.
    text: TextKind,
    /// Any other kind of test (`re`, `cidr`, `fieldref`...).
    kind: Option<Kind>,
    all: bool,
    cased: bool,
    /// `re` flags: ignore case, multi-line, dot matches newline.
    regex_flags: (bool, bool, bool),
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Regex,
    Cidr,
    Exists,
    FieldRef,
    Compare(Comparison),
    Expand,
}

fn modifiers(names: &[&str]) -> Result<Modifiers, String> {
    let mut m = Modifiers {
        transforms: Vec::new(),
        text: TextKind::Equals,
        kind: None,
        all: false,
        cased: false,
        regex_flags: (false, false, false),
    };
    for name in names {
        let lower = name.to_ascii_lowercase();
        let text_kind = match lower.as_str() {
            "contains" => Some(TextKind::Contains),
            "startswith" => Some(TextKind::StartsWith),
            "endswith" => Some(TextKind::EndsWith),
            _ => None,
        };
        let kind = match lower.as_str() {
            "re" => Some(Kind::Regex),
            "cidr" => Some(Kind::Cidr),
            "exists" => Some(Kind::Exists),
            "fieldref" => Some(Kind::FieldRef),
            "lt" => Some(Kind::Compare(Comparison::Less)),
            "lte" => Some(Kind::Compare(Comparison::LessOrEqual)),
            "gt" => Some(Kind::Compare(Comparison::Greater)),
            "gte" => Some(Kind::Compare(Comparison::GreaterOrEqual)),
            "expand" => Some(Kind::Expand),
            _ => None,
        };
        match (text_kind, kind) {
            (Some(_), _) if m.text != TextKind::Equals => return Err(format!("modifier `{name}` conflicts with an earlier one")),
            (Some(text), _) => m.text = text,
            (_, Some(_)) if m.kind.is_some() => return Err(format!("modifier `{name}` conflicts with an earlier one")),
            (_, Some(kind)) => m.kind = Some(kind),
            (None, None) => match lower.as_str() {
                "all" => m.all = true,
                "cased" => m.cased = true,
                "i" | "ignorecase" => m.regex_flags.0 = true,
                "m" | "multiline" => m.regex_flags.1 = true,
                "s" | "dotall" => m.regex_flags.2 = true,
                "base64" => m.transforms.push(Transform::Base64),
                "base64offset" => m.transforms.push(Transform::Base64Offset),
                "utf16le" | "wide" => m.transforms.push(Transform::Utf16Le),
                "utf16be" => m.transforms.push(Transform::Utf16Be),
                "windash" => m.transforms.push(Transform::WinDash),
                _ => return Err(format!("unsupported modifier `{name}`")),
            },
        }
    }
    if m.text != TextKind::Equals && !matches!(m.kind, None | Some(Kind::FieldRef | Kind::Expand)) {
        return Err("`contains`/`startswith`/`endswith` cannot combine with this test".into());
    }
    Ok(m)
}

fn field_test(key: &str, value: &Value) -> Result<FieldTest, String> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default().to_string();
    let names: Vec<&str> = parts.collect();
    let m = modifiers(&names)?;
    let values: Vec<&Value> = match value {
        Value::Sequence(items) => items.iter().collect(),
        value => vec![value],
    };
    if values.is_empty() {
        return Err("an empty list of values".into());
    }
    let values = values.into_iter().map(|v| value_matchers(v, &m)).collect::<Result<_, _>>()?;
    Ok(FieldTest { field, all: m.all, values })
}

/// The alternatives one value of a field test compiles to.
fn value_matchers(value: &Value, m: &Modifiers) -> Result<Vec<Matcher>, String> {
    if value.is_null() {
        return match m.kind {
            None => Ok(vec![Matcher::Null]),
            Some(_) => Err("null with a modifier".into()),
        };
    }
    let text = scalar_text(value).ok_or("a value is not a plain string, number or boolean")?;
    match m.kind {
        Some(Kind::Exists) => match value {
            Value::Bool(b) => Ok(vec![Matcher::Exists(*b)]),
            _ => Err("`exists` needs true or false".into()),
        },
        Some(Kind::Compare(op)) => {
            let bound: f64 = text.trim().parse().map_err(|_| format!("`{text}` is not a number"))?;
            Ok(vec![Matcher::Compare(op, bound)])
        }
        Some(Kind::Cidr) => Network::parse(&text).map(|n| vec![Matcher::Cidr(n)]).ok_or_else(|| format!("`{text}` is not a CIDR network")),
        Some(Kind::FieldRef) => Ok(vec![Matcher::FieldRef { field: text, kind: m.text, cased: m.cased }]),
        Some(Kind::Regex) => {
            let (i, multi, dot) = m.regex_flags;
            Ok(vec![regex_matcher(&text, i, multi, dot)?])
        }
        Some(Kind::Expand) => Err(format!("placeholder value `{text}` (`expand`) has no configured values")),
        None => transformed(&text, m, m.text),
    }
}

/// The most variants the modifiers of one value may make (SigmaHQ's rules make at most 5).
const MAX_VARIANTS: usize = 1_000;
/// The most text the variants of one value may hold together.
const MAX_VARIANT_BYTES: usize = 1 << 20;

fn transformed(text: &str, m: &Modifiers, kind: TextKind) -> Result<Vec<Matcher>, String> {
    if m.transforms.is_empty() {
        return Ok(vec![text_matcher(pieces(text), kind, m.cased)?]);
    }
    let mut variants = vec![text.as_bytes().to_vec()];
    for transform in &m.transforms {
        variants = variants.iter().flat_map(|v| transform.apply(v)).collect();
        let bytes: usize = variants.iter().map(Vec::len).sum();
        if variants.len() > MAX_VARIANTS || bytes > MAX_VARIANT_BYTES {
            return Err(format!(
                "the modifiers make more than {MAX_VARIANTS} variants or {} KiB of text from one value; use fewer chained modifiers",
                MAX_VARIANT_BYTES >> 10
            ));
        }
    }
    let encoded = m.transforms.iter().any(|t| t.encodes());
    // Encoded text is compared as it is: base64 is case-sensitive.
    let cased = m.cased || encoded;
    variants
        .into_iter()
        .map(|v| {
            let v = String::from_utf8_lossy(&v).into_owned();
            let parts = if encoded { literal(&v) } else { pieces(&v) };
            text_matcher(parts, kind, cased)
        })
        .collect()
}

/// The text of a YAML scalar, as Sigma compares it.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
