//! `hela hunt`: loads Sigma rules, runs them over event logs or the lake a batch at a time,
//! and prints (and optionally stores) the detections with a summary.

mod events;
mod report;
mod save;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use hela_sigma::{Engine, Rule, RuleSet, load_rules};

use crate::cli::HuntArgs;
use report::{Detection, Summary, Writer};

pub fn run(args: HuntArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let RuleSet { rules, rejected } = load_rules(&args.sigma);
    if args.list_rejected {
        for r in &rejected {
            let title = r.title.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
            eprintln!("rejected: {}{title}: {}", r.path.display(), r.reason);
        }
    }
    let loaded = rules.len();
    let rules: Vec<Rule> = rules.into_iter().filter(|rule| selected(rule, &args)).collect();
    if !args.quiet {
        eprintln!(
            "{loaded} rules loaded, {} rejected{}; {} selected by level/status/tag",
            rejected.len(),
            if rejected.is_empty() || args.list_rejected { String::new() } else { format!(" ({}; see --list-rejected)", report::reasons(&rejected)) },
            rules.len()
        );
    }
    if rules.is_empty() {
        anyhow::bail!("no rules to run: {} rule files were read from {}", loaded + rejected.len(), display(&args.sigma));
    }
    let engine = Engine::new(rules);
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = Writer::new(args.format, BufWriter::with_capacity(1 << 16, out))?;
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
    let events = if args.paths.is_empty() {
        events::hunt_lake(&args.lake.lake, &engine, needs_event, &mut handle)?
    } else {
        events::hunt_files(&args.paths, &engine, needs_event, &mut handle)?
    };
    writer.finish()?;
    if args.save {
        save::store(&args.lake.lake, &stored, &engine)?;
    }
    if !args.quiet {
        summary.print(&engine, events, started.elapsed());
    }
    Ok(ExitCode::SUCCESS)
}

fn selected(rule: &Rule, args: &HuntArgs) -> bool {
    let level_ok = args.min_level.is_none_or(|min| rule.level >= min);
    let status_ok = args.status.is_empty() || args.status.iter().any(|s| s.eq_ignore_ascii_case(&rule.status));
    let tag_ok = args.tags.is_empty()
        || args.tags.iter().any(|want| rule.tags.iter().any(|t| t.to_ascii_lowercase().contains(&want.to_ascii_lowercase())));
    level_ok && status_ok && tag_ok
}

/// Paths for a message: `a, b, c`.
fn display(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
