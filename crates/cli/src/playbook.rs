//! `hela playbook run`: runs a hunt playbook's SQL blocks in order, headless, and writes a
//! report of their results; the exit status says whether every expected hit was there.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use hela_playbook::{Header, Outcome, Playbook, Tally};

use crate::cli::PlaybookRunArgs;

pub fn run(args: PlaybookRunArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read the playbook {}", args.file.display()))?;
    let source = args.file.display().to_string();
    let playbook = Playbook::read(&source, &text).map_err(anyhow::Error::msg)?;
    let blocks = playbook.blocks().count();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let (lake, session) = crate::sql::open_session(&args.tables, None, &mut |w| eprintln!("warning: {w}"))?;
    let mut done = 0;
    let outcomes = runtime.block_on(playbook.run(&session, args.max_rows, &mut |block, outcome| {
        done += 1;
        eprintln!("block {done}/{blocks} (line {}): {}", block.line, outcome.summary());
    }));
    let header = Header { playbook: &source, lake: lake.root(), when: hela_playbook::now() };
    match &args.report {
        Some(path) => {
            let html = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
            let parts = &playbook.parts;
            let text = if html { hela_playbook::html(&header, parts, &outcomes) } else { hela_playbook::markdown(&header, parts, &outcomes) };
            std::fs::write(path, text).with_context(|| format!("cannot write the report {}", path.display()))?;
            eprintln!("report written to {}", path.display());
        }
        None => print!("{}", hela_playbook::markdown(&header, &playbook.parts, &outcomes)),
    }
    Ok(exit_code(&outcomes, &args.file))
}

/// 2 when a block failed, 1 when an expectation did not hold, 0 otherwise.
fn exit_code(outcomes: &[Outcome], file: &Path) -> ExitCode {
    let Tally { failed, unmet, .. } = Tally::of(outcomes);
    if failed > 0 {
        eprintln!("{}: {failed} of {} blocks failed", file.display(), outcomes.len());
        ExitCode::from(2)
    } else if unmet > 0 {
        eprintln!("{}: {unmet} expectation{} did not hold", file.display(), if unmet == 1 { "" } else { "s" });
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
