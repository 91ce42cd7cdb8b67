//! `ioc_match(events, indicators [, 'columns'])`: the events that hold an indicator's
//! value, each with the field it was found in and the indicator's columns (`ioc_...`). The
//! indicators are read into one [`Index`] per query, shared by every partition of the
//! events, which stream past it.

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{can_cast_types, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning, PhysicalExpr, PlanProperties, SendableRecordBatchStream, execute_stream};
use futures::{StreamExt, TryStreamExt};
use hela_sql::table_argument;
use tokio::sync::OnceCell;

use crate::fields::fields;
use crate::index::FieldKind;
use crate::watchlist::Watchlist;

/// How `ioc_match` is called.
pub const USAGE: &str = "ioc_match(events, indicators [, 'column, column, ...'])";

/// The `ioc_match` table function.
#[derive(Debug)]
pub struct IocMatch;

impl TableFunctionImpl for IocMatch {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (Some(events), Some(indicators)) = (table_argument(&args, 0), table_argument(&args, 1)) else {
            return plan_err!("ioc_match takes the events and the indicators as tables: {USAGE}; e.g. ioc_match(events, indicators)");
        };
        let chosen = match args.exprs().get(2) {
            None => None,
            Some(Expr::Literal(ScalarValue::Utf8(Some(text)), _)) => Some(text.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect::<Vec<_>>()),
            Some(other) => return plan_err!("ioc_match's third argument names the columns to look in, as text, not `{other}`: {USAGE}"),
        };
        if args.exprs().len() > 3 {
            return plan_err!("ioc_match takes at most three arguments: {USAGE}");
        }
        let event_schema = Arc::clone(events.schema().inner());
        let indicator_schema = Arc::clone(indicators.schema().inner());
        for column in ["type", "value"] {
            if indicator_schema.field_with_name(column).is_err() {
                return plan_err!("ioc_match: the indicators have no column `{column}`; load them with `hela intel load`, or give a table with `type` and `value`");
            }
        }
        let mut looked = fields(&event_schema, chosen.as_deref()).or_else(|e| plan_err!("ioc_match: {e}"))?;
        if let Some((at, _)) = looked.iter().find(|(at, _)| chosen.is_some() && !can_cast_types(event_schema.field(*at).data_type(), &DataType::Utf8)) {
            return plan_err!("ioc_match: the column `{}` ({}) is not text", event_schema.field(*at).name(), event_schema.field(*at).data_type());
        }
        looked.retain(|(at, _)| can_cast_types(event_schema.field(*at).data_type(), &DataType::Utf8));
        if looked.is_empty() {
            return plan_err!("ioc_match: the events have none of the fields it looks in (addresses, domains, URLs, hashes, file paths by their Windows, HELK or Zeek names); name the columns to look in: {USAGE}");
        }
        let mut output: Vec<Field> = event_schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        output.push(Field::new("ioc_field", DataType::Utf8, false));
        output.extend(indicator_schema.fields().iter().map(|f| Field::new(format!("ioc_{}", f.name()), f.data_type().clone(), true)));
        let schema = Arc::new(Schema::new(output));
        Ok(Arc::new(IocTable { events, indicators, fields: looked, schema }))
    }
}

#[derive(Debug)]
struct IocTable {
    events: LogicalPlan,
    indicators: LogicalPlan,
    fields: Vec<(usize, FieldKind)>,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for IocTable {

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, _filters: &[Expr], _limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        let events = state.create_physical_plan(&self.events).await?;
        let indicators = state.create_physical_plan(&self.indicators).await?;
        let columns = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        Ok(Arc::new(IocExec::new(events, indicators, self.fields.clone(), Arc::clone(&self.schema), columns)?))
    }
}

/// The indicators of one query, indexed, with the memory they are counted for.
struct Loaded {
    watchlist: Watchlist,
    _reservation: MemoryReservation,
}

/// Matches the events of each partition against the indicators, read once.
struct IocExec {
    events: Arc<dyn ExecutionPlan>,
    indicators: Arc<dyn ExecutionPlan>,
    fields: Vec<(usize, FieldKind)>,
    full: SchemaRef,
    columns: Vec<usize>,
    loaded: Arc<OnceCell<Arc<Loaded>>>,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for IocExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IocExec").field("fields", &self.fields).finish()
    }
}

impl IocExec {
    fn new(events: Arc<dyn ExecutionPlan>, indicators: Arc<dyn ExecutionPlan>, fields: Vec<(usize, FieldKind)>, full: SchemaRef, columns: Vec<usize>) -> Result<IocExec> {
        let schema = Arc::new(full.project(&columns)?);
        let partitions = events.output_partitioning().partition_count();
        let properties = PlanProperties::new(EquivalenceProperties::new(schema), Partitioning::UnknownPartitioning(partitions), EmissionType::Incremental, Boundedness::Bounded);
        Ok(IocExec { events, indicators, fields, full, columns, loaded: Arc::new(OnceCell::new()), properties: Arc::new(properties) })
    }
}

impl DisplayAs for IocExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "IocExec: {} fields", self.fields.len())
    }
}

impl ExecutionPlan for IocExec {
    fn name(&self) -> &str {
        "IocExec"
    }


    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.events, &self.indicators]
    }

    fn apply_expressions(&self, _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>, _: ReplaceChildrenOptions) -> Result<Arc<dyn ExecutionPlan>> {
        let [events, indicators] = <[Arc<dyn ExecutionPlan>; 2]>::try_from(children).map_err(|_| DataFusionError::Internal("IocExec has two children".into()))?;
        Ok(Arc::new(IocExec::new(events, indicators, self.fields.clone(), Arc::clone(&self.full), self.columns.clone())?))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let events = self.events.execute(partition, Arc::clone(&context))?;
        let (cell, indicators) = (Arc::clone(&self.loaded), Arc::clone(&self.indicators));
        let (fields, full, columns) = (self.fields.clone(), Arc::clone(&self.full), self.columns.clone());
        let schema = self.schema();
        let stream = futures::stream::once(async move {
            let loaded = cell.get_or_try_init(|| load(indicators, context)).await?.clone();
            Ok::<_, DataFusionError>(events.map(move |batch| matched(&batch?, &loaded, &fields, &full, &columns)))
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// Reads the indicators into a watchlist, counted against the query's memory.
async fn load(plan: Arc<dyn ExecutionPlan>, context: Arc<TaskContext>) -> Result<Arc<Loaded>> {
    let reservation = MemoryConsumer::new("IocExec[indicators]").register(context.memory_pool());
    let schema = plan.schema();
    let batches: Vec<RecordBatch> = execute_stream(plan, context)?.try_collect().await?;
    let rows = arrow::compute::concat_batches(&schema, &batches)?;
    reservation.try_grow(rows.get_array_memory_size() * 3)?;
    Ok(Arc::new(Loaded { watchlist: Watchlist::new(rows)?, _reservation: reservation }))
}

/// The matches of one batch of events.
fn matched(batch: &RecordBatch, loaded: &Loaded, fields: &[(usize, FieldKind)], full: &SchemaRef, columns: &[usize]) -> Result<RecordBatch> {
    let sightings = loaded.watchlist.sightings(batch, fields)?;
    let schema = batch.schema();
    let field_names: Vec<&str> = sightings.iter().map(|s| schema.field(s.column).name().as_str()).collect();
    let events: UInt32Array = sightings.iter().map(|s| s.row).collect();
    let indicators: UInt32Array = sightings.iter().map(|s| s.indicator).collect();
    let mut output: Vec<ArrayRef> = batch.columns().iter().map(|c| take(c, &events, None)).collect::<Result<_, _>>()?;
    output.push(Arc::new(StringArray::from(field_names)));
    for column in loaded.watchlist.rows().columns() {
        output.push(take(column, &indicators, None)?);
    }
    Ok(RecordBatch::try_new(Arc::clone(full), output)?.project(columns)?)
}
