//! Sources of security events: files, directories, archives, Windows event logs (`.evtx`)
//! and standard input, read as chunks of complete JSON-lines records with the origin and
//! line number of each chunk.
//!
//! The data path starts here: [`discover`] turns user paths into [`Input`]s, and
//! [`read_input`] streams each one through the right decompressor into [`Chunk`]s.

pub mod chunk;
pub mod discover;
pub mod error;
pub mod evtx;
pub mod format;
pub mod read;
pub mod walk;

pub use chunk::{Chunk, ChunkEvent, Origin, REFUSED_HEAD_BYTES, Refused, Warning};
pub use discover::{Discovered, Input, discover};
pub use error::SourceError;
pub use read::{ReadOptions, read_input, read_input_watched, read_seekable};
