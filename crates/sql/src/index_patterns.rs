//! The session's tables, found by name or by index pattern: as in Elasticsearch (and in
//! HELK users' queries), `logs-endpoint-winevent-sysmon-*` names every lake table it
//! matches, read as one table. Lake tables are made when a statement names them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::TableProvider;
use datafusion::error::Result;
use hela_lake::{Catalog, Lake, LakeError};

use crate::lake_tables::LakeTable;

/// The most table names an error lists.
const MAX_TABLES_LISTED: usize = 20;
/// The most lake tables (by name or pattern) kept for one catalog; past it, those kept are
/// let go, so that a server's clients cannot grow the cache without end.
const MAX_TABLES_KEPT: usize = 64;

/// A schema of the tables registered in the session (`--table` tables, views), which hide
/// lake tables of the same name, and of the lake's tables: by name, or with `*` or `?` as
/// the union of the lake tables a pattern matches.
#[derive(Debug)]
pub struct IndexPatternSchema {
    named: MemorySchemaProvider,
    lake: Option<Lake>,
    /// The lake's catalog as last read; none while the lake does not exist yet.
    catalog: RwLock<Option<Arc<Loaded>>>,
}

/// A catalog and the lake tables made from it so far, by the name a statement gave: making
/// one merges the shapes of its tables into a schema of some hundreds of columns and copies
/// the list of its files, once per catalog rather than for every statement.
#[derive(Debug)]
struct Loaded {
    catalog: Catalog,
    tables: Mutex<HashMap<String, Arc<LakeTable>>>,
}

impl IndexPatternSchema {
    /// A schema over the lake's catalog, when there is a lake.
    pub fn new(lake: Option<Lake>) -> Result<Self, LakeError> {
        let schema = IndexPatternSchema { named: MemorySchemaProvider::new(), lake, catalog: RwLock::new(None) };
        schema.reload()?;
        Ok(schema)
    }

    /// Reads the lake's catalog again, so that tables and files committed since are seen.
    /// The tables made from the catalog before are kept while its tables are unchanged.
    pub fn reload(&self) -> Result<(), LakeError> {
        let catalog = match self.lake.as_ref().filter(|lake| lake.exists()) {
            Some(lake) => Some(lake.catalog()?),
            None => None,
        };
        let mut loaded = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        let unchanged = matches!((loaded.as_deref(), &catalog), (Some(old), Some(new)) if old.catalog.tables == new.tables);
        if !unchanged {
            *loaded = catalog.map(|catalog| Arc::new(Loaded { catalog, tables: Mutex::default() }));
        }
        Ok(())
    }

    /// A schema over the same lake and catalog with no registered tables of its own.
    pub fn fork(&self) -> IndexPatternSchema {
        let catalog = self.catalog.read().unwrap_or_else(|e| e.into_inner()).clone();
        IndexPatternSchema { named: MemorySchemaProvider::new(), lake: self.lake.clone(), catalog: RwLock::new(catalog) }
    }

    /// Why `name` names no table, in the user's terms: the tables there are, or that the lake
    /// holds nothing yet and how to fill it.
    pub fn explain_missing(&self, name: &str) -> String {
        let mut tables = self.table_names();
        tables.sort();
        match (&self.lake, tables.is_empty()) {
            (Some(lake), true) => format!(
                "table `{name}` not found: the lake at {0} holds no tables yet; ingest events into it first with `hela ingest --lake {0} FILES...`",
                lake.root().display()
            ),
            (None, true) => format!("table `{name}` not found: no lake or table is open; name a lake with --lake DIR, or files with --table {name}=PATH"),
            (_, false) => {
                let shown: Vec<String> = tables.iter().take(MAX_TABLES_LISTED).map(|t| format!("`{t}`")).collect();
                let more = tables.len().saturating_sub(MAX_TABLES_LISTED);
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                format!("table `{name}` not found; the tables are {}{more}", shown.join(", "))
            }
        }
    }

    fn with_catalog<T>(&self, f: impl FnOnce(&Catalog) -> T) -> Option<T> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner()).as_deref().map(|loaded| f(&loaded.catalog))
    }

    /// The lake tables `name` names (itself, or those its pattern matches), read as one;
    /// made once per catalog.
    fn lake_table(&self, name: &str) -> Option<Arc<LakeTable>> {
        let lake = self.lake.as_ref()?;
        let loaded = self.catalog.read().unwrap_or_else(|e| e.into_inner()).clone()?;
        if let Some(table) = loaded.tables.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Some(table.clone());
        }
        let entries: Vec<_> = loaded.catalog.tables.iter().filter(|(table, _)| names_table(name, table)).map(|(_, entry)| entry).collect();
        let table = Arc::new((!entries.is_empty()).then(|| LakeTable::union(lake, &entries))?);
        let mut kept = loaded.tables.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MAX_TABLES_KEPT {
            kept.clear();
        }
        kept.insert(name.to_string(), table.clone());
        Some(table)
    }
}

#[async_trait]
impl SchemaProvider for IndexPatternSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.named.table_names();
        let lake_names = self.with_catalog(|catalog| catalog.tables.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        names.extend(lake_names.into_iter().filter(|t| !self.named.table_exist(t)));
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some(table) = self.named.table(name).await? {
            return Ok(Some(table));
        }
        Ok(self.lake_table(name).map(|t| t as Arc<dyn TableProvider>))
    }

    fn register_table(&self, name: String, table: Arc<dyn TableProvider>) -> Result<Option<Arc<dyn TableProvider>>> {
        self.named.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        self.named.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.named.table_exist(name)
            || self.with_catalog(|catalog| catalog.tables.keys().any(|t| names_table(name, t))).unwrap_or(false)
    }
}

/// Whether `name` in a statement names the lake table `table`: its own name, or a pattern
/// that matches it.
fn names_table(name: &str, table: &str) -> bool {
    name == table || (name.contains(['*', '?']) && index_pattern_matches(name, table))
}

/// Whether an index pattern names a table: `*` is any text, `?` one character, and as the
/// tables stand for whole indices (no `-YYYY.MM.dd` suffix), `name-*` matches `name` too.
pub fn index_pattern_matches(pattern: &str, table: &str) -> bool {
    glob(pattern.as_bytes(), table.as_bytes()) || glob(pattern.as_bytes(), format!("{table}-").as_bytes())
}

/// Matches `*` and `?` in one pass that returns to the last `*` on a mismatch: time in
/// the product of the lengths at worst, never exponential in the number of `*`s.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                last_star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match last_star {
                Some((star, matched)) => {
                    last_star = Some((star, matched + 1));
                    p = star + 1;
                    t = matched + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use hela_lake::{IngestOptions, IngestProgress, ingest};

    use super::*;

    fn ingest_line(lake: &Lake, dir: &std::path::Path, name: &str, line: &str) {
        let input = dir.join(name);
        std::fs::write(&input, line).unwrap();
        ingest(lake, &[input], &IngestOptions::default(), &IngestProgress::default(), &mut |_| {}).unwrap();
    }

    #[tokio::test]
    async fn lake_tables_are_made_once_per_catalog_and_a_bounded_number_kept() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        ingest_line(&lake, dir.path(), "first.json", "{\"EventID\":1}\n");
        let schema = IndexPatternSchema::new(Some(lake.clone())).unwrap();
        let events = || async { schema.table("events").await.unwrap().expect("the events table") };
        let first = events().await;
        assert!(Arc::ptr_eq(&first, &events().await), "made once");
        schema.reload().unwrap();
        assert!(Arc::ptr_eq(&first, &events().await), "kept while the catalog's tables are unchanged");
        ingest_line(&lake, dir.path(), "second.json", "{\"EventID\":2,\"later\":\"x\"}\n");
        assert!(Arc::ptr_eq(&first, &events().await), "the catalog as last read until reloaded");
        schema.reload().unwrap();
        let second = events().await;
        assert!(!Arc::ptr_eq(&first, &second) && second.schema().field_with_name("later").is_ok(), "made again once the lake changed");
        for stars in 1..=2 * MAX_TABLES_KEPT {
            assert!(schema.table(&format!("ev{}", "*".repeat(stars))).await.unwrap().is_some());
        }
        let kept = schema.catalog.read().unwrap().as_ref().unwrap().tables.lock().unwrap().len();
        assert!((1..=MAX_TABLES_KEPT).contains(&kept), "{kept} kept");
    }

    #[test]
    fn index_patterns_match_whole_tables() {
        let sysmon = "logs-endpoint-winevent-sysmon";
        assert!(index_pattern_matches("logs-endpoint-winevent-sysmon-*", sysmon));
        assert!(index_pattern_matches("logs-endpoint-winevent-*", sysmon));
        assert!(index_pattern_matches("logs-*-sysmon", sysmon));
        assert!(index_pattern_matches("logs-endpoint-winevent-sysmo?", sysmon));
        assert!(!index_pattern_matches("logs-endpoint-winevent-security-*", sysmon));
        assert!(!index_pattern_matches("logs-endpoint-winevent-sysmon-2020*", sysmon));
        assert!(index_pattern_matches("*", sysmon) && index_pattern_matches("l*s*n", sysmon));
        assert!(!index_pattern_matches("?", sysmon) && !index_pattern_matches("*x*", sysmon));
    }

    #[test]
    fn many_stars_take_no_time() {
        let table = "a".repeat(200);
        let pattern = format!("{}b", "*a".repeat(60));
        let started = std::time::Instant::now();
        assert!(!index_pattern_matches(&pattern, &table));
        assert!(index_pattern_matches(&"*a".repeat(60), &table));
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
    }
}
