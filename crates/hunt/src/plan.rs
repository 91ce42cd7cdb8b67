//! The hunt of a lake table as a DataFusion plan: its events run through the rules a batch
//! at a time where they are read ([`SigmaExec`]), and only the detections come out, as rows
//! ([`detection_rows`]) made [`Detection`]s again by the reader ([`detections_of`]). A
//! cluster's executors run it next to the lake's files; the rules travel as the rule
//! files themselves ([`RuleSource`]) and are loaded once per process.

use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt32Type};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning, PhysicalExpr, PlanProperties, SendableRecordBatchStream};
use futures::StreamExt;
use hela_sigma::Engine;
use hela_sql::lake_tables::LakeTable;
use serde_json::{Map, Value};

use crate::detection::{Detection, detect};
use crate::rules::RuleSource;

/// The columns of a detection as a plan returns it; `fields` and `event` are JSON.
static DETECTION_ROWS: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        Field::new("rule", DataType::UInt32, false),
        text("timestamp"),
        text("host"),
        text("channel"),
        text("event_id"),
        text("record_id"),
        text("source"),
        text("source_id"),
        Field::new("fields", DataType::Utf8, false),
        text("event"),
    ]))
});

/// The rules of a hunt run over a lake table, as a table of detections.
#[derive(Debug)]
pub struct SigmaScan {
    events: Arc<LakeTable>,
    rules: Rules,
    with_event: bool,
}

/// A hunt's rules, and their engine once loaded.
#[derive(Clone)]
struct Rules {
    source: Arc<RuleSource>,
    engine: Arc<OnceLock<std::result::Result<Arc<Engine>, String>>>,
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rules").field("loaded", &self.engine.get().is_some()).finish()
    }
}

impl Rules {
    fn new(source: Arc<RuleSource>) -> Rules {
        Rules { source, engine: Arc::default() }
    }

    /// The engine, loaded the first time it is asked for (a scheduler that only plans never
    /// loads it).
    fn engine(&self) -> Result<Arc<Engine>> {
        let loaded = self.engine.get_or_init(|| {
            self.source.load().engine.map(Arc::new).ok_or_else(|| "the hunt's rules arrived, but none of them loads here".to_string())
        });
        loaded.clone().map_err(DataFusionError::Execution)
    }
}

impl SigmaScan {
    /// The detections of `rules` over `events`, each with its whole event when `with_event`.
    pub fn new(events: Arc<LakeTable>, rules: Arc<RuleSource>, with_event: bool) -> SigmaScan {
        SigmaScan { events, rules: Rules::new(rules), with_event }
    }

    /// The table as bytes, for a plan sent to another process.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let events = self.events.to_bytes()?;
        let mut bytes = (events.len() as u64).to_le_bytes().to_vec();
        bytes.extend(events);
        bytes.extend(rules_bytes(&self.rules, self.with_event)?);
        Ok(bytes)
    }

    /// The table [`SigmaScan::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<SigmaScan> {
        let (length, rest) = bytes.split_first_chunk::<8>().ok_or_else(|| malformed("a Sigma scan"))?;
        let length = usize::try_from(u64::from_le_bytes(*length)).map_err(|_| malformed("a Sigma scan"))?;
        if rest.len() < length {
            return Err(malformed("a Sigma scan"));
        }
        let (events, rules) = rest.split_at(length);
        let (rules, with_event) = rules_from_bytes(rules)?;
        Ok(SigmaScan { events: Arc::new(LakeTable::from_bytes(events)?), rules, with_event })
    }
}

#[async_trait]
impl TableProvider for SigmaScan {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&DETECTION_ROWS)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, _filters: &[Expr], _limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        let events = self.events.scan(state, None, &[], None).await?;
        let hunt: Arc<dyn ExecutionPlan> = Arc::new(SigmaExec::new(events, self.rules.clone(), self.with_event));
        match projection {
            Some(columns) if columns.len() != DETECTION_ROWS.fields().len() || columns.iter().enumerate().any(|(i, c)| i != *c) => {
                let exprs = columns.iter().map(|&c| {
                    let name = DETECTION_ROWS.field(c).name().clone();
                    let column: Arc<dyn PhysicalExpr> = Arc::new(datafusion::physical_expr::expressions::Column::new(&name, c));
                    (column, name)
                });
                Ok(Arc::new(ProjectionExec::try_new(exprs, hunt)?))
            }
            _ => Ok(hunt),
        }
    }
}

/// Runs the rules over each batch of its input's events and returns their detections.
pub struct SigmaExec {
    events: Arc<dyn ExecutionPlan>,
    rules: Rules,
    with_event: bool,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for SigmaExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigmaExec").field("with_event", &self.with_event).finish()
    }
}

impl SigmaExec {
    fn new(events: Arc<dyn ExecutionPlan>, rules: Rules, with_event: bool) -> SigmaExec {
        let partitions = events.output_partitioning().partition_count();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&DETECTION_ROWS)),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        SigmaExec { events, rules, with_event, properties: Arc::new(properties) }
    }

    /// The node, without its input, as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        rules_bytes(&self.rules, self.with_event)
    }

    /// The node [`SigmaExec::to_bytes`] wrote, over `events`. Rules read before in this
    /// process are not read again.
    pub fn from_bytes(bytes: &[u8], events: Arc<dyn ExecutionPlan>) -> Result<SigmaExec> {
        let (rules, with_event) = rules_from_bytes(bytes)?;
        Ok(SigmaExec::new(events, rules, with_event))
    }
}

impl DisplayAs for SigmaExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SigmaExec")
    }
}

impl ExecutionPlan for SigmaExec {
    fn name(&self) -> &str {
        "SigmaExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.events]
    }

    fn apply_expressions(&self, _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>, _: ReplaceChildrenOptions) -> Result<Arc<dyn ExecutionPlan>> {
        let [events] = <[Arc<dyn ExecutionPlan>; 1]>::try_from(children).map_err(|_| DataFusionError::Internal("SigmaExec has one child".into()))?;
        Ok(Arc::new(SigmaExec::new(events, self.rules.clone(), self.with_event)))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let engine = self.rules.engine()?;
        let with_event = self.with_event;
        let events = self.events.execute(partition, context)?;
        let found = events.map(move |batch| {
            let detections = detect(&batch?, &engine, with_event, &None).map_err(|e| DataFusionError::External(e.into()))?;
            detection_rows(&detections)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&DETECTION_ROWS), found)))
    }
}

/// Detections as rows of [`DETECTION_ROWS`].
pub fn detection_rows(detections: &[Detection]) -> Result<RecordBatch> {
    let text = |get: &dyn Fn(&Detection) -> Option<&str>| -> ArrayRef { Arc::new(detections.iter().map(get).collect::<StringArray>()) };
    let fields: Vec<String> = detections.iter().map(|d| to_json(&d.fields)).collect::<Result<_>>()?;
    let events: Vec<Option<String>> = detections.iter().map(|d| d.event.as_ref().map(to_json).transpose()).collect::<Result<_>>()?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(detections.iter().map(|d| d.rule as u32).collect::<UInt32Array>()),
        text(&|d| d.timestamp.as_deref()),
        text(&|d| d.host.as_deref()),
        text(&|d| d.channel.as_deref()),
        text(&|d| d.event_id.as_deref()),
        text(&|d| d.record_id.as_deref()),
        text(&|d| d.source.as_deref()),
        text(&|d| d.source_id.as_deref()),
        Arc::new(StringArray::from(fields)),
        Arc::new(StringArray::from(events)),
    ];
    Ok(RecordBatch::try_new(Arc::clone(&DETECTION_ROWS), columns)?)
}

fn to_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| DataFusionError::External(e.into()))
}

/// The detections of rows [`detection_rows`] made.
pub fn detections_of(batch: &RecordBatch) -> anyhow::Result<Vec<Detection>> {
    anyhow::ensure!(batch.schema().fields() == DETECTION_ROWS.fields(), "detections arrived with columns {:?}", batch.schema().fields());
    let column = |i: usize| batch.column(i).as_string::<i32>();
    let text = |i: usize, row: usize| column(i).is_valid(row).then(|| column(i).value(row).to_string());
    let rules = batch.column(0).as_primitive::<UInt32Type>();
    (0..batch.num_rows())
        .map(|row| {
            let fields: Vec<(String, String)> = serde_json::from_str(column(8).value(row))?;
            let event: Option<Map<String, Value>> = text(9, row).map(|e| serde_json::from_str(&e)).transpose()?;
            Ok(Detection {
                rule: rules.value(row) as usize,
                timestamp: text(1, row),
                host: text(2, row),
                channel: text(3, row),
                event_id: text(4, row),
                record_id: text(5, row),
                source: text(6, row).map(Arc::from),
                source_id: text(7, row),
                fields,
                event,
                correlation: None,
            })
        })
        .collect()
}

/// The rules that arrived in this process, by a hash of their bytes: the tasks of a hunt
/// share one engine.
static LOADED: LazyLock<Mutex<Vec<(u64, Rules)>>> = LazyLock::new(Mutex::default);

/// The rule sets kept loaded.
const KEPT_LOADED: usize = 4;

fn rules_bytes(rules: &Rules, with_event: bool) -> Result<Vec<u8>> {
    let mut bytes = vec![u8::from(with_event)];
    bytes.extend(rules.source.to_bytes()?);
    Ok(bytes)
}

fn rules_from_bytes(bytes: &[u8]) -> Result<(Rules, bool)> {
    let (&with_event, rules) = bytes.split_first().ok_or_else(|| malformed("a hunt's rules"))?;
    let mut hasher = DefaultHasher::new();
    rules.hash(&mut hasher);
    let key = hasher.finish();
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    let rules = match loaded.iter().find(|(k, _)| *k == key) {
        Some((_, rules)) => rules.clone(),
        None => {
            let source = RuleSource::from_bytes(rules).map_err(|e| DataFusionError::Execution(format!("a hunt's rules arrived unreadable: {e}")))?;
            let rules = Rules::new(Arc::new(source));
            if loaded.len() == KEPT_LOADED {
                loaded.remove(0);
            }
            loaded.push((key, rules.clone()));
            rules
        }
    };
    Ok((rules, with_event != 0))
}

fn malformed(what: &str) -> DataFusionError {
    DataFusionError::Internal(format!("{what} arrived cut short"))
}

#[cfg(test)]
mod tests {
    use hela_lake::Lake;

    use super::*;
    use crate::rules::Selection;

    #[test]
    fn a_hunt_crosses_the_wire_whole_and_cut_bytes_are_refused_not_panicked_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("rule.yml"),
            "title: Shell\nid: r1\nstatus: test\nlevel: high\nlogsource: {product: windows, category: process_creation}\n\
             detection:\n  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel\n",
        )
        .unwrap();
        let source = Arc::new(RuleSource::read(&[dir.path().to_path_buf()], &Selection::default()));
        let scan = SigmaScan::new(Arc::new(LakeTable::union(&Lake::new(dir.path()), &[])), source, true);
        let bytes = scan.to_bytes().unwrap();
        let again = SigmaScan::from_bytes(&bytes).unwrap();
        assert!(again.with_event);
        assert_eq!(again.rules.engine().unwrap().rules()[0].meta.title, "Shell");
        for cut in (0..bytes.len()).step_by(7) {
            assert!(SigmaScan::from_bytes(&bytes[..cut]).is_err(), "{cut} bytes of {}", bytes.len());
        }
        assert!(SigmaScan::from_bytes(&[0xff; 40]).is_err());
    }

    #[test]
    fn detections_come_back_from_their_rows_as_they_were() {
        let mut event = Map::new();
        event.insert("EventID".into(), Value::from(1));
        event.insert("Image".into(), Value::from("C:\\Windows\\cmd.exe"));
        let detection = Detection {
            rule: 3,
            timestamp: Some("2020-09-21T10:00:00.000Z".into()),
            host: Some("WKS1".into()),
            channel: None,
            event_id: Some("1".into()),
            record_id: Some("42".into()),
            fields: vec![("Image".into(), "C:\\Windows\\cmd.exe".into())],
            source: Some(Arc::from("winlogbeat")),
            source_id: Some("a".into()),
            event: Some(event),
            correlation: None,
        };
        let rows = detection_rows(std::slice::from_ref(&detection)).unwrap();
        let [back] = <[Detection; 1]>::try_from(detections_of(&rows).unwrap()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{detection:?}"));
        assert!(detections_of(&RecordBatch::new_empty(Arc::new(Schema::empty()))).is_err());
    }
}
