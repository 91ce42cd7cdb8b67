//! The ids of the documents the lake holds, read back at start so that a document sent
//! again after a restart is still recognised.

use std::fs::File;

use arrow::array::{Array, AsArray};
use hela_lake::{Catalog, Lake, LakeError};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The `(_index, _id)` of the most recent `limit` documents of the lake's files (newest
/// files last in each table's list), oldest first. Files without both columns hold none.
pub fn recent_ids(lake: &Lake, catalog: &Catalog, limit: usize) -> Result<Vec<(String, String)>, LakeError> {
    let mut newest_first = Vec::new();
    let files = catalog.tables.values().flat_map(|t| t.files.iter().rev());
    for file in files {
        if newest_first.len() >= limit {
            break;
        }
        let path = lake.path_of(&file.path);
        let parquet_error = |e: parquet::errors::ParquetError| LakeError::Parquet { path: path.clone(), message: e.to_string() };
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).map_err(LakeError::io(&path))?).map_err(parquet_error)?;
        let columns = builder.parquet_schema().columns();
        let position = |name: &str| columns.iter().position(|c| c.path().parts() == [name]);
        let (Some(index_at), Some(id_at)) = (position("_index"), position("_id")) else { continue };
        let mask = ProjectionMask::leaves(builder.parquet_schema(), [index_at, id_at]);
        let mut ids = Vec::new();
        for batch in builder.with_projection(mask).build().map_err(parquet_error)? {
            let batch = batch?;
            let (Some(index), Some(id)) = (batch.column_by_name("_index"), batch.column_by_name("_id")) else { continue };
            let (Some(index), Some(id)) = (index.as_string_opt::<i32>(), id.as_string_opt::<i32>()) else { continue };
            for row in 0..batch.num_rows() {
                if index.is_valid(row) && id.is_valid(row) {
                    ids.push((index.value(row).to_string(), id.value(row).to_string()));
                }
            }
        }
        newest_first.extend(ids.into_iter().rev());
    }
    newest_first.truncate(limit);
    newest_first.reverse();
    Ok(newest_first)
}
