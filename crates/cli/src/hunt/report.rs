//! Detections: what a hit on a row becomes, how it is printed (table, csv, json, jsonl),
//! and the summary per rule and level.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arrow::array::{Array, RecordBatch};
use arrow::json::LineDelimitedWriter;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use hela_sigma::eval::column_index;
use hela_sigma::{Engine, Hit, Level, Rejected};
use serde_json::{Map, Value, json};

use crate::cli::HuntFormat;

/// One rule firing on one event.
#[derive(Debug, Clone)]
pub struct Detection {
    pub rule: usize,
    pub timestamp: Option<String>,
    pub host: Option<String>,
    pub channel: Option<String>,
    pub event_id: Option<String>,
    pub record_id: Option<String>,
    /// The rule's key fields that the event has, with their values.
    pub fields: Vec<(String, String)>,
    /// The file the event was read from (none for the lake).
    pub source: Option<Arc<str>>,
    /// The whole event, when the output shows it.
    pub event: Option<Map<String, Value>>,
}

/// Turns the hits on one batch into detections.
pub fn detections(
    batch: &RecordBatch,
    hits: &[Hit],
    engine: &Engine,
    with_event: bool,
    source: &Option<Arc<str>>,
) -> anyhow::Result<Vec<Detection>> {
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let cells = Cells::new(batch);
    let events = if with_event { Some(rows_as_json(batch, hits)?) } else { None };
    Ok(hits
        .iter()
        .enumerate()
        .map(|(i, hit)| {
            let rule = &engine.rules()[hit.rule];
            let fields = rule
                .key_fields
                .iter()
                .filter_map(|f| cells.get(f, hit.row).map(|v| (f.clone(), v)))
                .collect();
            Detection {
                rule: hit.rule,
                timestamp: cells.get("@timestamp", hit.row),
                host: cells.get("Hostname", hit.row).or_else(|| cells.get("Computer", hit.row)),
                channel: cells.get("Channel", hit.row),
                event_id: cells.get("EventID", hit.row),
                record_id: cells.get("EventRecordID", hit.row).or_else(|| cells.get("RecordNumber", hit.row)),
                fields,
                source: source.clone(),
                event: events.as_ref().map(|e| e[i].clone()),
            }
        })
        .collect())
}

/// A batch's values as text, by column name (exact, else ignoring case).
struct Cells<'a> {
    batch: &'a RecordBatch,
    formatters: Vec<Option<ArrayFormatter<'a>>>,
}

impl<'a> Cells<'a> {
    fn new(batch: &'a RecordBatch) -> Self {
        let options = FormatOptions::default();
        let formatters = batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok()).collect();
        Cells { batch, formatters }
    }

    fn get(&self, name: &str, row: usize) -> Option<String> {
        let index = column_index(self.batch, name)?;
        let column = self.batch.column(index);
        if column.is_null(row) {
            return None;
        }
        self.formatters[index].as_ref().map(|f| f.value(row).to_string())
    }
}

/// The hit rows of a batch as JSON objects, nulls left out.
fn rows_as_json(batch: &RecordBatch, hits: &[Hit]) -> anyhow::Result<Vec<Map<String, Value>>> {
    let indices = arrow::array::UInt32Array::from_iter_values(hits.iter().map(|h| h.row as u32));
    let rows = arrow::compute::take_record_batch(batch, &indices)?;
    let mut buffer = Vec::new();
    let mut writer = LineDelimitedWriter::new(&mut buffer);
    writer.write(&rows)?;
    writer.finish()?;
    buffer
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).context("an event did not render as JSON"))
        .collect()
}

/// The JSON object of a detection.
pub fn to_json(detection: &Detection, engine: &Engine) -> Value {
    let rule = &engine.rules()[detection.rule];
    let mut object = json!({
        "@timestamp": detection.timestamp,
        "Hostname": detection.host,
        "rule_id": rule.id,
        "rule_title": rule.title,
        "level": rule.level.as_str(),
        "status": rule.status,
        "tags": rule.tags,
        "Channel": detection.channel,
        "EventID": detection.event_id.as_deref().map(number_or_text),
        "EventRecordID": detection.record_id.as_deref().map(number_or_text),
        "source": detection.source.as_deref(),
        "fields": detection.fields.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect::<Map<_, _>>(),
    });
    if let Some(event) = &detection.event {
        object["event"] = Value::Object(event.clone());
    }
    object
}

fn number_or_text(text: &str) -> Value {
    text.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(text))
}

/// Writes detections as they come, in one format.
pub struct Writer<W: Write> {
    format: HuntFormat,
    out: W,
    written: u64,
}

/// The columns of the csv format, in order.
const COLUMNS: [&str; 10] =
    ["@timestamp", "Hostname", "level", "rule_title", "rule_id", "tags", "EventID", "Channel", "EventRecordID", "fields"];

/// The columns the table format shows (places in [`COLUMNS`]) and their headings.
const TABLE_COLUMNS: [(usize, &str); 7] =
    [(0, "time"), (1, "host"), (2, "level"), (3, "rule"), (6, "event"), (7, "channel"), (9, "fields")];

/// A detection's values for [`COLUMNS`], as text.
fn text_cells(detection: &Detection, engine: &Engine) -> [String; 10] {
    let rule = &engine.rules()[detection.rule];
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
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
        detection.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "),
    ]
}

impl<W: Write> Writer<W> {
    pub fn new(format: HuntFormat, mut out: W) -> anyhow::Result<Self> {
        match format {
            HuntFormat::Csv => writeln!(out, "{}", COLUMNS.join(","))?,
            HuntFormat::Json => write!(out, "[")?,
            HuntFormat::Table => writeln!(out, "{}", table_row(&TABLE_COLUMNS.map(|(_, heading)| heading.to_string())))?,
            HuntFormat::Jsonl => {}
        }
        Ok(Writer { format, out, written: 0 })
    }

    pub fn write(&mut self, detection: &Detection, engine: &Engine) -> anyhow::Result<()> {
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
        *self.per_level.entry(engine.rules()[detection.rule].level).or_default() += 1;
    }

    /// Prints the summary to standard error.
    pub fn print(&self, engine: &Engine, events: u64, elapsed: Duration) {
        let total: u64 = self.per_rule.values().sum();
        eprintln!(
            "\n{total} detections by {} rules in {events} events ({} rules run, {:.2} s)",
            self.per_rule.len(),
            engine.rules().len(),
            elapsed.as_secs_f64()
        );
        if total == 0 {
            return;
        }
        let levels: Vec<String> = self.per_level.iter().rev().map(|(level, n)| format!("{} {n}", level.as_str())).collect();
        eprintln!("by level: {}", levels.join(", "));
        let mut rules: Vec<(&usize, &u64)> = self.per_rule.iter().collect();
        rules.sort_by(|a, b| b.1.cmp(a.1).then(engine.rules()[*b.0].level.cmp(&engine.rules()[*a.0].level)));
        eprintln!("by rule:");
        for (rule, count) in rules {
            let rule = &engine.rules()[*rule];
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
