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
    let mut writer = lake_file_writer(out, Arc::clone(target), staged, order.rows_per_row_group())?;
    let mut held = Held::new(order);
    let sorting = |e: arrow::error::ArrowError| LakeError::Parquet { path: staged.to_path_buf(), message: e.to_string() };
    for (path, reader) in sources {
        for batch in reader.build().map_err(parquet_error(&path))? {
            let batch = batch.map_err(|e| LakeError::Parquet { path: path.clone(), message: e.to_string() })?;
            for ready in held.push(adapt_batch(&batch, Arc::clone(target))?).map_err(&sorting)? {
                writer.write(&ready).map_err(parquet_error(staged))?;
            }
        }
    }
    if let Some(sorted) = held.finish().map_err(&sorting)? {
        writer.write(&sorted).map_err(parquet_error(staged))?;
    }
    let out = writer.into_inner().map_err(parquet_error(staged))?;
    out.sync_all().map_err(LakeError::io(staged))?;
    Ok(out.metadata().map_err(LakeError::io(staged))?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::{ROWS_PER_ROW_GROUP, SORTED_ROWS_PER_ROW_GROUP};
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

    /// The rows of each row group of the file at `path`, and the least and greatest
    /// `EventID` its statistics give.
    fn row_groups(path: &Path) -> Vec<(i64, i64, i64)> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::file::statistics::Statistics;
        let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
        let metadata = reader.metadata();
        let column = metadata.file_metadata().schema_descr().columns().iter().position(|c| c.name() == "EventID").unwrap();
        let stats = |group: &parquet::file::metadata::RowGroupMetaData| match group.column(column).statistics() {
            Some(Statistics::Int64(ids)) => (*ids.min_opt().unwrap(), *ids.max_opt().unwrap()),
            other => panic!("EventID statistics: {other:?}"),
        };
        metadata.row_groups().iter().map(|g| (g.num_rows(), stats(g).0, stats(g).1)).collect()
    }

    #[test]
    fn rows_sorted_by_event_are_written_in_row_groups_that_each_hold_few_event_numbers() {
        use arrow::array::{Int64Array, RecordBatch};
        let dir = tempfile::tempdir().unwrap();
        let rows = 40_000;
        let schema = Arc::new(Schema::new(vec![Field::new("EventID", DataType::Int64, true)]));
        let ids = Int64Array::from_iter_values((0..rows).map(|i| i % 10));
        let source = dir.path().join("source.parquet");
        let mut writer = crate::writer::lake_file_writer(File::create(&source).unwrap(), schema.clone(), &source, ROWS_PER_ROW_GROUP).unwrap();
        writer.write(&RecordBatch::try_new(schema.clone(), vec![Arc::new(ids)]).unwrap()).unwrap();
        writer.into_inner().unwrap();
        assert_eq!(row_groups(&source), [(rows, 0, 9)]);

        let write = |order: RowOrder, name: &str| {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&source).unwrap()).unwrap();
            let staged = dir.path().join(name);
            write_as(vec![(source.clone(), reader)], &schema, order, &staged).unwrap();
            row_groups(&staged)
        };
        let as_stored = write(RowOrder::AsStored, "as-stored.parquet");
        assert_eq!(as_stored, [(rows, 0, 9)], "one row group, as before");
        let sorted = write(RowOrder::EventAndTime { memory: 64 << 20 }, "sorted.parquet");
        let group = SORTED_ROWS_PER_ROW_GROUP as i64;
        assert_eq!(sorted, [(group, 0, 4), (group, 4, 8), (rows - 2 * group, 8, 9)], "a row group per {group} sorted rows");
    }
}
