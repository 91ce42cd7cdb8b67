//! The Elasticsearch API shippers use: the cluster's banner, bulk and single-document
//! ingest, and the calls clients and Beats make at start-up, answered as Elasticsearch
//! answers them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::body::request_body;
use crate::bulk::{self, Op, Refusal};
use crate::server::AppState;
use crate::store::StoreError;
use crate::wal::{Body, Entry};

/// The Elasticsearch version the server reports: clients and Beats of 7.x and 8.x accept it.
pub const VERSION: &str = "8.17.0";

/// An Elasticsearch-shaped error response.
pub fn error(status: StatusCode, kind: &str, reason: impl Into<String>) -> Response {
    let reason = reason.into();
    let body = json!({
        "error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
        "status": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}

/// `GET /` and `HEAD /`: the cluster's banner, which clients read for its version.
/// A browser asking for a page gets the web UI instead, when the server has it.
pub async fn banner(State(state): State<Arc<AppState>>, method: Method, headers: axum::http::HeaderMap) -> Response {
    if method == Method::HEAD {
        return StatusCode::OK.into_response();
    }
    if let Some(index) = state.index.filter(|_| crate::server::wants_page(&headers)) {
        return index();
    }
    axum::Json(json!({
        "name": state.name,
        "cluster_name": "hela",
        "cluster_uuid": state.cluster_uuid,
        "version": {
            "number": VERSION,
            "build_flavor": "default",
            "build_type": "hela",
            "build_hash": env!("CARGO_PKG_VERSION"),
            "build_date": "2026-01-01T00:00:00.000Z",
            "build_snapshot": false,
            "lucene_version": "9.12.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    }))
    .into_response()
}

/// `GET /_license`: Beats and Logstash check that the cluster has a license.
pub async fn license() -> Response {
    axum::Json(json!({"license": {"status": "active", "uid": "hela", "type": "basic", "issue_date_in_millis": 0, "max_nodes": 1000, "issued_to": "hela", "issuer": "hela", "start_date_in_millis": -1}})).into_response()
}

/// `GET /_xpack`: which features the cluster has (none of X-Pack's).
pub async fn xpack() -> Response {
    axum::Json(json!({"build": {"hash": env!("CARGO_PKG_VERSION"), "date": "2026-01-01T00:00:00.000Z"}, "license": {"uid": "hela", "type": "basic", "mode": "basic", "status": "active"}, "features": {}})).into_response()
}

/// `GET /_cluster/health`.
pub async fn cluster_health() -> Response {
    axum::Json(json!({"cluster_name": "hela", "status": "green", "timed_out": false, "number_of_nodes": 1, "number_of_data_nodes": 1, "active_primary_shards": 1, "active_shards": 1, "relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0})).into_response()
}

/// Index templates, component templates, lifecycle policies and data streams: accepted and
/// not kept, since the lake infers each table's schema from its documents. `HEAD` and `GET`
/// answer that they exist, so shippers do not install them at every start.
pub async fn accepted_setup(method: Method) -> Response {
    match method {
        Method::HEAD => StatusCode::OK.into_response(),
        _ => axum::Json(json!({"acknowledged": true})).into_response(),
    }
}

/// Any other request: refused with what hela does not do.
pub async fn unsupported(method: Method, uri: Uri) -> Response {
    let reason = format!(
        "hela does not implement [{method} {}]: it takes bulk and document requests, answers GET /, and runs SQL on POST /_sql (the README's Server section lists every endpoint)",
        uri.path()
    );
    error(StatusCode::BAD_REQUEST, "illegal_argument_exception", reason)
}

/// The request's query-string options that change ingest.
#[derive(Debug, Default, serde::Deserialize)]
pub struct WriteParams {
    /// `true` or `wait_for`: answer once the documents can be queried.
    refresh: Option<String>,
}

impl WriteParams {
    fn waits(&self) -> bool {
        matches!(self.refresh.as_deref(), Some("" | "true" | "wait_for"))
    }
}

/// `POST /_bulk` and `POST /{index}/_bulk`.
pub async fn bulk(
    State(state): State<Arc<AppState>>,
    index: Option<Path<String>>,
    Query(params): Query<WriteParams>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    if let Err(busy) = state.store.has_room() {
        return refused_for_now(&state, busy);
    }
    let default_index = index.map(|Path(i)| i);
    let source = format!("{method} {}", uri.path());
    // Decompressing and reading a body of thousands of documents takes milliseconds of CPU:
    // off the runtime's threads, which queries' tasks share.
    let admitting = state.clone();
    let admitted = tokio::task::spawn_blocking(move || admit_bulk(&admitting, &headers, body, default_index, &source)).await;
    let (ops, outcomes, entries) = match admitted {
        Ok(Ok(admitted)) => admitted,
        Ok(Err(response)) => return response,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "exception", format!("the bulk request could not be read: {e}")),
    };
    let seqs = match log(&state, entries, params.waits()).await {
        Ok(seqs) => seqs,
        Err(response) => return response,
    };
    let mut seq_of = seqs.into_iter();
    let mut errors = false;
    let items: Vec<Value> = ops
        .iter()
        .zip(outcomes)
        .map(|(op, outcome)| {
            // Each action that was logged took the next entry of the log, in order.
            let seq = outcome.logged().then(|| seq_of.next()).flatten();
            let (status, body) = outcome.item(seq);
            errors |= status >= 300;
            json!({ op.name(): body })
        })
        .collect();
    let took = started.elapsed().as_millis() as u64;
    axum::Json(json!({"took": took, "errors": errors, "items": items})).into_response()
}

/// Reads a bulk body and decides what becomes of each action: the actions, their outcomes
/// and the entries to log, or the response refusing the whole body.
fn admit_bulk(state: &AppState, headers: &HeaderMap, body: Bytes, default_index: Option<String>, source: &str) -> Result<(Vec<Op>, Vec<Outcome>, Vec<Entry>), Response> {
    let body = request_body(headers, body, state.limits.max_body_bytes)?;
    let actions = bulk::parse(&body).map_err(|e| error(StatusCode::BAD_REQUEST, "illegal_argument_exception", format!("Malformed bulk request, {e}")))?;
    let mut outcomes = Vec::with_capacity(actions.len());
    let mut entries = Vec::new();
    for action in &actions {
        let index = action.index.clone().or_else(|| default_index.clone()).unwrap_or_default();
        outcomes.push(admit(state, action.op, &index, action.id.clone(), action.source, (source, action.line), &mut entries));
    }
    Ok((actions.iter().map(|a| a.op).collect(), outcomes, entries))
}

/// `POST /{index}/_doc`, `PUT|POST /{index}/_doc/{id}`: one document, created or (with an
/// id already stored) left as it is; `PUT|POST /{index}/_create/{id}`: one document,
/// refused (409) if its id is stored.
pub async fn document(
    State(state): State<Arc<AppState>>,
    Path(path): Path<HashMap<String, String>>,
    Query(params): Query<WriteParams>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match request_body(&headers, body, state.limits.max_body_bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let op = if uri.path().split('/').nth(2) == Some("_create") { Op::Create } else { Op::Index };
    let index = path.get("index").cloned().unwrap_or_default();
    let source = format!("{method} {}", uri.path());
    let mut entries = Vec::new();
    let outcome = admit(&state, op, &index, path.get("id").cloned(), Some(&body), (&source, 1), &mut entries);
    let seqs = match log(&state, entries, params.waits()).await {
        Ok(seqs) => seqs,
        Err(response) => return response,
    };
    let (status, mut body) = outcome.item(seqs.first().copied());
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(object) = body.as_object_mut() {
        object.remove("status");
        if let Some(error) = object.remove("error") {
            return (status, axum::Json(json!({"error": error, "status": status.as_u16()}))).into_response();
        }
    }
    (status, axum::Json(body)).into_response()
}

/// What becomes of one action.
enum Outcome {
    /// Logged, to be stored.
    Created { index: String, id: String },
    /// Its id is stored already: `create` is refused, `index` leaves the stored one.
    Duplicate { op: Op, index: String, id: String },
    /// Refused, and logged for the quarantine (when it had a document).
    Refused { index: String, id: Option<String>, refusal: Refusal, status: u16, quarantined: bool },
}

impl Outcome {
    /// Whether this action took a place in the log.
    fn logged(&self) -> bool {
        match self {
            Outcome::Created { .. } => true,
            Outcome::Refused { quarantined, .. } => *quarantined,
            Outcome::Duplicate { .. } => false,
        }
    }

    /// The status and the body of the response item.
    fn item(&self, seq: Option<u64>) -> (u16, Value) {
        let shards = json!({"total": 1, "successful": 1, "failed": 0});
        match self {
            Outcome::Created { index, id } => (201, json!({
                "_index": index, "_id": id, "_version": 1, "result": "created", "_shards": shards,
                "_seq_no": seq.unwrap_or(0), "_primary_term": 1, "status": 201,
            })),
            Outcome::Duplicate { op: Op::Create, index, id } => {
                let reason = format!("[{id}]: version conflict, document already exists (current version [1])");
                (409, json!({"_index": index, "_id": id, "status": 409, "error": {"type": "version_conflict_engine_exception", "reason": reason, "index": index}}))
            }
            Outcome::Duplicate { index, id, .. } => (200, json!({
                "_index": index, "_id": id, "_version": 1, "result": "noop", "_shards": shards, "_primary_term": 1, "status": 200,
            })),
            Outcome::Refused { index, id, refusal, status, .. } => {
                let mut item = json!({"_index": index, "status": status, "error": {"type": refusal.kind, "reason": refusal.reason, "index": index}});
                if let Some(id) = id {
                    item["_id"] = json!(id);
                }
                (*status, item)
            }
        }
    }
}

/// Decides what becomes of one action, adding what is to be logged to `entries`: its
/// document, or (when refused) the document with why, for the quarantine.
fn admit(state: &AppState, op: Op, index: &str, id: Option<String>, document: Option<&[u8]>, at: (&str, u64), entries: &mut Vec<Entry>) -> Outcome {
    let metrics = &state.metrics;
    let refuse = |entries: &mut Vec<Entry>, refusal: Refusal, status: u16| {
        metrics.documents_refused.fetch_add(1, Ordering::Relaxed);
        let quarantined = document.is_some();
        if let Some(document) = document {
            let (source, line) = at;
            let reason = format!("{}: {}", refusal.kind, refusal.reason);
            let text = String::from_utf8_lossy(document).into_owned();
            let body = Body::Refused { source: source.to_string(), line, reason, text };
            entries.push(Entry { seq: 0, index: index.to_string(), id: id.clone().unwrap_or_default(), body });
        }
        Outcome::Refused { index: index.to_string(), id: id.clone(), refusal, status, quarantined }
    };
    if matches!(op, Op::Update | Op::Delete) {
        let reason = format!("hela stores events as they come and never changes them: [{}] is not supported", op.name());
        return refuse(entries, Refusal { kind: "action_request_validation_exception", reason }, 400);
    }
    if let Err(refusal) = bulk::check_index_name(index) {
        return refuse(entries, refusal, 400);
    }
    if id.as_ref().is_some_and(|id| id.is_empty() || id.len() > 512) {
        let reason = "an id must be 1 to 512 bytes".to_string();
        return refuse(entries, Refusal { kind: "action_request_validation_exception", reason }, 400);
    }
    let Some(document) = document else { unreachable!("index and create actions have a document") };
    if let Err(refusal) = bulk::document(document, state.limits.max_document_bytes) {
        return refuse(entries, refusal, 400);
    }
    let id = match id {
        Some(id) => {
            if !state.store.claim_id(index, &id) {
                metrics.documents_duplicate.fetch_add(1, Ordering::Relaxed);
                return Outcome::Duplicate { op, index: index.to_string(), id };
            }
            id
        }
        None => {
            let id = new_id();
            state.store.claim_id(index, &id);
            id
        }
    };
    entries.push(Entry { seq: 0, index: index.to_string(), id: id.clone(), body: Body::Document(document.to_vec()) });
    Outcome::Created { index: index.to_string(), id }
}

/// Logs the entries of a request and, when it asked to (`refresh`), waits until the lake
/// holds them; an error response when they cannot be logged.
async fn log(state: &AppState, entries: Vec<Entry>, wait_for_lake: bool) -> Result<Vec<u64>, Response> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let documents = entries.iter().filter(|e| matches!(e.body, Body::Document(_))).count() as u64;
    match state.store.log(entries).await {
        Ok(seqs) => {
            state.metrics.documents_acknowledged.fetch_add(documents, Ordering::Relaxed);
            if wait_for_lake && let Some(&last) = seqs.last() {
                state.store.wait_folded(last).await;
            }
            Ok(seqs)
        }
        Err(e @ StoreError::Busy(_)) => Err(refused_for_now(state, e)),
        Err(e) => Err(error(StatusCode::SERVICE_UNAVAILABLE, "unavailable_shards_exception", e.to_string())),
    }
}

/// 429, which shippers answer by sending the same request again a little later.
fn refused_for_now(state: &AppState, busy: StoreError) -> Response {
    state.metrics.requests_rejected.fetch_add(1, Ordering::Relaxed);
    error(StatusCode::TOO_MANY_REQUESTS, "es_rejected_execution_exception", busy.to_string())
}

/// A new document id: 20 URL-safe characters from the time, a counter and this process,
/// unique within the server as Elasticsearch's are.
fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PROCESS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let process = *PROCESS.get_or_init(|| {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        nanos ^ std::process::id().rotate_left(16)
    });
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 15];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6..10].copy_from_slice(&process.to_be_bytes());
    bytes[10..15].copy_from_slice(&counter.to_be_bytes()[3..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_twenty_characters_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 20));
    }
}
