//! What hunters keep in the lake: saved queries and dashboards (`saved_objects`), and each
//! detection's triage state (`triage`). Each change is a new row, acknowledged once the
//! lake has committed it; the newest row of a name is what it holds now.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use hela_serve::server::AppState;
use hela_serve::store::Placed;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::answer::{Failure, collect, has_table, objects, reply};
use crate::filter::spark_string;

/// The table of saved queries and dashboards.
pub const SAVED_TABLE: &str = "saved_objects";
/// What may be saved.
const KINDS: [&str; 2] = ["query", "dashboard"];
/// Longest name, and largest body, of a saved object.
const MAX_NAME: usize = 200;
const MAX_BODY: usize = 256 << 10;

#[derive(Debug, Deserialize)]
pub struct Listing {
    kind: String,
}

/// `GET /_hela/ui/saved?kind=query|dashboard`: the objects of that kind, by name.
pub async fn list(State(state): State<Arc<AppState>>, Query(listing): Query<Listing>) -> Response {
    let answer = async {
        let kind = checked_kind(&listing.kind)?;
        let sql = format!("SELECT * FROM {SAVED_TABLE} WHERE kind = {}", spark_string(kind));
        let rows = newest(&state, SAVED_TABLE, &sql, "name").await?;
        let builtin = (kind == "dashboard").then(crate::panels::overview);
        let objects: Vec<Value> = builtin.into_iter().chain(rows
            .into_values()
            .filter(|row| !row.get("deleted").and_then(Value::as_bool).unwrap_or(false))
            .map(|row| {
                let body = row.get("body").and_then(Value::as_str).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
                json!({"name": row.get("name"), "saved_at": row.get("saved_at"), "body": body})
            }))
            .collect();
        Ok(json!({"kind": kind, "objects": objects}))
    };
    reply(&state, answer.await)
}

#[derive(Debug, Deserialize)]
pub struct Saving {
    kind: String,
    name: String,
    #[serde(default)]
    body: Value,
    #[serde(default)]
    deleted: bool,
}

/// `POST /_hela/ui/saved`: saves (or with `deleted`, removes) an object under its name;
/// answers once the lake holds it.
pub async fn save(State(state): State<Arc<AppState>>, Json(saving): Json<Saving>) -> Response {
    let answer = async {
        let kind = checked_kind(&saving.kind)?;
        let name = saving.name.trim();
        if name.is_empty() || name.len() > MAX_NAME {
            return Err(Failure::bad(format!("a name needs 1 to {MAX_NAME} bytes")));
        }
        let body = saving.body.to_string();
        if body.len() > MAX_BODY {
            return Err(Failure::bad(format!("a saved {kind} holds at most {MAX_BODY} bytes; this one has {}", body.len())));
        }
        let row = json!({"kind": kind, "name": name, "body": body, "deleted": saving.deleted, "saved_at": now()});
        keep(&state, SAVED_TABLE, row).await?;
        Ok(json!({"saved": name}))
    };
    reply(&state, answer.await)
}

fn checked_kind(kind: &str) -> Result<&str, Failure> {
    KINDS.iter().copied().find(|k| *k == kind).ok_or_else(|| Failure::bad(format!("no kind {kind:?}: query or dashboard")))
}

/// Stores `row` in `table` and returns once the lake has committed it.
pub async fn keep(state: &AppState, table: &str, row: Value) -> Result<(), Failure> {
    let Value::Object(row) = row else { return Err(Failure::internal("a kept row is an object")) };
    let placer = state.store.placer();
    placer.place_committed(Placed { records: vec![(Arc::from(table), row)], ..Placed::default() }).await.map_err(|e| Failure::internal(e.to_string()))
}

/// The newest row (by `saved_at`, then by position) of each value of `key` among the rows
/// `sql` returns from `table`; none when the table does not exist yet.
pub async fn newest(state: &AppState, table: &str, sql: &str, key: &str) -> Result<BTreeMap<String, Map<String, Value>>, Failure> {
    let mut newest = BTreeMap::new();
    if !has_table(state, table) {
        return Ok(newest);
    }
    let (_, batches) = collect(state, &state.session.fork(), sql).await?;
    let mut rows = objects(&batches)?;
    rows.sort_by(|a, b| a.get("saved_at").and_then(Value::as_str).cmp(&b.get("saved_at").and_then(Value::as_str)));
    for row in rows {
        if let Some(name) = row.get(key).and_then(Value::as_str) {
            newest.insert(name.to_string(), row);
        }
    }
    Ok(newest)
}

/// The time now, as the lake writes times.
pub fn now() -> String {
    hela_hunt::time_text(chrono::Utc::now().timestamp_millis())
}
