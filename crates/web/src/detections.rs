//! The Detections page's endpoints: detections grouped with counts and the newest listed
//! with their triage state; one detection with its event, its rule's YAML and the events
//! around it on its host; and a triage state set.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use hela_hunt::DETECTIONS_TABLE;
use hela_serve::server::AppState;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::answer::{Failure, collect, columns, has_table, objects, reply};
use crate::filter::{identifier, spark_string};
use crate::saved::{keep, newest, now};
use crate::scope::{Range, TIME_FIELD};

/// The table of triage states.
pub const TRIAGE_TABLE: &str = "triage";
/// The states a detection can be in; the first is where it starts.
pub const STATES: [&str; 3] = ["new", "investigating", "closed"];
/// Detections listed at most.
const LISTED: usize = 500;
/// Events shown around a detection, before and after its time, and at most.
const AROUND_MS: i64 = 5 * 60 * 1000;
const AROUND_ROWS: usize = 500;
/// Largest rule file shown.
const MAX_RULE_BYTES: u64 = 1 << 20;

#[derive(Debug, Deserialize)]
pub struct ListRequest {
    #[serde(flatten)]
    range: Range,
    #[serde(default = "default_group")]
    group: String,
}

fn default_group() -> String {
    "rule".into()
}

/// `POST /_hela/ui/detections`: counts per rule, host or level, and the newest detections
/// with their triage state, within the time range.
pub async fn list(State(state): State<Arc<AppState>>, Json(request): Json<ListRequest>) -> Response {
    let answer = async {
        let column = match request.group.as_str() {
            "rule" => "rule_title",
            "host" => "Hostname",
            "level" => "level",
            other => return Err(Failure::bad(format!("cannot group by {other:?}: rule, host or level"))),
        };
        if !has_table(&state, DETECTIONS_TABLE) {
            return Ok(json!({"groups": [], "detections": [], "total": 0}));
        }
        let session = request.range.session(&state).await?;
        let column = identifier(column);
        let grouped = format!("SELECT {column} AS key, count(*) AS count FROM {DETECTIONS_TABLE} GROUP BY {column} ORDER BY count DESC, key");
        let (_, batches) = collect(&state, &session, &grouped).await?;
        let groups = objects(&batches)?;
        let total: u64 = groups.iter().filter_map(|g| g.get("count").and_then(Value::as_u64)).sum();
        let newest_first = format!("SELECT * FROM {DETECTIONS_TABLE} ORDER BY detected_at DESC, `@timestamp` DESC LIMIT {LISTED}");
        let (_, batches) = collect(&state, &session, &newest_first).await?;
        let mut detections = objects(&batches)?;
        let states = triage_states(&state, &detections).await?;
        for detection in &mut detections {
            let id = detection.get("detection_id").and_then(Value::as_str).unwrap_or_default();
            detection.insert("triage".into(), json!(states.get(id).map_or(STATES[0], String::as_str)));
        }
        Ok(json!({"groups": groups, "detections": detections, "total": total}))
    };
    reply(&state, answer.await)
}

/// The triage state of each of `detections` that has one.
async fn triage_states(state: &AppState, detections: &[Map<String, Value>]) -> Result<std::collections::HashMap<String, String>, Failure> {
    let ids: Vec<String> = detections.iter().filter_map(|d| d.get("detection_id")?.as_str().map(spark_string)).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!("SELECT * FROM {TRIAGE_TABLE} WHERE detection_id IN ({})", ids.join(", "));
    let rows = newest(state, TRIAGE_TABLE, &sql, "detection_id").await?;
    Ok(rows.into_iter().filter_map(|(id, row)| Some((id, row.get("state")?.as_str()?.to_string()))).collect())
}

#[derive(Debug, Deserialize)]
pub struct One {
    id: String,
}

/// `GET /_hela/ui/detection?id=`: the detection, its triage state, the event it fired on,
/// its rule's file, and the events of its host within five minutes of it.
pub async fn one(State(state): State<Arc<AppState>>, Query(one): Query<One>) -> Response {
    let answer = async {
        let session = state.session.fork();
        let sql = format!("SELECT * FROM {DETECTIONS_TABLE} WHERE detection_id = {}", spark_string(&one.id));
        let found = match has_table(&state, DETECTIONS_TABLE) {
            true => objects(&collect(&state, &session, &sql).await?.1)?,
            false => Vec::new(),
        };
        let Some(mut detection) = found.into_iter().next() else {
            return Err(Failure::not_found(format!("no detection {:?} in the lake", one.id)));
        };
        let triage = triage_states(&state, std::slice::from_ref(&detection)).await?;
        detection.insert("triage".into(), json!(triage.get(&one.id).map_or(STATES[0], String::as_str)));
        let event_columns = match has_table(&state, "events") {
            true => columns(&state, &session, "SELECT * FROM events").await?,
            false => Vec::new(),
        };
        let event = match event_condition(&detection, &event_columns) {
            Some(condition) => objects(&collect(&state, &session, &format!("SELECT * FROM events WHERE {condition} LIMIT 1")).await?.1)?.into_iter().next(),
            None => None,
        };
        let around_sql = around_condition(&detection, &event_columns)
            .map(|condition| format!("SELECT * FROM events WHERE {condition} ORDER BY {}", identifier(TIME_FIELD)));
        let around = match &around_sql {
            Some(sql) => objects(&collect(&state, &session, &format!("{sql} LIMIT {AROUND_ROWS}")).await?.1)?,
            None => Vec::new(),
        };
        let rule = rule_file(&state, detection.get("rule_id").and_then(Value::as_str).unwrap_or_default());
        Ok(json!({"detection": detection, "event": event, "rule": rule, "around": around, "around_sql": around_sql}))
    };
    reply(&state, answer.await)
}

/// The condition that finds a detection's event: by its document id when the server took
/// it, else by its time, host and record number.
fn event_condition(detection: &Map<String, Value>, columns: &[String]) -> Option<String> {
    let text = |key: &str| detection.get(key).and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())));
    let has = |column: &str| columns.iter().any(|c| c == column);
    if let (Some(index), Some(id)) = (text("source"), text("source_id"))
        && has("_index")
        && has("_id")
    {
        return Some(format!("_index = {} AND _id = {}", spark_string(&index), spark_string(&id)));
    }
    let mut parts = vec![format!("{} = {}", identifier(TIME_FIELD), spark_string(&text(TIME_FIELD)?))];
    if let Some(host) = text("Hostname").filter(|_| has("Hostname")) {
        parts.push(format!("Hostname = {}", spark_string(&host)));
    }
    let record = ["EventRecordID", "RecordNumber"].into_iter().find(|c| has(c));
    if let (Some(column), Some(number)) = (record, text("EventRecordID")) {
        parts.push(format!("CAST({column} AS STRING) = {}", spark_string(&number)));
    }
    Some(parts.join(" AND "))
}

/// The condition that finds the events of a detection's host within five minutes of it.
fn around_condition(detection: &Map<String, Value>, columns: &[String]) -> Option<String> {
    let host = detection.get("Hostname")?.as_str()?;
    let at = hela_hunt::event_time(detection.get(TIME_FIELD)?.as_str()?)?;
    if !columns.iter().any(|c| c == "Hostname") || !columns.iter().any(|c| c == TIME_FIELD) {
        return None;
    }
    let (from, to) = (hela_hunt::time_text(at - AROUND_MS), hela_hunt::time_text(at + AROUND_MS));
    let time = identifier(TIME_FIELD);
    Some(format!("Hostname = {} AND {time} >= {} AND {time} <= {}", spark_string(host), spark_string(&from), spark_string(&to)))
}

/// The file of the standing rule `id`: its path (as the server was given it) and text.
fn rule_file(state: &AppState, id: &str) -> Value {
    let Some(live) = &state.live else { return Value::Null };
    let book = live.rules();
    let Some(engine) = book.engine.as_ref() else { return Value::Null };
    let Some(meta) = (0..engine.len()).map(|i| engine.meta(i)).find(|m| m.id == id) else {
        return json!({"missing": format!("the rule {id} no longer stands on this server")});
    };
    let path = meta.path.display().to_string();
    let text = std::fs::metadata(&meta.path)
        .ok()
        .filter(|m| m.len() <= MAX_RULE_BYTES)
        .and_then(|_| std::fs::read_to_string(&meta.path).ok());
    match text {
        Some(text) => json!({"path": path, "title": meta.title, "yaml": text}),
        None => json!({"path": path, "title": meta.title, "missing": "the rule's file cannot be read now"}),
    }
}

#[derive(Debug, Deserialize)]
pub struct Triage {
    detection_id: String,
    state: String,
}

/// `POST /_hela/ui/triage`: sets a detection's state; answers once the lake holds it.
pub async fn triage(State(state): State<Arc<AppState>>, Json(triage): Json<Triage>) -> Response {
    let answer = async {
        if !STATES.contains(&triage.state.as_str()) {
            return Err(Failure::bad(format!("no state {:?}: {}", triage.state, STATES.join(", "))));
        }
        if triage.detection_id.is_empty() || triage.detection_id.len() > 200 {
            return Err(Failure::bad("a detection_id of 1 to 200 bytes is needed"));
        }
        let row = json!({"detection_id": triage.detection_id, "state": triage.state, "saved_at": now()});
        keep(&state, TRIAGE_TABLE, row).await?;
        Ok(json!({"detection_id": triage.detection_id, "state": triage.state}))
    };
    reply(&state, answer.await)
}
