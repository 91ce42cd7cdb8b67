//! Detections: what a hit on a row becomes, as JSON and as Arrow rows.

use std::sync::Arc;

use anyhow::Context;
use arrow::array::{Array, ArrayRef, ListBuilder, RecordBatch, StringArray, StringBuilder};
use arrow::datatypes::{Field, Schema};
use arrow::json::LineDelimitedWriter;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use hela_sigma::eval::column_index;
use hela_sigma::{Engine, Hit};
use serde_json::{Map, Value, json};

use crate::view::sigma_view;

/// One rule firing on one event, or a correlation firing on the detections of a group.
#[derive(Debug, Clone)]
pub struct Detection {
    /// The rule or correlation, as [`Engine::meta`] numbers them.
    pub rule: usize,
    pub timestamp: Option<String>,
    pub host: Option<String>,
    pub channel: Option<String>,
    pub event_id: Option<String>,
    pub record_id: Option<String>,
    /// The rule's key fields that the event has, with their values.
    pub fields: Vec<(String, String)>,
    /// Where the event was read: its file, or for a document stored by the server its
    /// index (`_index`).
    pub source: Option<Arc<str>>,
    /// The id of a document stored by the server (`_id`), which with its index names it.
    pub source_id: Option<String>,
    /// The whole event, when the output shows it.
    pub event: Option<Map<String, Value>>,
    /// What a correlation measured, and over which detections.
    pub correlation: Option<Correlated>,
}

/// What a correlation's detection adds: the group, the value measured and the newest
/// detections behind it.
#[derive(Debug, Clone)]
pub struct Correlated {
    pub group: Vec<(String, Option<String>)>,
    pub value: f64,
    pub events: Vec<EventRef>,
}

/// A detection a correlation counted: which rule fired on which event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EventRef {
    /// The rule or correlation, as [`Engine::meta`] numbers them.
    pub rule: usize,
    pub timestamp: Option<String>,
    pub host: Option<String>,
    pub record_id: Option<String>,
    pub source: Option<String>,
    pub source_id: Option<String>,
}

impl EventRef {
    /// The reference to the event of `detection`.
    pub fn of(detection: &Detection) -> EventRef {
        EventRef {
            rule: detection.rule,
            timestamp: detection.timestamp.clone(),
            host: detection.host.clone(),
            record_id: detection.record_id.clone(),
            source: detection.source.as_deref().map(str::to_string),
            source_id: detection.source_id.clone(),
        }
    }

    fn to_json(&self, engine: &Engine) -> Value {
        json!({
            "rule_id": engine.meta(self.rule).id,
            "@timestamp": self.timestamp,
            "Hostname": self.host,
            "EventRecordID": self.record_id.as_deref().map(number_or_text),
            "source": self.source,
            "source_id": self.source_id,
        })
    }
}

/// The fields an event's time is read from, in order.
pub const TIME_FIELDS: [&str; 4] = ["@timestamp", "timestamp", "EventTime", "TimeCreated"];

/// Runs the rules over one batch of events (seen as Sigma names their fields,
/// [`sigma_view`]) and returns what fired. `source` names where the batch was read; the
/// whole event is kept with each detection when `with_event`.
pub fn detect(batch: &RecordBatch, engine: &Engine, with_event: bool, source: &Option<Arc<str>>) -> anyhow::Result<Vec<Detection>> {
    let view = sigma_view(batch);
    let hits = engine.evaluate(&view);
    detections(batch, &view, &hits, engine, with_event, source)
}

/// Turns the hits on one batch into detections: their fields read from the view the rules
/// saw, their events from the batch as it is.
fn detections(
    batch: &RecordBatch,
    view: &RecordBatch,
    hits: &[Hit],
    engine: &Engine,
    with_event: bool,
    source: &Option<Arc<str>>,
) -> anyhow::Result<Vec<Detection>> {
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let cells = Cells::new(view);
    let events = if with_event { Some(hit_rows_as_json(batch, hits)?) } else { None };
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
            let place = Place::read(&cells, hit.row);
            Detection {
                rule: hit.rule,
                timestamp: place.timestamp,
                host: place.host,
                channel: place.channel,
                event_id: place.event_id,
                record_id: place.record_id,
                fields,
                source: source.clone().or_else(|| place.index.map(Arc::from)),
                source_id: place.id,
                event: events.as_ref().map(|e| e[i].clone()),
                correlation: None,
            }
        })
        .collect())
}

/// What names an event in a detection, read from the Sigma view of its batch.
struct Place {
    timestamp: Option<String>,
    host: Option<String>,
    channel: Option<String>,
    event_id: Option<String>,
    record_id: Option<String>,
    /// A stored document's index and id.
    index: Option<String>,
    id: Option<String>,
}

impl Place {
    fn read(cells: &Cells, row: usize) -> Place {
        Place {
            timestamp: TIME_FIELDS.iter().find_map(|f| cells.get(f, row)),
            host: cells.get("Hostname", row).or_else(|| cells.get("Computer", row)),
            channel: cells.get("Channel", row),
            event_id: cells.get("EventID", row),
            record_id: cells.get("EventRecordID", row).or_else(|| cells.get("RecordNumber", row)),
            index: cells.get("_index", row),
            id: cells.get("_id", row),
        }
    }
}

/// What names the events at `rows` of `view` (a batch seen through [`sigma_view`]), as a
/// detection's JSON has it: `@timestamp`, `Hostname`, `Channel`, `EventID`,
/// `EventRecordID`, and for a document the server stored its `source` (index) and
/// `source_id`.
pub fn event_places(view: &RecordBatch, rows: impl IntoIterator<Item = usize>) -> Vec<Map<String, Value>> {
    let cells = Cells::new(view);
    rows.into_iter()
        .map(|row| {
            let place = Place::read(&cells, row);
            let Value::Object(object) = json!({
                "@timestamp": place.timestamp,
                "Hostname": place.host,
                "Channel": place.channel,
                "EventID": place.event_id.as_deref().map(number_or_text),
                "EventRecordID": place.record_id.as_deref().map(number_or_text),
                "source": place.index,
                "source_id": place.id,
            }) else {
                unreachable!("an object")
            };
            object
        })
        .collect()
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
fn hit_rows_as_json(batch: &RecordBatch, hits: &[Hit]) -> anyhow::Result<Vec<Map<String, Value>>> {
    let indices = arrow::array::UInt32Array::from_iter_values(hits.iter().map(|h| h.row as u32));
    rows_as_json(&[arrow::compute::take_record_batch(batch, &indices)?])
}

/// Every row of `batches` as a JSON object, nulls left out.
pub fn rows_as_json(batches: &[RecordBatch]) -> anyhow::Result<Vec<Map<String, Value>>> {
    let mut buffer = Vec::new();
    let mut writer = LineDelimitedWriter::new(&mut buffer);
    writer.write_batches(&batches.iter().collect::<Vec<_>>())?;
    writer.finish()?;
    buffer
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).context("a row did not render as JSON"))
        .collect()
}

/// The JSON object of a detection.
pub fn to_json(detection: &Detection, engine: &Engine) -> Value {
    let rule = engine.meta(detection.rule);
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
        "source_id": detection.source_id,
        "fields": fields_json(detection),
    });
    if let Some(event) = &detection.event {
        object["event"] = Value::Object(event.clone());
    }
    if let Some(correlated) = &detection.correlation {
        object["correlation"] = correlation_json(detection.rule, correlated, engine);
    }
    object
}

/// A correlation's detection: its type, group, measured value, window and the detections
/// behind it.
fn correlation_json(rule: usize, correlated: &Correlated, engine: &Engine) -> Value {
    let correlation = engine.correlation_at(rule).expect("a correlation's detection");
    let group: Map<String, Value> = correlated.group.iter().map(|(k, v)| (k.clone(), v.as_deref().map_or(Value::Null, Value::from))).collect();
    json!({
        "type": correlation.kind.as_str(),
        "group": group,
        "value": correlated.value,
        "timespan_seconds": correlation.timespan_ms as f64 / 1000.0,
        "events": correlated.events.iter().map(|e| e.to_json(engine)).collect::<Vec<_>>(),
    })
}

fn number_or_text(text: &str) -> Value {
    text.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(text))
}


/// The detections as Arrow rows: rule_id, rule_title, level, status, tags, @timestamp,
/// Hostname, Channel, EventID, EventRecordID, source, source_id, and as JSON text the rule's
/// fields, the whole event (when kept) and what a correlation measured.
pub fn to_arrow(detections: &[Detection], engine: &Engine) -> anyhow::Result<RecordBatch> {
    let rule = |d: &Detection| engine.meta(d.rule);
    let text = |f: &dyn Fn(&Detection) -> Option<String>| -> ArrayRef {
        Arc::new(detections.iter().map(f).collect::<StringArray>())
    };
    let mut tags = ListBuilder::new(StringBuilder::new());
    for detection in detections {
        for tag in &rule(detection).tags {
            tags.values().append_value(tag);
        }
        tags.append(true);
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("rule_id", text(&|d| Some(rule(d).id.clone()))),
        ("rule_title", text(&|d| Some(rule(d).title.clone()))),
        ("level", text(&|d| Some(rule(d).level.as_str().to_string()))),
        ("status", text(&|d| Some(rule(d).status.clone()))),
        ("tags", Arc::new(tags.finish())),
        ("@timestamp", text(&|d| d.timestamp.clone())),
        ("Hostname", text(&|d| d.host.clone())),
        ("Channel", text(&|d| d.channel.clone())),
        ("EventID", text(&|d| d.event_id.clone())),
        ("EventRecordID", text(&|d| d.record_id.clone())),
        ("source", text(&|d| d.source.as_deref().map(str::to_string))),
        ("source_id", text(&|d| d.source_id.clone())),
        ("fields", text(&|d| Some(Value::Object(fields_json(d)).to_string()))),
        ("event", text(&|d| d.event.as_ref().map(|e| Value::Object(e.clone()).to_string()))),
        ("correlation", text(&|d| d.correlation.as_ref().map(|c| correlation_json(d.rule, c, engine).to_string()))),
    ];
    let schema = Schema::new(
        columns.iter().map(|(name, column)| Field::new(*name, column.data_type().clone(), true)).collect::<Vec<_>>(),
    );
    Ok(RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, c)| c).collect())?)
}

fn fields_json(detection: &Detection) -> Map<String, Value> {
    detection.fields.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect()
}
