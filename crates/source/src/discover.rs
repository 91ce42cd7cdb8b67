//! Turns the paths a user names into the list of inputs to read.

use std::path::{Path, PathBuf};

use crate::SourceError;

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

/// Expands files, directories (recursively, in name order, skipping hidden entries and
/// files whose extension is not a log format) and `-` into inputs. Paths that cannot be
/// read are returned as errors beside the inputs that can.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<SourceError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input { path: path.clone(), size: None });
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut inputs, &mut errors),
            Ok(meta) => inputs.push(Input { path: path.clone(), size: Some(meta.len()) }),
            Err(source) => errors.push(SourceError::Io { path: path.clone(), source }),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<SourceError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(source) => {
            errors.push(SourceError::Io { path: dir.to_path_buf(), source });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, inputs, errors),
            Ok(meta) if has_log_extension(&path) => {
                inputs.push(Input { path, size: Some(meta.len()) })
            }
            Ok(_) => {}
            Err(source) => errors.push(SourceError::Io { path, source }),
        }
    }
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
        let (inputs, errors) = discover(&[root.to_path_buf(), root.join("b/readme.txt")]);
        assert!(errors.is_empty());
        let names: Vec<_> = inputs
            .iter()
            .map(|i| i.path.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.json", "b/nested/c.jsonl.gz", "b/readme.txt"]);
    }

    #[test]
    fn missing_paths_are_errors_and_stdin_is_an_input() {
        let (inputs, errors) = discover(&[PathBuf::from("-"), PathBuf::from("/no/such/file.json")]);
        assert_eq!(inputs.len(), 1);
        assert!(inputs[0].is_stdin());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("/no/such/file.json"));
    }
}
