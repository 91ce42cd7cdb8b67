//! Tables made on the fly from files, directories and archives (`--table NAME=PATH`),
//! inferred and converted exactly as an ingest would, held in memory for one session.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use hela_lake::Router;
use hela_schema::shape::query_schema;
use hela_schema::{RecordEvent, Shape, adapt_batch, records_to_batch, stream_records};
use hela_source::{ReadOptions, discover};
use rayon::prelude::*;

use crate::SqlError;

/// `NAME=PATH`: a table name and one file, directory or archive it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub name: String,
    pub path: PathBuf,
}

impl FromStr for TableSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            Some((name, path)) if !name.trim().is_empty() && !path.is_empty() => {
                Ok(TableSpec { name: name.trim().to_string(), path: PathBuf::from(path) })
            }
            _ => Err(format!("expected NAME=PATH, got `{text}`")),
        }
    }
}

/// Something worth telling the user while a table is read (a truncated archive, a bad line).
pub type Warn<'a> = &'a mut dyn FnMut(String);

/// Reads every path of one table into memory, split into `partitions` for parallel scans.
/// Each record is stored as `router` makes it (renamed to a schema's fields, say); the table
/// it names is not used: everything read goes to the one table.
pub fn load_table(
    name: &str,
    paths: &[PathBuf],
    partitions: usize,
    router: &dyn Router,
    warn: Warn,
) -> Result<MemTable, SqlError> {
    let table_error = |message: String| SqlError::Table { name: name.to_string(), message };
    let found = discover(paths);
    if let Some(error) = found.errors.into_iter().next() {
        return Err(table_error(error.to_string()));
    }
    for (path, reason) in found.skipped {
        warn(format!("{}: skipped: {reason}", path.display()));
    }
    let inputs = found.inputs;
    let mut shape = Shape::Null;
    let mut batches: Vec<RecordBatch> = Vec::new();
    let mut failure = None;
    let progress = AtomicU64::new(0);
    stream_records(&inputs, &ReadOptions::default(), &progress, &mut |event| {
        match event {
            RecordEvent::Records { records, .. } => {
                let records: Vec<_> = records.into_par_iter().map(|(record, _)| router.route(record).1).collect();
                records.iter().for_each(|r| shape.observe_record(r));
                batches.push(records_to_batch(&records, Arc::new(shape.storage_schema()))?);
            }
            RecordEvent::Bad { record, .. } => {
                warn(format!("{}:{}: skipped: {}", record.origin, record.line, record.reason))
            }
            RecordEvent::Warning { warning, .. } => warn(warning.to_string()),
            RecordEvent::Unreadable { part, .. } => warn(format!("unreadable: {part}")),
            RecordEvent::InputDone { result: Err(error), .. } => failure = Some(error.to_string()),
            RecordEvent::InputDone { result: Ok(()), .. } => {}
        }
        Ok::<(), arrow::error::ArrowError>(())
    })
    .map_err(|e| table_error(e.to_string()))?;
    if let Some(message) = failure {
        return Err(table_error(message));
    }
    let schema: SchemaRef = Arc::new(query_schema(&shape.storage_schema()));
    let partitions = partitions.max(1);
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    for (i, batch) in batches.iter().enumerate() {
        parts[i % partitions].push(adapt_batch(batch, schema.clone()).map_err(|e| table_error(e.to_string()))?);
    }
    MemTable::try_new(schema, parts).map_err(|e| table_error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_equals_path() {
        let spec: TableSpec = "dataTable=/data/a=b.zip".parse().unwrap();
        assert_eq!((spec.name.as_str(), spec.path.to_str().unwrap()), ("dataTable", "/data/a=b.zip"));
        assert!("nopath".parse::<TableSpec>().is_err());
        assert!("=x.json".parse::<TableSpec>().is_err());
    }
}
