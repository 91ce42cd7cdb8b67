//! Reading a call's tables into a [`Graph`], counting what it holds against the query's
//! memory limit.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, concat_batches, filter_record_batch, is_not_null, and, take};
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::{DataFusionError, exec_err};
use datafusion::error::Result;
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

use crate::{Graph, GraphBuilder};

/// A graph read from its tables, with the rows of its vertices and edges.
pub struct Loaded {
    /// The graph.
    pub graph: Graph,
    /// Vertex `v`'s row at `v`: its id as text, then the vertices' other columns (null for
    /// a vertex that is only an edge's end).
    pub vertices: RecordBatch,
    /// Edge `e`'s row at `e`, kept when asked for (motifs show edges' rows).
    pub edges: Option<RecordBatch>,
}

/// Reads `edges` (and `vertices`) into a graph, each edge from its column `ends[0]` to its
/// column `ends[1]`. Edges with a NULL end are left out, as a join leaves out NULL keys, and
/// so are vertices with a NULL id; a vertex id twice is an error.
pub async fn load(
    name: &str,
    vertices: Option<SendableRecordBatchStream>,
    mut edges: SendableRecordBatchStream,
    [src_column, dst_column]: &[&str; 2],
    vertex_schema: &SchemaRef,
    keep_edges: bool,
    reservation: &mut MemoryReservation,
) -> Result<Loaded> {
    let mut builder = GraphBuilder::default();
    let mut kept_vertices = Vec::new();
    let mut vertex_rows: HashMap<String, u32> = HashMap::new();
    let vertex_input = vertices.as_ref().map(|stream| stream.schema());
    if let Some(mut stream) = vertices {
        let mut rows = 0u32;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let ids = text_column(name, &batch, "id", "vertices")?;
            let batch = filter_record_batch(&batch, &is_not_null(&ids)?)?;
            let ids = text_column(name, &batch, "id", "vertices")?;
            for id in ids.as_string::<i32>().iter().flatten() {
                if vertex_rows.insert(id.to_string(), rows).is_some() {
                    return exec_err!("{name}: the vertex id `{id}` is in the vertices twice; each vertex needs its own id");
                }
                builder.vertex(id);
                rows += 1;
            }
            reservation.try_grow(batch.get_array_memory_size() + ids.len() * 64)?;
            kept_vertices.push(batch);
        }
    }
    let mut kept_edges = Vec::new();
    let mut accounted = builder.size();
    while let Some(batch) = edges.next().await {
        let batch = batch?;
        let (src, dst) = (text_column(name, &batch, src_column, "edges")?, text_column(name, &batch, dst_column, "edges")?);
        let both = and(&is_not_null(&src)?, &is_not_null(&dst)?)?;
        for (s, d) in src.as_string::<i32>().iter().zip(dst.as_string::<i32>().iter()) {
            if let (Some(s), Some(d)) = (s, d) {
                builder.edge(s, d);
            }
        }
        if keep_edges {
            let kept = filter_record_batch(&batch, &both)?;
            reservation.try_grow(kept.get_array_memory_size())?;
            kept_edges.push(kept);
        }
        let size = builder.size();
        reservation.try_grow(size.saturating_sub(accounted))?;
        accounted = accounted.max(size);
    }
    let edges = match keep_edges {
        true => Some(concat_batches(&edges.schema(), &kept_edges)?),
        false => None,
    };
    let graph = builder.build();
    let vertices = vertex_rows_of(&graph, vertex_input, &kept_vertices, &vertex_rows, vertex_schema)?;
    Ok(Loaded { graph, vertices, edges })
}

/// Column `column` of `batch` as text; an error naming it if it cannot be text.
fn text_column(name: &str, batch: &RecordBatch, column: &str, table: &str) -> Result<ArrayRef> {
    let array = batch.column_by_name(column).ok_or_else(|| DataFusionError::Execution(format!("{name}: the {table} have no column `{column}`")))?;
    cast(array, &DataType::Utf8).map_err(|e| DataFusionError::Execution(format!("{name}: the {table}' `{column}` ({}) cannot be read as vertex ids: {e}", array.data_type())))
}

/// The vertices' rows in vertex order, as [`Loaded::vertices`] holds them.
fn vertex_rows_of(graph: &Graph, input: Option<SchemaRef>, batches: &[RecordBatch], rows: &HashMap<String, u32>, schema: &SchemaRef) -> Result<RecordBatch> {
    let ids: ArrayRef = Arc::new(StringArray::from_iter_values(graph.ids()));
    let mut columns = vec![ids];
    if let Some(input) = input.filter(|_| schema.fields().len() > 1) {
        let all = concat_batches(&input, batches)?;
        let at: UInt32Array = graph.ids().iter().map(|id| rows.get(id).copied()).collect();
        for field in schema.fields().iter().skip(1) {
            let column = all.column_by_name(field.name()).expect("the vertex columns are the vertices'");
            columns.push(take(column, &at, None)?);
        }
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
