//! Connected components, weakly (edge direction ignored) and strongly.

use crate::Graph;

/// Each vertex's weakly connected component, named by its smallest vertex (vertices are
/// numbered in id order, so this is the smallest id).
pub fn connected_components(graph: &Graph) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..graph.vertex_count() as u32).collect();
    fn root(parent: &mut [u32], mut v: u32) -> u32 {
        while parent[v as usize] != v {
            parent[v as usize] = parent[parent[v as usize] as usize];
            v = parent[v as usize];
        }
        v
    }
    for e in 0..graph.edge_count() as u32 {
        let (a, b) = (root(&mut parent, graph.src(e)), root(&mut parent, graph.dst(e)));
        // The smaller root wins, so every root is its component's smallest vertex.
        match a.cmp(&b) {
            std::cmp::Ordering::Less => parent[b as usize] = a,
            std::cmp::Ordering::Greater => parent[a as usize] = b,
            std::cmp::Ordering::Equal => {}
        }
    }
    (0..graph.vertex_count() as u32).map(|v| root(&mut parent, v)).collect()
}

/// Each vertex's strongly connected component (vertices that reach each other along the
/// edges' direction), named by its smallest vertex. Tarjan's algorithm with an explicit
/// stack, so a path of a million vertices does not overflow the thread's stack.
pub fn strongly_connected_components(graph: &Graph) -> Vec<u32> {
    const UNSEEN: u32 = u32::MAX;
    let n = graph.vertex_count();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut component = vec![UNSEEN; n];
    let mut next_index = 0u32;
    // (vertex, position in its out-edges) for the depth-first search in progress.
    let mut calls: Vec<(u32, usize)> = Vec::new();
    for start in 0..n as u32 {
        if index[start as usize] != UNSEEN {
            continue;
        }
        calls.push((start, 0));
        index[start as usize] = next_index;
        low[start as usize] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start as usize] = true;
        while let Some(&mut (v, ref mut position)) = calls.last_mut() {
            let out = graph.out_edges(v);
            if let Some(&edge) = out.get(*position) {
                *position += 1;
                let w = graph.dst(edge);
                if index[w as usize] == UNSEEN {
                    index[w as usize] = next_index;
                    low[w as usize] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    calls.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent as usize] = low[parent as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let split = stack.iter().rposition(|&w| w == v).expect("v is on the stack");
                let members = stack.split_off(split);
                let name = *members.iter().min().expect("a component has v");
                for w in members {
                    on_stack[w as usize] = false;
                    component[w as usize] = name;
                }
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::graph;

    #[test]
    fn components_are_named_by_their_smallest_vertex() {
        let g = graph(&[("b", "a"), ("c", "d"), ("e", "e"), ("d", "f")]);
        assert_eq!(connected_components(&g), [0, 0, 2, 2, 4, 2]);
    }

    #[test]
    fn strong_components_follow_direction() {
        // a -> b -> c -> a is a cycle; c -> d leaves it; d <-> e is a pair.
        let g = graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d")]);
        assert_eq!(strongly_connected_components(&g), [0, 0, 0, 3, 3]);
    }

    #[test]
    fn a_long_path_does_not_overflow_the_stack() {
        let names: Vec<String> = (0..200_000).map(|i| format!("{i:07}")).collect();
        let edges: Vec<(&str, &str)> = names.windows(2).map(|w| (w[0].as_str(), w[1].as_str())).collect();
        let g = graph(&edges);
        let scc = strongly_connected_components(&g);
        assert!(scc.iter().enumerate().all(|(v, &c)| v as u32 == c));
    }
}
