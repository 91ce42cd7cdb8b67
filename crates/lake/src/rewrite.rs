//! Rewrites older files of a table whose nested values (structs, lists) became strings when
//! newer data widened the column, since Parquet readers cannot cast a struct to a string.
//! The rewritten file holds each such value as its JSON text, as Spark does.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef, Fields, Schema, SchemaRef};
use hela_schema::adapt_batch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::order::{Held, RowOrder};
use crate::writer::{lake_file_writer, parquet_error};
use crate::{DataFile, Lake, LakeError};

/// True when a file stored as `stored` cannot be read as `wanted` without rewriting.
pub fn needs_rewrite(stored: &DataType, wanted: &DataType) -> bool {
    match (stored, wanted) {
        (DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_), DataType::Utf8) => true,
        (DataType::Struct(have), DataType::Struct(want)) => have
            .iter()
            .any(|h| want.find(h.name()).is_some_and(|(_, w)| needs_rewrite(h.data_type(), w.data_type()))),
        (DataType::List(have), DataType::List(want)) => needs_rewrite(have.data_type(), want.data_type()),
        _ => false,
    }
}

/// Rewrites `file` (a committed file of the lake) with its columns typed as in the table's
/// schema `table`, into `staged`, when its schema needs it. The file keeps its own columns:
/// a column of the table it never held is read as nulls anyway, and written out it would
/// only swell the file's footer. Returns the size of the file written, or `None` when it
/// was left alone.
pub fn rewrite_if_needed(lake: &Lake, file: &DataFile, table: &Schema, staged: &Path) -> Result<Option<u64>, LakeError> {
    let path = lake.path_of(&file.path);
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).map_err(LakeError::io(&path))?).map_err(parquet_error(&path))?;
    let stored = reader.schema().fields().clone();
    let target = narrowed_fields(&stored, table.fields());
    if !needs_rewrite(&DataType::Struct(stored), &DataType::Struct(target.clone())) {
        return Ok(None);
    }
    write_as(vec![(path, reader)], &Arc::new(Schema::new(target)), RowOrder::AsStored, staged).map(Some)
}

/// The fields `have` with the types the table's fields `want` give them, structs (at any
/// depth) holding only the fields they have.
fn narrowed_fields(have: &Fields, want: &Fields) -> Fields {
    have.iter().map(|h| want.find(h.name()).map_or_else(|| h.clone(), |(_, w)| narrowed(h, w))).collect()
}

/// The field `want`, typed for a value stored as the field `have`.
fn narrowed(have: &FieldRef, want: &FieldRef) -> FieldRef {
    let data_type = match (have.data_type(), want.data_type()) {
        (DataType::Struct(have), DataType::Struct(want)) => DataType::Struct(narrowed_fields(have, want)),
        (DataType::List(have), DataType::List(want)) => DataType::List(narrowed(have, want)),
        (DataType::LargeList(have), DataType::LargeList(want)) => DataType::LargeList(narrowed(have, want)),
        (_, wanted) => wanted.clone(),
    };
    Arc::new(want.as_ref().clone().with_data_type(data_type))
}

/// Writes the rows of `sources` (each a file and its reader) in `order` as one file at
/// `staged` with the schema `target`, which holds each source's columns that hold values
/// (a column not in it is left out). Returns its size.
pub(crate) fn write_as(
    sources: Vec<(PathBuf, ParquetRecordBatchReaderBuilder<File>)>,
    target: &SchemaRef,
    order: RowOrder,
    staged: &Path,
) -> Result<u64, LakeError> {
    let out = File::create(staged).map_err(LakeError::io(staged))?;
    let mut writer = lake_file_writer(out, Arc::clone(target), staged)?;
    let mut held = Held::new(order);
    for (path, reader) in sources {
        for batch in reader.build().map_err(parquet_error(&path))? {
            let batch = batch.map_err(|e| LakeError::Parquet { path: path.clone(), message: e.to_string() })?;
            for ready in held.push(adapt_batch(&batch, Arc::clone(target))?) {
                writer.write(&ready).map_err(parquet_error(staged))?;
            }
        }
    }
    if let Some(sorted) = held.finish().map_err(|e| LakeError::Parquet { path: staged.to_path_buf(), message: e.to_string() })? {
        writer.write(&sorted).map_err(parquet_error(staged))?;
    }
    let out = writer.into_inner().map_err(parquet_error(staged))?;
    out.sync_all().map_err(LakeError::io(staged))?;
    Ok(out.metadata().map_err(LakeError::io(staged))?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    #[test]
    fn only_nested_values_turned_to_strings_need_a_rewrite() {
        let s = |fields: Vec<Field>| DataType::Struct(fields.into());
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int64, true)));
        assert!(needs_rewrite(&s(vec![Field::new("a", DataType::Int64, true)]), &DataType::Utf8));
        assert!(needs_rewrite(&list, &DataType::Utf8));
        assert!(!needs_rewrite(&DataType::Int64, &DataType::Utf8));
        assert!(!needs_rewrite(&DataType::Null, &DataType::Utf8));
        let nested_old = s(vec![Field::new("x", s(vec![Field::new("y", DataType::Int64, true)]), true)]);
        let nested_new = s(vec![Field::new("x", DataType::Utf8, true), Field::new("z", DataType::Utf8, true)]);
        assert!(needs_rewrite(&nested_old, &nested_new));
        assert!(!needs_rewrite(&nested_old, &s(vec![Field::new("z", DataType::Utf8, true)])));
    }

    #[test]
    fn a_rewritten_file_keeps_its_own_fields_at_every_depth() {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        let structure = |name: &str, fields: Vec<Field>| Field::new(name, DataType::Struct(fields.into()), true);
        let list_of = |name: &str, item: Field| Field::new(name, DataType::List(Arc::new(item)), true);
        let stored: Fields = vec![
            structure("host", vec![text("name")]),
            structure("event_data", vec![text("Image")]),
            list_of("tags", structure("item", vec![text("a")])),
        ]
        .into();
        let table: Fields = vec![
            text("Channel"),
            text("host"),
            structure("event_data", vec![text("CommandLine"), text("Image"), text("User")]),
            list_of("tags", structure("item", vec![text("a"), text("b")])),
        ]
        .into();
        let expected: Fields = vec![text("host"), structure("event_data", vec![text("Image")]), list_of("tags", structure("item", vec![text("a")]))].into();
        assert_eq!(narrowed_fields(&stored, &table), expected);
    }
}
