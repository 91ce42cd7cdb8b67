//! Triangles through each vertex.

use std::collections::HashSet;

use crate::Graph;

/// The triangles each vertex is in, the edges taken without direction, once per pair of
/// vertices however many edges join them, self-loops left out (GraphFrames'
/// `triangleCount`, networkx's `triangles` of the undirected simple graph).
pub fn triangle_count(graph: &Graph) -> Vec<u64> {
    let n = graph.vertex_count();
    let mut neighbours: Vec<Vec<u32>> = (0..n as u32)
        .map(|v| {
            let mut near: Vec<u32> = graph.neighbours(v).filter(|&w| w != v).collect();
            near.sort_unstable();
            near.dedup();
            near
        })
        .collect();
    // Each triangle is found once, from its vertex of lowest (degree, number), looking
    // only at higher neighbours: the work is bounded by edges × √edges.
    let rank = |v: u32, near: &[Vec<u32>]| (near[v as usize].len(), v);
    let higher: Vec<Vec<u32>> = (0..n as u32)
        .map(|v| neighbours[v as usize].iter().copied().filter(|&w| rank(w, &neighbours) > rank(v, &neighbours)).collect())
        .collect();
    neighbours.clear();
    let mut count = vec![0u64; n];
    let mut marked: HashSet<u32> = HashSet::new();
    for v in 0..n {
        marked.clear();
        marked.extend(higher[v].iter().copied());
        for &w in &higher[v] {
            for &x in &higher[w as usize] {
                if marked.contains(&x) {
                    count[v] += 1;
                    count[w as usize] += 1;
                    count[x as usize] += 1;
                }
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::graph;

    #[test]
    fn triangles_ignore_direction_loops_and_parallel_edges() {
        let g = graph(&[("a", "b"), ("b", "c"), ("a", "c"), ("c", "a"), ("c", "d"), ("d", "d"), ("d", "b")]);
        // a-b-c and b-c-d.
        assert_eq!(triangle_count(&g), [1, 2, 2, 1]);
    }
}
