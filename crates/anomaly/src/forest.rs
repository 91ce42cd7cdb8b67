//! The isolation forest of Liu, Ting and Zhou, as scikit-learn's `IsolationForest` builds
//! it (trees on subsamples of 256 rows, a random feature and a random split in its range at
//! each node, depth at most log2 of the subsample, path lengths adjusted by the average
//! depth of an unbuilt subtree), seeded so results repeat; and the table function scoring
//! every row of a query with it.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::plan_err;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PhysicalExpr, PlanProperties, SendableRecordBatchStream, execute_stream};
use futures::TryStreamExt;

use crate::args::Call;

/// `isolation_forest`'s usage.
pub const USAGE: &str = "isolation_forest(table, 'feature columns' [, trees = 100 [, samples = 256 [, seed = 42]]])";

/// A forest's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub trees: usize,
    /// Rows each tree is built on (fewer when the data has fewer).
    pub samples: usize,
    pub seed: u64,
}

/// A node of an isolation tree.
#[derive(Debug, Clone)]
enum Node {
    Split { feature: usize, value: f64, left: usize, right: usize },
    Leaf { size: usize },
}

/// A fitted forest.
#[derive(Debug, Clone)]
pub struct Forest {
    trees: Vec<Vec<Node>>,
    samples: usize,
}

/// splitmix64: a small, fast generator, enough to draw samples and splits repeatably.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

/// The average path length of an unsuccessful search in a binary search tree of `n` keys,
/// which a leaf of `n` rows adds to its depth.
fn average_path(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        n => 2.0 * ((n as f64 - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n as f64 - 1.0) / n as f64,
    }
}

impl Forest {
    /// Fits a forest on `rows` (each a feature vector).
    pub fn fit(rows: &[Vec<f64>], settings: Settings) -> Forest {
        let mut random = Random(settings.seed);
        let samples = settings.samples.min(rows.len()).max(1);
        let max_depth = (samples as f64).log2().ceil().max(1.0) as usize;
        let trees = (0..settings.trees)
            .map(|_| {
                // A sample without replacement: a partial Fisher-Yates shuffle.
                let mut order: Vec<usize> = (0..rows.len()).collect();
                for i in 0..samples.min(order.len()) {
                    let j = i + random.below(order.len() - i);
                    order.swap(i, j);
                }
                order.truncate(samples);
                let mut nodes = Vec::new();
                grow(rows, order, 0, max_depth, &mut random, &mut nodes);
                nodes
            })
            .collect();
        Forest { trees, samples }
    }

    /// The anomaly score of `row`: 2^(−mean path length / c(samples)), near 1 for rows
    /// isolated at once, near 0.5 or below for ordinary ones (scikit-learn's
    /// `-score_samples`).
    pub fn score(&self, row: &[f64]) -> f64 {
        let total: f64 = self.trees.iter().map(|tree| path_length(tree, row)).sum();
        let mean = total / self.trees.len().max(1) as f64;
        2f64.powf(-mean / average_path(self.samples).max(f64::MIN_POSITIVE))
    }
}

/// Grows the subtree of `rows` at `depth`, appending its nodes; returns its root's index.
fn grow(rows: &[Vec<f64>], members: Vec<usize>, depth: usize, max_depth: usize, random: &mut Random, nodes: &mut Vec<Node>) -> usize {
    let at = nodes.len();
    nodes.push(Node::Leaf { size: members.len() });
    if depth >= max_depth || members.len() <= 1 {
        return at;
    }
    let features = rows[members[0]].len();
    // Features that vary among the members, one drawn at random.
    let ranges: Vec<(usize, f64, f64)> = (0..features)
        .filter_map(|f| {
            let (low, high) = members.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| (lo.min(rows[r][f]), hi.max(rows[r][f])));
            (high > low).then_some((f, low, high))
        })
        .collect();
    if ranges.is_empty() {
        return at;
    }
    let (feature, low, high) = ranges[random.below(ranges.len())];
    let value = low + random.unit() * (high - low);
    let (left, right): (Vec<usize>, Vec<usize>) = members.into_iter().partition(|&r| rows[r][feature] < value);
    let left = grow(rows, left, depth + 1, max_depth, random, nodes);
    let right = grow(rows, right, depth + 1, max_depth, random, nodes);
    nodes[at] = Node::Split { feature, value, left, right };
    at
}

fn path_length(tree: &[Node], row: &[f64]) -> f64 {
    let (mut at, mut depth) = (0, 0.0);
    loop {
        match tree[at] {
            Node::Split { feature, value, left, right } => {
                at = if row[feature] < value { left } else { right };
                depth += 1.0;
            }
            Node::Leaf { size } => return depth + average_path(size),
        }
    }
}

/// `isolation_forest(t, 'logons, hosts, failures')`: every row of `t` with its
/// `anomaly_score` from a forest fitted on the rows (features read as numbers; a row with a
/// NULL feature is left out of the fit and scores NULL).
#[derive(Debug)]
pub struct IsolationForest;

impl TableFunctionImpl for IsolationForest {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let call = Call::new(&args, USAGE)?;
        call.at_most(4)?;
        let features = call.columns(0)?;
        if features.is_empty() {
            return plan_err!("{USAGE}: name the feature columns");
        }
        let whole = |i: usize, default: f64, least: f64| -> Result<f64> {
            let n = call.number(i, default)?;
            if n.fract() != 0.0 || n < least || n > 1e9 {
                return plan_err!("{USAGE}: setting {} is a whole number of at least {least}, not {n}", i + 1);
            }
            Ok(n)
        };
        let settings = Settings { trees: whole(1, 100.0, 1.0)? as usize, samples: whole(2, 256.0, 2.0)? as usize, seed: whole(3, 42.0, 0.0)? as u64 };
        let input = call.table.logical_plan().clone();
        let mut fields: Vec<Field> = input.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("anomaly_score", DataType::Float64, true));
        Ok(Arc::new(ForestTable { input, features, settings, schema: Arc::new(Schema::new(fields)) }))
    }
}

#[derive(Debug)]
struct ForestTable {
    input: LogicalPlan,
    features: Vec<String>,
    settings: Settings,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for ForestTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, _filters: &[Expr], _limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        let input = state.create_physical_plan(&self.input).await?;
        let columns = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        Ok(Arc::new(ForestExec::new(input, self.features.clone(), self.settings, Arc::clone(&self.schema), columns)?))
    }
}

/// Reads its input whole, fits the forest and streams the rows back with their scores.
struct ForestExec {
    input: Arc<dyn ExecutionPlan>,
    features: Vec<String>,
    settings: Settings,
    full: SchemaRef,
    columns: Vec<usize>,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for ForestExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForestExec").field("features", &self.features).finish()
    }
}

impl ForestExec {
    fn new(input: Arc<dyn ExecutionPlan>, features: Vec<String>, settings: Settings, full: SchemaRef, columns: Vec<usize>) -> Result<ForestExec> {
        let schema = Arc::new(full.project(&columns)?);
        let properties = PlanProperties::new(EquivalenceProperties::new(schema), Partitioning::UnknownPartitioning(1), EmissionType::Final, Boundedness::Bounded);
        Ok(ForestExec { input, features, settings, full, columns, properties: Arc::new(properties) })
    }
}

impl DisplayAs for ForestExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ForestExec: {} trees over {}", self.settings.trees, self.features.join(", "))
    }
}

impl ExecutionPlan for ForestExec {
    fn name(&self) -> &str {
        "ForestExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(&self, _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>, _: ReplaceChildrenOptions) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children.pop().ok_or_else(|| DataFusionError::Internal("ForestExec has one child".into()))?;
        Ok(Arc::new(ForestExec::new(input, self.features.clone(), self.settings, Arc::clone(&self.full), self.columns.clone())?))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("ForestExec has one partition, not {partition}")));
        }
        let input = execute_stream(Arc::clone(&self.input), Arc::clone(&context))?;
        let (features, settings, full, columns) = (self.features.clone(), self.settings, Arc::clone(&self.full), self.columns.clone());
        let reservation = MemoryConsumer::new("ForestExec").register(context.memory_pool());
        let scored = async move {
            let batches: Vec<RecordBatch> = input.try_collect().await?;
            reservation.try_grow(batches.iter().map(|b| b.get_array_memory_size() * 2).sum())?;
            let work = tokio::task::spawn_blocking(move || score_batches(&batches, &features, settings, &full, &columns));
            let scored = work.await.map_err(|e| DataFusionError::External(Box::new(e)))??;
            drop(reservation);
            Ok::<_, DataFusionError>(futures::stream::iter(scored.into_iter().map(Ok)))
        };
        let stream = futures::stream::once(scored).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), stream)))
    }
}

/// Fits a forest on the batches' rows and returns them with their scores.
fn score_batches(batches: &[RecordBatch], features: &[String], settings: Settings, full: &SchemaRef, columns: &[usize]) -> Result<Vec<RecordBatch>> {
    let mut per_batch: Vec<Vec<Option<Vec<f64>>>> = Vec::new();
    for batch in batches {
        let values = features
            .iter()
            .map(|name| {
                let column = batch.column_by_name(name).ok_or_else(|| DataFusionError::Execution(format!("isolation_forest: no column `{name}`")))?;
                cast(column, &DataType::Float64).map_err(|e| DataFusionError::Execution(format!("isolation_forest: `{name}` is not a number: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = (0..batch.num_rows())
            .map(|r| values.iter().map(|v| v.as_primitive::<Float64Type>()).map(|v| (v.is_valid(r) && v.value(r).is_finite()).then(|| v.value(r))).collect::<Option<Vec<f64>>>())
            .collect();
        per_batch.push(rows);
    }
    let fitted: Vec<Vec<f64>> = per_batch.iter().flatten().flatten().cloned().collect();
    let forest = Forest::fit(&fitted, settings);
    batches
        .iter()
        .zip(per_batch)
        .map(|(batch, rows)| {
            let scores: Float64Array = rows.iter().map(|row| row.as_ref().filter(|_| !fitted.is_empty()).map(|r| forest.score(r))).collect();
            let mut columns_out = batch.columns().to_vec();
            columns_out.push(Arc::new(scores));
            Ok(RecordBatch::try_new(Arc::clone(full), columns_out)?.project(columns)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_far_point_scores_highest_and_results_repeat() {
        let mut random = Random(7);
        let mut rows: Vec<Vec<f64>> = (0..500).map(|_| vec![random.unit(), random.unit()]).collect();
        rows.push(vec![8.0, 8.0]);
        let settings = Settings { trees: 100, samples: 256, seed: 42 };
        let forest = Forest::fit(&rows, settings);
        let scores: Vec<f64> = rows.iter().map(|r| forest.score(r)).collect();
        let top = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(top, 500);
        assert!(scores[500] > 0.7 && scores[0] < 0.6, "{} {}", scores[500], scores[0]);
        let again = Forest::fit(&rows, settings);
        assert_eq!(again.score(&rows[3]), forest.score(&rows[3]));
        assert!((average_path(256) - 10.244).abs() < 1e-3);
    }
}
