//! Community detection by label propagation, as GraphFrames runs it.

use std::collections::HashMap;

use crate::Graph;

/// Each vertex's community after `max_iter` rounds of GraphFrames' (GraphX's) synchronous
/// label propagation: every vertex starts with its own label and, each round, all at once
/// take the label most common among their neighbours (counted once per edge, either
/// direction), the smallest such label on a tie; a vertex with no edges keeps its own.
/// Labels are vertex numbers.
pub fn label_propagation(graph: &Graph, max_iter: usize) -> Vec<u32> {
    let n = graph.vertex_count() as u32;
    let mut labels: Vec<u32> = (0..n).collect();
    let mut counts: HashMap<u32, u32> = HashMap::new();
    for _ in 0..max_iter {
        let next: Vec<u32> = (0..n)
            .map(|v| {
                counts.clear();
                for w in graph.neighbours(v) {
                    *counts.entry(labels[w as usize]).or_default() += 1;
                }
                counts.iter().map(|(&label, &count)| (count, std::cmp::Reverse(label))).max().map_or(labels[v as usize], |(_, label)| label.0)
            })
            .collect();
        if next == labels {
            break;
        }
        labels = next;
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::graph;

    #[test]
    fn two_cliques_joined_by_one_edge_are_two_communities() {
        let mut edges = Vec::new();
        for group in [["a", "b", "c", "d"], ["w", "x", "y", "z"]] {
            for (i, s) in group.iter().enumerate() {
                for d in &group[i + 1..] {
                    edges.push((*s, *d));
                }
            }
        }
        edges.push(("d", "w"));
        let g = graph(&edges);
        let labels = label_propagation(&g, 10);
        assert!(labels[..4].iter().all(|&l| l == labels[0]));
        assert!(labels[4..].iter().all(|&l| l == labels[4]));
        assert_ne!(labels[0], labels[4]);
    }
}
