//! A lake directory: where its parts live, its lock, and clean-up after interrupted writes.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::{Catalog, LakeError};

/// The table every ingested event goes to.
pub const EVENTS_TABLE: &str = "events";

const CATALOG_FILE: &str = "catalog.json";
const LOCK_FILE: &str = "lock";
pub(crate) const STAGING_DIR: &str = "_staging";
pub(crate) const TABLES_DIR: &str = "tables";
pub(crate) const QUARANTINE_DIR: &str = "quarantine";

/// A lake rooted at a directory (which need not exist until the first ingest).
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

/// Held while writing; released when dropped or when the process dies.
pub(crate) struct LakeLock {
    _file: File,
}

impl Lake {
    pub fn new(root: impl Into<PathBuf>) -> Lake {
        Lake { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True once something has been committed to this lake.
    pub fn exists(&self) -> bool {
        self.catalog_path().is_file()
    }

    pub fn catalog_path(&self) -> PathBuf {
        self.root.join(CATALOG_FILE)
    }

    /// The committed catalog (empty for a lake not yet written).
    pub fn catalog(&self) -> Result<Catalog, LakeError> {
        Catalog::load(&self.catalog_path())
    }

    /// Absolute path of a file named relative to the lake.
    pub fn path_of(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Takes the writer's lock, creating the lake directory if needed.
    pub(crate) fn lock(&self) -> Result<LakeLock, LakeError> {
        std::fs::create_dir_all(&self.root).map_err(LakeError::io(&self.root))?;
        let path = self.root.join(LOCK_FILE);
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(LakeError::io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(LakeLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LakeError::Locked(self.root.clone())),
            Err(std::fs::TryLockError::Error(e)) => Err(LakeError::io(path)(e)),
        }
    }

    /// Removes what interrupted writers left: staged files and data files no catalog names.
    /// Call with the lock held.
    pub(crate) fn sweep(&self, _lock: &LakeLock, catalog: &Catalog) -> Result<usize, LakeError> {
        let staging = self.root.join(STAGING_DIR);
        let mut removed = 0;
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(LakeError::io(&staging))?;
            removed += 1;
        }
        let known: HashSet<PathBuf> = catalog
            .tables
            .values()
            .flat_map(|t| t.files.iter().map(|f| self.path_of(&f.path)))
            .chain(catalog.quarantine.iter().map(|q| self.path_of(q)))
            .collect();
        for dir in [TABLES_DIR, QUARANTINE_DIR] {
            for file in files_under(&self.root.join(dir)) {
                if !known.contains(&file) {
                    std::fs::remove_file(&file).map_err(LakeError::io(&file))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() { files_under(&path) } else { vec![path] }
        })
        .collect()
}
