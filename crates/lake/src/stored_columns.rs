//! The columns of a lake file that hold values. Files rewritten by earlier builds held every
//! column of their table, nearly all of them empty, and each column costs every query that
//! opens the file. A merge leaves out the top-level columns that hold no value in its files:
//! they read as nulls, as any column a file lacks does.

use std::fs::File;
use std::path::Path;

use arrow::array::Array;
use arrow::datatypes::{Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};

use crate::LakeError;
use crate::writer::parquet_error;

/// The schema of the file `reader` reads (at `path`) without its top-level columns that hold
/// no value. A column is empty when the file's statistics count every value of each of its
/// leaves as null; a struct or list must also be null in every row once read, as a struct
/// of null fields or an empty list is a value.
pub(crate) fn schema_of_values(path: &Path, reader: &ParquetRecordBatchReaderBuilder<File>) -> Result<SchemaRef, LakeError> {
    let schema = reader.schema();
    let descriptor = reader.parquet_schema();
    if descriptor.root_schema().get_fields().len() != schema.fields().len() {
        return Ok(schema.clone());
    }
    let mut empty = vec![true; schema.fields().len()];
    for leaf in 0..descriptor.num_columns() {
        let all_null = reader.metadata().row_groups().iter().all(|group| {
            let chunk = group.column(leaf);
            chunk.statistics().and_then(|s| s.null_count_opt()) == Some(chunk.num_values() as u64)
        });
        empty[descriptor.get_column_root_idx(leaf)] &= all_null;
    }
    let nested: Vec<usize> = (0..empty.len()).filter(|&i| empty[i] && schema.field(i).data_type().is_nested()).collect();
    if !nested.is_empty() {
        // The footer read already serves this second reader.
        let file = File::open(path).map_err(LakeError::io(path))?;
        let metadata = ArrowReaderMetadata::try_new(reader.metadata().clone(), ArrowReaderOptions::new()).map_err(parquet_error(path))?;
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata);
        let projection = ProjectionMask::roots(builder.parquet_schema(), nested.iter().copied());
        for batch in builder.with_projection(projection).build().map_err(parquet_error(path))? {
            let batch = batch.map_err(|e| LakeError::Parquet { path: path.to_path_buf(), message: e.to_string() })?;
            for (column, &root) in batch.columns().iter().zip(&nested) {
                empty[root] &= column.null_count() == column.len();
            }
        }
    }
    let kept: Vec<_> = schema.fields().iter().zip(&empty).filter(|(_, empty)| !**empty).map(|(field, _)| field.clone()).collect();
    Ok(Schema::new(kept).into())
}
