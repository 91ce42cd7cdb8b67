//! Hunt playbooks: Markdown documents (ThreatHunter-Playbook / MyST style) whose ```sql
//! blocks are hunts, run in order in one session so that views made by one block are seen
//! by the next; the report is the playbook with each block's result table, chart and
//! verdict, as Markdown or as one self-contained HTML page.

mod parse;
mod report;

use std::time::Instant;

use arrow::array::RecordBatch;
use futures::StreamExt;
use hela_chart::ChartSpec;
use hela_sql::{Session, SqlError, column_names, text_rows};

pub use parse::{Block, Expect, Part, parse};
pub use report::{Header, Outcome, Tally, Verdict, html, markdown, now};

/// Rows kept to draw a chart from; a result with more is drawn from its first rows.
const CHART_ROWS: usize = 10_000;
/// The longest cell shown in a report's tables.
const CELL_WIDTH: usize = 200;

/// A playbook read: its prose and SQL blocks in order.
pub struct Playbook {
    pub parts: Vec<Part>,
}

impl Playbook {
    /// Reads a playbook's text; `name` (its file) prefixes the error.
    pub fn read(name: &str, text: &str) -> Result<Playbook, String> {
        let parts = parse(text).map_err(|e| format!("{name}: {e}"))?;
        match parts.iter().any(|p| matches!(p, Part::Query(_))) {
            true => Ok(Playbook { parts }),
            false => Err(format!("{name}: no ```sql blocks to run")),
        }
    }

    /// The SQL blocks, in order.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.parts.iter().filter_map(|p| if let Part::Query(b) = p { Some(b) } else { None })
    }

    /// Runs every block in order in `session`, keeping at most `max_rows` rows of each
    /// for the report; `progress` hears of each block as it ends.
    pub async fn run(&self, session: &Session, max_rows: usize, progress: &mut (dyn FnMut(&Block, &Outcome) + Send)) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for block in self.blocks() {
            let outcome = run_block(session, block, max_rows).await;
            progress(block, &outcome);
            outcomes.push(outcome);
        }
        outcomes
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
