//! The schema records are stored in, from the command line's `--schema`.

use std::sync::Arc;

use anyhow::Context;
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
