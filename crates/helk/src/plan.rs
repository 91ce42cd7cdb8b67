//! The mapping files compiled into lookup structures, built once: per index and event id, one
//! [`Plan`] with the common, index-wide and per-event rules already merged by precedence.

use std::sync::Arc;

use regex::Regex;
use serde_json::Value;

use crate::error::MappingError;
use crate::row::{FastMap, name_hash};
use crate::mapping::{
    COMMON_FILE, CommonFile, EventRules, Extract, Lookup, MappingSet, Ordered, SourceFile, TransformKind,
};

/// Precedence of a rename rule: a higher rank wins.
pub(crate) mod rank {
    /// `common.toml` `[header_rename]`.
    pub const HEADER: u8 = 0;
    /// `common.toml` `[rename]`.
    pub const COMMON: u8 = 1;
    /// `[all.rename]` of the index file.
    pub const ALL: u8 = 2;
    /// `[events.N.rename]`.
    pub const EVENT: u8 = 3;
}

/// What steps 1 and 2 do to a source field.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FieldFlags {
    pub drop_dash: bool,
    pub lower: bool,
}

/// One rename: the source is the key of [`Plan::renames`].
#[derive(Debug, Clone)]
pub(crate) struct RenameRule {
    pub target: Box<str>,
    /// `name_hash(target)`.
    pub target_hash: u64,
    pub rank: u8,
    /// Position in its table (ties between sources of the same rank: the first wins).
    pub order: u32,
}

/// A rename whose source is a path into a nested header object (`user.identifier`).
#[derive(Debug, Clone)]
pub(crate) struct NestedSource {
    /// The dotted name, the key of its rule in [`Plan::renames`].
    pub name: Box<str>,
    /// The path segments.
    pub path: Vec<Box<str>>,
}

/// One extract, with its regular expression compiled.
#[derive(Debug)]
pub(crate) struct ExtractRule {
    pub source: Box<str>,
    pub spec: Extract,
    pub regex: Option<Regex>,
}

/// One lookup, with its map hashed.
#[derive(Debug)]
pub(crate) struct LookupRule {
    pub field: Box<str>,
    pub target: Box<str>,
    pub map: FastMap<Box<str>, Box<str>>,
    pub fallback: Option<Box<str>>,
    pub strip: Box<str>,
    pub when: Vec<(Box<str>, Box<str>)>,
    pub overwrite_source: bool,
}

/// Every rule that applies to the events of one index and event id, merged by precedence.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub extracts: Vec<Arc<ExtractRule>>,
    pub renames: FastMap<Box<str>, RenameRule>,
    pub nested: Vec<NestedSource>,
    pub copies: Vec<(Box<str>, Box<str>)>,
    pub lookups: Vec<Arc<LookupRule>>,
    pub transforms: FastMap<Box<str>, TransformKind>,
    pub constants: Vec<(Box<str>, Value)>,
}

/// An event-id rule set of an index, with its channel / provider condition (lower-cased).
#[derive(Debug)]
pub(crate) struct EventPlan {
    pub channel: Option<Box<str>>,
    pub provider: Option<Box<str>>,
    pub plan: Plan,
}

/// One index: its table name and plans.
#[derive(Debug)]
pub(crate) struct CompiledSource {
    pub table: Arc<str>,
    pub default: Plan,
    pub events: FastMap<u64, EventPlan>,
}

/// All mapping files, compiled.
#[derive(Debug)]
pub(crate) struct Rules {
    pub flags: FastMap<Box<str>, FieldFlags>,
    pub user_split: FastMap<Box<str>, (Box<str>, Box<str>)>,
    pub sources: Vec<CompiledSource>,
    /// Lower-cased channel -> index of `sources`.
    pub by_channel: FastMap<Box<str>, usize>,
    /// Lower-cased provider -> index of `sources`.
    pub by_provider: FastMap<Box<str>, usize>,
    pub catch_all: Option<usize>,
    /// The common rules alone, for Windows events no file takes when there is no catch-all file.
    pub common_only: Plan,
}

impl Rules {
    pub(crate) fn compile(set: &MappingSet) -> Result<Rules, MappingError> {
        let common = &set.common;
        let mut flags: FastMap<Box<str>, FieldFlags> = FastMap::default();
        for f in &common.drop_dash_values {
            flags.entry(f.as_str().into()).or_default().drop_dash = true;
        }
        for f in &common.lower_source_fields {
            flags.entry(f.as_str().into()).or_default().lower = true;
        }
        let mut user_split: FastMap<Box<str>, (Box<str>, Box<str>)> = FastMap::default();
        for (field, [domain, name]) in common.user_split.iter() {
            if domain.is_empty() || name.is_empty() {
                return Err(MappingError::invalid(
                    COMMON_FILE,
                    format!("user_split.{field}"),
                    "both field names must be non-empty",
                ));
            }
            user_split.insert(field.into(), (domain.as_str().into(), name.as_str().into()));
        }
        let base = PlanBuilder::common(common, &user_split)?;

        let mut sources = Vec::with_capacity(set.sources.len());
        let mut by_channel: FastMap<Box<str>, usize> = FastMap::default();
        let mut by_provider: FastMap<Box<str>, usize> = FastMap::default();
        let mut owners: FastMap<(bool, Box<str>), &str> = FastMap::default();
        let mut catch_all: Option<usize> = None;
        let mut catch_all_file = "";
        for (i, (file, src)) in set.sources.iter().enumerate() {
            if src.index.trim().is_empty() {
                return Err(MappingError::invalid(file, "index", "must be a non-empty table name"));
            }
            for (is_provider, list) in [(false, &src.channels), (true, &src.providers)] {
                let key = if is_provider { "providers" } else { "channels" };
                for name in list {
                    let lower: Box<str> = name.to_lowercase().into();
                    if let Some(other) = owners.insert((is_provider, lower.clone()), file) {
                        return Err(MappingError::invalid(
                            file,
                            key,
                            format!("{name:?} is already routed by {other}"),
                        ));
                    }
                    if is_provider { &mut by_provider } else { &mut by_channel }.insert(lower, i);
                }
            }
            if src.catch_all {
                if catch_all.is_some() {
                    return Err(MappingError::invalid(
                        file,
                        "catch_all",
                        format!("{catch_all_file} is already the catch-all file"),
                    ));
                }
                catch_all = Some(i);
                catch_all_file = file;
            }
            sources.push(compile_source(file, src, &base, &user_split)?);
        }
        Ok(Rules {
            flags,
            user_split,
            sources,
            by_channel,
            by_provider,
            catch_all,
            common_only: base.finish(),
        })
    }
}

fn compile_source(
    file: &str,
    src: &SourceFile,
    base: &PlanBuilder,
    user_split: &FastMap<Box<str>, (Box<str>, Box<str>)>,
) -> Result<CompiledSource, MappingError> {
    let mut all = base.clone();
    all.renames(&src.all.rename, rank::ALL, file, "all.rename")?;
    all.extracts(&src.all.extract, file, "all.extract")?;
    all.transforms(&src.all.transform, file, "all.transform", user_split)?;
    all.constants(&src.all.set);
    let mut events: FastMap<u64, EventPlan> = FastMap::default();
    for (id, rules) in src.events.iter() {
        let key = format!("events.{id}");
        let event_id: u64 =
            id.trim().parse().map_err(|_| MappingError::invalid(file, &key, "an event id must be a decimal number"))?;
        let plan = compile_event(file, &key, rules, &all, user_split)?;
        let event = EventPlan {
            channel: rules.channel.as_deref().map(|c| c.to_lowercase().into()),
            provider: rules.provider.as_deref().map(|p| p.to_lowercase().into()),
            plan,
        };
        if events.insert(event_id, event).is_some() {
            return Err(MappingError::invalid(file, key, "the event id is given twice"));
        }
    }
    Ok(CompiledSource { table: Arc::from(src.index.trim()), default: all.finish(), events })
}

fn compile_event(
    file: &str,
    key: &str,
    rules: &EventRules,
    all: &PlanBuilder,
    user_split: &FastMap<Box<str>, (Box<str>, Box<str>)>,
) -> Result<Plan, MappingError> {
    let mut b = all.clone();
    b.renames(&rules.rename, rank::EVENT, file, &format!("{key}.rename"))?;
    b.extracts(&rules.extract, file, &format!("{key}.extract"))?;
    b.transforms(&rules.transform, file, &format!("{key}.transform"), user_split)?;
    b.constants(&rules.set);
    if let Some(action) = &rules.action {
        b.constant("action", Value::String(action.clone()));
    }
    for (from, to) in rules.copy.iter() {
        b.plan.copies.push((from.into(), to.as_str().into()));
    }
    for (field, lookup) in rules.lookup.iter() {
        b.plan.lookups.push(Arc::new(compile_lookup(field, lookup)));
    }
    Ok(b.finish())
}

fn compile_lookup(field: &str, l: &Lookup) -> LookupRule {
    LookupRule {
        field: field.into(),
        target: l.target.as_str().into(),
        map: l.map.iter().map(|(k, v)| (Box::from(k), Box::from(v.as_str()))).collect(),
        fallback: l.fallback.as_deref().map(Box::from),
        strip: l.strip.as_deref().unwrap_or("").into(),
        when: l.when.iter().map(|(k, v)| (Box::from(k), Box::from(v.as_str()))).collect(),
        overwrite_source: l.overwrite_source,
    }
}

/// A [`Plan`] being merged, layer by layer (common, then `[all]`, then `[events.N]`).
#[derive(Debug, Clone, Default)]
struct PlanBuilder {
    plan: Plan,
}

impl PlanBuilder {
    fn common(
        common: &CommonFile,
        user_split: &FastMap<Box<str>, (Box<str>, Box<str>)>,
    ) -> Result<PlanBuilder, MappingError> {
        let mut b = PlanBuilder::default();
        b.renames(&common.header_rename, rank::HEADER, COMMON_FILE, "header_rename")?;
        b.renames(&common.rename, rank::COMMON, COMMON_FILE, "rename")?;
        b.extracts(&common.extract, COMMON_FILE, "extract")?;
        b.transforms(&common.transform, COMMON_FILE, "transform", user_split)?;
        Ok(b)
    }

    fn renames(&mut self, table: &Ordered<String>, rank: u8, file: &str, key: &str) -> Result<(), MappingError> {
        for (order, (source, target)) in table.iter().enumerate() {
            if source.is_empty() || target.is_empty() {
                return Err(MappingError::invalid(file, format!("{key}.{source}"), "names must be non-empty"));
            }
            if source.contains('.') {
                let path: Vec<Box<str>> = source.split('.').map(Box::from).collect();
                if path.iter().any(|s| s.is_empty()) {
                    return Err(MappingError::invalid(
                        file,
                        format!("{key}.{source}"),
                        "a dotted source name needs a name between every two dots",
                    ));
                }
                if !self.plan.nested.iter().any(|n| &*n.name == source) {
                    self.plan.nested.push(NestedSource { name: source.into(), path });
                }
            }
            let rule = RenameRule { target: target.as_str().into(), target_hash: name_hash(target), rank, order: order as u32 };
            self.plan.renames.insert(source.into(), rule);
        }
        Ok(())
    }

    fn extracts(&mut self, table: &Ordered<Extract>, file: &str, key: &str) -> Result<(), MappingError> {
        for (source, spec) in table.iter() {
            let rule = Arc::new(compile_extract(source, spec, file, &format!("{key}.{source}"))?);
            match self.plan.extracts.iter_mut().find(|e| &*e.source == source) {
                Some(slot) => *slot = rule,
                None => self.plan.extracts.push(rule),
            }
        }
        Ok(())
    }

    fn transforms(
        &mut self,
        table: &Ordered<TransformKind>,
        file: &str,
        key: &str,
        user_split: &FastMap<Box<str>, (Box<str>, Box<str>)>,
    ) -> Result<(), MappingError> {
        for (field, kind) in table.iter() {
            if *kind == TransformKind::User && !user_split.contains_key(field) {
                return Err(MappingError::invalid(
                    file,
                    format!("{key}.{field}"),
                    format!("transform \"user\" needs  {field:?} = [\"<domain field>\", \"<name field>\"]  in common.toml [user_split]"),
                ));
            }
            self.plan.transforms.insert(field.into(), *kind);
        }
        Ok(())
    }

    fn constants(&mut self, table: &Ordered<Value>) {
        for (field, value) in table.iter() {
            self.constant(field, value.clone());
        }
    }

    fn constant(&mut self, field: &str, value: Value) {
        match self.plan.constants.iter_mut().find(|(f, _)| &**f == field) {
            Some(slot) => slot.1 = value,
            None => self.plan.constants.push((field.into(), value)),
        }
    }

    fn finish(&self) -> Plan {
        self.plan.clone()
    }
}

fn compile_extract(source: &str, spec: &Extract, file: &str, key: &str) -> Result<ExtractRule, MappingError> {
    let bad = |message: &str| MappingError::invalid(file, key, message);
    let mut regex = None;
    match spec {
        Extract::Copy { target, .. } | Extract::AfterFirstSlash { target, .. } if target.is_empty() => {
            return Err(bad("target must be non-empty"));
        }
        Extract::Kv { field_split, value_split, .. } if field_split.is_empty() || value_split.is_empty() => {
            return Err(bad("field_split and value_split must be non-empty"));
        }
        Extract::KvLines { value_split, .. } if value_split.is_empty() => {
            return Err(bad("value_split must be non-empty"));
        }
        Extract::IpPort { ip, port, .. } if ip.is_empty() || port.is_empty() => {
            return Err(bad("ip and port must be non-empty"));
        }
        Extract::Regex { pattern, .. } => {
            let re = Regex::new(pattern).map_err(|e| bad(&format!("bad pattern: {e}")))?;
            if re.capture_names().flatten().next().is_none() {
                return Err(bad("the pattern has no named group (?P<Field>...)"));
            }
            regex = Some(re);
        }
        _ => {}
    }
    Ok(ExtractRule { source: source.into(), spec: spec.clone(), regex })
}
