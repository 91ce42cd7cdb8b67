//! Writes a query result as an aligned table, CSV, JSON, JSON lines, Parquet or an Arrow IPC
//! stream. Every format but the table streams batch by batch.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use futures::StreamExt;
use hela_schema::adapt::adapt_array;

use crate::SqlError;
use crate::spark::shown_name;

/// The formats a result can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned text table.
    Table,
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
    Parquet,
    /// Arrow IPC stream (for pyarrow, pandas, polars).
    Arrow,
}

impl OutputFormat {
    /// Every format with its name.
    pub const ALL: [(&'static str, OutputFormat); 6] = [
        ("table", OutputFormat::Table),
        ("csv", OutputFormat::Csv),
        ("json", OutputFormat::Json),
        ("jsonl", OutputFormat::Jsonl),
        ("parquet", OutputFormat::Parquet),
        ("arrow", OutputFormat::Arrow),
    ];
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
            format!("unknown format `{name}`; formats: {}", names.join(", "))
        })
    }
}

/// How the `table` format shows cells.
#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
    /// Longest cell shown, in characters; longer ones are cut with `…`. `None` shows all.
    pub max_width: Option<usize>,
}

/// Runs `frame` and writes its result to `out`. Returns the number of rows written.
pub async fn write_result(frame: DataFrame, format: OutputFormat, style: TableStyle, out: &mut (dyn Write + Send)) -> Result<u64, SqlError> {
    let schema = frame.schema().as_arrow().clone();
    let stream = frame.execute_stream().await?;
    write_stream(&schema, stream, format, style, out).await
}

/// Writes a result already in memory (`schema` is the query's) to `out`. Returns the
/// number of rows written.
pub async fn write_batches(schema: &Schema, batches: Vec<RecordBatch>, format: OutputFormat, style: TableStyle, out: &mut (dyn Write + Send)) -> Result<u64, SqlError> {
    write_stream(schema, futures::stream::iter(batches.into_iter().map(Ok)), format, style, out).await
}

/// Writes a result as it is computed (`schema` is the query's) to `out`. Returns the
/// number of rows written.
pub async fn write_stream(
    schema: &Schema,
    mut stream: impl futures::Stream<Item = Result<RecordBatch, DataFusionError>> + Unpin,
    format: OutputFormat,
    style: TableStyle,
    out: &mut (dyn Write + Send),
) -> Result<u64, SqlError> {
    let schema = shown_schema(schema);
    let mut sink = Sink::new(format, schema.clone(), out)?;
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = shown_batch(&batch?, &schema)?;
        rows += batch.num_rows() as u64;
        sink.write(batch)?;
    }
    sink.finish(style)?;
    Ok(rows)
}

/// The result's schema with each column under the name the query gave it (a column named
/// twice, as in `SELECT a.EventID, b.EventID`, is `EventID` both times).
pub fn shown_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone().with_name(shown_name(f.name()))).collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// A result batch under its [`shown_schema`].
pub fn shown_batch(batch: &RecordBatch, shown: &SchemaRef) -> Result<RecordBatch, SqlError> {
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(shown.clone(), batch.columns().to_vec(), &options).map_err(output_error)
}

enum Sink<'a> {
    Table { schema: SchemaRef, batches: Vec<RecordBatch>, out: &'a mut (dyn Write + Send) },
    Csv(arrow::csv::Writer<&'a mut (dyn Write + Send)>),
    Json(arrow::json::ArrayWriter<&'a mut (dyn Write + Send)>),
    Jsonl(arrow::json::LineDelimitedWriter<&'a mut (dyn Write + Send)>),
    Parquet(parquet::arrow::ArrowWriter<&'a mut (dyn Write + Send)>),
    Arrow(arrow::ipc::writer::StreamWriter<&'a mut (dyn Write + Send)>),
}

fn output_error(e: impl std::fmt::Display) -> SqlError {
    SqlError::Output(e.to_string())
}

impl<'a> Sink<'a> {
    fn new(format: OutputFormat, schema: SchemaRef, out: &'a mut (dyn Write + Send)) -> Result<Self, SqlError> {
        let json = || arrow::json::WriterBuilder::new().with_explicit_nulls(true);
        Ok(match format {
            OutputFormat::Table => Sink::Table { schema, batches: Vec::new(), out },
            OutputFormat::Csv => Sink::Csv(arrow::csv::WriterBuilder::new().with_header(true).build(out)),
            OutputFormat::Json => Sink::Json(json().build(out)),
            OutputFormat::Jsonl => Sink::Jsonl(json().build(out)),
            OutputFormat::Parquet => Sink::Parquet(parquet::arrow::ArrowWriter::try_new(out, schema, None).map_err(output_error)?),
            OutputFormat::Arrow => Sink::Arrow(arrow::ipc::writer::StreamWriter::try_new(out, &schema).map_err(output_error)?),
        })
    }

    fn write(&mut self, batch: RecordBatch) -> Result<(), SqlError> {
        match self {
            Sink::Table { batches, .. } => {
                batches.push(batch);
                Ok(())
            }
            Sink::Csv(w) => w.write(&nested_as_json_text(&batch)?).map_err(output_error),
            Sink::Json(w) => w.write(&batch).map_err(output_error),
            Sink::Jsonl(w) => w.write(&batch).map_err(output_error),
            Sink::Parquet(w) => w.write(&batch).map_err(output_error),
            Sink::Arrow(w) => w.write(&batch).map_err(output_error),
        }
    }

    fn finish(self, style: TableStyle) -> Result<(), SqlError> {
        match self {
            Sink::Table { schema, batches, out } => write_table(&schema, &batches, style, out),
            Sink::Csv(w) => w.into_inner().flush().map_err(output_error),
            Sink::Json(mut w) => w.finish().map_err(output_error).and_then(|_| w.into_inner().write_all(b"\n").map_err(output_error)),
            Sink::Jsonl(mut w) => w.finish().map_err(output_error),
            Sink::Parquet(w) => w.close().map(|_| ()).map_err(output_error),
            Sink::Arrow(mut w) => w.finish().map_err(output_error),
        }
    }
}

/// CSV has no nested values: structs and lists are written as their JSON text.
fn nested_as_json_text(batch: &RecordBatch) -> Result<RecordBatch, SqlError> {
    let nested = |t: &DataType| matches!(t, DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(_, _));
    if !batch.schema().fields().iter().any(|f| nested(f.data_type())) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if nested(field.data_type()) {
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(adapt_array(column, &DataType::Utf8).map_err(output_error)?);
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(output_error)
}

/// The names of a result's columns as the query gave them (`count(*)`, not `count(Int64(1))`).
pub fn column_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| shown_name(f.name()).to_string()).collect()
}

/// The first `limit` rows of a result as one-line text cells: nulls as `NULL`, control
/// characters escaped, cells longer than `max_width` characters cut with `…`.
pub fn text_rows(batches: &[RecordBatch], max_width: Option<usize>, limit: usize) -> Result<Vec<Vec<String>>, SqlError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for batch in batches {
        if rows.len() >= limit {
            break;
        }
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(output_error)?;
        for row in 0..batch.num_rows().min(limit - rows.len()) {
            rows.push(formatters.iter().map(|f| cell(&f.value(row).to_string(), max_width)).collect());
        }
    }
    Ok(rows)
}

/// An aligned text table, long cells cut to `style.max_width`, and a row count.
fn write_table(schema: &Schema, batches: &[RecordBatch], style: TableStyle, out: &mut (dyn Write + Send)) -> Result<(), SqlError> {
    let rows = text_rows(batches, style.max_width, usize::MAX)?;
    let header: Vec<String> = schema.fields().iter().map(|f| cell(f.name(), style.max_width)).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count()))).collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let rule = format!("+{}+\n", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("+"));
    let mut text = String::new();
    text.push_str(&rule);
    text.push_str(&line(&header));
    text.push_str(&rule);
    rows.iter().for_each(|r| text.push_str(&line(r)));
    text.push_str(&rule);
    text.push_str(&format!("{} row{}\n", rows.len(), if rows.len() == 1 { "" } else { "s" }));
    out.write_all(text.as_bytes()).map_err(output_error)
}

/// One line of a cell: control characters shown escaped, cut to `max` characters.
fn cell(value: &str, max: Option<usize>) -> String {
    let flat: String = value.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect();
    match max {
        Some(max) if flat.chars().count() > max => {
            let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
            cut.push('…');
            cut
        }
        _ => flat,
    }
}
