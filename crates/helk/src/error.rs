//! Errors of loading mapping files.

use std::path::PathBuf;

/// A mapping file could not be read or does not say something hela can do.
///
/// Every variant names the file, and where it can, the key (`events.4624.rename`).
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The mappings directory or one of its files could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The mappings directory has no `common.toml`.
    #[error("{}: no common.toml (the shared rules every mappings directory needs)", dir.display())]
    MissingCommon {
        /// The directory searched.
        dir: PathBuf,
    },
    /// A file is not valid TOML, or has a key or kind hela does not know (the TOML error names
    /// the key, its line and its column).
    #[error("{file}: {message}")]
    Parse {
        /// The file name.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// A key has a value hela cannot use, or clashes with another file.
    #[error("{file}: {key}: {message}")]
    Invalid {
        /// The file name.
        file: String,
        /// The key, as a dotted TOML path.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl MappingError {
    pub(crate) fn invalid(file: &str, key: impl Into<String>, message: impl Into<String>) -> Self {
        MappingError::Invalid { file: file.to_owned(), key: key.into(), message: message.into() }
    }
}
