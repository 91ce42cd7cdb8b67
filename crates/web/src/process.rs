//! Process trees from Sysmon's process creations (event 1): a process's ancestors and
//! descendants through `ProcessGuid` → `ParentProcessGuid` (HELK's `process_guid` →
//! `process_parent_guid` on a HELK lake), and what each process did (network
//! connections, files) on demand. A parent whose own creation is not in the lake (it
//! started before the logs do) is known from its children's `ParentImage`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use hela_serve::server::AppState;
use hela_sql::Session;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::answer::{Failure, collect, columns, objects, reply};
use crate::filter::{identifier, spark_string};
use crate::scope::TIME_FIELD;

/// A process tree holds at most this many processes, this many generations down, and
/// this many up.
const MAX_PROCESSES: usize = 2000;
const MAX_DEPTH: usize = 32;
const MAX_ANCESTORS: usize = 64;
/// Guids asked for in one query.
const CHUNK: usize = 500;
/// Events of one process listed, and processes found by a search.
const MAX_ACTIVITY: usize = 500;
const MAX_FOUND: usize = 50;

/// The names a schema gives a process creation's fields.
struct Names {
    guid: &'static str,
    parent: &'static str,
    image: &'static str,
    command_line: &'static str,
    parent_image: &'static str,
    parent_command_line: &'static str,
    host: &'static str,
    user: &'static str,
    pid: &'static str,
    event_id: &'static str,
}

/// hela's raw names (Sysmon's own).
const RAW: Names = Names {
    guid: "ProcessGuid",
    parent: "ParentProcessGuid",
    image: "Image",
    command_line: "CommandLine",
    parent_image: "ParentImage",
    parent_command_line: "ParentCommandLine",
    host: "Hostname",
    user: "User",
    pid: "ProcessId",
    event_id: "EventID",
};

/// HELK's names.
const HELK: Names = Names {
    guid: "process_guid",
    parent: "process_parent_guid",
    image: "process_path",
    command_line: "process_command_line",
    parent_image: "process_parent_path",
    parent_command_line: "process_parent_command_line",
    host: "host_name",
    user: "user_name",
    pid: "process_id",
    event_id: "event_id",
};

/// The process fields of the table holding Sysmon's events, read as one shape whatever
/// the schema.
struct Processes<'a> {
    state: &'a AppState,
    session: Session,
    /// The table, as SQL names it.
    table: String,
    names: &'static Names,
    /// The select list giving every field its common name (NULL where the lake lacks it).
    select: String,
}

impl<'a> Processes<'a> {
    /// Finds the table: `events`, or HELK's Sysmon index table, or any with process guids.
    async fn open(state: &'a AppState) -> Result<Processes<'a>, Failure> {
        let catalog = state.lake.catalog().map_err(|e| Failure::internal(e.to_string()))?;
        let mut tables: Vec<&String> = catalog.tables.keys().collect();
        tables.sort_by_key(|name| (name.as_str() != "events", !name.contains("sysmon")));
        let session = state.session.fork();
        for table in tables {
            let table = identifier(table);
            let columns = columns(state, &session, &format!("SELECT * FROM {table}")).await?;
            let has = |name: &str| columns.iter().any(|c| c == name);
            if let Some(names) = [&RAW, &HELK].into_iter().find(|n| has(n.guid) && has(n.parent)) {
                let select = select_list(names, &has);
                return Ok(Processes { state, session, table, names, select });
            }
        }
        Err(Failure::not_found("no table has process guids (ProcessGuid and ParentProcessGuid): process trees need Sysmon's process creations"))
    }

    /// The creations whose `column` is one of `guids`.
    async fn created(&self, column: &str, guids: &[String]) -> Result<Vec<Map<String, Value>>, Failure> {
        let mut found = Vec::new();
        for chunk in guids.chunks(CHUNK) {
            let listed: Vec<String> = chunk.iter().map(|g| spark_string(g)).collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE {} = 1 AND {} IN ({}) ORDER BY {}",
                self.select,
                self.table,
                identifier(self.names.event_id),
                identifier(column),
                listed.join(", "),
                identifier(TIME_FIELD)
            );
            found.extend(objects(&collect(self.state, &self.session, &sql).await?.1)?);
        }
        Ok(found)
    }
}

/// The select list giving each process field its common name (NULL where `has` says the
/// table lacks it).
fn select_list(names: &Names, has: &dyn Fn(&str) -> bool) -> String {
    let field = |column: &str, name: &str| match has(column) {
        true => format!("{} AS {name}", identifier(column)),
        false => format!("NULL AS {name}"),
    };
    [
        field(names.guid, "guid"),
        field(names.parent, "parent"),
        field(names.image, "image"),
        field(names.command_line, "command_line"),
        field(names.parent_image, "parent_image"),
        field(names.parent_command_line, "parent_command_line"),
        field(names.host, "host"),
        field(names.user, "user"),
        field(names.pid, "pid"),
        field(TIME_FIELD, "time"),
    ]
    .join(", ")
}

/// A process as the tree shows it.
fn node(row: &Map<String, Value>) -> Value {
    let mut node = row.clone();
    node.insert("known".into(), json!(true));
    Value::Object(node)
}

/// A parent known only from its child's creation.
fn parent_of(child: &Map<String, Value>) -> Option<(String, Value)> {
    let guid = child.get("parent")?.as_str()?.to_string();
    let node = json!({
        "guid": guid, "image": child.get("parent_image"), "command_line": child.get("parent_command_line"),
        "host": child.get("host"), "known": false,
    });
    Some((guid, node))
}

#[derive(Debug, Deserialize)]
pub struct TreeRequest {
    guid: String,
}

/// `GET /_hela/ui/process?guid=`: the process, its ancestors and its descendants, each
/// with its parent's guid, and whether the tree was cut at its bounds.
pub async fn tree(State(state): State<Arc<AppState>>, Query(request): Query<TreeRequest>) -> Response {
    let answer = async {
        let processes = Processes::open(&state).await?;
        let mut nodes: BTreeMap<String, Value> = BTreeMap::new();
        let guid = request.guid.clone();
        let own = processes.created(processes.names.guid, std::slice::from_ref(&guid)).await?;
        let mut current = own.into_iter().next();
        let mut children = processes.created(processes.names.parent, std::slice::from_ref(&guid)).await?;
        match &current {
            Some(row) => {
                nodes.insert(guid.clone(), node(row));
            }
            None => match children.first().and_then(parent_of) {
                Some((guid, parent)) => {
                    nodes.insert(guid, parent);
                }
                None => return Err(Failure::not_found(format!("no process creation (event 1) with or under the guid {guid}"))),
            },
        }
        // Up: each creation names its parent.
        while let Some(row) = current.take() {
            let Some((parent, known_from_child)) = parent_of(&row) else { break };
            if nodes.contains_key(&parent) || nodes.len() > MAX_ANCESTORS {
                break;
            }
            match processes.created(processes.names.guid, std::slice::from_ref(&parent)).await?.into_iter().next() {
                Some(created) => {
                    nodes.insert(parent, node(&created));
                    current = Some(created);
                }
                None => {
                    nodes.insert(parent, known_from_child);
                }
            }
        }
        // Down: generation by generation.
        let mut cut = false;
        let mut seen: HashSet<String> = nodes.keys().cloned().collect();
        for _ in 0..MAX_DEPTH {
            let mut next = Vec::new();
            for child in children.drain(..) {
                let Some(id) = child.get("guid").and_then(Value::as_str).map(str::to_string) else { continue };
                if seen.insert(id.clone()) {
                    nodes.insert(id.clone(), node(&child));
                    next.push(id);
                }
            }
            if next.is_empty() {
                break;
            }
            if nodes.len() >= MAX_PROCESSES {
                cut = true;
                break;
            }
            children = processes.created(processes.names.parent, &next).await?;
        }
        cut |= !children.is_empty();
        Ok(json!({"guid": guid, "processes": nodes.into_values().collect::<Vec<_>>(), "cut": cut}))
    };
    reply(&state, answer.await)
}

#[derive(Debug, Deserialize)]
pub struct Search {
    q: String,
}

/// `GET /_hela/ui/processes?q=`: processes whose image or command line contains `q`
/// (without regard to case), and parents known from their children's creations.
pub async fn search(State(state): State<Arc<AppState>>, Query(search): Query<Search>) -> Response {
    let answer = async {
        let processes = Processes::open(&state).await?;
        let names = processes.names;
        let pattern = spark_string(&format!("%{}%", search.q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        let created = |image: &str, line: &str| {
            format!(
                "SELECT {} FROM {} WHERE {} = 1 AND ({} ILIKE {pattern} OR {} ILIKE {pattern}) ORDER BY {} LIMIT {MAX_FOUND}",
                processes.select,
                processes.table,
                identifier(names.event_id),
                identifier(image),
                identifier(line),
                identifier(TIME_FIELD)
            )
        };
        let own = objects(&collect(&state, &processes.session, &created(names.image, names.command_line)).await?.1)?;
        let as_parent = objects(&collect(&state, &processes.session, &created(names.parent_image, names.parent_command_line)).await?.1)?;
        let mut found: BTreeMap<String, Value> = BTreeMap::new();
        for row in &own {
            if let Some(guid) = row.get("guid").and_then(Value::as_str) {
                found.entry(guid.to_string()).or_insert_with(|| node(row));
            }
        }
        for (guid, parent) in as_parent.iter().filter_map(parent_of) {
            found.entry(guid).or_insert(parent);
        }
        Ok(json!({"processes": found.into_values().take(MAX_FOUND).collect::<Vec<_>>()}))
    };
    reply(&state, answer.await)
}

/// `GET /_hela/ui/process/activity?guid=`: the process's events other than its creation
/// (network connections, file events, ...), in time order.
pub async fn activity(State(state): State<Arc<AppState>>, Query(request): Query<TreeRequest>) -> Response {
    let answer = async {
        let processes = Processes::open(&state).await?;
        let names = processes.names;
        let sql = format!(
            "SELECT * FROM {} WHERE {} = {} AND {} <> 1 ORDER BY {} LIMIT {MAX_ACTIVITY}",
            processes.table,
            identifier(names.guid),
            spark_string(&request.guid),
            identifier(names.event_id),
            identifier(TIME_FIELD)
        );
        let events = objects(&collect(&state, &processes.session, &sql).await?.1)?;
        Ok(json!({"guid": request.guid, "events": events}))
    };
    reply(&state, answer.await)
}
