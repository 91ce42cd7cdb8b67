//! Tables made on the fly from files, directories and archives (`--table NAME=PATH`),
//! inferred and converted exactly as an ingest would, held in memory for one session.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use datafusion::datasource::MemTable;
use hela_lake::Router;
use hela_schema::shape::query_schema;
use hela_schema::{KeptFields, RecordEvent, RecordForm, Shape, adapt_batch, records_to_batch, stream_records};
use hela_source::{ReadOptions, discover};
use rayon::prelude::*;
use serde_json::{Map, Value};

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
/// Each record is read keeping the fields `kept`, then stored as `router` makes it (renamed
/// to a schema's fields, say); the table it names is not used: everything read goes to the
/// one table.
pub fn load_table(
    name: &str,
    paths: &[PathBuf],
    partitions: usize,
    router: &dyn Router,
    kept: &KeptFields,
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
    let mut converter = Converter::default();
    let mut failure = None;
    let progress = AtomicU64::new(0);
    stream_records(&inputs, &ReadOptions::default(), &RecordForm::Maps(kept.clone()), &progress, None, &mut |event| {
        match event {
            RecordEvent::Records { records, .. } => {
                converter.push(records.into_maps(), router)?;
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
    converter.convert(router).map_err(|e| table_error(e.to_string()))?;
    let schema: SchemaRef = Arc::new(query_schema(&converter.shape.storage_schema()));
    let adapted: Vec<RecordBatch> =
        converter.batches.par_iter().map(|batch| adapt_batch(batch, schema.clone())).collect::<Result<_, _>>().map_err(|e| table_error(e.to_string()))?;
    let partitions = partitions.max(1);
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    for (i, batch) in adapted.into_iter().enumerate() {
        parts[i % partitions].push(batch);
    }
    MemTable::try_new(schema, parts).map_err(|e| table_error(e.to_string()))
}

/// Chunks of records routed, observed and converted in one parallel step.
const CHUNKS_CONVERTED_TOGETHER: usize = 4;

/// Records into Arrow batches, chunk by chunk, in parallel: each chunk is converted under the
/// shape of every record up to its end, as if the records were observed one by one.
#[derive(Default)]
struct Converter {
    shape: Shape,
    pending: Vec<Vec<Map<String, Value>>>,
    batches: Vec<RecordBatch>,
}

impl Converter {
    /// Takes a chunk of records, and converts the chunks taken once there are
    /// [`CHUNKS_CONVERTED_TOGETHER`].
    fn push(&mut self, chunk: Vec<Map<String, Value>>, router: &dyn Router) -> Result<(), ArrowError> {
        self.pending.push(chunk);
        if self.pending.len() >= CHUNKS_CONVERTED_TOGETHER {
            self.convert(router)?;
        }
        Ok(())
    }

    /// Converts the chunks taken and not yet converted.
    fn convert(&mut self, router: &dyn Router) -> Result<(), ArrowError> {
        let chunks: Vec<(Vec<Map<String, Value>>, Shape)> = std::mem::take(&mut self.pending)
            .into_par_iter()
            .map(|chunk| {
                let routed: Vec<_> = chunk.into_iter().map(|record| router.route(record).1).collect();
                let mut shape = Shape::Null;
                routed.iter().for_each(|record| shape.observe_record(record));
                (routed, shape)
            })
            .collect();
        let schemas: Vec<SchemaRef> = chunks
            .iter()
            .map(|(_, shape)| {
                self.shape.merge(shape.clone());
                Arc::new(self.shape.storage_schema())
            })
            .collect();
        let converted: Vec<RecordBatch> =
            chunks.par_iter().zip(schemas).map(|((records, _), schema)| records_to_batch(records, schema)).collect::<Result<_, _>>()?;
        self.batches.extend(converted);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use hela_lake::RawEvents;
    use serde_json::json;

    use super::*;

    #[test]
    fn chunks_converted_in_parallel_are_typed_as_records_observed_one_by_one() {
        let chunk = |lines: &[Value]| -> Vec<Map<String, Value>> { lines.iter().map(|v| v.as_object().unwrap().clone()).collect() };
        let chunks = vec![
            chunk(&[json!({"n": 1, "o": {"a": 1}}), json!({"s": "x"})]),
            chunk(&[json!({"n": 2.5, "o": {"b": true}}), json!({})]),
            chunk(&[json!({"n": 9007199254740993_i64, "l": [1]}), json!({"o": "text", "l": [1.5]})]),
            chunk(&[json!({"s": 3, "new": null})]),
            chunk(&[json!({"n": 4})]),
        ];
        let mut sequential = Shape::Null;
        let expected: Vec<RecordBatch> = chunks
            .iter()
            .map(|records| {
                records.iter().for_each(|r| sequential.observe_record(r));
                records_to_batch(records, Arc::new(sequential.storage_schema())).unwrap()
            })
            .collect();
        let mut converter = Converter::default();
        for (n, records) in chunks.into_iter().enumerate() {
            converter.push(records, &RawEvents::default()).unwrap();
            if n == 1 {
                converter.convert(&RawEvents::default()).unwrap();
            }
        }
        converter.convert(&RawEvents::default()).unwrap();
        assert_eq!(converter.shape, sequential);
        assert_eq!(converter.batches, expected);
    }

    #[test]
    fn parses_name_equals_path() {
        let spec: TableSpec = "dataTable=/data/a=b.zip".parse().unwrap();
        assert_eq!((spec.name.as_str(), spec.path.to_str().unwrap()), ("dataTable", "/data/a=b.zip"));
        assert!("nopath".parse::<TableSpec>().is_err());
        assert!("=x.json".parse::<TableSpec>().is_err());
    }
}
