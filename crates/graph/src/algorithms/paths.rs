//! Shortest paths: hop counts to landmarks, and every shortest path between two sets.

use std::collections::VecDeque;

use crate::Graph;

/// Hops from each vertex to `landmark` along the edges' direction (GraphFrames'
/// `shortestPaths`); `None` where the landmark cannot be reached.
pub fn distances_to(graph: &Graph, landmark: u32) -> Vec<Option<u32>> {
    let mut distance = vec![None; graph.vertex_count()];
    distance[landmark as usize] = Some(0);
    let mut queue = VecDeque::from([landmark]);
    while let Some(v) = queue.pop_front() {
        let next = distance[v as usize].map(|d| d + 1);
        for w in graph.predecessors(v) {
            if distance[w as usize].is_none() {
                distance[w as usize] = next;
                queue.push_back(w);
            }
        }
    }
    distance
}

/// One shortest path: its vertices from a start to an end.
pub type Path<'a> = &'a [u32];

/// Finds the fewest hops from any vertex with `from` set to any with `to` set, at most
/// `max_hops`, and hands every path of that length between the two sets to `each` (as
/// vertices, each sequence once however many parallel edges it could take) until `each`
/// returns false. Returns the length, `None` when no path is short enough. As GraphFrames'
/// `bfs`: a vertex in both sets is a path of no hops.
pub fn all_shortest_paths(graph: &Graph, from: &[bool], to: &[bool], max_hops: u32, mut each: impl FnMut(Path) -> bool) -> Option<u32> {
    let n = graph.vertex_count();
    let mut distance: Vec<u32> = vec![u32::MAX; n];
    let mut frontier: Vec<u32> = (0..n as u32).filter(|&v| from[v as usize]).collect();
    for &v in &frontier {
        distance[v as usize] = 0;
    }
    let mut hops = 0;
    let ends = loop {
        let reached: Vec<u32> = frontier.iter().copied().filter(|&v| to[v as usize]).collect();
        if !reached.is_empty() {
            break reached;
        }
        if hops == max_hops || frontier.is_empty() {
            return None;
        }
        hops += 1;
        let mut next = Vec::new();
        for &v in &frontier {
            for w in graph.successors(v) {
                if distance[w as usize] == u32::MAX {
                    distance[w as usize] = hops;
                    next.push(w);
                }
            }
        }
        frontier = next;
    };
    // Walk back from each end through predecessors one hop nearer the start set.
    let mut path = vec![0u32; hops as usize + 1];
    for end in ends {
        path[hops as usize] = end;
        if !back(graph, &distance, &mut path, hops as usize, &mut each) {
            break;
        }
    }
    Some(hops)
}

/// Fills `path[..at]` every way it can be, `path[at]` set; false when `each` asked to stop.
fn back(graph: &Graph, distance: &[u32], path: &mut [u32], at: usize, each: &mut impl FnMut(Path) -> bool) -> bool {
    if at == 0 {
        return each(path);
    }
    let mut previous: Vec<u32> = graph.predecessors(path[at]).filter(|&u| distance[u as usize] == at as u32 - 1).collect();
    previous.sort_unstable();
    previous.dedup();
    for u in previous {
        path[at - 1] = u;
        if !back(graph, distance, path, at - 1, each) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::graph;

    fn paths(g: &Graph, from: &[&str], to: &[&str], max: u32) -> (Option<u32>, Vec<Vec<String>>) {
        let set = |names: &[&str]| (0..g.vertex_count()).map(|v| names.contains(&g.ids()[v].as_str())).collect::<Vec<_>>();
        let mut found = Vec::new();
        let hops = all_shortest_paths(g, &set(from), &set(to), max, |p| {
            found.push(p.iter().map(|&v| g.ids()[v as usize].clone()).collect());
            true
        });
        (hops, found)
    }

    #[test]
    fn every_shortest_path_once() {
        let g = graph(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("c", "d"), ("d", "e"), ("a", "e2"), ("e2", "x")]);
        let (hops, found) = paths(&g, &["a"], &["d"], 5);
        assert_eq!(hops, Some(2));
        assert_eq!(found, [["a", "b", "d"], ["a", "c", "d"]]);
        assert_eq!(paths(&g, &["a"], &["e"], 2), (None, vec![]));
        assert_eq!(paths(&g, &["d", "a"], &["a"], 2), (Some(0), vec![vec!["a".to_string()]]));
    }

    #[test]
    fn distances_follow_edges_to_the_landmark() {
        let g = graph(&[("a", "b"), ("b", "c"), ("d", "c"), ("c", "e")]);
        assert_eq!(distances_to(&g, 2), [Some(2), Some(1), Some(0), Some(1), None]);
    }
}
