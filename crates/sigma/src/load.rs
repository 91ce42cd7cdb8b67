//! Reads Sigma rules from files and directories. Every rule file either loads or is
//! rejected with the reason, so nothing is skipped silently.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use crate::rule::Rule;

/// A rule that could not be used, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub path: PathBuf,
    pub title: Option<String>,
    pub reason: String,
}

/// The rules read from some paths.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub rejected: Vec<Rejected>,
}

/// Loads every `.yml`/`.yaml` file under `paths` (files are read whatever their name),
/// in path order.
pub fn load_rules(paths: &[PathBuf]) -> RuleSet {
    let (files, rejected) = rule_files(paths);
    let loaded: Vec<Vec<Result<Rule, Rejected>>> = files.par_iter().map(|path| load_file(path)).collect();
    let mut set = RuleSet { rules: Vec::new(), rejected };
    for result in loaded.into_iter().flatten() {
        match result {
            Ok(rule) => set.rules.push(rule),
            Err(rejected) => set.rejected.push(rejected),
        }
    }
    set
}

/// The rule files under `paths`, in path order: files named, and `.yml`/`.yaml` files
/// under directories named (hidden ones left out); with the paths that cannot be read.
pub fn rule_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Rejected>) {
    let mut files = Vec::new();
    let mut rejected = Vec::new();
    for path in paths {
        collect(path, &mut files, &mut rejected, true);
    }
    (files, rejected)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>, rejected: &mut Vec<Rejected>, named: bool) {
    let reject = |rejected: &mut Vec<Rejected>, reason: String| {
        rejected.push(Rejected { path: path.to_path_buf(), title: None, reason })
    };
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                children.sort();
                for child in children {
                    let hidden = child.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
                    if !hidden {
                        collect(&child, files, rejected, false);
                    }
                }
            }
            Err(e) => reject(rejected, format!("cannot read directory: {e}")),
        },
        Ok(_) if named || is_yaml(path) => files.push(path.to_path_buf()),
        Ok(_) => {}
        Err(e) => reject(rejected, format!("cannot read: {e}")),
    }
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// The rules of one file: one per YAML document.
pub fn load_file(path: &Path) -> Vec<Result<Rule, Rejected>> {
    let reject = |title: Option<String>, reason: String| Rejected { path: path.to_path_buf(), title, reason };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return vec![Err(reject(None, format!("cannot read: {e}")))],
    };
    parse_rules(&text, path).into_iter().map(|r| r.map_err(|(title, reason)| reject(title, reason))).collect()
}

/// The rules in YAML `text`; a document that is not a usable rule gives its title (when it
/// has one) and the reason.
pub fn parse_rules(text: &str, path: &Path) -> Vec<Result<Rule, (Option<String>, String)>> {
    let mut out = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = match serde_yaml::Value::deserialize(document) {
            Ok(value) => value,
            Err(e) => {
                out.push(Err((None, format!("not valid YAML: {e}"))));
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let title = value.get("title").and_then(|t| t.as_str()).map(str::to_string);
        out.push(Rule::from_yaml(&value, path).map_err(|reason| (title, reason)));
    }
    out
}
