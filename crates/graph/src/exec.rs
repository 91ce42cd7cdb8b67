//! The plan that runs a graph function: reads its tables, builds the graph within the
//! query's memory limit, runs the algorithm off the async threads, and streams the rows.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PhysicalExpr, PlanProperties, SendableRecordBatchStream, execute_stream};

use crate::call::Call;
use crate::load::load;
use crate::output::run;

/// Runs one call of a graph function.
#[derive(Debug)]
pub struct GraphExec {
    name: &'static str,
    call: Arc<Call>,
    vertices: Option<Arc<dyn ExecutionPlan>>,
    edges: Arc<dyn ExecutionPlan>,
    /// The columns of an edge's source and destination.
    ends: [String; 2],
    vertex_schema: SchemaRef,
    /// The call's whole result, before `columns` are chosen.
    full: SchemaRef,
    columns: Vec<usize>,
    conditions: Option<[Arc<dyn PhysicalExpr>; 2]>,
    properties: Arc<PlanProperties>,
}

impl GraphExec {
    /// The plan of `call` over `edges` (from column `ends[0]` to `ends[1]`) and `vertices`,
    /// giving the columns `columns` of its result `full`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &'static str,
        call: Arc<Call>,
        vertices: Option<Arc<dyn ExecutionPlan>>,
        edges: Arc<dyn ExecutionPlan>,
        ends: [String; 2],
        vertex_schema: SchemaRef,
        full: SchemaRef,
        columns: Vec<usize>,
        conditions: Option<[Arc<dyn PhysicalExpr>; 2]>,
    ) -> Result<GraphExec> {
        let schema = Arc::new(full.project(&columns)?);
        let properties = Arc::new(PlanProperties::new(EquivalenceProperties::new(schema), Partitioning::UnknownPartitioning(1), EmissionType::Final, Boundedness::Bounded));
        Ok(GraphExec { name, call, vertices, edges, ends, vertex_schema, full, columns, conditions, properties })
    }
}

impl DisplayAs for GraphExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "GraphExec: {}", self.name)
    }
}

impl ExecutionPlan for GraphExec {
    fn name(&self) -> &str {
        "GraphExec"
    }


    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.vertices.iter().chain([&self.edges]).collect()
    }

    fn apply_expressions(&self, f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        for condition in self.conditions.iter().flatten() {
            if f(condition)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>, _: ReplaceChildrenOptions) -> Result<Arc<dyn ExecutionPlan>> {
        let edges = children.pop().ok_or_else(|| DataFusionError::Internal("GraphExec needs its edges".into()))?;
        let vertices = children.pop();
        let this = GraphExec::new(self.name, Arc::clone(&self.call), vertices, edges, self.ends.clone(), Arc::clone(&self.vertex_schema), Arc::clone(&self.full), self.columns.clone(), self.conditions.clone())?;
        Ok(Arc::new(this))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("GraphExec has one partition, not {partition}")));
        }
        let vertices = self.vertices.as_ref().map(|plan| execute_stream(Arc::clone(plan), Arc::clone(&context))).transpose()?;
        let edges = execute_stream(Arc::clone(&self.edges), Arc::clone(&context))?;
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema(), 2);
        let tx = builder.tx();
        let (name, call, vertex_schema, full, columns, conditions) =
            (self.name, Arc::clone(&self.call), Arc::clone(&self.vertex_schema), Arc::clone(&self.full), self.columns.clone(), self.conditions.clone());
        let ends = self.ends.clone();
        let mut reservation = MemoryConsumer::new(format!("GraphExec[{name}]")).register(context.memory_pool());
        builder.spawn(async move {
            let keep_edges = matches!(call.as_ref(), Call::Motifs(_) | Call::ProcessTree { .. });
            let loaded = load(name, vertices, edges, &ends.each_ref().map(String::as_str), &vertex_schema, keep_edges, &mut reservation).await?;
            let work = tokio::task::spawn_blocking(move || {
                let mut grow = |bytes: usize| reservation.try_grow(bytes).map_err(|e| format!("its partial matches exceed the query's memory ({e}); bind more vertices in the first terms, or give fewer edges"));
                let mut emit = |batch: arrow::array::RecordBatch| match batch.project(&columns) {
                    Ok(batch) => tx.blocking_send(Ok(batch)).is_ok(),
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e.into()));
                        false
                    }
                };
                run(&call, &loaded, &full, conditions.as_ref(), &mut grow, &mut emit)
            });
            work.await.map_err(|e| DataFusionError::External(Box::new(e)))?
        });
        Ok(builder.build())
    }
}
