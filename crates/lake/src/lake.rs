//! A lake directory: where its parts live, its lock, and clean-up after interrupted writes.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::store::{StoreLake, is_store_url};
use crate::{Catalog, LakeError};

/// The table every ingested event goes to.
pub const EVENTS_TABLE: &str = "events";

pub(crate) const CATALOG_FILE: &str = "catalog.json";
const LOCK_FILE: &str = "lock";
pub(crate) const STAGING_DIR: &str = "_staging";
pub(crate) const TABLES_DIR: &str = "tables";
pub(crate) const QUARANTINE_DIR: &str = "quarantine";
/// Where a server's alert sinks note how far they delivered; it may be made before the
/// lake's first commit.
pub const SINKS_DIR: &str = "sinks";
/// Where the server keeps the state of its standing rules: their correlations' open
/// windows, and which rules were run over the lake's history.
pub const LIVE_DIR: &str = "live";

/// A lake rooted at a directory (which need not exist until the first ingest), or on an
/// object store (its root is then the store's URL).
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
    store: Option<StoreLake>,
}

/// Held while writing; released when dropped or when the process dies.
pub(crate) struct LakeLock {
    _file: File,
}

impl Lake {
    /// A lake at `root` (made absolute, so the paths it hands out are too). A root that is
    /// an object store's URL (`s3://BUCKET/PREFIX`) is a lake there; its paths are URLs.
    pub fn new(root: impl Into<PathBuf>) -> Lake {
        let root = root.into();
        let url = root.to_str().filter(|r| is_store_url(r));
        match url.map(StoreLake::parse) {
            Some(Ok(store)) => Lake { root: PathBuf::from(store.url()), store: Some(store) },
            // A URL that names no bucket stays a (relative) directory, as any other path.
            _ => Lake { root: std::path::absolute(&root).unwrap_or(root), store: None },
        }
    }

    /// The object store the lake is on, if it is on one.
    pub fn store(&self) -> Option<&StoreLake> {
        self.store.as_ref()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True once something has been committed to this lake.
    pub fn exists(&self) -> bool {
        match &self.store {
            // A store that cannot be asked may hold a lake: reading its catalog says why not.
            Some(store) => store.exists().unwrap_or(true),
            None => self.catalog_path().is_file(),
        }
    }

    pub fn catalog_path(&self) -> PathBuf {
        self.root.join(CATALOG_FILE)
    }

    /// The committed catalog (empty for a lake not yet written).
    pub fn catalog(&self) -> Result<Catalog, LakeError> {
        match &self.store {
            Some(store) => store.catalog(),
            None => Catalog::load(&self.catalog_path()),
        }
    }

    /// Absolute path of a file named relative to the lake.
    pub fn path_of(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Takes the writer's lock, creating the lake (directory and empty catalog) if needed.
    /// A directory that holds anything but a lake's own entries is refused, so that the
    /// clean-up of interrupted writes never touches files that are not the lake's.
    pub(crate) fn lock(&self) -> Result<LakeLock, LakeError> {
        if let Some(store) = &self.store {
            return Err(LakeError::WriteOnStore(store.url().to_string()));
        }
        std::fs::create_dir_all(&self.root).map_err(LakeError::io(&self.root))?;
        if !self.exists() {
            let entries = std::fs::read_dir(&self.root).map_err(LakeError::io(&self.root))?;
            let foreign = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|name| ![LOCK_FILE, STAGING_DIR, TABLES_DIR, QUARANTINE_DIR, SINKS_DIR, LIVE_DIR].contains(&name.as_str()));
            if let Some(name) = foreign {
                return Err(LakeError::NotALake { path: self.root.clone(), entry: name });
            }
        }
        let path = self.root.join(LOCK_FILE);
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(LakeError::io(&path))?;
        let lock = match file.try_lock() {
            Ok(()) => LakeLock { _file: file },
            Err(std::fs::TryLockError::WouldBlock) => return Err(LakeError::Locked(self.root.clone())),
            Err(std::fs::TryLockError::Error(e)) => return Err(LakeError::io(path)(e)),
        };
        if !self.exists() {
            Catalog::default().save(&self.catalog_path())?;
        }
        Ok(lock)
    }

    /// Removes what interrupted writers left, and retired files that expired: staged files
    /// and data files the catalog names neither in its tables nor as retired. Call with the
    /// lock held.
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
            .chain(catalog.retired.keys().map(|r| self.path_of(r)))
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

impl Lake {
    /// Removes those of `files` (relative to the lake) that `catalog` does not name: files
    /// a commit replaced, once no reader can still need them. Call with the lock held.
    pub(crate) fn remove_unlisted(&self, _lock: &LakeLock, catalog: &Catalog, files: &[String]) -> Result<(), LakeError> {
        let listed: HashSet<&str> = catalog.tables.values().flat_map(|t| t.files.iter().map(|f| f.path.as_str())).collect();
        for file in files.iter().filter(|f| !listed.contains(f.as_str())) {
            let path = self.path_of(file);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(LakeError::io(path)(e)),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The files under `dir`, the lake's own: links are neither followed nor listed (a link to
/// a directory outside the lake must never lead its clean-up there), and entries that
/// cannot be read are left where they are.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .flat_map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => files_under(&entry.path()),
            Ok(kind) if kind.is_file() => vec![entry.path()],
            _ => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_directory_that_is_not_a_lake() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
        let err = Lake::new(dir.path()).lock().err().expect("refused").to_string();
        assert!(err.contains("notes.txt") && err.contains("not a hela lake"), "{err}");
        assert!(dir.path().join("notes.txt").exists());
    }

    #[test]
    fn one_writer_at_a_time_and_a_new_lake_has_a_catalog() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        let held = lake.lock().unwrap();
        assert!(lake.exists());
        assert!(matches!(lake.lock(), Err(LakeError::Locked(_))));
        drop(held);
        assert!(lake.lock().is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn the_clean_up_never_follows_a_link_out_of_the_lake() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("precious.txt"), b"keep").unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        let lock = lake.lock().unwrap();
        let tables = dir.path().join("lake").join(TABLES_DIR);
        std::fs::create_dir_all(tables.join("events")).unwrap();
        std::fs::write(tables.join("events/leftover.parquet"), b"x").unwrap();
        std::os::unix::fs::symlink(&outside, tables.join("events/link")).unwrap();
        lake.sweep(&lock, &Catalog::default()).unwrap();
        assert!(!tables.join("events/leftover.parquet").exists(), "an unlisted file of the lake is removed");
        assert!(outside.join("precious.txt").exists(), "a file the link leads to is not");
    }
}
