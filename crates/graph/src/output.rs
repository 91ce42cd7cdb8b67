//! Running a call on a loaded graph and handing its result on in batches.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder, StructArray, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::physical_plan::PhysicalExpr;

use crate::algorithms::{self, all_shortest_paths};
use crate::call::Call;
use crate::load::Loaded;
use crate::motif::{self, Element};

/// Rows per batch handed on.
const BATCH_ROWS: usize = 8192;

/// Where results go: a batch at a time; false when no more are wanted.
pub type Emit<'a> = &'a mut dyn FnMut(RecordBatch) -> bool;

/// Runs `call` on `loaded` and hands its rows (of `schema`) to `emit`. `conditions` are
/// `bfs`'s start and end conditions; `grow` accounts for the memory motifs' partial
/// matches take.
pub fn run(call: &Call, loaded: &Loaded, schema: &SchemaRef, conditions: Option<&[Arc<dyn PhysicalExpr>; 2]>, grow: &mut dyn FnMut(usize) -> Result<(), String>, emit: Emit) -> Result<()> {
    let graph = &loaded.graph;
    let ids = || -> ArrayRef { Arc::new(StringArray::from_iter_values(graph.ids())) };
    let names = |vertices: &[u32]| -> ArrayRef { Arc::new(StringArray::from_iter_values(vertices.iter().map(|&v| &graph.ids()[v as usize]))) };
    let ints = |values: Vec<u64>| -> ArrayRef { Arc::new(Int64Array::from_iter_values(values.into_iter().map(|n| n as i64))) };
    let columns: Vec<ArrayRef> = match call {
        Call::Degrees => {
            let degrees = algorithms::degrees(graph);
            let (r#in, out): (Vec<u64>, Vec<u64>) = degrees.iter().map(|d| (d.r#in, d.out)).unzip();
            vec![ids(), ints(r#in), ints(out), ints(degrees.iter().map(|d| d.r#in + d.out).collect())]
        }
        Call::ConnectedComponents => vec![ids(), names(&algorithms::connected_components(graph))],
        Call::StronglyConnectedComponents => vec![ids(), names(&algorithms::strongly_connected_components(graph))],
        Call::PageRank(settings) => vec![ids(), Arc::new(Float64Array::from(algorithms::pagerank(graph, *settings)))],
        Call::LabelPropagation { max_iter } => vec![ids(), names(&algorithms::label_propagation(graph, *max_iter))],
        Call::TriangleCount => vec![ids(), ints(algorithms::triangle_count(graph))],
        Call::ShortestPaths(landmarks) => {
            let (mut vertices, mut marks, mut distances) = (Vec::new(), Vec::new(), Vec::new());
            for landmark in landmarks {
                let Some(mark) = graph.vertex(landmark) else { continue };
                for (v, distance) in algorithms::distances_to(graph, mark).into_iter().enumerate() {
                    if let Some(d) = distance {
                        vertices.push(v as u32);
                        marks.push(mark);
                        distances.push(d as u64);
                    }
                }
            }
            vec![names(&vertices), names(&marks), ints(distances)]
        }
        Call::Bfs { max_hops, .. } => {
            let Some([from, to]) = conditions else { return exec_err!("bfs: its conditions were not read") };
            return paths(loaded, schema, [matching(from, loaded)?, matching(to, loaded)?], *max_hops, emit);
        }
        Call::ProcessTree { guid, direction, max_depth } => {
            let Some(root) = graph.vertex(guid) else { return Ok(()) };
            let found = algorithms::tree(graph, root, *direction, *max_depth);
            let events = loaded.edges.as_ref().expect("process trees keep the events");
            let at: UInt32Array = found.iter().map(|&(edge, _)| edge).collect();
            let depth: ArrayRef = Arc::new(Int64Array::from_iter_values(found.iter().map(|&(_, depth)| depth as i64)));
            let taken = events.columns().iter().map(|column| take(column, &at, None)).collect::<Result<Vec<_>, _>>()?;
            [depth].into_iter().chain(taken).collect()
        }
        Call::Motifs(motif) => {
            let found = motif::find(graph, motif, &mut *grow).or_else(|e| exec_err!("motifs: {e}"))?;
            return matches(loaded, motif, &found, schema, emit);
        }
    };
    let batch = RecordBatch::try_new(Arc::clone(schema), columns)?;
    for start in (0..batch.num_rows()).step_by(BATCH_ROWS) {
        if !emit(batch.slice(start, BATCH_ROWS.min(batch.num_rows() - start))) {
            break;
        }
    }
    Ok(())
}

/// Which vertices a condition holds for (NULL is false).
fn matching(condition: &Arc<dyn PhysicalExpr>, loaded: &Loaded) -> Result<Vec<bool>> {
    let value = condition.evaluate(&loaded.vertices)?.into_array(loaded.vertices.num_rows())?;
    let Some(truth) = value.as_any().downcast_ref::<BooleanArray>() else {
        return exec_err!("bfs: a condition must be true or false for each vertex, not {}", value.data_type());
    };
    Ok((0..truth.len()).map(|i| truth.is_valid(i) && truth.value(i)).collect())
}

/// `bfs`'s rows: each shortest path between the two sets of vertices.
fn paths(loaded: &Loaded, schema: &SchemaRef, [from, to]: [Vec<bool>; 2], max_hops: u32, emit: Emit) -> Result<()> {
    let graph = &loaded.graph;
    let mut rows = PathRows::default();
    let mut error = None;
    all_shortest_paths(graph, &from, &to, max_hops, |path| {
        let name = |v: u32| graph.ids()[v as usize].as_str();
        rows.from.append_value(name(path[0]));
        rows.to.append_value(name(path[path.len() - 1]));
        rows.hops.push(path.len() as i64 - 1);
        rows.path.append_value(path.iter().map(|&v| Some(name(v))));
        if rows.hops.len() < BATCH_ROWS {
            return true;
        }
        match rows.batch(schema) {
            Ok(batch) => emit(batch),
            Err(e) => {
                error = Some(e);
                false
            }
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    if !rows.hops.is_empty() {
        emit(rows.batch(schema)?);
    }
    Ok(())
}

#[derive(Default)]
struct PathRows {
    from: StringBuilder,
    to: StringBuilder,
    hops: Vec<i64>,
    path: ListBuilder<StringBuilder>,
}

impl PathRows {
    fn batch(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let hops = Int64Array::from(std::mem::take(&mut self.hops));
        let columns: Vec<ArrayRef> = vec![Arc::new(self.from.finish()), Arc::new(self.to.finish()), Arc::new(hops), Arc::new(self.path.finish())];
        Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
    }
}

/// `motifs`' rows: a column per named element, holding the vertex's or edge's row.
fn matches(loaded: &Loaded, motif: &motif::Motif, found: &motif::Matches, schema: &SchemaRef, emit: Emit) -> Result<()> {
    let edges = loaded.edges.as_ref().expect("motifs keep the edges' rows");
    for start in (0..found.len()).step_by(BATCH_ROWS) {
        let rows = start..(start + BATCH_ROWS).min(found.len());
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (slot, element) in motif.elements.iter().enumerate() {
            let at: UInt32Array = rows.clone().map(|r| found.row(r)[slot]).collect();
            let of = match element {
                Element::Vertex(_) => &loaded.vertices,
                Element::Edge(_) => edges,
            };
            let fields = match schema.field(slot).data_type() {
                DataType::Struct(fields) => fields.clone(),
                other => return exec_err!("motifs: column {} is {other}, not a struct", element.name()),
            };
            let parts = of.columns().iter().map(|column| take(column, &at, None)).collect::<Result<Vec<_>, _>>()?;
            columns.push(Arc::new(StructArray::try_new(fields, parts, None)?));
        }
        if !emit(RecordBatch::try_new(Arc::clone(schema), columns)?) {
            break;
        }
    }
    Ok(())
}
