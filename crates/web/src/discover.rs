//! Discover's endpoints: a page of a query's rows (the whole result never leaves the
//! server), its count, its histogram over time, a field's top values, and the lake's
//! tables and columns for completion.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use hela_serve::server::AppState;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{Failure, collect, collect_rows, objects, reply, table, within_limit};
use crate::filter::identifier;
use crate::histogram;
use crate::scope::{Scope, TIME_FIELD};

/// Most rows one page may ask for.
const MAX_PAGE: usize = 1000;
/// Most top values of a field.
const TOP_VALUES: usize = 5;

#[derive(Debug, Deserialize)]
pub struct PageRequest {
    #[serde(flatten)]
    scope: Scope,
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_page")]
    limit: usize,
}

fn default_page() -> usize {
    100
}

/// `POST /_hela/ui/search`: rows `offset..offset + limit` of the result, with the SQL run
/// (the query and its filter) and whether more rows follow.
pub async fn page(State(state): State<Arc<AppState>>, Json(request): Json<PageRequest>) -> Response {
    let answer = async {
        let limit = request.limit.clamp(1, MAX_PAGE);
        let scoped = request.scope.prepare(&state).await?;
        let (shown, batches) = collect_rows(&state, &scoped.session, &scoped.sql, Some((request.offset, limit + 1))).await?;
        let mut page = table(&shown, &batches)?;
        let rows = page["rows"].as_array_mut().expect("a table has rows");
        let more = rows.len() > limit;
        rows.truncate(limit);
        page["sql"] = json!(scoped.sql);
        page["offset"] = json!(request.offset);
        page["more"] = json!(more);
        Ok(page)
    };
    reply(&state, answer.await)
}

/// `POST /_hela/ui/count`: the number of rows of the result.
pub async fn count(State(state): State<Arc<AppState>>, Json(scope): Json<Scope>) -> Response {
    let answer = async {
        let scoped = scope.prepare(&state).await?;
        let counted = within_limit(&state, async { scoped.session.run(&scoped.sql).await?.count().await.map_err(Into::into) }).await?;
        Ok(json!({"count": counted, "sql": scoped.sql}))
    };
    reply(&state, answer.await)
}

/// `POST /_hela/ui/histogram`: the result's rows counted per interval of their
/// `@timestamp`, over the range asked (or the rows' own range when it is open).
pub async fn histogram(State(state): State<Arc<AppState>>, Json(scope): Json<Scope>) -> Response {
    let answer = async {
        let scoped = scope.prepare(&state).await?;
        if !scoped.columns.iter().any(|c| c == TIME_FIELD) {
            return Ok(json!({"absent": format!("the result has no {TIME_FIELD} column to draw over time")}));
        }
        let times = format!("SELECT CAST({} AS TIMESTAMP) AS t FROM ({}) AS found", identifier(TIME_FIELD), scoped.sql);
        let span = format!("SELECT min(t) AS first, max(t) AS last, count(*) AS rows, count(t) AS timed FROM ({times}) AS times");
        let (_, batches) = collect(&state, &scoped.session, &span).await?;
        let summary = objects(&batches)?.into_iter().next().unwrap_or_default();
        let number = |key: &str| summary.get(key).and_then(Value::as_u64).unwrap_or(0);
        let edge = |given: &Option<String>, key: &str| {
            given.as_deref().and_then(histogram::millis).or_else(|| summary.get(key).and_then(Value::as_str).and_then(histogram::millis))
        };
        let (Some(first), Some(last)) = (edge(&scope.range.from, "first"), edge(&scope.range.to, "last")) else {
            return Ok(json!({"interval_ms": 0, "buckets": [], "rows": number("rows"), "untimed": number("rows")}));
        };
        let interval = histogram::interval(last.saturating_sub(first));
        let binned = format!(
            "SELECT date_bin(INTERVAL {} SECONDS, t, TIMESTAMP '1970-01-01 00:00:00') AS bucket, count(*) AS n FROM ({times}) AS times WHERE t IS NOT NULL GROUP BY bucket ORDER BY bucket",
            interval / 1000
        );
        let (_, batches) = collect(&state, &scoped.session, &binned).await?;
        let buckets: Vec<Value> = objects(&batches)?
            .iter()
            .filter_map(|row| Some(json!([histogram::millis(row.get("bucket")?.as_str()?)?, row.get("n")?.as_u64()?])))
            .collect();
        Ok(json!({
            "interval_ms": interval, "from_ms": first, "to_ms": last, "buckets": buckets,
            "rows": number("rows"), "untimed": number("rows") - number("timed"), "sql": scoped.sql,
        }))
    };
    reply(&state, answer.await)
}

#[derive(Debug, Deserialize)]
pub struct ValuesRequest {
    #[serde(flatten)]
    scope: Scope,
    field: String,
}

/// `POST /_hela/ui/values`: a column's most frequent values in the result, with counts.
pub async fn values(State(state): State<Arc<AppState>>, Json(request): Json<ValuesRequest>) -> Response {
    let answer = async {
        let scoped = request.scope.prepare(&state).await?;
        if !scoped.columns.contains(&request.field) {
            return Err(Failure::bad(format!("the result has no column {:?}", request.field)));
        }
        let column = identifier(&request.field);
        let sql = format!(
            "SELECT {column} AS value, count(*) AS n FROM ({}) AS found GROUP BY {column} ORDER BY n DESC, value LIMIT {TOP_VALUES}",
            scoped.sql
        );
        let (_, batches) = collect(&state, &scoped.session, &sql).await?;
        let values: Vec<Value> = objects(&batches)?.into_iter().map(|mut row| json!({"value": row.remove("value"), "count": row.remove("n")})).collect();
        Ok(json!({"field": request.field, "values": values}))
    };
    reply(&state, answer.await)
}

/// `GET /_hela/ui/schema`: each table with its columns (nested fields as `a.b`) and types.
pub async fn schema(State(state): State<Arc<AppState>>) -> Response {
    let answer = async {
        let catalog = state.lake.catalog().map_err(|e| Failure::internal(e.to_string()))?;
        let session = state.session.fork();
        let mut tables = Vec::new();
        for name in catalog.tables.keys() {
            let columns = within_limit(&state, session.run(&format!("SELECT * FROM {}", identifier(name)))).await?;
            let mut fields = Vec::new();
            for field in columns.schema().fields() {
                flatten(field, "", &mut fields);
            }
            tables.push(json!({"name": name, "columns": fields}));
        }
        Ok(json!({"tables": tables}))
    };
    reply(&state, answer.await)
}

/// `field` and the fields nested in it, named by their paths.
fn flatten(field: &Field, prefix: &str, out: &mut Vec<Value>) {
    let name = format!("{prefix}{}", field.name());
    out.push(json!({"name": name, "type": field.data_type().to_string()}));
    if let DataType::Struct(children) = field.data_type() {
        for child in children {
            flatten(child, &format!("{name}."), out);
        }
    }
}
