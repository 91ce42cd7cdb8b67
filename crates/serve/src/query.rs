//! `POST /_sql`: Spark SQL over the lake, answered in Elasticsearch SQL's JSON shape
//! (`columns` and `rows`), as CSV, as a text table, as JSON lines, or as an Arrow IPC
//! stream. Each request runs in its own session (views it makes are its own), within the
//! server's memory limit and timeout, and its result is streamed as it is computed.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema};
use arrow::json::writer::{EncoderOptions, make_encoder};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use hela_sql::{OutputFormat, SqlError, TableStyle, shown_batch, shown_schema, write_stream};
use tokio::sync::mpsc;
use tokio::time::Instant as Deadline;

use crate::es::error;
use crate::server::AppState;

/// The media type of an Arrow IPC stream, which `Accept` may ask for.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// The body of an SQL request.
#[derive(Debug, serde::Deserialize)]
pub struct SqlRequest {
    query: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SqlParams {
    format: Option<String>,
}

/// The formats `/_sql` answers in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    /// Elasticsearch SQL's `{"columns": [...], "rows": [[...]]}`.
    Elastic,
    Other(OutputFormat),
}

impl Format {
    fn choose(name: Option<&str>, accept: Option<&str>) -> Result<Format, String> {
        let name = name.or_else(|| accept.and_then(|a| a.contains(ARROW_STREAM).then_some("arrow"))).unwrap_or("json");
        Ok(match name {
            "json" => Format::Elastic,
            "csv" => Format::Other(OutputFormat::Csv),
            "txt" => Format::Other(OutputFormat::Table),
            "jsonl" | "ndjson" => Format::Other(OutputFormat::Jsonl),
            "arrow" => Format::Other(OutputFormat::Arrow),
            other => return Err(format!("unknown format [{other}]: json, csv, txt, jsonl or arrow")),
        })
    }

    fn media_type(self) -> &'static str {
        match self {
            Format::Elastic => "application/json",
            Format::Other(OutputFormat::Csv) => "text/csv; charset=utf-8",
            Format::Other(OutputFormat::Table) => "text/plain; charset=utf-8",
            Format::Other(OutputFormat::Jsonl) => "application/x-ndjson",
            Format::Other(_) => ARROW_STREAM,
        }
    }
}

/// `POST /_sql` (and `GET` with a body, as Elasticsearch allows).
pub async fn sql(State(state): State<Arc<AppState>>, Query(params): Query<SqlParams>, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    let deadline = Deadline::now() + state.limits.query_timeout;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = match Format::choose(params.format.as_deref(), accept) {
        Ok(format) => format,
        Err(reason) => return error(StatusCode::BAD_REQUEST, "illegal_argument_exception", reason),
    };
    let request: SqlRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return error(StatusCode::BAD_REQUEST, "parsing_exception", format!("the body must be {{\"query\": \"SQL\"}}: {e}")),
    };
    let failed = |state: &AppState, status: StatusCode, kind: &str, message: String| {
        state.metrics.query_errors.fetch_add(1, Ordering::Relaxed);
        error(status, kind, state.scrub(&message))
    };
    let session = state.session.fork();
    let planned = async {
        let frame = session.run(&request.query).await?;
        let schema = frame.schema().as_arrow().clone();
        let mut stream = frame.execute_stream().await?;
        let first = stream.next().await.transpose()?;
        Ok::<_, SqlError>((schema, first, stream))
    };
    let (schema, first, stream) = match tokio::time::timeout_at(deadline, planned).await {
        Ok(Ok(started)) => started,
        Ok(Err(e)) => return failed(&state, StatusCode::BAD_REQUEST, "verification_exception", e.to_string()),
        Err(_) => return failed(&state, StatusCode::REQUEST_TIMEOUT, "timeout_exception", state.timeout_message()),
    };
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let producer_state = state.clone();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let state = producer_state;
        let mut out = ChannelWriter { sender: sender.clone(), buffer: Vec::with_capacity(CHUNK) };
        let rest = futures::stream::iter(first.map(Ok)).chain(stream);
        let written = runtime.block_on(tokio::time::timeout_at(deadline, write(format, &schema, Box::pin(rest), &mut out)));
        let failure = match written {
            Ok(Ok(())) => out.flush().err().map(|e| e.to_string()),
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(state.timeout_message()),
        };
        if let Some(message) = failure {
            state.metrics.query_errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("warning: an SQL answer was cut short: {}", state.scrub(&message));
            let _ = futures::executor::block_on(sender.send(Err(std::io::Error::other(state.scrub(&message)))));
        }
        state.metrics.queries.record(started.elapsed());
    });
    let body = Body::from_stream(tokio_stream(receiver));
    ([(header::CONTENT_TYPE, format.media_type())], body).into_response()
}

/// Writes the result in `format` to `out` as its batches come.
async fn write(format: Format, schema: &Schema, stream: std::pin::Pin<Box<dyn futures::Stream<Item = datafusion::error::Result<RecordBatch>> + Send>>, out: &mut ChannelWriter) -> Result<(), SqlError> {
    match format {
        Format::Other(format) => write_stream(schema, stream, format, TableStyle { max_width: None }, out).await.map(|_| ()),
        Format::Elastic => write_elastic(schema, stream, out).await,
    }
}

/// Elasticsearch SQL's JSON: the columns with their types, then each row as an array.
async fn write_elastic(
    schema: &Schema,
    mut stream: impl futures::Stream<Item = datafusion::error::Result<RecordBatch>> + Unpin,
    out: &mut ChannelWriter,
) -> Result<(), SqlError> {
    let schema = shown_schema(schema);
    let columns: Vec<serde_json::Value> =
        schema.fields().iter().map(|f| serde_json::json!({"name": f.name(), "type": elastic_type(f.data_type())})).collect();
    let io = |e: std::io::Error| SqlError::Output(e.to_string());
    write!(out, "{{\"columns\":{},\"rows\":[", serde_json::Value::Array(columns)).map_err(io)?;
    let options = EncoderOptions::default();
    let mut first_row = true;
    let mut line = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = shown_batch(&batch?, &schema)?;
        let mut encoders = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(field, column)| make_encoder(field, column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SqlError::Output(e.to_string()))?;
        for row in 0..batch.num_rows() {
            line.clear();
            line.extend_from_slice(if first_row { b"[" } else { b",[" });
            first_row = false;
            for (i, encoder) in encoders.iter_mut().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                match encoder.is_null(row) {
                    true => line.extend_from_slice(b"null"),
                    false => encoder.encode(row, &mut line),
                }
            }
            line.push(b']');
            out.write_all(&line).map_err(io)?;
        }
    }
    out.write_all(b"]}\n").map_err(io)
}

/// The Elasticsearch type name of a column's type.
fn elastic_type(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "keyword",
        DataType::Int64 | DataType::UInt32 => "long",
        DataType::UInt64 => "unsigned_long",
        DataType::Int32 | DataType::UInt16 => "integer",
        DataType::Int16 | DataType::UInt8 => "short",
        DataType::Int8 => "byte",
        DataType::Float64 => "double",
        DataType::Float32 => "float",
        DataType::Float16 => "half_float",
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => "scaled_float",
        DataType::Boolean => "boolean",
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => "datetime",
        DataType::Time32(_) | DataType::Time64(_) => "time",
        DataType::Duration(_) | DataType::Interval(_) => "interval",
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "binary",
        DataType::List(_) | DataType::LargeList(_) | DataType::ListView(_) | DataType::LargeListView(_) | DataType::FixedSizeList(..) => "nested",
        DataType::Struct(_) | DataType::Map(..) => "object",
        DataType::Null => "null",
        _ => "unsupported",
    }
}

/// Bytes written to the response in pieces of this size.
const CHUNK: usize = 64 << 10;

/// A writer into the response body: full pieces are sent as they fill, waiting while the
/// client reads the ones before (so a large result never sits whole in memory).
struct ChannelWriter {
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        // The writer runs on a blocking thread inside the runtime's `block_on`, where
        // tokio's own blocking send is refused; waiting on the send itself is what is meant.
        futures::executor::block_on(self.sender.send(Ok(piece)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

/// The receiver as a stream of body pieces.
fn tokio_stream(mut receiver: mpsc::Receiver<Result<Bytes, std::io::Error>>) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_or_accept_header() {
        assert_eq!(Format::choose(None, None), Ok(Format::Elastic));
        assert_eq!(Format::choose(Some("csv"), Some(ARROW_STREAM)), Ok(Format::Other(OutputFormat::Csv)));
        assert_eq!(Format::choose(None, Some(ARROW_STREAM)), Ok(Format::Other(OutputFormat::Arrow)));
        assert!(Format::choose(Some("yaml"), None).unwrap_err().contains("unknown format [yaml]"));
    }
}
