//! The lake's tables as DataFusion tables. Each scan reads the Parquet files the catalog
//! names (no directory listing), skips the files whose partition (source, and day or days
//! for a compacted file) cannot hold a matching row, and reads the rest with the table's
//! merged schema: files written before a column appeared read it as nulls. A filter on `Channel` that the choice of files settles
//! (each file read passes it whole) is not applied to rows at all.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::{ExecutionPlan, Partitioning};
use hela_lake::store::split_store_url;
use hela_lake::writer::ROWS_PER_ROW_GROUP;
use hela_lake::{ChannelFill, Lake, TableEntry};
use hela_schema::Shape;
use hela_schema::shape::query_schema;

use crate::pruning::{Bounds, CHANNEL, ChannelTest, is_text};

/// One table of the lake, or several read as one.
#[derive(Debug)]
pub struct LakeTable {
    schema: SchemaRef,
    files: Arc<[LakeFile]>,
    /// The table's `Channel` column holds text, so a row's `Channel` is its source.
    channel_is_text: bool,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct LakeFile {
    path: String,
    bytes: u64,
    rows: u64,
    source: String,
    day: String,
    #[serde(default)]
    last_day: Option<String>,
    event_ids: Option<Vec<i64>>,
    channel: Option<ChannelFill>,
}

impl LakeFile {
    /// The first and last day of its rows.
    fn days(&self) -> (&str, &str) {
        (&self.day, self.last_day.as_deref().unwrap_or(&self.day))
    }
}

impl LakeTable {
    /// The tables `entries` as one: every file of each, read with their merged schema.
    pub fn union(lake: &Lake, entries: &[&TableEntry]) -> LakeTable {
        let mut shape = Shape::Null;
        entries.iter().for_each(|entry| shape.merge(entry.shape.clone()));
        let files = entries
            .iter()
            .flat_map(|entry| &entry.files)
            .map(|f| LakeFile {
                path: lake.path_of(&f.path).to_string_lossy().into_owned(),
                bytes: f.bytes,
                rows: f.rows,
                source: f.source.clone(),
                day: f.day.clone(),
                last_day: f.last_day.clone(),
                event_ids: f.event_ids.clone(),
                channel: f.channel,
            })
            .collect();
        let schema = Arc::new(query_schema(&shape.storage_schema()));
        let channel_is_text = schema.field_with_name(CHANNEL).is_ok_and(|f| is_text(f.data_type()));
        LakeTable { schema, files, channel_is_text }
    }

    /// The table showing only its columns whose names `shown` accepts, over the same files;
    /// None when it accepts them all.
    pub fn with_columns(&self, shown: impl Fn(&str) -> bool) -> Option<LakeTable> {
        let columns: Vec<usize> = (0..self.schema.fields().len()).filter(|&i| shown(self.schema.field(i).name())).collect();
        if columns.len() == self.schema.fields().len() {
            return None;
        }
        let schema = Arc::new(self.schema.project(&columns).expect("the indices of its own columns"));
        Some(LakeTable { schema, files: Arc::clone(&self.files), channel_is_text: self.channel_is_text })
    }

    /// The table as bytes, for a plan sent to another process (a cluster's scheduler):
    /// its schema and the very files it reads, so that the other side reads the catalog
    /// version this side planned with.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut schema = Vec::new();
        StreamWriter::try_new(&mut schema, &self.schema)?.finish()?;
        let files = serde_json::to_vec(&(self.files.as_ref(), self.channel_is_text)).map_err(|e| DataFusionError::External(Box::new(e)))?;
        let mut bytes = (schema.len() as u64).to_le_bytes().to_vec();
        bytes.extend(schema);
        bytes.extend(files);
        Ok(bytes)
    }

    /// The table [`LakeTable::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<LakeTable> {
        let malformed = || DataFusionError::Internal("a lake table's bytes are cut short".into());
        let (length, rest) = bytes.split_first_chunk::<8>().ok_or_else(malformed)?;
        let (schema, files) = rest.split_at_checked(u64::from_le_bytes(*length) as usize).ok_or_else(malformed)?;
        let schema = StreamReader::try_new(schema, None)?.schema();
        let (files, channel_is_text): (Vec<LakeFile>, bool) = serde_json::from_slice(files).map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(LakeTable { schema, files: files.into(), channel_is_text })
    }

    /// True when `filter` tests `Channel` alone and the choice of files settles it: each
    /// file either passes it whole or is not read.
    fn settled_by_files(&self, filter: &Expr) -> bool {
        self.channel_is_text && ChannelTest::of(filter).is_some_and(|test| self.files.iter().all(|f| test.settled_by_file(&f.source, f.channel)))
    }
}

#[async_trait]
impl TableProvider for LakeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Filters prune whole files here; those the choice of files does not settle are
    /// applied to rows as well.
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        let pushdown = |filter: &&Expr| {
            if self.settled_by_files(filter) { TableProviderFilterPushDown::Exact } else { TableProviderFilterPushDown::Inexact }
        };
        Ok(filters.iter().map(pushdown).collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let bounds = Bounds::from_filters(filters);
        let store = self.files.first().map_or_else(ObjectStoreUrl::local_filesystem, |f| store_of(&f.path).0);
        let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); state.config().target_partitions().max(1)];
        let mut sizes = vec![0u64; groups.len()];
        let mut one_row_group_each = true;
        for file in self.files.iter().filter(|f| bounds.may_hold(&f.source, f.days(), f.event_ids.as_deref(), f.channel)) {
            one_row_group_each &= file.rows <= ROWS_PER_ROW_GROUP as u64;
            // Largest-first is not needed for balance here: files are similar in size.
            let smallest = (0..sizes.len()).min_by_key(|&i| sizes[i]).expect("at least one group");
            sizes[smallest] += file.bytes;
            let (file_store, path) = store_of(&file.path);
            if file_store != store {
                return Err(DataFusionError::Plan(format!("a lake table's files are in two places: {store} and {file_store}")));
            }
            groups[smallest].push(PartitionedFile::new(path, file.bytes));
        }
        let groups: Vec<FileGroup> = groups.into_iter().filter(|g| !g.is_empty()).map(FileGroup::new).collect();
        // Split into byte ranges, a file of one row group would be opened, and its footer
        // read, by each range, though one range reads all its rows. Files of no more rows
        // than a row group are kept whole by declaring the partitioning, as unknown.
        let whole_files = one_row_group_each.then(|| Partitioning::UnknownPartitioning(groups.len()));
        // The session's Parquet options (`SET datafusion.execution.parquet.*`) apply.
        let format = ParquetFormat::default().with_options(state.default_table_options().parquet);
        // The scan's table is the projected columns alone: planning then works out the
        // statistics and orderings of a few columns, not of the table's hundreds.
        let schema = match projection {
            Some(columns) => Arc::new(self.schema.project(columns)?),
            None => self.schema.clone(),
        };
        let source = format.file_source(TableSchema::from(schema));
        let config = FileScanConfigBuilder::new(store, source)
            .with_file_groups(groups)
            .with_limit(limit)
            .with_output_partitioning(whole_files)
            .build();
        format.create_physical_plan(state, config).await
    }
}

/// The store a lake file is in and its path there: a local file's absolute path, or an
/// object store's bucket (`s3://BUCKET`) and the key under it.
fn store_of(path: &str) -> (ObjectStoreUrl, String) {
    match split_store_url(path).and_then(|(bucket, key)| Some((ObjectStoreUrl::parse(bucket).ok()?, key.to_string()))) {
        Some(found) => found,
        None => (ObjectStoreUrl::local_filesystem(), path.to_string()),
    }
}
