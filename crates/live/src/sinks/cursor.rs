//! How far a sink has delivered: the number of the last alert it took, kept in a file
//! so that a restarted server delivers what a crash kept from it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A sink's delivered position, in memory and on disk.
#[derive(Debug)]
pub struct Cursor {
    path: PathBuf,
    delivered: AtomicU64,
}

impl Cursor {
    /// The cursor kept at `path`; a sink new to the server starts at `committed`, the
    /// last alert already committed, so that it is not sent the server's history.
    pub fn open(path: PathBuf, committed: u64) -> std::io::Result<Cursor> {
        let delivered = match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map_err(|e| std::io::Error::other(format!("{}: not a number: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write(&path, committed)?;
                committed
            }
            Err(e) => return Err(e),
        };
        Ok(Cursor { path, delivered: AtomicU64::new(delivered) })
    }

    /// The number of the last alert delivered.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Notes alerts up to `seq` delivered, durably.
    pub fn advance(&self, seq: u64) {
        if seq <= self.delivered() {
            return;
        }
        self.delivered.store(seq, Ordering::Relaxed);
        if let Err(e) = write(&self.path, seq) {
            eprintln!("error: cannot note delivered alerts in {}: {e}; they may be delivered again after a restart", self.path.display());
        }
    }
}

/// Replaces the file at `path` with `seq`, synced.
fn write(path: &Path, seq: u64) -> std::io::Result<()> {
    crate::files::replace_file(path, format!("{seq}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_sink_starts_at_the_committed_alerts_and_a_known_one_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sinks").join("webhook.delivered");
        let cursor = Cursor::open(path.clone(), 40).unwrap();
        assert_eq!(cursor.delivered(), 40);
        cursor.advance(45);
        cursor.advance(44);
        assert_eq!(Cursor::open(path.clone(), 90).unwrap().delivered(), 45, "kept on disk, not reset");
        std::fs::write(&path, "x").unwrap();
        assert!(Cursor::open(path, 0).unwrap_err().to_string().contains("not a number"));
    }
}
