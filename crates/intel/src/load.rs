//! Loading indicator files into the lake, each file once: its fingerprint is committed
//! with its indicators, so loading it again is recognised.

use std::path::Path;
use std::sync::Arc;

use hela_lake::fingerprint::fingerprint;
use hela_lake::{AppendBatch, Appender, Lake, LakeError, OneTable};
use hela_schema::BadRecord;
use hela_source::Origin;

use crate::read::read;

/// The lake table indicators are loaded into.
pub const INDICATORS_TABLE: &str = "indicators";

/// The largest file read: a STIX bundle or MISP event is one JSON document, read whole.
const MAX_FILE_BYTES: u64 = 1 << 30;

/// What loading one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadSummary {
    /// Its indicators were stored; its refused entries were quarantined.
    Loaded { format: &'static str, stored: u64, refused: u64 },
    /// The same file was loaded before.
    AlreadyLoaded,
}

/// Loads each of `files` into the `indicators` table of `lake`, one commit per file, and
/// reports each; `report` also hears each refused entry (where, and why). A file that
/// cannot be read at all is an error that names it; the files before it stay loaded.
pub fn load(lake: &Lake, files: &[impl AsRef<Path>], report: &mut dyn FnMut(&Path, &str)) -> Result<Vec<LoadSummary>, String> {
    let schema = match lake.exists() {
        true => lake.catalog().map_err(|e| e.to_string())?.schema,
        false => hela_lake::catalog::RAW_SCHEMA.to_string(),
    };
    let mut appender = Appender::open(lake, Arc::new(OneTable::new(INDICATORS_TABLE, &schema))).map_err(|e: LakeError| e.to_string())?;
    let mut summaries = Vec::new();
    for file in files {
        let file = file.as_ref();
        let checkpoint = checkpoint(file)?;
        if appender.catalog().checkpoints.contains_key(&checkpoint) {
            summaries.push(LoadSummary::AlreadyLoaded);
            continue;
        }
        let read = read_file(file, checkpoint)?;
        read.bad().iter().for_each(|bad| report(file, &bad.reason));
        let format = read.format;
        let summary = appender.append(read.batch).map_err(|e| format!("{}: {e}", file.display()))?;
        summaries.push(LoadSummary::Loaded { format, stored: summary.records_stored, refused: summary.records_quarantined });
    }
    Ok(summaries)
}

/// An indicator file read for one commit: its indicators' records for the `indicators`
/// table, its refused entries for the quarantine, and its fingerprint as the checkpoint
/// that recognises it loaded.
pub struct FileRead {
    /// The format it was read as.
    pub format: &'static str,
    /// Its records, refused entries and checkpoint.
    pub batch: AppendBatch,
}

impl FileRead {
    /// The refused entries.
    pub fn bad(&self) -> &[BadRecord] {
        &self.batch.bad
    }
}

/// The checkpoint that records `file` loaded: its fingerprint.
pub fn checkpoint(file: &Path) -> Result<String, String> {
    Ok(format!("intel {}", fingerprint(file).map_err(|e| format!("{}: {e}", file.display()))?))
}

/// Reads `file` (whose [`checkpoint`] is `checkpoint`) for one commit into the
/// `indicators` table; an error names the file.
pub fn read_file(file: &Path, checkpoint: String) -> Result<FileRead, String> {
    let name = file.display().to_string();
    let size = std::fs::metadata(file).map_err(|e| format!("{name}: {e}"))?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("{name}: {size} bytes; indicator files are read whole, up to {MAX_FILE_BYTES} bytes: split it"));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{name}: {e}"))?;
    let read = read(&bytes).map_err(|e| format!("{name}: {e}"))?;
    let origin = Origin::file(name.as_str());
    let bad = read.refused.iter().map(|r| BadRecord::new(origin.clone(), 0, format!("{}: {}", r.at, r.reason), r.text.as_bytes())).collect();
    let records = read.indicators.iter().map(|i| i.record(&name)).collect();
    Ok(FileRead { format: read.format, batch: AppendBatch { records, bad, checkpoints: vec![(checkpoint, 1)], ..AppendBatch::default() } })
}
