//! Merges the small files of a partition. A partition gains a file at each commit that
//! brings it rows, and another whenever its schema grows while it is written; yet each file
//! a query opens costs the query the same work whatever its size (its footer read and its
//! schema converted, its filters adapted, its readers built). So after an ingest, the small
//! files of each partition it wrote are merged, in catalog order, into files of at most one
//! row group. A source whose days each hold few events still has a file per day; compaction
//! (`hela lake compact`) merges those across days, sorted by `EventID` and time.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;

use hela_schema::Shape;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::catalog::{ChannelFill, DataFile, TableEntry};
use crate::order::RowOrder;
use crate::partition::is_date;
use crate::rewrite::write_as;
use crate::stored_columns::schema_of_values;
use crate::writer::{MAX_EVENT_IDS, ROWS_PER_ROW_GROUP, lake_file_schema, parquet_error};
use crate::{Lake, LakeError};

/// The groups of `table`'s files to merge, each as indices into its files: in each
/// partition that `touched` accepts, its files of fewer rows than a row group, taken in
/// catalog order into groups that fit in one row group. Groups of fewer than `min_files`
/// files (at least two: a group of one file is no merge) are left as they are.
pub(crate) fn plan_merges(table: &TableEntry, min_files: usize, touched: impl Fn(&DataFile) -> bool) -> Vec<Vec<usize>> {
    let mut partitions: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (index, file) in table.files.iter().enumerate().filter(|(_, file)| touched(file)) {
        partitions.entry((&file.source, &file.day)).or_default().push(index);
    }
    pack(&table.files, partitions.into_values(), min_files)
}

/// The groups of `table`'s files that compaction merges, across days: for each source, its
/// files of fewer rows than a row group in order of day, taken into groups that fit in one
/// row group. Files whose day is not known are grouped apart from the others. Each file of a
/// row group or more whose rows are not yet sorted is a group of its own, to be sorted.
pub(crate) fn plan_compaction(table: &TableEntry) -> Vec<Vec<usize>> {
    let mut sources: BTreeMap<(&str, bool), Vec<usize>> = BTreeMap::new();
    for (index, file) in table.files.iter().enumerate() {
        sources.entry((&file.source, is_date(&file.day))).or_default().push(index);
    }
    let by_day = sources.into_values().map(|mut indices| {
        indices.sort_by_key(|&i| (&table.files[i].day, table.files[i].last_day()));
        indices
    });
    let mut groups = pack(&table.files, by_day, 2);
    let full = |file: &DataFile| file.rows >= ROWS_PER_ROW_GROUP as u64;
    groups.extend(table.files.iter().enumerate().filter(|(_, file)| full(file) && !file.sorted).map(|(index, _)| vec![index]));
    groups.sort();
    groups
}

/// Each run of indices into `files` taken in its order into groups of files, of fewer rows
/// than a row group each, that together fit in one; groups of fewer than `min_files` files
/// (at least two) dropped.
fn pack(files: &[DataFile], runs: impl Iterator<Item = Vec<usize>>, min_files: usize) -> Vec<Vec<usize>> {
    let row_group = ROWS_PER_ROW_GROUP as u64;
    let mut groups = Vec::new();
    for run in runs {
        let (mut group, mut rows) = (Vec::new(), 0);
        for index in run.into_iter().filter(|&i| files[i].rows < row_group) {
            if rows + files[index].rows > row_group {
                groups.push(std::mem::take(&mut group));
                rows = 0;
            }
            group.push(index);
            rows += files[index].rows;
        }
        groups.push(group);
    }
    groups.retain(|group| group.len() >= min_files.max(2));
    groups.sort();
    groups
}

/// Writes `files` (of one source) as one file at `staged`, with the union of their columns
/// that hold values ([`schema_of_values`]), their rows in `order`. Returns its catalog
/// entry, whose `path` is left for the caller to set.
pub(crate) fn merge_files(lake: &Lake, files: &[&DataFile], order: RowOrder, staged: &Path) -> Result<DataFile, LakeError> {
    let mut readers = Vec::with_capacity(files.len());
    let mut shape = Shape::Null;
    for file in files {
        let path = lake.path_of(&file.path);
        let handle = File::open(&path).map_err(LakeError::io(&path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(handle).map_err(parquet_error(&path))?;
        shape.merge(Shape::from_schema(schema_of_values(&path, &reader)?.as_ref()));
        readers.push((path, reader));
    }
    let bytes = write_as(readers, &lake_file_schema(shape.storage_schema().into()), order, staged)?;
    let first = files.first().expect("a merge has files");
    let day = files.iter().map(|f| &f.day).min().expect("a merge has files");
    let last_day = files.iter().map(|f| f.last_day()).max().expect("a merge has files");
    Ok(DataFile {
        path: String::new(),
        rows: files.iter().map(|f| f.rows).sum(),
        bytes,
        source: first.source.clone(),
        day: day.clone(),
        last_day: (last_day != day).then(|| last_day.to_string()),
        event_ids: merged_event_ids(files),
        channel: files.iter().map(|f| f.channel).reduce(merged_channel).flatten(),
        sorted: order != RowOrder::AsStored,
    })
}

/// Every `EventID` of the files, unknown when one file's are or when there are too many.
fn merged_event_ids(files: &[&DataFile]) -> Option<Vec<i64>> {
    let mut ids = BTreeSet::new();
    for file in files {
        ids.extend(file.event_ids.as_ref()?);
    }
    (ids.len() <= MAX_EVENT_IDS).then(|| ids.into_iter().collect())
}

/// The fill of two files' rows together, unknown when either's is.
fn merged_channel(a: Option<ChannelFill>, b: Option<ChannelFill>) -> Option<ChannelFill> {
    Some(a?.and(b?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(source: &str, day: &str, rows: u64) -> DataFile {
        let path = format!("{source}/{day}/{rows}");
        DataFile { path, rows, bytes: 1, source: source.into(), day: day.into(), last_day: None, event_ids: None, channel: None, sorted: false }
    }

    #[test]
    fn small_files_of_a_partition_are_grouped_to_fill_a_row_group() {
        let big = ROWS_PER_ROW_GROUP as u64;
        let files = vec![
            file("Security", "2020-09-21", 10),
            file("Sysmon", "2020-09-21", 10),
            file("Security", "2020-09-21", big),
            file("Security", "2020-09-21", big - 15),
            file("Security", "2020-09-22", 10),
            file("Security", "2020-09-21", 20),
            file("Sysmon", "2020-09-21", 10),
            file("System", "2020-09-21", 5),
            file("System", "2020-09-21", 5),
        ];
        let table = TableEntry { shape: Shape::Null, files };
        let groups = plan_merges(&table, 2, |f| f.source != "System");
        // The full file is left alone, the lone file of 09-22 and the partition not
        // touched too; 10 + (big - 15) fits in a row group, adding 20 would not.
        assert_eq!(groups, vec![vec![0, 3], vec![1, 6]]);
    }

    #[test]
    fn compaction_sorts_each_full_file_not_yet_sorted_on_its_own() {
        let big = ROWS_PER_ROW_GROUP as u64;
        let mut files = vec![
            file("Security", "2020-09-21", 10),
            file("Security", "2020-09-22", big),
            file("Security", "2020-09-23", 20),
            file("Sysmon", "2020-09-21", big + 1),
            file("Sysmon", "2020-09-22", 2 * big),
        ];
        files[4].sorted = true;
        let table = TableEntry { shape: Shape::Null, files };
        assert_eq!(plan_compaction(&table), vec![vec![0, 2], vec![1], vec![3]], "the small files merged; the full ones not sorted sorted alone");
    }

    #[test]
    fn merged_files_know_their_event_ids_and_channels_only_when_each_did() {
        let mut a = file("Security", "d", 1);
        let mut b = file("Security", "d", 1);
        (a.event_ids, b.event_ids) = (Some(vec![4624, 4688]), Some(vec![4624, 4672]));
        assert_eq!(merged_event_ids(&[&a, &b]), Some(vec![4624, 4672, 4688]));
        b.event_ids = Some((0..MAX_EVENT_IDS as i64).collect());
        assert_eq!(merged_event_ids(&[&a, &b]), None, "too many");
        b.event_ids = None;
        assert_eq!(merged_event_ids(&[&a, &b]), None);
        let (every, absent, mixed) = (Some(ChannelFill::Every), Some(ChannelFill::Absent), Some(ChannelFill::Mixed));
        assert_eq!(merged_channel(every, every), every);
        assert_eq!(merged_channel(absent, absent), absent);
        assert_eq!(merged_channel(every, absent), mixed);
        assert_eq!(merged_channel(every, None), None);
    }
}
