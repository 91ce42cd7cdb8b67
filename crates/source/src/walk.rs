//! Walks the paths a user names for the files under them, each file once: a link back to a
//! directory already walked (a loop) or to a file already found is skipped and reported,
//! and every entry that cannot be read is reported rather than passed over.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

/// The files found under some paths, in the order named (directories in name order), with
/// what was skipped and what could not be read.
pub struct Walker<'a> {
    /// Which files under a directory are wanted; files named directly always are.
    wanted: &'a dyn Fn(&Path) -> bool,
    /// Every file and directory found, by its real (canonical) path.
    visited: HashSet<PathBuf>,
    /// Files found, with their sizes.
    pub files: Vec<(PathBuf, u64)>,
    /// Paths passed over, with why.
    pub skipped: Vec<(PathBuf, String)>,
    /// Paths that could not be read.
    pub errors: Vec<(PathBuf, io::Error)>,
}

impl<'a> Walker<'a> {
    pub fn new(wanted: &'a dyn Fn(&Path) -> bool) -> Self {
        Walker { wanted, visited: HashSet::new(), files: Vec::new(), skipped: Vec::new(), errors: Vec::new() }
    }

    /// Adds a path the user named: a file (whatever its name), or the wanted files under a
    /// directory, recursively, hidden entries left out.
    pub fn add(&mut self, path: &Path) {
        self.visit(path, true);
    }

    fn visit(&mut self, path: &Path, named: bool) {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(error) => return self.errors.push((path.to_path_buf(), error)),
        };
        if !meta.is_dir() && !named && !(self.wanted)(path) {
            return;
        }
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.visited.insert(real.clone()) {
            let what = if meta.is_dir() { "directory" } else { "file" };
            let reason = format!("the {what} {} is already read (through another name or link); read once", real.display());
            return self.skipped.push((path.to_path_buf(), reason));
        }
        if !meta.is_dir() {
            return self.files.push((path.to_path_buf(), meta.len()));
        }
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(error) => return self.errors.push((path.to_path_buf(), error)),
        };
        let mut children = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => children.push(entry.path()),
                Err(error) => self.errors.push((path.to_path_buf(), error)),
            }
        }
        children.sort();
        for child in children {
            let hidden = child.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden {
                self.visit(&child, false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn links_to_parents_and_twins_are_read_once_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/x.json"), b"{}\n").unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("a/b/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("a/b/x.json"), root.join("a/twin.json")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("a/broken.json")).unwrap();
        let wanted = |p: &Path| p.extension().is_some_and(|e| e == "json");
        let mut walker = Walker::new(&wanted);
        walker.add(root);
        walker.add(&root.join("a/b/x.json"));
        let files: Vec<_> = walker.files.iter().map(|(p, _)| p.strip_prefix(root).unwrap().display().to_string()).collect();
        assert_eq!(files, ["a/b/x.json"]);
        let skipped: Vec<_> = walker.skipped.iter().map(|(p, _)| p.strip_prefix(root).unwrap().display().to_string()).collect();
        assert_eq!(skipped, ["a/b/loop", "a/twin.json", "a/b/x.json"]);
        assert!(walker.skipped[0].1.contains("directory"), "{}", walker.skipped[0].1);
        assert_eq!(walker.errors.len(), 1);
        assert!(walker.errors[0].0.ends_with("a/broken.json"));
    }
}
