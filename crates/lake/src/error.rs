//! Errors of the lake as a whole (a single bad input or record is not an error here).

use std::path::PathBuf;

/// What can stop a lake operation.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the catalog is not readable: {message}")]
    Catalog { path: PathBuf, message: String },
    #[error("{path}: not a hela lake (it holds `{entry}`); name an empty or new directory with --lake")]
    NotALake { path: PathBuf, entry: String },
    #[error("{0}: another writer (an ingest, or a hela serve) holds this lake; wait for it to finish or stop")]
    Locked(PathBuf),
    #[error("{path}: cannot write Parquet: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("{path}: this lake holds the {lake} schema; ingest with --schema {lake}, or name another lake for the {asked} schema")]
    SchemaMismatch { path: PathBuf, lake: String, asked: String },
    #[error("{url}: {message}")]
    Store { url: String, message: String },
    #[error("{0}: another writer committed to this lake while this one wrote; nothing was committed: run it again")]
    Conflict(String),
    #[error("{0}: a lake on an object store is written by `hela ingest` only; give a local directory with --lake for this")]
    WriteOnStore(String),
    #[error("{0}: no lake here (nothing has been ingested into it)")]
    NoLake(PathBuf),
    #[error("{path}: the lake has no table `{table}` (`hela tables` lists them)")]
    NoTable { path: PathBuf, table: String },
    #[error("cannot convert records to Arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

impl LakeError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> LakeError {
        let path = path.into();
        move |source| LakeError::Io { path, source }
    }
}
