//! `hela lake compact`, `retain` and `vacuum`: the lake kept in shape.

use std::process::ExitCode;
use std::time::Duration;

use hela_lake::Lake;
use hela_lake::maintenance::{Retention, compact as compact_lake, retain as retain_days, vacuum as vacuum_lake};

use crate::cli::{CompactArgs, RetainArgs, VacuumArgs};

/// Merges each source's small files across days and says how many.
pub fn compact(args: CompactArgs) -> anyhow::Result<ExitCode> {
    let lake = Lake::new(&args.lake.lake);
    let merged = compact_lake(&lake, args.table.as_deref())?;
    if merged.is_empty() {
        eprintln!("nothing to compact: no source has two files that fit in one, nor a full file whose rows are not sorted");
    } else {
        eprintln!("{merged}; the files replaced stay for running queries until they expire");
    }
    Ok(ExitCode::SUCCESS)
}

/// Drops the days before the period and says what went (or, in a dry run, would go).
pub fn retain(args: RetainArgs) -> anyhow::Result<ExitCode> {
    let lake = Lake::new(&args.lake.lake);
    let retention = if args.dry_run { Retention::DryRun } else { Retention::Drop };
    let retained = retain_days(&lake, args.table.as_deref(), args.older_than, retention)?;
    let straddling = retained.straddling;
    if straddling > 0 {
        let keeps = if args.dry_run { "would keep" } else { "kept" };
        eprintln!("{keeps} {straddling} compacted files whole: they hold days on both sides of the cut");
    }
    let days = match (&retained.first_day, &retained.last_day) {
        (Some(first), Some(last)) if first == last => format!("1 day ({first})"),
        (Some(first), Some(last)) => format!("{} days ({first} to {last})", retained.days),
        _ => {
            eprintln!("nothing to drop: no day is older than {} days", args.older_than);
            return Ok(ExitCode::SUCCESS);
        }
    };
    let (files, rows, bytes) = (retained.files, retained.rows, retained.bytes);
    let what = format!("{days}: {files} files, {rows} rows, {bytes} bytes");
    if args.dry_run {
        eprintln!("would drop {what} (a dry run: nothing was dropped)");
    } else {
        eprintln!("dropped {what}; their files stay for running queries until they expire");
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes the expired files and says how many.
pub fn vacuum(args: VacuumArgs) -> anyhow::Result<ExitCode> {
    let lake = Lake::new(&args.lake.lake);
    let vacuumed = vacuum_lake(&lake, Duration::from_secs(args.keep))?;
    let left = vacuumed.removed.saturating_sub(vacuumed.expired);
    eprintln!("removed {} files: {} retired and expired, {left} that no catalog names (left by interrupted writers)", vacuumed.removed, vacuumed.expired);
    Ok(ExitCode::SUCCESS)
}
