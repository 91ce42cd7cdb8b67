//! From JSON records to Arrow: Spark-like schema inference ([`Shape`]), parsing chunks of
//! lines into records ([`parse_chunk`]), building Arrow batches ([`records_to_batch`]) and
//! widening batches to a merged schema ([`adapt_batch`]).
//!
//! Inference follows `spark.read.json`: a table's schema is the union of every field seen,
//! fields sorted by name; integral numbers are Int64, integers mixed with fractions Float64,
//! and a field seen with two unrelated types (number and string, object and string...) is a
//! string holding each value's JSON text. Nested objects are structs, arrays are lists.

pub mod adapt;
pub mod columns;
pub mod convert;
pub mod json;
pub mod kept;
pub mod parse;
pub mod shape;
pub mod stream;
pub mod tape;
pub mod view;

pub use adapt::adapt_batch;
pub use columns::ObjectColumns;
pub use convert::{columns_to_batch, records_to_batch, records_to_inferred_batch, stored_text};
pub use json::parse_value;
pub use kept::KeptFields;
pub use parse::{BadRecord, Parsed, parse_chunk, parse_chunk_into_tape};
pub use shape::Shape;
pub use stream::{ReadWatch, RecordEvent, RecordForm, Records, stream_records};
pub use tape::{Tape, TapeBuilder, TapeValue};
pub use view::{Json, JsonNumber, JsonView, map_members};
