//! `hela ingest`: progress while it runs, messages as they come, a summary at the end.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hela_lake::{IngestOptions, IngestProgress, IngestSummary, Lake, Notice, ingest};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::IngestArgs;

/// Quarantined lines shown one by one before they are only counted.
const SHOWN_QUARANTINED: u64 = 20;

pub fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let lake = Lake::new(&args.lake.lake);
    let mut options = IngestOptions { force: args.force, router: args.records.router()?, ..IngestOptions::default() };
    options.read.max_record_bytes = args.max_record_bytes;
    let progress = IngestProgress::default();
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let bar = show_progress.then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}")
                .expect("valid template"),
        );
        bar
    });
    let mut quarantined = 0u64;
    let done = std::sync::atomic::AtomicBool::new(false);
    let summary = std::thread::scope(|scope| {
        if let Some(bar) = &bar {
            let (progress, done) = (&progress, &done);
            scope.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    bar.set_length(progress.bytes_total.load(Ordering::Relaxed));
                    bar.set_position(progress.bytes_read.load(Ordering::Relaxed));
                    let current = progress.current.lock().map(|c| c.clone()).unwrap_or_default();
                    bar.set_message(format!("{} records · {current}", progress.records.load(Ordering::Relaxed)));
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        let say = |line: String| match &bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        };
        let result = ingest(&lake, &args.paths, &options, &progress, &mut |notice| {
            let Some(message) = notice.message() else { return };
            if !matches!(notice, Notice::Quarantined(_)) {
                return say(message);
            }
            quarantined += 1;
            if args.quiet {
            } else if quarantined <= SHOWN_QUARANTINED {
                say(message);
            } else if quarantined == SHOWN_QUARANTINED + 1 {
                say("quarantined: more lines follow; all are in the lake's quarantine/ directory".into());
            }
        });
        done.store(true, Ordering::Relaxed);
        result
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = summary?;
    print_summary(&lake, &summary);
    Ok(if summary.inputs_failed + summary.members_failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_summary(lake: &Lake, s: &IngestSummary) {
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let rate = if s.seconds > 0.0 { mb(s.bytes_decoded) / s.seconds } else { 0.0 };
    eprintln!("ingested into {}", lake.root().display());
    let members = match s.members_failed {
        0 => String::new(),
        n => format!(" ({n} archive member{} unreadable)", if n == 1 { "" } else { "s" }),
    };
    eprintln!("  inputs    {} read, {} skipped (already in the lake), {} failed{members}", s.inputs_read, s.inputs_skipped, s.inputs_failed);
    eprintln!("  records   {} stored, {} quarantined", s.records_stored, s.records_quarantined);
    eprintln!("  bytes     {:.1} MB read, {:.1} MB of JSON", mb(s.bytes_read), mb(s.bytes_decoded));
    match s.files_merged {
        0 => eprintln!("  files     {} Parquet files written", s.files_written),
        merged => eprintln!("  files     {} Parquet files written; {merged} fewer once each partition's small files were merged", s.files_written),
    }
    eprintln!("  warnings  {}", s.warnings);
    eprintln!("  time      {:.2} s, {rate:.1} MB/s of JSON", s.seconds);
}
