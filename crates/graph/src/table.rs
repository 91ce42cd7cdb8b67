//! The graph functions as DataFusion table functions: the call's tables are found, checked
//! and kept as plans; the graph is read and the algorithm run when the result is read.

use std::sync::Arc;

use arrow::array::AsArray;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DFSchema, plan_err};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, ident, lit};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr, collect};
use hela_sql::table_argument;

use crate::call::{Call, usage};
use crate::exec::GraphExec;

/// One graph function of SQL, by name.
#[derive(Debug)]
pub struct GraphFunction {
    name: &'static str,
}

impl GraphFunction {
    /// The function called `name` (one of [`crate::call::FUNCTIONS`]).
    pub fn new(name: &'static str) -> GraphFunction {
        GraphFunction { name }
    }
}

impl TableFunctionImpl for GraphFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = self.name;
        let tables: Vec<LogicalPlan> = (0..args.exprs().len()).map_while(|i| table_argument(&args, i)).collect();
        let mut settings: Vec<Expr> = args.exprs()[tables.len()..].to_vec();
        // A process guid may be a query's value (`(SELECT ...)`, read as a second table),
        // found when the tree is read.
        let mut guid_query = None;
        let (vertices, edges) = match (name.starts_with("process_"), tables.as_slice()) {
            (true, [events, guid]) => {
                guid_query = Some(guid.clone());
                settings.insert(0, lit(""));
                (None, events.clone())
            }
            (_, [edges]) => (None, edges.clone()),
            (false, [vertices, edges]) => (Some(vertices.clone()), edges.clone()),
            _ => return plan_err!("{name} takes the edges as a table, the vertices before them if given: {}; e.g. {name}(TABLE(edges)) or {name}((SELECT src, dst FROM ...))", usage(name)),
        };
        let call = Call::new(name, &settings).or_else(|e| plan_err!("{e}; {}", usage(name)))?;
        let (edges, ends) = match &call {
            Call::ProcessTree { .. } => process_creations(name, edges)?,
            _ => (edges, ["src".to_string(), "dst".to_string()]),
        };
        let edge_schema = Arc::clone(edges.schema().inner());
        for column in &ends {
            if edge_schema.field_with_name(column).is_err() {
                return plan_err!("{name}: the edges have no column `{column}` (they have {}); name the ends of each edge `src` and `dst`, as GraphFrames does", names(&edge_schema));
            }
        }
        let vertex_schema = match &vertices {
            Some(plan) => {
                let schema = plan.schema().inner();
                if schema.field_with_name("id").is_err() {
                    return plan_err!("{name}: the vertices have no column `id` (they have {}); name each vertex's id `id`, as GraphFrames does", names(schema));
                }
                vertex_schema(schema)
            }
            None => vertex_schema(&Arc::new(Schema::empty())),
        };
        let schema = call.schema(&vertex_schema, &edge_schema);
        Ok(Arc::new(GraphTable { name, call: Arc::new(call), guid_query, vertices, edges, ends, vertex_schema, schema }))
    }
}

/// The names Sysmon's process creations (event 1) have: hela's raw names, then HELK's
/// (event id, process guid, parent process guid).
const PROCESS_NAMES: [[&str; 3]; 2] = [["EventID", "ProcessGuid", "ParentProcessGuid"], ["event_id", "process_guid", "process_parent_guid"]];

/// The process creations among `events`, and their parent and own guid columns.
fn process_creations(name: &str, events: LogicalPlan) -> Result<(LogicalPlan, [String; 2])> {
    let schema = events.schema().inner().clone();
    let has = |column: &str| schema.field_with_name(column).is_ok();
    let Some([event_id, guid, parent]) = PROCESS_NAMES.into_iter().find(|names| names.iter().all(|n| has(n))) else {
        return plan_err!("{name}: the events have no process guids (EventID, ProcessGuid and ParentProcessGuid, or HELK's event_id, process_guid and process_parent_guid): a process tree needs Sysmon's process creations");
    };
    let creations = LogicalPlanBuilder::from(events).filter(ident(event_id).eq(lit(1)))?.build()?;
    Ok((creations, [parent.to_string(), guid.to_string()]))
}

fn names(schema: &Schema) -> String {
    schema.fields().iter().map(|f| format!("`{}`", f.name())).collect::<Vec<_>>().join(", ")
}

/// The columns of a vertex as results show it: its `id` as text, then the vertices' other
/// columns.
fn vertex_schema(vertices: &SchemaRef) -> SchemaRef {
    let mut fields = vec![Arc::new(Field::new("id", DataType::Utf8, false))];
    fields.extend(vertices.fields().iter().filter(|f| f.name() != "id").map(|f| Arc::new(f.as_ref().clone().with_nullable(true))));
    Arc::new(Schema::new(fields))
}

/// The result of one call of a graph function, as a table.
#[derive(Debug)]
struct GraphTable {
    name: &'static str,
    call: Arc<Call>,
    /// The query whose value is a process tree's guid, when a query gives it.
    guid_query: Option<LogicalPlan>,
    vertices: Option<LogicalPlan>,
    edges: LogicalPlan,
    /// The columns of an edge's source and destination.
    ends: [String; 2],
    vertex_schema: SchemaRef,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for GraphTable {

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, _filters: &[Expr], _limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        let edges = state.create_physical_plan(&self.edges).await?;
        let vertices = match &self.vertices {
            Some(plan) => Some(state.create_physical_plan(plan).await?),
            None => None,
        };
        let conditions = match self.call.as_ref() {
            Call::Bfs { from, to, .. } => Some([self.condition(state, from)?, self.condition(state, to)?]),
            _ => None,
        };
        let call = match (&self.guid_query, self.call.as_ref()) {
            (Some(query), Call::ProcessTree { direction, max_depth, .. }) => {
                Arc::new(Call::ProcessTree { guid: first_value(state, query).await?.unwrap_or_default(), direction: *direction, max_depth: *max_depth })
            }
            _ => Arc::clone(&self.call),
        };
        let columns = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        Ok(Arc::new(GraphExec::new(self.name, call, vertices, edges, self.ends.clone(), Arc::clone(&self.vertex_schema), Arc::clone(&self.schema), columns, conditions)?))
    }
}

/// The first value of a query's first column, as text; None when it gives no rows or NULL.
async fn first_value(state: &dyn Session, query: &LogicalPlan) -> Result<Option<String>> {
    let plan = state.create_physical_plan(query).await?;
    let batches = collect(plan, state.task_ctx()).await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else { return Ok(None) };
    let text = cast(batch.column(0), &DataType::Utf8)?;
    Ok(text.as_string::<i32>().iter().next().flatten().map(str::to_string))
}

impl GraphTable {
    /// A SQL condition on the vertices' columns (`bfs`), ready to evaluate.
    fn condition(&self, state: &dyn Session, sql: &str) -> Result<Arc<dyn PhysicalExpr>> {
        let Some(state) = state.as_any().downcast_ref::<SessionState>() else {
            return plan_err!("{}: conditions can be read only in a SQL session", self.name);
        };
        let schema = DFSchema::try_from(self.vertex_schema.as_ref().clone())?;
        let expr = state.create_logical_expr(sql, &schema).or_else(|e| plan_err!("{}: the condition `{sql}` cannot be read: {e}", self.name))?;
        state.create_physical_expr(expr, &schema)
    }
}
