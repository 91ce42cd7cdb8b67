//! `hela hunt`: loads Sigma rules, runs them over event logs or the lake a batch at a time,
//! and prints (and optionally stores) the detections with a summary.

mod report;

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use hela_hunt::rules::{LoadedRules, RuleSource};
use hela_hunt::{DETECTIONS_TABLE, Detection, display, hunt_files, hunt_lake, hunt_lake_remotely, store};

use crate::cli::HuntArgs;
use report::{Summary, Writer};

pub fn run(args: HuntArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let selection = args.selection.selection();
    let source = RuleSource::read(&args.sigma, &selection);
    let LoadedRules { engine, scheduled, loaded, rejected } = source.load();
    if args.list_rejected {
        for r in &rejected {
            let title = r.title.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
            eprintln!("rejected: {}{title}: {}", r.path.display(), r.reason);
        }
    }
    if !args.quiet {
        eprintln!(
            "{loaded} rules loaded, {} rejected{}; {} selected by level/status/tag",
            rejected.len(),
            if rejected.is_empty() || args.list_rejected { String::new() } else { format!(" ({}; see --list-rejected)", report::reasons(&rejected)) },
            engine.as_ref().map_or(0, |e| e.len())
        );
    }
    if !scheduled.is_empty() && !args.quiet {
        eprintln!("{} scheduled SQL rules (`sql:`) left out: hela serve --rules runs them", scheduled.len());
    }
    let Some(engine) = engine else {
        anyhow::bail!("no rules to run: {} rule files were read from {}", loaded + rejected.len(), display(&args.sigma));
    };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = Writer::new(args.format, BufWriter::with_capacity(1 << 16, out));
    let mut summary = Summary::default();
    let mut stored: Vec<Detection> = Vec::new();
    let mut handle = |detections: Vec<Detection>| -> anyhow::Result<()> {
        for detection in detections {
            summary.add(&detection, &engine);
            writer.write(&detection, &engine)?;
            if args.save {
                stored.push(detection);
            }
        }
        Ok(())
    };
    let needs_event = matches!(args.format, crate::cli::HuntFormat::Json | crate::cli::HuntFormat::Jsonl);
    let warn = &mut |warning: String| eprintln!("warning: {warning}");
    let events = match &args.cluster {
        Some(url) => {
            let connect = |session| hela_cluster::connect(session, url);
            hunt_lake_remotely(&args.lake.lake, &source, &engine, needs_event, &connect, &mut handle, warn)
                .map_err(|e| anyhow::anyhow!(hela_cluster::explain(url, &format!("{e:#}"))))?
        }
        None if args.paths.is_empty() => hunt_lake(&args.lake.lake, &engine, needs_event, &mut handle, warn)?,
        None => hunt_files(&args.paths, &engine, needs_event, &mut handle, warn)?,
    };
    writer.finish()?;
    if args.save {
        save(&args, &stored, &engine)?;
    }
    if !args.quiet {
        summary.print(&engine, events, started.elapsed());
    }
    Ok(ExitCode::SUCCESS)
}

/// `--save`: the detections go into the lake's `detections` table.
fn save(args: &HuntArgs, detections: &[Detection], engine: &hela_sigma::Engine) -> anyhow::Result<()> {
    if detections.is_empty() {
        eprintln!("no detections to save");
        return Ok(());
    }
    let stored = store(&args.lake.lake, detections, engine, &mut |message| eprintln!("{message}"))?;
    if stored > 0 {
        eprintln!("saved {stored} detections in {}, table `{DETECTIONS_TABLE}`", args.lake.lake.display());
    }
    Ok(())
}
