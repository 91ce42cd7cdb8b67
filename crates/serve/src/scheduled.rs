//! Scheduled query rules on the server ([`hela_sigma::ScheduledQuery`]): a thread runs each
//! standing query every `every`, over the lake's tables seen holding only the events whose
//! `@timestamp` falls in the last `lookback`. Each row is a detection, numbered, stored and
//! delivered as the Sigma rules' are; a row the query returned in an earlier run whose
//! window overlaps (the same values, within `lookback`) is not raised again, across
//! restarts too (the rows raised are read back from the `detections` table at start).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hela_hunt::{rows_as_json, time_text};
use hela_live::Live;
use hela_sigma::ScheduledQuery;
use hela_sql::Session;
use serde_json::{Map, Value, json};

use crate::alerts::{sql_text, stored_detection_ids};
use crate::store::{Placed, Placer};

/// The column a query's window is on.
const TIME_COLUMN: &str = "@timestamp";

/// The most rows one run raises; the rest are reported, not raised.
pub const MAX_ROWS: usize = 10_000;

/// How often the thread looks for queries due.
const TICK: Duration = Duration::from_millis(200);

/// The thread running the scheduled queries, and how their last runs went.
pub struct Scheduler {
    runs: Mutex<HashMap<String, LastRun>>,
    stop: AtomicBool,
}

/// How a query's last run went.
#[derive(Debug, Clone)]
pub struct LastRun {
    /// When it ran (RFC 3339).
    pub at: String,
    /// Rows returned, and of them raised as new.
    pub rows: usize,
    pub raised: usize,
    pub error: Option<String>,
}

/// One query's schedule and the rows it raised within its lookback.
struct Schedule {
    due_ms: i64,
    /// Row id → when it was last returned (ms).
    seen: HashMap<String, i64>,
}

impl Scheduler {
    /// Starts running the scheduled queries standing in `live`.
    pub fn start(live: Arc<Live>, placer: Placer, session: Arc<Session>, runtime: tokio::runtime::Handle) -> std::io::Result<Arc<Scheduler>> {
        let scheduler = Arc::new(Scheduler { runs: Mutex::new(HashMap::new()), stop: AtomicBool::new(false) });
        let running = Runner { scheduler: scheduler.clone(), live, placer, session, runtime, schedules: HashMap::new() };
        std::thread::Builder::new().name("hela-scheduled".into()).spawn(move || running.run())?;
        Ok(scheduler)
    }

    /// How the query with this id and title last ran.
    pub fn last_run(&self, id: &str, title: &str) -> Option<LastRun> {
        self.runs.lock().expect("not poisoned").get(&key(id, title)).cloned()
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn key(id: &str, title: &str) -> String {
    format!("{id}\u{0}{title}")
}

struct Runner {
    scheduler: Arc<Scheduler>,
    live: Arc<Live>,
    placer: Placer,
    session: Arc<Session>,
    runtime: tokio::runtime::Handle,
    /// By query signature: a query edited starts afresh.
    schedules: HashMap<String, Schedule>,
}

impl Runner {
    fn run(mut self) {
        crate::priority::lower_this_thread();
        while !self.scheduler.stop.load(Ordering::Relaxed) {
            let book = self.live.rules();
            let now = chrono::Utc::now().timestamp_millis();
            let signatures: Vec<String> = book.scheduled.iter().map(|q| format!("{q:?}")).collect();
            for (query, signature) in book.scheduled.iter().zip(&signatures) {
                if !self.schedules.contains_key(signature) {
                    let seen = self.raised_before(query, now);
                    self.schedules.insert(signature.clone(), Schedule { due_ms: now, seen });
                }
                if self.schedules[signature].due_ms <= now {
                    let outcome = self.run_query(query, signature, now);
                    let mut runs = self.scheduler.runs.lock().expect("not poisoned");
                    let name = key(&query.meta.id, &query.meta.title);
                    // An error is reported when it starts, not at every run it lasts.
                    if let Some(error) = &outcome.error
                        && runs.get(&name).and_then(|last| last.error.as_ref()) != Some(error)
                    {
                        eprintln!("error: scheduled query `{}` ({}): {error}", query.meta.title, query.meta.path.display());
                    }
                    runs.insert(name, outcome);
                    drop(runs);
                    let schedule = self.schedules.get_mut(signature).expect("made above");
                    schedule.due_ms = now + query.every_ms;
                }
            }
            self.schedules.retain(|signature, _| signatures.contains(signature));
            std::thread::sleep(TICK);
        }
    }

    /// Runs `query` over the window ending `now` and raises its new rows.
    fn run_query(&mut self, query: &ScheduledQuery, signature: &str, now: i64) -> LastRun {
        let at = time_text(now);
        let start = time_text(now - query.lookback_ms);
        let rows = match self.rows(query, &start, &at) {
            Ok(rows) => rows,
            Err(e) => return LastRun { at, rows: 0, raised: 0, error: Some(e) },
        };
        let schedule = self.schedules.get_mut(signature).expect("scheduled before it runs");
        schedule.seen.retain(|_, seen| *seen >= now - query.lookback_ms);
        let returned = rows.len();
        if returned > MAX_ROWS {
            eprintln!("warning: scheduled query `{}` returned {returned} rows; the first {MAX_ROWS} are raised", query.meta.title);
        }
        let mut raised = Vec::new();
        for row in rows.into_iter().take(MAX_ROWS) {
            let id = row_id(&query.meta.id, &row);
            if schedule.seen.insert(id.clone(), now).is_none() {
                raised.push(document(query, row, id, &start, &at));
            }
        }
        let count = raised.len();
        if count > 0
            && let Err(e) = self.placer.place(Placed { alerts: raised, ..Placed::default() })
        {
            return LastRun { at, rows: returned, raised: 0, error: Some(e.to_string()) };
        }
        LastRun { at, rows: returned, raised: count, error: None }
    }

    /// The rows `query` returns over the lake's events from `start` to `end`, as JSON.
    fn rows(&self, query: &ScheduledQuery, start: &str, end: &str) -> Result<Vec<Map<String, Value>>, String> {
        let session = self.session.fork();
        let batches = self.runtime.block_on(async {
            session.within(TIME_COLUMN, start, end).await?;
            let frame = session.run(&query.sql).await?.limit(0, Some(MAX_ROWS + 1))?;
            Ok::<_, hela_sql::SqlError>(frame.collect().await?)
        });
        rows_as_json(&batches.map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    }

    /// The rows of `query` raised within its lookback before `now`, by id, read back from
    /// the `detections` table so that a restart does not raise them again.
    fn raised_before(&self, query: &ScheduledQuery, now: i64) -> HashMap<String, i64> {
        let condition = format!(
            "rule_id = {} AND rule_title = {} AND detected_at >= {}",
            sql_text(&query.meta.id),
            sql_text(&query.meta.title),
            sql_text(&time_text(now - query.lookback_ms))
        );
        // None raised yet when the lake has no detections table.
        let raised = stored_detection_ids(&self.session.fork(), &self.runtime, &condition).unwrap_or_default();
        raised.into_iter().map(|id| (id, now)).collect()
    }
}

/// The same for the same query's same row values.
fn row_id(query_id: &str, row: &Map<String, Value>) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(query_id.as_bytes());
    hasher.update(&[0]);
    hasher.update(Value::Object(row.clone()).to_string().as_bytes());
    hasher.finalize().to_hex()[..32].to_string()
}

/// A row as a detection: the query's metadata, the row's time and host when it has them,
/// the row itself as `fields`, and the window it was found in.
fn document(query: &ScheduledQuery, row: Map<String, Value>, id: String, start: &str, end: &str) -> Map<String, Value> {
    let pick = |names: &[&str]| names.iter().find_map(|n| row.get(*n).filter(|v| !v.is_null()).cloned());
    let meta = &query.meta;
    let detection = json!({
        "@timestamp": pick(&["@timestamp", "timestamp", "EventTime"]).unwrap_or_else(|| Value::from(end)),
        "Hostname": pick(&["Hostname", "Computer", "host_name"]),
        "rule_id": meta.id,
        "rule_title": meta.title,
        "level": meta.level.as_str(),
        "status": meta.status,
        "tags": meta.tags,
        "fields": Value::Object(row),
        "query_window": {"start": start, "end": end},
        "detection_id": id,
        "detected_at": end,
    });
    match detection {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}
