//! Which table of the lake each record goes to, with the record as it is to be stored.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::EVENTS_TABLE;
use crate::catalog::RAW_SCHEMA;

/// Decides the table of each record and may rewrite the record on its way there (a
/// schema such as HELK's renames fields and splits events into per-source tables).
/// Called from several threads at once.
pub trait Router: Send + Sync + std::fmt::Debug {
    /// The name of the schema records are stored in (`raw`, `helk`); a lake holds one.
    fn schema(&self) -> &str;

    /// The table `record` belongs to, and the record to store.
    fn route(&self, record: Map<String, Value>) -> (Arc<str>, Map<String, Value>);

    /// Whether each field is stored under its own name, so that the fields a query names
    /// are the record's own (no renaming, moving or deriving).
    fn keeps_field_names(&self) -> bool {
        false
    }

    /// The table every record is stored in as it is, when the router neither rewrites
    /// records nor chooses their tables: an ingest then reads them onto tapes, not maps.
    fn one_table(&self) -> Option<Arc<str>> {
        None
    }
}

/// Stores every record as it is, in one table; the raw schema's router (`events`) by default.
#[derive(Debug)]
pub struct OneTable {
    table: Arc<str>,
    schema: String,
}

/// The raw schema: every record as it is, in the `events` table.
pub type RawEvents = OneTable;

impl OneTable {
    /// Every record into `table`, in a lake of `schema` (`raw`, `helk`).
    pub fn new(table: &str, schema: &str) -> Self {
        OneTable { table: Arc::from(table), schema: schema.to_string() }
    }
}

impl Default for OneTable {
    fn default() -> Self {
        OneTable::new(EVENTS_TABLE, RAW_SCHEMA)
    }
}

impl Router for OneTable {
    fn schema(&self) -> &str {
        &self.schema
    }

    fn route(&self, record: Map<String, Value>) -> (Arc<str>, Map<String, Value>) {
        (self.table.clone(), record)
    }

    fn keeps_field_names(&self) -> bool {
        true
    }

    fn one_table(&self) -> Option<Arc<str>> {
        Some(self.table.clone())
    }
}
