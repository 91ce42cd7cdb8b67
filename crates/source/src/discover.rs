//! Turns the paths a user names into the list of inputs to read.

use std::path::{Path, PathBuf};

use crate::SourceError;
use crate::walk::Walker;

/// File name endings read when walking a directory. Files named explicitly are always read.
const DIRECTORY_EXTENSIONS: &[&str] = &[
    "json", "jsonl", "ndjson", "log", "gz", "tgz", "zip", "tar", "evtx",
];

/// One thing to read: a file, or standard input (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    /// Size on disk in bytes; `None` for standard input.
    pub size: Option<u64>,
}

impl Input {
    /// True when this input is standard input.
    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }

    /// The name used in messages and in the quarantine.
    pub fn display_name(&self) -> String {
        self.path.display().to_string()
    }
}

/// The inputs the paths a user names expand to, with the paths passed over (links to what
/// was already found) and those that cannot be read.
#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    /// Paths passed over, with why.
    pub skipped: Vec<(PathBuf, String)>,
    pub errors: Vec<SourceError>,
}

/// Expands files, directories (recursively, in name order, skipping hidden entries and
/// files whose extension is not a log format) and `-` into inputs, each file once.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    let wanted = |path: &Path| has_log_extension(path);
    let mut walker = Walker::new(&wanted);
    for path in paths {
        if path.as_os_str() == "-" {
            found.inputs.push(Input { path: path.clone(), size: None });
            continue;
        }
        walker.add(path);
        found.inputs.extend(walker.files.drain(..).map(|(path, size)| Input { path, size: Some(size) }));
    }
    found.skipped = walker.skipped;
    found.errors = walker.errors.into_iter().map(|(path, source)| SourceError::Io { path, source }).collect();
    found
}

fn has_log_extension(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| DIRECTORY_EXTENSIONS.contains(&e.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_in_order_and_skips_hidden_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/nested")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for name in ["a.json", "b/nested/c.jsonl.gz", "b/readme.txt", ".hidden.json", ".git/x.json"] {
            std::fs::write(root.join(name), b"{}\n").unwrap();
        }
        let Discovered { inputs, errors, .. } = discover(&[root.to_path_buf(), root.join("b/readme.txt")]);
        assert!(errors.is_empty());
        let names: Vec<_> = inputs
            .iter()
            .map(|i| i.path.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.json", "b/nested/c.jsonl.gz", "b/readme.txt"]);
    }

    #[test]
    fn missing_paths_are_errors_and_stdin_is_an_input() {
        let Discovered { inputs, errors, .. } = discover(&[PathBuf::from("-"), PathBuf::from("/no/such/file.json")]);
        assert_eq!(inputs.len(), 1);
        assert!(inputs[0].is_stdin());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("/no/such/file.json"));
    }
}
