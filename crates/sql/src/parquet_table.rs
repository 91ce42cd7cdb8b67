//! Tables over Parquet that another tool wrote (Spark's `write.parquet`, a DuckDB `COPY`,
//! `hela sql COPY ... TO`), read in place rather than loaded: `--table NAME=PATH` with a
//! Parquet file or a directory holding `.parquet` files (Spark's `_SUCCESS` and `.crc`
//! files beside them are passed over).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::Schema;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use hela_source::walk::Walker;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use crate::SqlError;

/// The first bytes of every Parquet file.
const MAGIC: &[u8; 4] = b"PAR1";
const EXTENSION: &str = "parquet";

/// The Parquet files `paths` name, when they name Parquet: `None` when none of them does (they
/// are event logs), an error when they mix the two or a directory holds no Parquet file.
pub fn parquet_files(name: &str, paths: &[PathBuf]) -> Result<Option<Vec<PathBuf>>, SqlError> {
    let table_error = |message: String| SqlError::Table { name: name.to_string(), message };
    let mut parquet = Vec::new();
    let mut other = None;
    for path in paths {
        let found = if path.is_dir() { parquet_under(path).map_err(table_error)? } else if starts_with_magic(path) { vec![path.clone()] } else { Vec::new() };
        match found.is_empty() {
            true => other = Some(path),
            false => parquet.push((path, found)),
        }
    }
    match (parquet.first(), other) {
        (None, _) => Ok(None),
        (Some((parquet_path, _)), Some(other)) => Err(table_error(format!(
            "{} is Parquet but {} is not: a table is read from Parquet or from event logs, not both",
            parquet_path.display(),
            other.display()
        ))),
        (Some(_), None) => Ok(Some(parquet.into_iter().flat_map(|(_, files)| files).collect())),
    }
}

/// A table reading `files` where they lie, with their schemas merged: a column some files
/// lack reads as null in their rows.
pub fn parquet_table(name: &str, files: &[PathBuf]) -> Result<ListingTable, SqlError> {
    let table_error = |message: String| SqlError::Table { name: name.to_string(), message };
    let mut schemas = Vec::with_capacity(files.len());
    let mut urls = Vec::with_capacity(files.len());
    for file in files {
        let unreadable = |message: String| table_error(format!("{}: {message}", file.display()));
        let handle = File::open(file).map_err(|e| unreadable(e.to_string()))?;
        let metadata = ArrowReaderMetadata::load(&handle, ArrowReaderOptions::new()).map_err(|e| unreadable(e.to_string()))?;
        schemas.push(metadata.schema().as_ref().clone().with_metadata(Default::default()));
        let absolute = std::path::absolute(file).map_err(|e| unreadable(e.to_string()))?;
        urls.push(ListingTableUrl::parse(absolute.to_string_lossy()).map_err(|e| unreadable(e.to_string()))?);
    }
    let schema = Schema::try_merge(schemas).map_err(|e| table_error(format!("the files' schemas do not agree: {e}")))?;
    // The files are named one by one, whatever they end with.
    let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension("");
    let config = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options).with_schema(Arc::new(schema));
    ListingTable::try_new(config).map_err(|e| table_error(e.to_string()))
}

fn starts_with_magic(path: &Path) -> bool {
    let mut head = [0u8; 4];
    File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == MAGIC
}

/// The `.parquet` files under `dir`, in name order (hidden files and Spark's markers and
/// temporary directories passed over); an entry that cannot be read is an error.
fn parquet_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let wanted = |path: &Path| {
        let marker = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('_'));
        let temporary = path.components().any(|c| c.as_os_str() == "_temporary");
        path.extension().is_some_and(|e| e == EXTENSION) && !marker && !temporary
    };
    let mut walker = Walker::new(&wanted);
    walker.add(dir);
    match walker.errors.into_iter().next() {
        Some((path, error)) => Err(format!("{}: cannot read: {error}", path.display())),
        None => Ok(walker.files.into_iter().map(|(path, _)| path).collect()),
    }
}
