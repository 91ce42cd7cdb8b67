//! Live detection's endpoints: `GET /_hela/alerts` streams alerts as server-sent events as
//! they are delivered (for the web UI and `curl -N`); `GET /_hela/rules` lists the rules
//! standing and the rule files refused.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;

use arrow::array::AsArray;
use axum::extract::State;
use hela_hunt::{DETECTIONS_TABLE, rows_as_json};
use hela_lake::Lake;
use hela_live::{Alert, Live};
use hela_sql::Session;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::ServeError;
use crate::es::error;
use crate::server::AppState;
use crate::store::DETECTIONS_CHECKPOINT;

/// `GET /_hela/alerts`: an `alert` event for each alert (its JSON object as data), a
/// `lagged` event with the number of alerts a slow client missed; the stream ends when the
/// server stops.
pub async fn stream(State(state): State<Arc<AppState>>) -> Response {
    let Some(live) = &state.live else { return no_rules() };
    let events = futures::stream::unfold(live.subscribe(), |mut alerts| async move {
        let event = match alerts.recv().await {
            Ok(line) => Event::default().event("alert").data(line.as_ref()),
            Err(RecvError::Lagged(missed)) => Event::default().event("lagged").data(missed.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok::<_, Infallible>(event), alerts))
    });
    let until_stopped = crate::until_stopped(state.stopped.clone());
    Sse::new(events.take_until(until_stopped)).keep_alive(KeepAlive::default()).into_response()
}

/// `GET /_hela/rules`: the rules standing (id, title, level, file, whether a correlation,
/// and once run over the lake's history, its past detections and when the first was seen)
/// and the files refused.
pub async fn rules(State(state): State<Arc<AppState>>) -> Response {
    let Some(live) = &state.live else { return no_rules() };
    let book = live.rules();
    let standing: Vec<_> = book
        .engine
        .iter()
        .flat_map(|engine| (0..engine.len()).map(|i| (engine.meta(i), i >= engine.rules().len())))
        .map(|(rule, correlation)| {
            let mut entry = json!({"id": rule.id, "title": rule.title, "level": rule.level.as_str(), "path": rule.path, "correlation": correlation});
            if let Some(found) = state.retro.as_ref().and_then(|r| r.found(&rule.id, &rule.title)) {
                entry["past_detections"] = json!(found.detections);
                entry["first_seen"] = json!(found.first_seen);
            }
            entry
        })
        .chain(book.scheduled.iter().map(|query| {
            let meta = &query.meta;
            let last = state.scheduler.as_ref().and_then(|s| s.last_run(&meta.id, &meta.title));
            json!({
                "id": meta.id, "title": meta.title, "level": meta.level.as_str(), "path": meta.path,
                "scheduled": {"every_seconds": query.every_ms / 1000, "lookback_seconds": query.lookback_ms / 1000},
                "last_run": last.map(|r| json!({"at": r.at, "rows": r.rows, "raised": r.raised, "error": r.error})),
            })
        }))
        .collect();
    let refused: Vec<_> = book.rejected.iter().map(|r| json!({"path": r.path, "title": r.title, "reason": r.reason})).collect();
    axum::Json(json!({"standing": standing, "refused": refused})).into_response()
}

fn no_rules() -> Response {
    error(StatusCode::NOT_FOUND, "no_rules_exception", "no rules stand on this server; start it with --rules DIR")
}

/// The `detection_id`s of the detections the lake holds that `condition` (over the
/// `detections` table's columns) selects.
pub fn stored_detection_ids(session: &Session, runtime: &tokio::runtime::Handle, condition: &str) -> anyhow::Result<HashSet<String>> {
    let sql = format!("SELECT detection_id FROM {DETECTIONS_TABLE} WHERE {condition}");
    let batches = runtime.block_on(async { session.run(&sql).await?.collect().await.map_err(hela_sql::SqlError::from) })?;
    let mut ids = HashSet::new();
    for batch in batches {
        let column = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
        ids.extend(column.as_string::<i32>().iter().flatten().map(str::to_string));
    }
    Ok(ids)
}

/// `text` as a SQL string literal.
pub fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The number of the last detection the lake holds.
pub fn committed(lake: &Lake) -> Result<u64, ServeError> {
    checkpoint(lake, DETECTIONS_CHECKPOINT)
}

/// The position of stream `name` the lake's last commit records (0 when none).
pub fn checkpoint(lake: &Lake, name: &str) -> Result<u64, ServeError> {
    if !lake.exists() {
        return Ok(0);
    }
    let catalog = lake.catalog().map_err(|e| ServeError::Refused(e.to_string()))?;
    Ok(catalog.checkpoints.get(name).copied().unwrap_or(0))
}

/// Hands the sinks the detections committed before the server last stopped (up to number
/// `committed`) that they had not delivered (a crash between a commit and a delivery),
/// read back from the lake.
pub async fn redeliver(live: &Live, session: &Session, committed: u64) -> Result<(), ServeError> {
    let Some(delivered) = live.delivered() else { return Ok(()) };
    if delivered >= committed {
        return Ok(());
    }
    let failed = |e: &dyn std::fmt::Display| ServeError::Refused(format!("cannot read undelivered detections from the lake: {e}"));
    let sql = format!("SELECT * FROM {DETECTIONS_TABLE} WHERE detection_seq > {delivered} ORDER BY detection_seq");
    let frame = session.run(&sql).await.map_err(|e| failed(&e))?;
    let batches = frame.collect().await.map_err(|e| failed(&e))?;
    let alerts: Vec<Alert> = rows_as_json(&batches).map_err(|e| failed(&e))?.into_iter().filter_map(Alert::stored).collect();
    live.redeliver(alerts);
    Ok(())
}
