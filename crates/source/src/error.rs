//! Errors that stop one input from being read at all.

use std::path::PathBuf;

/// An input that could not be opened or understood; the ingest reports it and goes on.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file or directory could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The reader failed on the input's bytes (a fault, caught so the other inputs go on).
    #[error("{path}: reading failed: {message}")]
    Failed { path: PathBuf, message: String },
    /// A zip archive whose central directory could not be read.
    #[error("{path}: not a readable zip archive: {message}")]
    Zip { path: PathBuf, message: String },
}
