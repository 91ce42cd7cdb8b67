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
}

/// Stores every record as it is, in the `events` table.
#[derive(Debug)]
pub struct RawEvents {
    table: Arc<str>,
}

impl Default for RawEvents {
    fn default() -> Self {
        RawEvents { table: Arc::from(EVENTS_TABLE) }
    }
}

impl Router for RawEvents {
    fn schema(&self) -> &str {
        RAW_SCHEMA
    }

    fn route(&self, record: Map<String, Value>) -> (Arc<str>, Map<String, Value>) {
        (self.table.clone(), record)
    }
}
