//! Playbooks from the server's playbook directory: listed, and run over the lake with the
//! report `hela playbook run` writes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Json};
use hela_playbook::{Header, Playbook, Tally};
use hela_serve::server::AppState;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{Failure, reply};
use crate::Settings;

/// Rows of each block kept in a report.
const REPORT_ROWS: usize = 50;
/// Largest playbook read.
const MAX_PLAYBOOK_BYTES: u64 = 4 << 20;

/// The playbooks of `dir`: its Markdown files, by name.
fn playbook_files(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let entries = std::fs::read_dir(dir).map_err(|e| Failure::internal(format!("cannot read the playbook directory {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")))
        .collect();
    files.sort();
    Ok(files)
}

fn directory(settings: &Settings) -> Result<&Path, Failure> {
    settings.playbooks.as_deref().ok_or_else(|| Failure::not_found("no playbooks on this server; start it with --playbooks DIR"))
}

fn read(path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_PLAYBOOK_BYTES {
        return Err(format!("larger than {MAX_PLAYBOOK_BYTES} bytes"));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `GET /_hela/ui/playbooks`: each playbook's file name, title and number of SQL blocks,
/// or why it cannot be read.
pub async fn list(State(state): State<Arc<AppState>>, Extension(settings): Extension<Arc<Settings>>) -> Response {
    let answer = (|| {
        let files = playbook_files(directory(&settings)?)?;
        let listed: Vec<Value> = files
            .iter()
            .map(|path| {
                let name = name_of(path);
                match read(path).and_then(|text| Playbook::read(&name, &text).map(|p| (text, p))) {
                    Ok((text, playbook)) => {
                        let title = text.lines().find_map(|l| l.strip_prefix("# ")).unwrap_or(&name).trim().to_string();
                        json!({"name": name, "title": title, "blocks": playbook.blocks().count()})
                    }
                    Err(reason) => json!({"name": name, "error": reason}),
                }
            })
            .collect();
        Ok(json!({"playbooks": listed}))
    })();
    reply(&state, answer)
}

#[derive(Debug, Deserialize)]
pub struct Run {
    name: String,
}

/// `POST /_hela/ui/playbooks/run`: runs a playbook of the directory over the lake (views it
/// makes are its own) and answers with its HTML report and tally.
pub async fn run(State(state): State<Arc<AppState>>, Extension(settings): Extension<Arc<Settings>>, Json(run): Json<Run>) -> Response {
    let answer = async {
        let files = playbook_files(directory(&settings)?)?;
        let path = files.iter().find(|p| name_of(p) == run.name).ok_or_else(|| Failure::not_found(format!("no playbook {:?}", run.name)))?;
        let text = read(path).map_err(|e| Failure::internal(format!("{}: {e}", run.name)))?;
        let playbook = Playbook::read(&run.name, &text).map_err(Failure::bad)?;
        let session = state.session.fork();
        let mut quiet = |_: &hela_playbook::Block, _: &hela_playbook::Outcome| {};
        let work = playbook.run(&session, REPORT_ROWS, &mut quiet);
        let outcomes = tokio::time::timeout(state.limits.query_timeout, work).await.map_err(|_| Failure::timeout(&state))?;
        let header = Header { playbook: &run.name, lake: Path::new("<lake>"), when: hela_playbook::now() };
        let Tally { held, unmet, failed } = Tally::of(&outcomes);
        let html = hela_playbook::html(&header, &playbook.parts, &outcomes);
        Ok(json!({"name": run.name, "blocks": outcomes.len(), "held": held, "unmet": unmet, "failed": failed, "report": html}))
    };
    reply(&state, answer.await)
}
