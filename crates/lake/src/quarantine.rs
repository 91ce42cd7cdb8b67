//! The quarantine: records (and inputs) that could not be stored, kept as JSON lines with
//! where they came from and why, so nothing read is ever silently lost.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::prelude::{BASE64_STANDARD, Engine};
use hela_schema::BadRecord;
use serde::Serialize;

use crate::LakeError;

/// One quarantined item as written to the quarantine file.
#[derive(Debug, Serialize)]
pub struct QuarantineEntry<'a> {
    /// File (and archive member) it came from.
    pub source: &'a str,
    /// 1-based line, when the problem is one line.
    pub line: Option<u64>,
    pub reason: &'a str,
    /// The line as read, when there is one (bytes that are not UTF-8 replaced).
    pub text: Option<&'a str>,
    /// The line's exact bytes in base64, when they are not UTF-8 text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// Appends quarantined items to a staged file, created on first use.
pub struct QuarantineWriter {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    count: u64,
}

impl QuarantineWriter {
    pub fn new(path: PathBuf) -> Self {
        Self { path, file: None, count: 0 }
    }

    /// Quarantines one bad line.
    pub fn record(&mut self, bad: &BadRecord) -> Result<(), LakeError> {
        let source = bad.origin.to_string();
        let base64 = bad.raw.as_ref().map(|raw| BASE64_STANDARD.encode(raw));
        self.write(&QuarantineEntry { source: &source, line: Some(bad.line), reason: &bad.reason, text: Some(&bad.text), base64 })
    }

    /// Quarantines an input that could not be read at all.
    pub fn input(&mut self, source: &str, reason: &str) -> Result<(), LakeError> {
        self.write(&QuarantineEntry { source, line: None, reason, text: None, base64: None })
    }

    fn write(&mut self, entry: &QuarantineEntry) -> Result<(), LakeError> {
        if self.file.is_none() {
            let file = File::create(&self.path).map_err(LakeError::io(&self.path))?;
            self.file = Some(BufWriter::new(file));
        }
        let file = self.file.as_mut().expect("opened above");
        serde_json::to_writer(&mut *file, entry).map_err(|e| LakeError::io(&self.path)(e.into()))?;
        file.write_all(b"\n").map_err(LakeError::io(&self.path))?;
        self.count += 1;
        Ok(())
    }

    /// Items written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes and syncs the file; returns its path if anything was written.
    pub fn finish(&mut self) -> Result<Option<&Path>, LakeError> {
        let Some(file) = self.file.take() else { return Ok(None) };
        let file = file.into_inner().map_err(|e| LakeError::io(&self.path)(e.into_error()))?;
        file.sync_all().map_err(LakeError::io(&self.path))?;
        Ok(Some(&self.path))
    }
}
