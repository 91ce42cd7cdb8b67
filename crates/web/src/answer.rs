//! Running the UI's queries and answering with their rows or what went wrong.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hela_serve::es::error;
use hela_serve::server::AppState;
use hela_sql::{Session, SqlError, shown_batch, shown_schema};
use serde_json::{Map, Value};

/// Why a request could not be answered.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl Failure {
    /// The request asked for something that cannot be.
    pub fn bad(message: impl Into<String>) -> Failure {
        Failure { status: StatusCode::BAD_REQUEST, kind: "illegal_argument_exception", message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure { status: StatusCode::NOT_FOUND, kind: "resource_not_found_exception", message: message.into() }
    }

    /// The server failed to do what it should.
    pub fn internal(message: impl Into<String>) -> Failure {
        Failure { status: StatusCode::INTERNAL_SERVER_ERROR, kind: "exception", message: message.into() }
    }

    /// The work ran past the server's time limit for a query.
    pub fn timeout(state: &AppState) -> Failure {
        Failure { status: StatusCode::REQUEST_TIMEOUT, kind: "timeout_exception", message: state.timeout_message() }
    }

    fn sql(error: SqlError) -> Failure {
        Failure { status: StatusCode::BAD_REQUEST, kind: "verification_exception", message: error.to_string() }
    }
}

/// The JSON answer, or the failure in Elasticsearch's error shape without the server's
/// own paths.
pub fn reply(state: &AppState, answer: Result<Value, Failure>) -> Response {
    match answer {
        Ok(value) => axum::Json(value).into_response(),
        Err(failure) => error(failure.status, failure.kind, state.scrub(&failure.message)),
    }
}

/// A query's columns (as shown) and every batch of its result, within the server's time
/// limit.
pub async fn collect(state: &AppState, session: &Session, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>), Failure> {
    collect_rows(state, session, sql, None).await
}

/// As [`collect`], of only `fetch` rows after the first `skip` when `rows` is
/// `Some((skip, fetch))`.
pub async fn collect_rows(state: &AppState, session: &Session, sql: &str, rows: Option<(usize, usize)>) -> Result<(SchemaRef, Vec<RecordBatch>), Failure> {
    let work = async {
        let mut frame = session.run(sql).await?;
        if let Some((skip, fetch)) = rows {
            frame = frame.limit(skip, Some(fetch))?;
        }
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await?;
        Ok::<_, SqlError>((schema, batches))
    };
    let (schema, batches) = within_limit(state, work).await?;
    let shown = shown_schema(&schema);
    let batches = batches.iter().map(|b| shown_batch(b, &shown)).collect::<Result<Vec<_>, _>>().map_err(Failure::sql)?;
    Ok((shown, batches))
}

/// The columns a query's result has, planned and not run.
pub async fn columns(state: &AppState, session: &Session, sql: &str) -> Result<Vec<String>, Failure> {
    let frame = within_limit(state, session.run(sql)).await?;
    Ok(hela_sql::column_names(frame.schema().as_arrow()))
}

/// Runs `work` within the server's time limit for a query.
pub async fn within_limit<T>(state: &AppState, work: impl Future<Output = Result<T, SqlError>>) -> Result<T, Failure> {
    match tokio::time::timeout(state.limits.query_timeout, work).await {
        Ok(result) => result.map_err(Failure::sql),
        Err(_) => Err(Failure::timeout(state)),
    }
}

/// Each row as a JSON object (a column without a value is left out).
pub fn objects(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, Failure> {
    hela_hunt::rows_as_json(batches).map_err(|e| Failure::internal(e.to_string()))
}

/// The result as its column names and each row as an array of their values.
pub fn table(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Value, Failure> {
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let rows: Vec<Value> = objects(batches)?
        .into_iter()
        .map(|mut row| Value::Array(columns.iter().map(|c| row.remove(c).unwrap_or(Value::Null)).collect()))
        .collect();
    Ok(serde_json::json!({"columns": columns, "rows": rows}))
}

/// Whether the lake has a table `name`.
pub fn has_table(state: &AppState, name: &str) -> bool {
    state.lake.catalog().is_ok_and(|catalog| catalog.tables.contains_key(name))
}
