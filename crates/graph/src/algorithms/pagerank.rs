//! PageRank by power iteration, as networkx computes it.

use crate::Graph;

/// PageRank's settings, in GraphFrames' terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRank {
    /// The chance of jumping to a vertex chosen at random (GraphFrames' `resetProbability`;
    /// networkx's `alpha` is one minus it).
    pub reset_probability: f64,
    /// Iterations at most.
    pub max_iter: usize,
    /// Stop when the ranks moved less than this per vertex (networkx's `tol`); 0 runs all
    /// `max_iter` iterations.
    pub tol: f64,
}

impl Default for PageRank {
    fn default() -> PageRank {
        PageRank { reset_probability: 0.15, max_iter: 100, tol: 1e-6 }
    }
}

/// Each vertex's rank; the ranks sum to 1. A vertex with no out-edges hands its rank to
/// every vertex alike, and parallel edges each carry their share, as in networkx's
/// `pagerank` of a `MultiDiGraph` (GraphFrames' ranks are these times the vertex count).
pub fn pagerank(graph: &Graph, settings: PageRank) -> Vec<f64> {
    let n = graph.vertex_count();
    if n == 0 {
        return Vec::new();
    }
    let alpha = 1.0 - settings.reset_probability;
    let uniform = 1.0 / n as f64;
    let out_share: Vec<f64> = (0..n as u32).map(|v| 1.0 / graph.out_edges(v).len().max(1) as f64).collect();
    let dangling: Vec<u32> = (0..n as u32).filter(|&v| graph.out_edges(v).is_empty()).collect();
    let mut rank = vec![uniform; n];
    let mut next = vec![0.0; n];
    for _ in 0..settings.max_iter {
        let dangling_rank: f64 = dangling.iter().map(|&v| rank[v as usize]).sum();
        let base = alpha * dangling_rank * uniform + (1.0 - alpha) * uniform;
        for (v, slot) in next.iter_mut().enumerate() {
            let inflow: f64 = graph.in_edges(v as u32).iter().map(|&e| {
                let s = graph.src(e) as usize;
                rank[s] * out_share[s]
            }).sum();
            *slot = alpha * inflow + base;
        }
        let moved: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut rank, &mut next);
        if moved < n as f64 * settings.tol {
            break;
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::graph;

    #[test]
    fn ranks_sum_to_one_and_favour_the_pointed_at() {
        let g = graph(&[("a", "c"), ("b", "c"), ("c", "a"), ("d", "d")]);
        let ranks = pagerank(&g, PageRank::default());
        assert!((ranks.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(ranks[2] > ranks[0] && ranks[0] > ranks[1]);
    }
}
