//! `hela playbook run`: runs a hunt playbook's SQL blocks in order, headless, and writes a
//! report of their results; the exit status says whether every expected hit was there.

mod parse;
mod report;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use arrow::array::RecordBatch;
use futures::StreamExt;
use hela_chart::ChartSpec;
use hela_sql::{Session, SqlError, column_names, text_rows};

use crate::cli::PlaybookRunArgs;
use parse::{Block, Expect, Part, parse};
use report::{Outcome, Tally, Verdict};

/// Rows kept to draw a chart from; a result with more is drawn from its first rows.
const CHART_ROWS: usize = 10_000;
/// The longest cell shown in a report's tables.
const CELL_WIDTH: usize = 200;

pub fn run(args: PlaybookRunArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read the playbook {}", args.file.display()))?;
    let parts = parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let blocks = parts.iter().filter(|p| matches!(p, Part::Query(_))).count();
    if blocks == 0 {
        anyhow::bail!("{}: no ```sql blocks to run", args.file.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let (lake, session) = crate::sql::open_session(&args.tables)?;
    let mut outcomes = Vec::with_capacity(blocks);
    for block in parts.iter().filter_map(|p| if let Part::Query(b) = p { Some(b) } else { None }) {
        let outcome = runtime.block_on(run_block(&session, block, args.max_rows));
        eprintln!("block {}/{blocks} (line {}): {}", outcomes.len() + 1, block.line, outcome.summary());
        outcomes.push(outcome);
    }
    let source = args.file.display().to_string();
    let header = report::Header { playbook: &source, lake: lake.root(), when: report::now() };
    match &args.report {
        Some(path) => {
            let html = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
            let text = if html { report::html(&header, &parts, &outcomes) } else { report::markdown(&header, &parts, &outcomes) };
            std::fs::write(path, text).with_context(|| format!("cannot write the report {}", path.display()))?;
            eprintln!("report written to {}", path.display());
        }
        None => print!("{}", report::markdown(&header, &parts, &outcomes)),
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

async fn run_block(session: &Session, block: &Block, max_rows: usize) -> Outcome {
    let started = Instant::now();
    let mut outcome = match collect(session, block, max_rows).await {
        Ok((columns, batches, total_rows)) => {
            let rows = text_rows(&batches, Some(CELL_WIDTH), max_rows).unwrap_or_default();
            let chart = block.chart.as_ref().map(|request| {
                let kind = request.kind.parse().map_err(|e| format!("{e}"))?;
                let x = request.x.clone().ok_or("a chart needs x=COLUMN")?;
                let spec = ChartSpec { kind, x, y: request.y.clone(), title: request.title.clone() };
                hela_chart::render_svg(&batches, &spec).map_err(|e| e.to_string())
            });
            Outcome { columns, rows, total_rows, chart, ..Outcome::default() }
        }
        Err(error) => Outcome { error: Some(error.to_string()), ..Outcome::default() },
    };
    outcome.millis = started.elapsed().as_secs_f64() * 1e3;
    outcome.verdict = match (block.expect, outcome.total_rows) {
        _ if outcome.error.is_some() => Verdict::None,
        (Some(Expect::Hits), 0) => Verdict::Unmet("expected hits, none returned".into()),
        (Some(Expect::Hits), _) => Verdict::Held("expected hits".into()),
        (Some(Expect::Nothing), 0) => Verdict::Held("expected no rows".into()),
        (Some(Expect::Nothing), n) => Verdict::Unmet(format!("expected no rows, {n} returned")),
        (None, _) => Verdict::None,
    };
    outcome
}

/// Runs a block; keeps the batches of its first rows (enough for the table and the chart)
/// and counts the rest.
async fn collect(session: &Session, block: &Block, max_rows: usize) -> Result<(Vec<String>, Vec<RecordBatch>, u64), SqlError> {
    let frame = session.run(&block.sql).await?;
    let columns = column_names(frame.schema().as_arrow());
    let keep = if block.chart.is_some() { max_rows.max(CHART_ROWS) } else { max_rows };
    let mut stream = frame.execute_stream().await?;
    let (mut kept, mut total) = (Vec::new(), 0u64);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if (total as usize) < keep {
            kept.push(batch.slice(0, batch.num_rows().min(keep - total as usize)));
        }
        total += batch.num_rows() as u64;
    }
    Ok((columns, kept, total))
}
