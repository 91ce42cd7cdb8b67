//! Edges in and out of each vertex.

use crate::Graph;

/// A vertex's edge counts, parallel edges each counted and a self-loop counted both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Degrees {
    /// Edges entering the vertex.
    pub r#in: u64,
    /// Edges leaving the vertex.
    pub out: u64,
}

/// Each vertex's degrees, vertex `v` at `v`.
pub fn degrees(graph: &Graph) -> Vec<Degrees> {
    (0..graph.vertex_count() as u32)
        .map(|v| Degrees { r#in: graph.in_edges(v).len() as u64, out: graph.out_edges(v).len() as u64 })
        .collect()
}
