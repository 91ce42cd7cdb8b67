//! The [`Normaliser`]: one record in, its table and HELK-named record out.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use hela_lake::{EVENTS_TABLE, Router};
use serde_json::{Map, Value};

use crate::error::MappingError;
use crate::mapping::MappingSet;
use crate::plan::{FieldFlags, LookupRule, Plan, Rules};
use crate::row::{FastMap, Row};
use crate::{extract, rename, route, transform};

/// Normalises Windows event records to HELK's field names and routes each to its HELK index
/// (the table name), following mapping files (see `mappings/common.toml` for the format).
///
/// Built once, then shared by every ingest thread: [`Normaliser::normalise`] takes `&self`.
#[derive(Debug)]
pub struct Normaliser {
    mappings: MappingSet,
    rules: Rules,
    events_table: Arc<str>,
}

impl Normaliser {
    /// The mapping files built into hela ([`EMBEDDED`](crate::EMBEDDED)).
    pub fn embedded() -> Result<Normaliser, MappingError> {
        Normaliser::from_mappings(MappingSet::embedded()?)
    }

    /// A directory of mapping files: `common.toml` and any number of per-index `*.toml` files
    /// (e.g. a copy of the embedded ones, extended).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Normaliser, MappingError> {
        Normaliser::from_mappings(MappingSet::from_dir(dir.as_ref())?)
    }

    /// Mapping files given as (file name, TOML text); one must be `common.toml`.
    pub fn from_files<N: AsRef<str>, T: AsRef<str>>(
        files: impl IntoIterator<Item = (N, T)>,
    ) -> Result<Normaliser, MappingError> {
        Normaliser::from_mappings(MappingSet::parse(files)?)
    }

    /// Parsed mapping files.
    pub fn from_mappings(mappings: MappingSet) -> Result<Normaliser, MappingError> {
        let rules = Rules::compile(&mappings)?;
        Ok(Normaliser { mappings, rules, events_table: Arc::from(EVENTS_TABLE) })
    }

    /// The mapping files this normaliser follows.
    pub fn mappings(&self) -> &MappingSet {
        &self.mappings
    }

    /// The tables Windows events can go to (the `index` of each file, in file order), not
    /// counting `events`, where other records go.
    pub fn tables(&self) -> Vec<&str> {
        let mut tables: Vec<&str> = Vec::new();
        for source in &self.rules.sources {
            if !tables.contains(&&*source.table) {
                tables.push(&source.table);
            }
        }
        tables
    }

    /// The table of `record` and the record with HELK's field names.
    ///
    /// A record that is not a Windows event (no `Channel`/`log_name` and no
    /// `EventID`/`event_id`) is returned unchanged, for the `events` table.
    pub fn normalise(&self, record: Map<String, Value>) -> (Arc<str>, Map<String, Value>) {
        let Some(key) = route::identify(&record) else {
            return (self.events_table.clone(), record);
        };
        let (table, plan) = self.rules.select(&key, &self.events_table);
        let mut row = Row::from_map(record);
        flatten(&mut row);
        prune_and_lower(&mut row, &self.rules.flags);
        extract::apply(&mut row, &plan.extracts);
        rename::apply(&mut row, plan);
        copy(&mut row, plan);
        for lookup in &plan.lookups {
            apply_lookup(&mut row, lookup);
        }
        transform::apply(&mut row, &plan.transforms, &self.rules.user_split);
        for (field, value) in &plan.constants {
            row.insert_absent(field, value.clone());
        }
        (table.clone(), row.into_map())
    }
}

impl Router for Normaliser {
    fn schema(&self) -> &str {
        "helk"
    }

    fn route(&self, record: Map<String, Value>) -> (Arc<str>, Map<String, Value>) {
        self.normalise(record)
    }
}

/// Moves the fields of Winlogbeat's `event_data` and `user_data` objects to the top level. A
/// top-level field of the same name wins; the other value is kept as `event_data.<name>`
/// (`user_data.<name>`).
fn flatten(row: &mut Row) {
    for nest in ["event_data", "user_data"] {
        if !row.get(nest).is_some_and(Value::is_object) {
            continue;
        }
        let Some(Value::Object(inner)) = row.remove(nest) else { continue };
        for (name, value) in inner {
            if row.contains(&name) {
                let name = row.free_name(format!("{nest}.{name}"));
                row.push(name, value);
            } else {
                row.push(name, value);
            }
        }
    }
}

/// Steps 1 and 2: removes `"-"` placeholders and lower-cases the listed source fields.
fn prune_and_lower(row: &mut Row, flags: &FastMap<Box<str>, FieldFlags>) {
    row.retain(|name, value| {
        let Some(f) = flags.get(name) else { return true };
        if f.drop_dash && value.as_str() == Some("-") {
            return false;
        }
        if f.lower
            && let Value::String(s) = value
        {
            transform::lower(s);
        }
        true
    });
}

/// Step 5: `[events.N.copy]`; an existing field of the copy's name is not overwritten.
fn copy(row: &mut Row, plan: &Plan) {
    for (from, to) in &plan.copies {
        if row.contains(to) {
            continue;
        }
        if let Some(value) = row.get(from) {
            let value = value.clone();
            row.push(to.to_string(), value);
        }
    }
}

/// A scalar as the text a lookup compares.
fn text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Step 6: one code -> text lookup.
fn apply_lookup(row: &mut Row, l: &LookupRule) {
    let holds = l.when.iter().all(|(f, want)| row.get(f).and_then(text).is_some_and(|v| v == **want));
    if !holds {
        return;
    }
    let Some(code) = row.get(&l.field).and_then(text) else { return };
    let code: Cow<'_, str> =
        if l.strip.is_empty() { code } else { Cow::Owned(code.chars().filter(|c| !l.strip.contains(*c)).collect()) };
    let found = l.map.get(&*code).or_else(|| {
        code.chars().any(char::is_uppercase).then(|| l.map.get(code.to_lowercase().as_str())).flatten()
    });
    let Some(found) = found.or(l.fallback.as_ref()) else { return };
    let found = Value::String(found.to_string());
    if l.overwrite_source {
        row.set(&l.field, found.clone());
    }
    row.insert_absent(&l.target, found);
}
