//! Saved detections go into the lake's `detections` table, through an ordinary ingest, so
//! they can be joined with the events in SQL. Saving the same detections twice stores them
//! once (the ingest recognises the input it already holds).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use hela_lake::{IngestOptions, IngestProgress, Lake, Notice, OneTable, Router, ingest};
use hela_sigma::Engine;

use crate::detection::{Detection, to_json};

/// The table detections are stored in.
pub const DETECTIONS_TABLE: &str = "detections";

/// Stores `detections` in the lake at `root` (made when it does not exist) and returns how
/// many were stored: none when the lake holds these detections already. What the ingest
/// reports goes to `notify`.
pub fn store(root: &Path, detections: &[Detection], engine: &Engine, notify: &mut dyn FnMut(String)) -> anyhow::Result<u64> {
    if detections.is_empty() {
        return Ok(0);
    }
    let lake = Lake::new(root);
    let schema = if lake.exists() { lake.catalog()?.schema } else { OneTable::default().schema().to_string() };
    // The lines are staged outside the lake: a new lake's directory takes only its own entries.
    let staged = tempfile::Builder::new().prefix("hela-detections-").suffix(".jsonl").tempfile().context("cannot stage the detections")?;
    let file = staged.path().to_path_buf();
    let written = write_lines(&file, detections, engine);
    let options = IngestOptions { router: Arc::new(OneTable::new(DETECTIONS_TABLE, &schema)), ..IngestOptions::default() };
    let result = written.and_then(|()| {
        ingest(&lake, std::slice::from_ref(&file), &options, &IngestProgress::default(), &mut |notice| match notice {
            Notice::Skipped { .. } => notify(format!("these detections are already in the lake's `{DETECTIONS_TABLE}` table")),
            Notice::Warning(_) | Notice::InputFailed { .. } => notify(notice.message().unwrap_or_default()),
            _ => {}
        })
        .map_err(anyhow::Error::from)
    });
    drop(staged);
    Ok(result?.records_stored)
}

/// Writes the detections as JSON lines in a fixed order (a lake's batches can arrive in any
/// order), so the same detections make the same file and are recognised when saved again.
fn write_lines(file: &Path, detections: &[Detection], engine: &Engine) -> anyhow::Result<()> {
    let mut lines: Vec<String> = detections
        .iter()
        .map(|detection| {
            let mut object = to_json(detection, engine);
            if let Some(map) = object.as_object_mut() {
                map.remove("event");
            }
            object.to_string()
        })
        .collect();
    lines.sort_unstable();
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).with_context(|| format!("cannot write {}", file.display()))?);
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}
