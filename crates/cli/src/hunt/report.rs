//! How `hela hunt` shows detections: printed as they come (table, csv, json, jsonl), and
//! the summary per rule and level.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use hela_hunt::{Detection, to_json};
use hela_sigma::{Engine, Level, Rejected};

use crate::cli::HuntFormat;

/// Writes detections as they come, in one format.
pub struct Writer<W: Write> {
    format: HuntFormat,
    out: W,
    written: u64,
    /// Whether the header (or the JSON array's opening) is written.
    started: bool,
}

/// The columns of the csv format, in order.
const COLUMNS: [&str; 10] =
    ["@timestamp", "Hostname", "level", "rule_title", "rule_id", "tags", "EventID", "Channel", "EventRecordID", "fields"];

/// The columns the table format shows (places in [`COLUMNS`]) and their headings.
const TABLE_COLUMNS: [(usize, &str); 7] =
    [(0, "time"), (1, "host"), (2, "level"), (3, "rule"), (6, "event"), (7, "channel"), (9, "fields")];

/// A detection's values for [`COLUMNS`], as text.
fn text_cells(detection: &Detection, engine: &Engine) -> [String; 10] {
    let rule = engine.meta(detection.rule);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut fields: Vec<String> = detection.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if let (Some(correlated), Some(correlation)) = (&detection.correlation, engine.correlation_at(detection.rule)) {
        let kind = correlation.kind.as_str();
        fields.push(format!("{kind}={}", correlated.value));
    }
    [
        text(&detection.timestamp),
        text(&detection.host),
        rule.level.as_str().to_string(),
        rule.title.clone(),
        rule.id.clone(),
        rule.tags.join(" "),
        text(&detection.event_id),
        text(&detection.channel),
        text(&detection.record_id),
        fields.join(" "),
    ]
}

impl<W: Write> Writer<W> {
    /// A writer to `out`. Nothing is written before the first detection or the end, so a
    /// hunt that fails before either (a cluster that cannot be reached) prints no header.
    pub fn new(format: HuntFormat, out: W) -> Self {
        Writer { format, out, written: 0, started: false }
    }

    /// Writes the header (csv, table) or the array's opening (json), once.
    fn start(&mut self) -> anyhow::Result<()> {
        if std::mem::replace(&mut self.started, true) {
            return Ok(());
        }
        match self.format {
            HuntFormat::Csv => writeln!(self.out, "{}", COLUMNS.join(","))?,
            HuntFormat::Json => write!(self.out, "[")?,
            HuntFormat::Table => writeln!(self.out, "{}", table_row(&TABLE_COLUMNS.map(|(_, heading)| heading.to_string())))?,
            HuntFormat::Jsonl => {}
        }
        Ok(())
    }

    pub fn write(&mut self, detection: &Detection, engine: &Engine) -> anyhow::Result<()> {
        self.start()?;
        match self.format {
            HuntFormat::Jsonl => writeln!(self.out, "{}", to_json(detection, engine))?,
            HuntFormat::Json => {
                let separator = if self.written == 0 { "\n" } else { ",\n" };
                write!(self.out, "{separator}{}", to_json(detection, engine))?
            }
            HuntFormat::Csv => {
                let cells = text_cells(detection, engine);
                writeln!(self.out, "{}", cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","))?
            }
            HuntFormat::Table => {
                let mut cells = text_cells(detection, engine);
                let shown = TABLE_COLUMNS.map(|(place, _)| std::mem::take(&mut cells[place]));
                writeln!(self.out, "{}", table_row(&shown))?
            }
        }
        self.written += 1;
        Ok(())
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        self.start()?;
        if self.format == HuntFormat::Json {
            writeln!(self.out, "{}]", if self.written == 0 { "" } else { "\n" })?;
        }
        self.out.flush()?;
        Ok(())
    }
}

/// Column widths of the table format; the last column is not cut.
const TABLE_WIDTHS: [usize; 6] = [27, 24, 13, 50, 5, 36];

fn table_row(cells: &[String; 7]) -> String {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(TABLE_WIDTHS) {
        let shown: String = if cell.chars().count() > width { cell.chars().take(width - 1).chain(['…']).collect() } else { cell.clone() };
        line.push_str(&format!("{shown:<width$}  "));
    }
    let last: String = cells[6].chars().take(200).collect();
    line.push_str(&last);
    line.trim_end().to_string()
}

fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell.to_string() }
}

/// Counts of detections per rule and level.
#[derive(Debug, Default)]
pub struct Summary {
    per_rule: BTreeMap<usize, u64>,
    per_level: BTreeMap<Level, u64>,
}

impl Summary {
    pub fn add(&mut self, detection: &Detection, engine: &Engine) {
        *self.per_rule.entry(detection.rule).or_default() += 1;
        *self.per_level.entry(engine.meta(detection.rule).level).or_default() += 1;
    }

    /// Prints the summary to standard error.
    pub fn print(&self, engine: &Engine, events: u64, elapsed: Duration) {
        let total: u64 = self.per_rule.values().sum();
        eprintln!(
            "\n{total} detections by {} rules in {events} events ({} rules{} run, {:.2} s)",
            self.per_rule.len(),
            engine.rules().len(),
            match engine.correlations().len() {
                0 => String::new(),
                n => format!(" and {n} correlations"),
            },
            elapsed.as_secs_f64()
        );
        if total == 0 {
            return;
        }
        let levels: Vec<String> = self.per_level.iter().rev().map(|(level, n)| format!("{} {n}", level.as_str())).collect();
        eprintln!("by level: {}", levels.join(", "));
        let mut rules: Vec<(&usize, &u64)> = self.per_rule.iter().collect();
        rules.sort_by(|a, b| b.1.cmp(a.1).then(engine.meta(*b.0).level.cmp(&engine.meta(*a.0).level)));
        eprintln!("by rule:");
        for (rule, count) in rules {
            let rule = engine.meta(*rule);
            eprintln!("  {count:>7}  {:<13}  {}  ({})", rule.level.as_str(), rule.title, rule.id);
        }
    }
}

/// The most common rejection reasons, counted with the names in them left out.
pub fn reasons(rejected: &[Rejected]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in rejected {
        let kind: String = r.reason.split('`').step_by(2).collect::<Vec<_>>().join("…");
        *counts.entry(kind).or_default() += 1;
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    counts.iter().take(4).map(|(kind, n)| format!("{n} {kind}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_written_before_a_detection_or_the_end() {
        for (format, empty) in [
            (HuntFormat::Table, "time  "),
            (HuntFormat::Csv, "@timestamp,Hostname,level,rule_title,rule_id,tags,EventID,Channel,EventRecordID,fields\n"),
            (HuntFormat::Json, "[]\n"),
            (HuntFormat::Jsonl, ""),
        ] {
            let mut failed = Vec::new();
            drop(Writer::new(format, &mut failed));
            assert!(failed.is_empty(), "{format:?}: a hunt that fails prints nothing");
            let mut out = Vec::new();
            Writer::new(format, &mut out).finish().unwrap();
            let out = String::from_utf8(out).unwrap();
            assert!(out.starts_with(empty), "{format:?}: {out:?}");
        }
    }
}
