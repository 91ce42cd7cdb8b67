//! Keeping a lake in shape, as Elasticsearch's index lifecycle does for HELK: dropping
//! whole days once they are past the retention period ([`retain`]), and removing the files
//! no query can read any more ([`vacuum`]).
//!
//! Both are one atomic commit under the writer's lock, so they are safe beside queries and
//! refused (not waited for) while an ingest or a server writes. A file taken out of the
//! catalog is not removed at once: it is retired, and stays on disk for the queries that
//! planned with the catalog before, for [`RETIRED_FILES_KEPT`] or the time `vacuum` is given.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::ingest::unix_seconds;
use crate::partition::civil_date;
use crate::{Lake, LakeError};

/// How long a retired file stays on disk for the queries that may still read it.
pub const RETIRED_FILES_KEPT: Duration = Duration::from_secs(600);

/// What [`retain`] took out of the lake.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Retained {
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
    /// The days dropped (`YYYY-MM-DD`).
    pub days: BTreeSet<String>,
}

/// Takes out of the lake the files of every day before the one `days` days before today
/// (UTC), of `table` or of every table. Files whose day is not known (records without a
/// time) are kept. The files are retired, not removed.
pub fn retain(lake: &Lake, table: Option<&str>, days: u64) -> Result<Retained, LakeError> {
    let today = (unix_seconds() / 86_400) as i64;
    let first_kept = civil_date(today.saturating_sub(i64::try_from(days).unwrap_or(i64::MAX)));
    retain_from(lake, table, &first_kept)
}

/// [`retain`] with the first day kept given (`YYYY-MM-DD`).
pub fn retain_from(lake: &Lake, table: Option<&str>, first_kept: &str) -> Result<Retained, LakeError> {
    if let Some(store) = lake.store() {
        return store.write(|working| retain_from(working, table, first_kept));
    }
    if !lake.exists() {
        return Err(LakeError::NoLake(lake.root().to_path_buf()));
    }
    let lock = lake.lock()?;
    let mut catalog = lake.catalog()?;
    if let Some(name) = table.filter(|name| !catalog.tables.contains_key(*name)) {
        return Err(LakeError::NoTable { path: lake.root().to_path_buf(), table: name.to_string() });
    }
    let mut retained = Retained::default();
    let mut retired = Vec::new();
    for (_, entry) in catalog.tables.iter_mut().filter(|(name, _)| table.is_none_or(|t| t == name.as_str())) {
        let (old, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut entry.files).into_iter().partition(|file| is_date(&file.day) && file.day.as_str() < first_kept);
        entry.files = kept;
        for file in old {
            retained.files += 1;
            retained.rows += file.rows;
            retained.bytes += file.bytes;
            retained.days.insert(file.day);
            retired.push(file.path);
        }
    }
    if !retired.is_empty() {
        catalog.retire(retired, unix_seconds());
        catalog.save(&lake.catalog_path())?;
    }
    drop(lock);
    Ok(retained)
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
/// queries that may still read them.
pub fn vacuum(lake: &Lake, keep: Duration) -> Result<Vacuumed, LakeError> {
    if let Some(store) = lake.store() {
        return Err(LakeError::NotOnStore { url: store.url().to_string(), what: "hela lake vacuum" });
    }
    if !lake.exists() {
        return Err(LakeError::NoLake(lake.root().to_path_buf()));
    }
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

/// True for a `YYYY-MM-DD` day (not `unknown`).
fn is_date(day: &str) -> bool {
    day.len() == 10 && day.bytes().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == b'-' } else { c.is_ascii_digit() })
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
        let retained = retain_from(&lake, Some("events"), "2020-09-22").unwrap();
        assert_eq!((retained.files, retained.rows), (2, 6));
        assert_eq!(retained.days.into_iter().collect::<Vec<_>>(), ["2020-09-20", "2020-09-21"]);
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
        assert_eq!(retain_from(&lake, None, "2020-09-22").unwrap(), Retained::default(), "nothing more to drop");
    }

    #[test]
    fn retention_and_vacuum_name_what_is_missing() {
        let (dir, lake) = three_days();
        let message = retain_from(&lake, Some("logons"), "2020-09-22").unwrap_err().to_string();
        assert!(message.contains("no table `logons`"), "{message}");
        let nowhere = Lake::new(dir.path().join("nowhere"));
        assert!(matches!(vacuum(&nowhere, Duration::ZERO), Err(LakeError::NoLake(_))));
        assert!(!dir.path().join("nowhere").exists(), "no lake is made");
        assert!(matches!(retain(&nowhere, None, 90), Err(LakeError::NoLake(_))));
    }

    #[test]
    fn days_are_dates_and_unknown_is_not() {
        assert!(is_date("2020-09-21") && !is_date("unknown") && !is_date("2020-9-21") && !is_date("2020/09/21"));
    }
}
