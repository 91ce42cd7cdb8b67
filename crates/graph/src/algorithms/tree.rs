//! A vertex's descendants or ancestors, generation by generation.

use std::collections::VecDeque;

use crate::Graph;

/// Which way a tree is walked from its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Along the edges: a process's children, their children, ...
    Down,
    /// Against the edges: a process's parent, its parent, ...
    Up,
}

/// The edges of the tree around `root`, each with its generation: the edges into `root`
/// (a process's own creation) are generation 0; walking down, an edge into a vertex `n`
/// generations below the root is generation `n`; walking up, the edges into the root's
/// `n`-th ancestor are generation `n`. At most `max_depth` generations; each vertex is
/// walked once, so a cycle ends the walk.
pub fn tree(graph: &Graph, root: u32, direction: Direction, max_depth: u32) -> Vec<(u32, u32)> {
    let mut found: Vec<(u32, u32)> = graph.in_edges(root).iter().map(|&e| (e, 0)).collect();
    let mut seen = vec![false; graph.vertex_count()];
    seen[root as usize] = true;
    let mut queue = VecDeque::from([(root, 0u32)]);
    while let Some((v, depth)) = queue.pop_front() {
        if depth == max_depth {
            continue;
        }
        let next: Vec<u32> = match direction {
            Direction::Down => graph.successors(v).collect(),
            Direction::Up => graph.predecessors(v).collect(),
        };
        for w in next {
            if std::mem::replace(&mut seen[w as usize], true) {
                continue;
            }
            found.extend(graph.in_edges(w).iter().map(|&e| (e, depth + 1)));
            queue.push_back((w, depth + 1));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::graph;

    #[test]
    fn descendants_and_ancestors_by_generation() {
        // explorer -> cmd -> (whoami, powershell -> net); cmd's creation logged twice.
        let g = graph(&[("explorer", "cmd"), ("cmd", "whoami"), ("cmd", "powershell"), ("powershell", "net"), ("explorer", "cmd")]);
        let named = |found: Vec<(u32, u32)>| {
            let mut rows: Vec<(String, u32)> = found.into_iter().map(|(e, d)| (g.ids()[g.dst(e) as usize].clone(), d)).collect();
            rows.sort();
            rows
        };
        let cmd = g.vertex("cmd").unwrap();
        let down = named(tree(&g, cmd, Direction::Down, 10));
        assert_eq!(down, [("cmd".into(), 0), ("cmd".into(), 0), ("net".into(), 2), ("powershell".into(), 1), ("whoami".into(), 1)]);
        assert_eq!(named(tree(&g, cmd, Direction::Down, 1)).len(), 4);
        let up = named(tree(&g, g.vertex("net").unwrap(), Direction::Up, 10));
        assert_eq!(up, [("cmd".into(), 2), ("cmd".into(), 2), ("net".into(), 0), ("powershell".into(), 1)]);
    }
}
