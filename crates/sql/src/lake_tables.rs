//! The lake's tables as DataFusion tables: the Parquet files the catalog names, read with
//! the table's merged schema (files written before a column appeared read it as nulls).

use std::sync::Arc;

use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::common::TableReference;
use datafusion::prelude::SessionContext;
use hela_lake::{Lake, TableEntry};
use hela_schema::shape::query_schema;

use crate::SqlError;

/// Registers every table of the lake's catalog in `ctx`.
pub fn register_lake_tables(ctx: &SessionContext, lake: &Lake) -> Result<(), SqlError> {
    let catalog = lake.catalog()?;
    for (name, entry) in &catalog.tables {
        let table = listing_table(lake, entry).map_err(|e| SqlError::Table { name: name.clone(), message: e.to_string() })?;
        ctx.register_table(TableReference::bare(name.as_str()), table)?;
    }
    Ok(())
}

fn listing_table(lake: &Lake, entry: &TableEntry) -> datafusion::error::Result<Arc<ListingTable>> {
    let urls = entry
        .files
        .iter()
        .map(|f| ListingTableUrl::parse(lake.path_of(&f.path).to_string_lossy()))
        .collect::<Result<Vec<_>, _>>()?;
    let format = ParquetFormat::default().with_enable_pruning(true);
    let options = ListingOptions::new(Arc::new(format)).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(Arc::new(query_schema(&entry.storage_schema())));
    Ok(Arc::new(ListingTable::try_new(config)?))
}
