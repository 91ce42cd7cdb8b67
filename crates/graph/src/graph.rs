//! A directed multigraph in compact form: vertices numbered in the order of their ids, edges
//! kept in the order given, and each vertex's out- and in-edges found without a search.

use std::collections::HashMap;

/// A directed multigraph. Vertex `v` is `ids()[v]`; vertices are numbered in the byte order
/// of their ids, so the smallest id is vertex 0 and results do not depend on the order the
/// edges arrived in. Parallel edges and self-loops are kept, as GraphFrames keeps them.
#[derive(Debug, Clone)]
pub struct Graph {
    ids: Vec<String>,
    src: Vec<u32>,
    dst: Vec<u32>,
    out: Adjacency,
    into: Adjacency,
}

/// Each vertex's edges, as indices into the edge list, grouped by vertex.
#[derive(Debug, Clone)]
struct Adjacency {
    offsets: Vec<usize>,
    edges: Vec<u32>,
}

impl Adjacency {
    fn new(vertices: usize, ends: &[u32]) -> Adjacency {
        let mut offsets = vec![0usize; vertices + 1];
        for &end in ends {
            offsets[end as usize + 1] += 1;
        }
        for v in 0..vertices {
            offsets[v + 1] += offsets[v];
        }
        let mut next = offsets.clone();
        let mut edges = vec![0u32; ends.len()];
        for (edge, &end) in ends.iter().enumerate() {
            edges[next[end as usize]] = edge as u32;
            next[end as usize] += 1;
        }
        Adjacency { offsets, edges }
    }

    fn of(&self, vertex: u32) -> &[u32] {
        &self.edges[self.offsets[vertex as usize]..self.offsets[vertex as usize + 1]]
    }
}

/// Builds a [`Graph`] from vertex ids and edges named by their ends' ids.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    index: HashMap<String, u32>,
    ids: Vec<String>,
    edges: Vec<(u32, u32)>,
}

impl GraphBuilder {
    /// Adds a vertex (again is harmless) and returns its provisional number.
    pub fn vertex(&mut self, id: &str) -> u32 {
        if let Some(&v) = self.index.get(id) {
            return v;
        }
        let v = self.ids.len() as u32;
        self.ids.push(id.to_string());
        self.index.insert(id.to_string(), v);
        v
    }

    /// Adds an edge from `src` to `dst`, and either end not yet a vertex.
    pub fn edge(&mut self, src: &str, dst: &str) {
        let (s, d) = (self.vertex(src), self.vertex(dst));
        self.edges.push((s, d));
    }

    /// Bytes held so far, for accounting against a memory limit.
    pub fn size(&self) -> usize {
        self.ids.iter().map(|id| id.len() * 2 + 48).sum::<usize>() + self.edges.len() * 8
    }

    /// The graph, its vertices renumbered in id order.
    pub fn build(self) -> Graph {
        let mut order: Vec<u32> = (0..self.ids.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.ids[a as usize].cmp(&self.ids[b as usize]));
        let mut renumber = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        let mut ids = self.ids;
        let sorted: Vec<String> = order.iter().map(|&old| std::mem::take(&mut ids[old as usize])).collect();
        let src: Vec<u32> = self.edges.iter().map(|&(s, _)| renumber[s as usize]).collect();
        let dst: Vec<u32> = self.edges.iter().map(|&(_, d)| renumber[d as usize]).collect();
        let out = Adjacency::new(sorted.len(), &src);
        let into = Adjacency::new(sorted.len(), &dst);
        Graph { ids: sorted, src, dst, out, into }
    }
}

impl Graph {
    /// Vertex ids, vertex `v` at `v`.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The number of vertices.
    pub fn vertex_count(&self) -> usize {
        self.ids.len()
    }

    /// The number of edges, parallel edges each counted.
    pub fn edge_count(&self) -> usize {
        self.src.len()
    }

    /// The vertex numbered for `id`, if it is one.
    pub fn vertex(&self, id: &str) -> Option<u32> {
        self.ids.binary_search_by(|probe| probe.as_str().cmp(id)).ok().map(|v| v as u32)
    }

    /// The source of edge `e`.
    pub fn src(&self, edge: u32) -> u32 {
        self.src[edge as usize]
    }

    /// The destination of edge `e`.
    pub fn dst(&self, edge: u32) -> u32 {
        self.dst[edge as usize]
    }

    /// The edges leaving `vertex`.
    pub fn out_edges(&self, vertex: u32) -> &[u32] {
        self.out.of(vertex)
    }

    /// The edges entering `vertex`.
    pub fn in_edges(&self, vertex: u32) -> &[u32] {
        self.into.of(vertex)
    }

    /// The vertices `vertex` has an edge to, once per edge.
    pub fn successors(&self, vertex: u32) -> impl Iterator<Item = u32> + '_ {
        self.out_edges(vertex).iter().map(|&e| self.dst(e))
    }

    /// The vertices with an edge to `vertex`, once per edge.
    pub fn predecessors(&self, vertex: u32) -> impl Iterator<Item = u32> + '_ {
        self.in_edges(vertex).iter().map(|&e| self.src(e))
    }

    /// The vertices joined to `vertex` by an edge either way, once per edge (a self-loop
    /// twice).
    pub fn neighbours(&self, vertex: u32) -> impl Iterator<Item = u32> + '_ {
        self.successors(vertex).chain(self.predecessors(vertex))
    }
}

#[cfg(test)]
pub(crate) fn graph(edges: &[(&str, &str)]) -> Graph {
    let mut builder = GraphBuilder::default();
    for (s, d) in edges {
        builder.edge(s, d);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertices_are_numbered_in_id_order_whatever_the_edge_order() {
        let g = graph(&[("c", "a"), ("b", "c"), ("c", "a")]);
        assert_eq!(g.ids(), ["a", "b", "c"]);
        assert_eq!(g.vertex("c"), Some(2));
        assert_eq!(g.vertex("d"), None);
        assert_eq!(g.edge_count(), 3);
        assert_eq!(g.successors(2).collect::<Vec<_>>(), [0, 0]);
        assert_eq!(g.predecessors(2).collect::<Vec<_>>(), [1]);
        assert_eq!(g.out_edges(0), &[] as &[u32]);
    }
}
