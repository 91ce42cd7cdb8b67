//! Keeping a lake in shape, as Elasticsearch's index lifecycle does for HELK: merging each
//! source's small files across days ([`compact`]), dropping whole days once they are past
//! the retention period ([`retain`]), and removing the files no query can read any more
//! ([`vacuum`]).
//!
//! Each is one atomic commit under the writer's lock, so they are safe beside queries and
//! refused (not waited for) while an ingest or a server writes. A file taken out of the
//! catalog is not removed at once: it is retired, and stays on disk for the queries that
//! planned with the catalog before, for [`RETIRED_FILES_KEPT`] or the time `vacuum` is given.

use std::time::Duration;

use crate::compact::plan_compaction;
use crate::ingest::{Merged, Run, open_tidied, unix_seconds};
use crate::order::RowOrder;
use crate::partition::{civil_date, day_number, is_date};
use crate::{Catalog, Lake, LakeError, TableEntry};

/// How long a retired file stays on disk for the queries that may still read it.
pub const RETIRED_FILES_KEPT: Duration = Duration::from_secs(600);

/// The memory compaction may take, across the files it builds at once, to sort their rows.
/// A file whose rows do not fit in its share is written in the order its rows are stored.
pub const COMPACT_MEMORY: usize = 1 << 30;

/// Merges the files of each source, of `table` or of every table, across days: the files of
/// fewer rows than a row group, in order of day, into files of up to one row group
/// ([`crate::writer`]) whose rows are sorted by `EventID` and time. A merged file spans the
/// days of its files ([`crate::DataFile::last_day`]). Files of events without a time are
/// merged apart. One atomic commit; the files merged are retired. A lake on an object store
/// is compacted through a working copy holding the files to merge, and the merged files
/// stay in the store.
pub fn compact(lake: &Lake, table: Option<&str>) -> Result<Merged, LakeError> {
    if let Some(store) = lake.store() {
        return store.write(|working| {
            let catalog = working.catalog()?;
            check_table(lake, &catalog, table)?;
            let inputs: Vec<String> = catalog
                .tables
                .iter()
                .flat_map(|(name, entry)| compaction_plan(table)(name, entry).into_iter().flatten().map(|i| entry.files[i].path.clone()))
                .collect();
            store.download(working, &inputs)?;
            compact(working, table)
        });
    }
    existing_lake(lake)?;
    let (lock, catalog) = open_tidied(lake)?;
    check_table(lake, &catalog, table)?;
    let mut run = Run::new(lake, catalog)?;
    let merged = run.merge_groups(compaction_plan(table), compaction_order())?;
    run.close()?;
    drop(lock);
    Ok(merged)
}

/// The groups of files compaction merges in each table: of `table`, or of every table.
pub(crate) fn compaction_plan(table: Option<&str>) -> impl Fn(&str, &TableEntry) -> Vec<Vec<usize>> {
    move |name, entry| if table.is_none_or(|t| t == name) { plan_compaction(entry) } else { Vec::new() }
}

/// The order compaction writes rows in: sorted, each file being built taking its share of
/// [`COMPACT_MEMORY`] (it holds its rows once as read and once sorted).
pub(crate) fn compaction_order() -> RowOrder {
    RowOrder::EventAndTime { memory: COMPACT_MEMORY / (2 * rayon::current_num_threads().max(1)) }
}

/// What [`retain`] took out of the lake.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Retained {
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
    /// How many days the files dropped span, and the first and last (`YYYY-MM-DD`).
    pub days: u64,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    /// Compacted files kept whole because they hold days on both sides of the first day kept.
    pub straddling: usize,
}

/// Whether [`retain`] drops the days or only says what it would drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Drop,
    DryRun,
}

/// Takes out of the lake the files of every day before the one `days` days before today
/// (UTC), of `table` or of every table. Files whose day is not known (records without a
/// time) are kept. The files are retired, not removed. A dry run reads the catalog and
/// changes nothing.
pub fn retain(lake: &Lake, table: Option<&str>, days: u64, retention: Retention) -> Result<Retained, LakeError> {
    retain_from(lake, table, &first_kept_day(days), retention)
}

/// The first day (`YYYY-MM-DD`, UTC) a retention of `days` days keeps.
pub(crate) fn first_kept_day(days: u64) -> String {
    let today = (unix_seconds() / 86_400) as i64;
    civil_date(today.saturating_sub(i64::try_from(days).unwrap_or(i64::MAX)))
}

/// [`retain`] with the first day kept given (`YYYY-MM-DD`). Only a [`Retention::Drop`] takes
/// the writer's lock (a store lake's, through its working copy) and commits.
pub fn retain_from(lake: &Lake, table: Option<&str>, first_kept: &str, retention: Retention) -> Result<Retained, LakeError> {
    let (lock, mut catalog) = match (lake.store(), retention) {
        (Some(store), Retention::Drop) => return store.write(|working| retain_from(working, table, first_kept, retention)),
        (Some(store), Retention::DryRun) => (None, store.catalog()?),
        (None, _) if !lake.exists() => return Err(LakeError::NoLake(lake.root().to_path_buf())),
        (None, Retention::Drop) => {
            let lock = lake.lock()?;
            (Some(lock), lake.catalog()?)
        }
        (None, Retention::DryRun) => (None, lake.catalog()?),
    };
    check_table(lake, &catalog, table)?;
    let retained = drop_days(&mut catalog, table, first_kept);
    if lock.is_some() && retained.files > 0 {
        catalog.save(&lake.catalog_path())?;
    }
    drop(lock);
    Ok(retained)
}

/// Takes out of `catalog` the files of `table` (or of every table) whose days all lie before
/// `first_kept`, and retires them.
pub(crate) fn drop_days(catalog: &mut Catalog, table: Option<&str>, first_kept: &str) -> Retained {
    let mut retained = Retained::default();
    let mut retired = Vec::new();
    let mut spans = Vec::new();
    for (_, entry) in catalog.tables.iter_mut().filter(|(name, _)| table.is_none_or(|t| t == name.as_str())) {
        let (old, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut entry.files).into_iter().partition(|file| is_date(&file.day) && file.last_day() < first_kept);
        entry.files = kept;
        retained.straddling += entry.files.iter().filter(|file| is_date(&file.day) && file.day.as_str() < first_kept).count();
        for file in old {
            retained.files += 1;
            retained.rows += file.rows;
            retained.bytes += file.bytes;
            spans.push((day_number(&file.day), day_number(file.last_day())));
            retired.push(file.path);
        }
    }
    (retained.days, retained.first_day, retained.last_day) = days_spanned(spans);
    catalog.retire(retired, unix_seconds());
    retained
}

/// How many days the spans of days (first and last, as day numbers) cover together, and the
/// first and last of them.
fn days_spanned(mut spans: Vec<(i64, i64)>) -> (u64, Option<String>, Option<String>) {
    spans.sort_unstable();
    let (mut days, mut covered_to) = (0u64, i64::MIN);
    for &(first, last) in &spans {
        let from = first.max(covered_to.saturating_add(1));
        days += u64::try_from(last - from + 1).unwrap_or(0);
        covered_to = covered_to.max(last);
    }
    let first = spans.first().map(|&(first, _)| civil_date(first));
    (days, first, spans.iter().map(|&(_, last)| last).max().map(civil_date))
}

/// Refuses a lake not yet made.
fn existing_lake(lake: &Lake) -> Result<(), LakeError> {
    if !lake.exists() {
        return Err(LakeError::NoLake(lake.root().to_path_buf()));
    }
    Ok(())
}

/// Refuses `table` when the lake does not have it.
fn check_table(lake: &Lake, catalog: &Catalog, table: Option<&str>) -> Result<(), LakeError> {
    match table.filter(|name| !catalog.tables.contains_key(*name)) {
        Some(name) => Err(LakeError::NoTable { path: lake.root().to_path_buf(), table: name.to_string() }),
        None => Ok(()),
    }
}

/// What [`vacuum`] removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Vacuumed {
    /// Retired files removed.
    pub expired: usize,
    /// Files removed in all: the expired ones, and those interrupted writers left.
    pub removed: usize,
}

/// Removes the files that were retired `keep` or longer ago, and what interrupted writers
/// left (staged files, files no catalog names). Files retired more recently stay for the
/// queries that may still read them. On an object store, which has no writer's lock, files
/// no catalog names are removed once old enough ([`crate::store::StoreLake::vacuum`]).
pub fn vacuum(lake: &Lake, keep: Duration) -> Result<Vacuumed, LakeError> {
    if let Some(store) = lake.store() {
        return store.vacuum(keep);
    }
    existing_lake(lake)?;
    let lock = lake.lock()?;
    let mut catalog = lake.catalog()?;
    let expired = catalog.expire_retired(unix_seconds(), keep.as_secs()).len();
    if expired > 0 {
        // The catalog first: a vacuum stopped before the files go leaves them named by
        // nothing, and the next writer removes them.
        catalog.save(&lake.catalog_path())?;
    }
    let removed = lake.sweep(&lock, &catalog)?;
    Ok(Vacuumed { expired, removed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IngestOptions, IngestProgress, ingest};

    /// A lake holding a day of events on each of 2020-09-20, -21 and -22, and some without a
    /// time; and the lake's directory holder.
    fn three_days() -> (tempfile::TempDir, Lake) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("events.json");
        let lines: String = ["2020-09-20", "2020-09-21", "2020-09-22"]
            .iter()
            .flat_map(|day| (0..3).map(move |n| format!("{{\"@timestamp\":\"{day}T10:00:0{n}Z\",\"Channel\":\"Security\",\"EventID\":4624}}\n")))
            .chain(std::iter::once("{\"Channel\":\"Security\",\"EventID\":1102}\n".to_string()))
            .collect();
        std::fs::write(&input, lines).unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        ingest(&lake, &[input], &IngestOptions::default(), &IngestProgress::default(), &mut |_| {}).unwrap();
        (dir, lake)
    }

    fn rows(lake: &Lake) -> u64 {
        lake.catalog().unwrap().tables["events"].files.iter().map(|f| f.rows).sum()
    }

    #[test]
    fn retention_drops_whole_days_before_the_first_kept_and_keeps_their_files_for_readers() {
        let (_dir, lake) = three_days();
        assert_eq!(rows(&lake), 10);
        let catalog_before = std::fs::read(lake.catalog_path()).unwrap();
        let would_drop = retain_from(&lake, Some("events"), "2020-09-22", Retention::DryRun).unwrap();
        assert_eq!(std::fs::read(lake.catalog_path()).unwrap(), catalog_before, "a dry run commits nothing");
        let retained = retain_from(&lake, Some("events"), "2020-09-22", Retention::Drop).unwrap();
        assert_eq!(retained, would_drop, "a dry run says what a drop does");
        assert_eq!((retained.files, retained.rows), (2, 6));
        assert_eq!((retained.days, retained.first_day.as_deref(), retained.last_day.as_deref()), (2, Some("2020-09-20"), Some("2020-09-21")));
        let catalog = lake.catalog().unwrap();
        assert_eq!(rows(&lake), 4, "the last day and the events without a time stay");
        assert_eq!(catalog.retired.len(), 2);
        for file in catalog.retired.keys() {
            assert!(lake.path_of(file).is_file(), "{file} stays for the queries reading it");
        }
        // A writer's clean-up keeps them too; a vacuum keeps them until they expire.
        ingest(&lake, &[], &IngestOptions::default(), &IngestProgress::default(), &mut |_| {}).unwrap();
        assert_eq!(vacuum(&lake, Duration::from_secs(3600)).unwrap(), Vacuumed { expired: 0, removed: 0 });
        assert!(catalog.retired.keys().all(|file| lake.path_of(file).is_file()));
        assert_eq!(vacuum(&lake, Duration::ZERO).unwrap(), Vacuumed { expired: 2, removed: 2 });
        assert!(catalog.retired.keys().all(|file| !lake.path_of(file).exists()));
        assert!(lake.catalog().unwrap().retired.is_empty());
        assert_eq!(rows(&lake), 4);
        assert_eq!(retain_from(&lake, None, "2020-09-22", Retention::Drop).unwrap(), Retained::default(), "nothing more to drop");
    }

    /// The `EventID`s and `@timestamp`s of a lake file, in its order.
    fn stored_rows(lake: &Lake, file: &str) -> Vec<(i64, String)> {
        use arrow::array::AsArray;
        use arrow::datatypes::Int64Type;
        let handle = std::fs::File::open(lake.path_of(file)).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(handle).unwrap().build().unwrap();
        let mut rows = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let ids = batch.column_by_name("EventID").unwrap().as_primitive::<Int64Type>().clone();
            let times = batch.column_by_name("@timestamp").unwrap().as_string::<i32>().clone();
            rows.extend((0..batch.num_rows()).map(|i| (ids.value(i), times.value(i).to_string())));
        }
        rows
    }

    #[test]
    fn compaction_merges_a_source_across_days_sorted_and_retention_keeps_what_straddles_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        for (day, ids) in [("2020-09-22", [4688, 4624]), ("2020-09-20", [4624, 4688]), ("2020-09-21", [4688, 4688])] {
            let input = dir.path().join(format!("{day}.json"));
            let lines: String = ids.iter().enumerate().map(|(n, id)| format!("{{\"@timestamp\":\"{day}T1{n}:00:00Z\",\"Channel\":\"Security\",\"EventID\":{id}}}\n")).collect();
            std::fs::write(&input, lines + "{\"Channel\":\"System\",\"EventID\":7045,\"@timestamp\":\"2020-09-21T00:00:00Z\"}\n").unwrap();
            ingest(&lake, &[input], &IngestOptions::default(), &IngestProgress::default(), &mut |_| {}).unwrap();
        }
        let input = dir.path().join("untimed.json");
        std::fs::write(&input, "{\"Channel\":\"Security\",\"EventID\":1102}\n").unwrap();
        ingest(&lake, &[input], &IngestOptions::default(), &IngestProgress::default(), &mut |_| {}).unwrap();
        let before = lake.catalog().unwrap().tables["events"].files.clone();
        assert_eq!(before.len(), 5, "a file per source and day");

        assert_eq!(compact(&lake, None).unwrap(), Merged { files: 3, into: 1, sorted: 0 });
        let catalog = lake.catalog().unwrap();
        let files = &catalog.tables["events"].files;
        assert_eq!(files.len(), 3, "Security's three days in one; System's one day and the untimed file as they were");
        let merged = files.iter().find(|f| f.last_day.is_some()).unwrap();
        assert_eq!((merged.day.as_str(), merged.last_day(), merged.rows), ("2020-09-20", "2020-09-22", 6));
        assert_eq!(merged.event_ids, Some(vec![4624, 4688]));
        let expected = [(4624, "2020-09-20T10"), (4624, "2020-09-22T11"), (4688, "2020-09-20T11"), (4688, "2020-09-21T10"), (4688, "2020-09-21T11"), (4688, "2020-09-22T10")];
        let expected: Vec<(i64, String)> = expected.iter().map(|(id, hour)| (*id, format!("{hour}:00:00Z"))).collect();
        assert_eq!(stored_rows(&lake, &merged.path), expected, "sorted by EventID, then time");
        for file in before.iter().filter(|f| f.source == "Security" && f.day != "unknown") {
            assert!(catalog.retired.contains_key(&file.path) && lake.path_of(&file.path).is_file(), "kept for running queries");
        }
        assert_eq!(compact(&lake, None).unwrap(), Merged::default(), "nothing more to merge");

        let straddling = retain_from(&lake, None, "2020-09-22", Retention::Drop).unwrap();
        assert_eq!((straddling.files, straddling.straddling), (1, 1), "System's 09-21 goes; Security's file spans the cut");
        let dropped = retain_from(&lake, None, "2020-09-23", Retention::Drop).unwrap();
        assert_eq!((dropped.files, dropped.rows, dropped.days), (1, 6, 3));
        assert_eq!(rows(&lake), 1, "the untimed event stays");
    }

    #[test]
    fn compaction_sorts_a_full_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        let input = dir.path().join("day.json");
        let rows = crate::writer::ROWS_PER_ROW_GROUP + 10;
        let line = |n: usize| format!("{{\"@timestamp\":\"2020-09-21T00:00:00.{n:06}Z\",\"Channel\":\"Security\",\"EventID\":{}}}\n", [4688, 4624, 4672][n % 3]);
        std::fs::write(&input, (0..rows).map(line).collect::<String>()).unwrap();
        ingest(&lake, &[input], &IngestOptions::default(), &IngestProgress::default(), &mut |_| {}).unwrap();
        let before = lake.catalog().unwrap().tables["events"].files.clone();
        assert_eq!((before.len(), before[0].sorted), (1, false), "one full file, as ingested");
        assert!(!stored_rows(&lake, &before[0].path).is_sorted());

        assert_eq!(compact(&lake, None).unwrap(), Merged { files: 0, into: 0, sorted: 1 });
        let catalog = lake.catalog().unwrap();
        let file = &catalog.tables["events"].files[0];
        assert_eq!((catalog.tables["events"].files.len(), file.rows, file.sorted), (1, rows as u64, true));
        let stored = stored_rows(&lake, &file.path);
        assert_eq!(stored.len(), rows);
        assert!(stored.is_sorted(), "sorted by EventID, then time");
        assert!(catalog.retired.contains_key(&before[0].path), "kept for running queries");
        assert_eq!(compact(&lake, None).unwrap(), Merged::default(), "sorted once");
    }

    #[test]
    fn compaction_names_what_is_missing() {
        let (dir, lake) = three_days();
        assert!(compact(&lake, Some("logons")).unwrap_err().to_string().contains("no table `logons`"));
        assert_eq!(compact(&lake, Some("events")).unwrap(), Merged { files: 3, into: 1, sorted: 0 });
        assert!(matches!(compact(&Lake::new(dir.path().join("nowhere")), None), Err(LakeError::NoLake(_))));
    }

    #[test]
    fn days_spanned_count_each_day_once() {
        assert_eq!(days_spanned(vec![]), (0, None, None));
        let (days, first, last) = days_spanned(vec![(18_530, 18_531), (18_526, 18_528), (18_527, 18_527), (18_528, 18_529)]);
        assert_eq!((days, first.as_deref(), last.as_deref()), (6, Some("2020-09-21"), Some("2020-09-26")));
    }

    #[test]
    fn retention_and_vacuum_name_what_is_missing() {
        let (dir, lake) = three_days();
        let message = retain_from(&lake, Some("logons"), "2020-09-22", Retention::Drop).unwrap_err().to_string();
        assert!(message.contains("no table `logons`"), "{message}");
        let nowhere = Lake::new(dir.path().join("nowhere"));
        assert!(matches!(vacuum(&nowhere, Duration::ZERO), Err(LakeError::NoLake(_))));
        assert!(!dir.path().join("nowhere").exists(), "no lake is made");
        for retention in [Retention::Drop, Retention::DryRun] {
            assert!(matches!(retain(&nowhere, None, 90, retention), Err(LakeError::NoLake(_))));
        }
    }
}
