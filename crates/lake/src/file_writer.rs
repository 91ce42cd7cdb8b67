//! A lake file's Parquet writer that encodes the columns of each row group in parallel on
//! the thread pool. A lake file has up to hundreds of columns; written by one
//! `ArrowWriter`, a partition's row group is encoded a column after another on one core
//! while the others wait for it (the largest partition of an ingest, or a file compaction
//! rewrites).

use std::fs::File;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, ArrowWriterOptions, compute_leaves};
use parquet::errors::ParquetError;
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

/// Writes record batches of one schema to a Parquet file in row groups of at most the rows
/// its properties set, as `ArrowWriter` does, each row group's columns encoded in parallel.
pub(crate) struct LakeFileWriter {
    file: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    max_rows: usize,
    /// The column writers of the row group being built, and its rows.
    row_group: Option<Vec<ArrowColumnWriter>>,
    rows: usize,
}

impl LakeFileWriter {
    /// A writer of `schema` to `file` with `options`.
    pub(crate) fn try_new(file: File, schema: SchemaRef, options: ArrowWriterOptions) -> Result<LakeFileWriter, ParquetError> {
        let (file, factory) = ArrowWriter::try_new_with_options(file, schema.clone(), options)?.into_serialized_writer()?;
        let max_rows = file.properties().max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        Ok(LakeFileWriter { file, factory, schema, max_rows, row_group: None, rows: 0 })
    }

    /// Encodes `batch`'s rows, ending each row group that reaches its rows.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<(), ParquetError> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let rows = (self.max_rows - self.rows).min(batch.num_rows() - offset);
            self.encode(&batch.slice(offset, rows))?;
            offset += rows;
            if self.rows >= self.max_rows {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn encode(&mut self, batch: &RecordBatch) -> Result<(), ParquetError> {
        let writers = match &mut self.row_group {
            Some(writers) => writers,
            none => none.insert(self.factory.create_column_writers(self.file.flushed_row_groups().len())?),
        };
        let mut leaves = Vec::with_capacity(writers.len());
        for (field, array) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, array)?);
        }
        writers.par_iter_mut().zip(leaves.par_iter()).try_for_each(|(writer, leaf)| writer.write(leaf))?;
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Ends the row group being built, writing it to the file.
    pub(crate) fn flush(&mut self) -> Result<(), ParquetError> {
        let Some(writers) = self.row_group.take() else { return Ok(()) };
        let chunks: Vec<ArrowColumnChunk> = writers.into_par_iter().map(ArrowColumnWriter::close).collect::<Result<_, _>>()?;
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.rows = 0;
        Ok(())
    }

    /// Bytes the row group being built holds in memory.
    pub(crate) fn memory_size(&self) -> usize {
        self.row_group.iter().flatten().map(ArrowColumnWriter::memory_size).sum()
    }

    /// Ends the last row group and the file (its footer), and gives the file back.
    pub(crate) fn into_inner(mut self) -> Result<File, ParquetError> {
        self.flush()?;
        self.file.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, ListArray, StringArray, StructArray};
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::properties::WriterProperties;

    use super::*;

    #[test]
    fn writes_the_file_arrow_writer_writes_row_group_for_row_group() {
        let rows = 70_000;
        let text: ArrayRef = Arc::new(StringArray::from_iter((0..rows).map(|i| (i % 3 != 0).then(|| format!("cmd.exe /c {}", i % 1000)))));
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>((0..rows).map(|i| (i % 5 != 0).then(|| vec![Some(i), None]))));
        let number: ArrayRef = Arc::new(Int64Array::from_iter((0..rows).map(|i| (i % 7 != 0).then_some(i))));
        let inner = Field::new("n", DataType::Int64, true);
        let object: ArrayRef = Arc::new(StructArray::new(vec![inner].into(), vec![number.clone()], None));
        let schema = Arc::new(Schema::new(vec![
            Field::new("text", DataType::Utf8, true),
            Field::new("list", list.data_type().clone(), true),
            Field::new("number", DataType::Int64, true),
            Field::new("object", object.data_type().clone(), true),
        ]));
        let batch = RecordBatch::try_new(schema.clone(), vec![text, list, number, object]).unwrap();
        let options = || {
            let properties = WriterProperties::builder().set_max_row_group_row_count(Some(32_768)).build();
            ArrowWriterOptions::new().with_properties(properties).with_skip_arrow_metadata(true)
        };
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = (dir.path().join("ours.parquet"), dir.path().join("theirs.parquet"));
        let mut writer = LakeFileWriter::try_new(File::create(&ours).unwrap(), schema.clone(), options()).unwrap();
        let mut arrow_writer = ArrowWriter::try_new_with_options(File::create(&theirs).unwrap(), schema.clone(), options()).unwrap();
        // Batches that end inside row groups and across them; a row group ended early.
        for (offset, length) in [(0, 10_000), (10_000, 40_000), (50_000, 5_000)] {
            writer.write(&batch.slice(offset, length)).unwrap();
            arrow_writer.write(&batch.slice(offset, length)).unwrap();
        }
        assert!(writer.memory_size() > 0);
        writer.flush().unwrap();
        arrow_writer.flush().unwrap();
        assert_eq!(writer.memory_size(), 0);
        writer.write(&batch.slice(55_000, 15_000)).unwrap();
        arrow_writer.write(&batch.slice(55_000, 15_000)).unwrap();
        writer.into_inner().unwrap().sync_all().unwrap();
        arrow_writer.close().unwrap();
        assert!(std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(), "the same bytes");
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&ours).unwrap()).unwrap();
        let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|group| group.num_rows()).collect();
        assert_eq!(groups, [32_768, 22_232, 15_000]);
        let read: Vec<RecordBatch> = reader.build().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(arrow::compute::concat_batches(&schema, &read).unwrap(), batch);
    }
}
