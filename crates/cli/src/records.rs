//! The schema records are stored in, from the command line's `--schema`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use clap::ValueEnum;
use hela_helk::Normaliser;
use hela_lake::{RawEvents, Router};

use crate::cli::{RecordSchema, RecordSchemaArgs};

/// The router that stores records in the schema asked for.
pub fn router(args: &RecordSchemaArgs) -> anyhow::Result<Arc<dyn Router>> {
    match (args.schema, &args.helk_mappings) {
        (RecordSchema::Raw, None) => Ok(Arc::new(RawEvents::default())),
        (RecordSchema::Raw, Some(_)) => anyhow::bail!("--helk-mappings needs --schema helk"),
        (RecordSchema::Helk, None) => Ok(Arc::new(Normaliser::embedded().context("the built-in HELK mappings")?)),
        (RecordSchema::Helk, Some(dir)) => {
            let normaliser = Normaliser::from_dir(dir).with_context(|| format!("the HELK mappings in {}", dir.display()))?;
            Ok(Arc::new(normaliser))
        }
    }
}

/// The router for the schema named `schema` (`raw` or `helk`, as `--schema` takes it), with
/// HELK's mappings read from `helk_mappings` when given.
pub fn router_named(schema: &str, helk_mappings: Option<&Path>) -> anyhow::Result<Arc<dyn Router>> {
    let schema = RecordSchema::from_str(schema, true).map_err(|_| anyhow::anyhow!("unknown schema `{schema}`: raw or helk"))?;
    router(&RecordSchemaArgs { schema, helk_mappings: helk_mappings.map(Path::to_path_buf) })
}
