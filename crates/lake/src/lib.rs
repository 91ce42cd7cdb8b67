//! The hela lake: a directory of Parquet files with a catalog that says which files make up
//! each table. Writers stage files and then commit them by replacing the catalog atomically,
//! so readers never see partial data and a crash leaves the lake as it was before.
//!
//! ```text
//! LAKE/
//!   catalog.json                     tables, their schema and files; inputs already ingested
//!   tables/TABLE/source=S/day=D/*.parquet  (TABLE is `events`, or a schema's tables)
//!   quarantine/*.jsonl               records that could not be stored, with file, line, reason
//!   _staging/                        files of commits in progress (removed on the next ingest)
//! ```
//!
//! Files a commit takes out of the tables (merged, rewritten, dropped by retention) are
//! retired: the catalog lists them with when, and they stay for the queries reading them
//! until they expire (see [`maintenance`]).
//!
//! A lake can also live on an object store (`s3://BUCKET/PREFIX`, see [`store`]), in the
//! same layout, written through a local working copy and committed by a conditional put.

pub mod catalog;
mod compact;
pub mod error;
mod file_writer;
pub mod fingerprint;
pub mod ingest;
pub mod lake;
pub mod maintenance;
mod order;
pub mod partition;
pub mod quarantine;
pub mod rewrite;
pub mod router;
pub mod store;
mod stored_columns;
pub mod writer;

pub use catalog::{Catalog, ChannelFill, DataFile, IngestedInput, TableEntry};
pub use error::LakeError;
pub use ingest::{AppendBatch, AppendSummary, Appender, IngestOptions, IngestProgress, IngestSummary, Notice, ingest};
pub use lake::{LIVE_DIR, EVENTS_TABLE, Lake, SINKS_DIR};
pub use router::{OneTable, RawEvents, Router};
