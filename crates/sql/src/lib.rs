//! SQL over hela's data: a DataFusion session that sees the lake's tables and tables made on
//! the fly from files (`--table NAME=PATH`: event logs loaded, Parquet read in place), runs
//! several statements in order, and writes the last result in the format asked for.

pub mod error;
pub mod fields_read;
pub mod index_patterns;
pub mod inline;
pub mod lake_tables;
mod named_columns;
pub mod object_stores;
pub mod output;
pub mod parquet_table;
pub mod pruning;
pub mod session;
pub mod spark;
pub mod table_args;
mod views;

pub use error::SqlError;
pub use inline::TableSpec;
pub use output::{OutputFormat, TableStyle, column_names, shown_batch, shown_schema, text_rows, write_batches, write_result, write_stream};
pub use session::{CATALOG, ParsedStatement, SCHEMA, Session, with_spark};
pub use table_args::{TableArguments, constant, constant_number, table_argument};
pub use views::WholeTableView;
