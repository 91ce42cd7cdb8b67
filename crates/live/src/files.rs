//! Small files the live side keeps in the lake, replaced whole.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Replaces the file at `path` (its directory made when missing) whole with `contents`,
/// synced: written beside it, then renamed over it, so that a reader sees the old contents
/// or the new, never a part.
pub fn replace_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(contents)?;
    file.sync_data()?;
    std::fs::rename(&partial, path)
}
