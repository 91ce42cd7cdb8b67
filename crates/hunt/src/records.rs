//! The schema records are stored in: as they come (`raw`) or HELK's (`helk`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use hela_helk::Normaliser;
use hela_lake::{RawEvents, Router};

/// The schemas records can be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSchema {
    /// Field names as in the data, every record in the `events` table.
    Raw,
    /// HELK's field names and one table per HELK index.
    Helk,
}

/// The router that stores records in `schema`, with HELK's mappings read from
/// `helk_mappings` instead of the built-in ones when given.
pub fn router(schema: RecordSchema, helk_mappings: Option<&Path>) -> anyhow::Result<Arc<dyn Router>> {
    match (schema, helk_mappings) {
        (RecordSchema::Raw, None) => Ok(Arc::new(RawEvents::default())),
        (RecordSchema::Raw, Some(_)) => anyhow::bail!("--helk-mappings needs --schema helk"),
        (RecordSchema::Helk, None) => Ok(Arc::new(Normaliser::embedded().context("the built-in HELK mappings")?)),
        (RecordSchema::Helk, Some(dir)) => {
            let normaliser = Normaliser::from_dir(dir).with_context(|| format!("the HELK mappings in {}", dir.display()))?;
            Ok(Arc::new(normaliser))
        }
    }
}

/// The router for the schema named `schema` (`raw` or `helk`, as `--schema` takes it).
pub fn router_named(schema: &str, helk_mappings: Option<&Path>) -> anyhow::Result<Arc<dyn Router>> {
    let schema = match schema.to_ascii_lowercase().as_str() {
        "raw" => RecordSchema::Raw,
        "helk" => RecordSchema::Helk,
        _ => anyhow::bail!("unknown schema `{schema}`: raw or helk"),
    };
    router(schema, helk_mappings)
}
