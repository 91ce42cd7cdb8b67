//! Matching a motif the way GraphFrames does: the terms joined in order, each extending the
//! partial matches so far; a negated term keeps the partial matches it does not match, once
//! each (GraphFrames' `except`).

use std::collections::{HashMap, HashSet};

use super::pattern::{Element, Motif, Term, Vertex};
use crate::Graph;

/// Every match of a motif: one row per match, a slot per named element (a vertex number
/// for a vertex, an edge number for an edge), in the order of [`Motif::elements`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matches {
    /// Slots per row.
    pub width: usize,
    /// The rows, one after another.
    pub slots: Vec<u32>,
}

impl Matches {
    /// The number of matches.
    pub fn len(&self) -> usize {
        self.slots.len().checked_div(self.width).unwrap_or(0)
    }

    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Match `row`'s slots.
    pub fn row(&self, row: usize) -> &[u32] {
        &self.slots[row * self.width..(row + 1) * self.width]
    }
}

const UNBOUND: u32 = u32::MAX;

/// Finds every match of `motif` in `graph`. `grow` is told the bytes each step's partial
/// matches take, and stops the search with its error when they are too many.
pub fn find(graph: &Graph, motif: &Motif, mut grow: impl FnMut(usize) -> Result<(), String>) -> Result<Matches, String> {
    let slot: HashMap<&str, usize> = motif.elements.iter().enumerate().map(|(i, e)| (e.name(), i)).collect();
    let width = motif.elements.len();
    // Before the first term there is one partial match, binding nothing.
    let mut rows: Vec<u32> = vec![UNBOUND; width];
    let mut started = false;
    for term in &motif.terms {
        rows = match term {
            Term::Vertex(name) => {
                let at = slot[name.as_str()];
                extend(&rows, width, |row, out| {
                    if row[at] != UNBOUND {
                        out(row.to_vec());
                        return;
                    }
                    for v in 0..graph.vertex_count() as u32 {
                        let mut next = row.to_vec();
                        next[at] = v;
                        out(next);
                    }
                }, &mut grow)?
            }
            Term::Edge { negated: false, name, src, dst } => {
                let ends = Ends::new(src, dst, &slot);
                let edge_at = name.as_deref().map(|n| slot[n]);
                extend(&rows, width, |row, out| {
                    ends.each_edge(graph, row, |edge| {
                        let mut next = row.to_vec();
                        ends.bind(graph, edge, &mut next);
                        if let Some(at) = edge_at {
                            next[at] = edge;
                        }
                        out(next);
                    })
                }, &mut grow)?
            }
            Term::Edge { negated: true, src, dst, .. } => {
                if !started {
                    return Err("a motif cannot begin with a negated term: put it after the terms that bind its vertices".into());
                }
                let ends = Ends::new(src, dst, &slot);
                let mut seen: HashSet<&[u32]> = HashSet::new();
                let mut kept = Vec::new();
                for row in rows.chunks(width.max(1)) {
                    let mut any = false;
                    ends.each_edge(graph, row, |_| any = true);
                    if !any && seen.insert(row) {
                        kept.extend_from_slice(row);
                    }
                }
                kept
            }
        };
        started = true;
    }
    Ok(Matches { width, slots: if width == 0 { Vec::new() } else { rows } })
}

/// Makes the rows following `rows`: `step` hands each successor of a row to `out`.
fn extend(rows: &[u32], width: usize, mut step: impl FnMut(&[u32], &mut dyn FnMut(Vec<u32>)), grow: &mut impl FnMut(usize) -> Result<(), String>) -> Result<Vec<u32>, String> {
    let mut next: Vec<u32> = Vec::new();
    let mut accounted = 0usize;
    let mut error = None;
    for row in rows.chunks(width.max(1)) {
        step(row, &mut |successor| next.extend_from_slice(&successor));
        let bytes = next.capacity() * 4;
        if bytes > accounted {
            if let Err(e) = grow(bytes - accounted) {
                error = Some(e);
                break;
            }
            accounted = bytes;
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(next),
    }
}

/// The two ends of an edge term: each a slot (named) or free (anonymous).
struct Ends {
    src: Option<usize>,
    dst: Option<usize>,
}

impl Ends {
    fn new(src: &Vertex, dst: &Vertex, slot: &HashMap<&str, usize>) -> Ends {
        let at = |v: &Vertex| match v {
            Vertex::Named(name) => Some(slot[name.as_str()]),
            Vertex::Anonymous => None,
        };
        Ends { src: at(src), dst: at(dst) }
    }

    /// Hands `each` every edge that fits what `row` binds of the two ends.
    fn each_edge(&self, graph: &Graph, row: &[u32], mut each: impl FnMut(u32)) {
        let bound = |at: Option<usize>| at.map(|i| row[i]).filter(|&v| v != UNBOUND);
        let (src, dst) = (bound(self.src), bound(self.dst));
        let same_name = self.src.is_some() && self.src == self.dst;
        let fits = |edge: u32| {
            dst.is_none_or(|d| graph.dst(edge) == d) && src.is_none_or(|s| graph.src(edge) == s) && (!same_name || graph.src(edge) == graph.dst(edge))
        };
        let candidates: &mut dyn Iterator<Item = u32> = match (src, dst) {
            (Some(s), _) => &mut graph.out_edges(s).iter().copied(),
            (None, Some(d)) => &mut graph.in_edges(d).iter().copied(),
            (None, None) => &mut (0..graph.edge_count() as u32),
        };
        for edge in candidates.filter(|&e| fits(e)) {
            each(edge);
        }
    }

    /// Binds the named ends of `edge` in `row`.
    fn bind(&self, graph: &Graph, edge: u32, row: &mut [u32]) {
        if let Some(at) = self.src {
            row[at] = graph.src(edge);
        }
        if let Some(at) = self.dst {
            row[at] = graph.dst(edge);
        }
    }
}

/// The element names of `motif` that are edges, by slot.
pub fn edge_slots(motif: &Motif) -> Vec<bool> {
    motif.elements.iter().map(|e| matches!(e, Element::Edge(_))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::graph;

    fn matches(edges: &[(&str, &str)], pattern: &str) -> Vec<Vec<String>> {
        let g = graph(edges);
        let motif = Motif::parse(pattern).unwrap();
        let found = find(&g, &motif, |_| Ok(())).unwrap();
        let edge = edge_slots(&motif);
        let mut rows: Vec<Vec<String>> = (0..found.len())
            .map(|r| {
                found.row(r).iter().zip(&edge).map(|(&x, &is_edge)| {
                    if is_edge { format!("{}>{}", g.ids()[g.src(x) as usize], g.ids()[g.dst(x) as usize]) } else { g.ids()[x as usize].clone() }
                }).collect()
            })
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn a_repeated_vertex_name_joins_terms() {
        let found = matches(&[("a", "b"), ("b", "c"), ("c", "a"), ("b", "d")], "(x)-[]->(y); (y)-[]->(z)");
        assert_eq!(found.len(), 4);
        assert!(found.contains(&vec!["a".into(), "b".into(), "d".into()]));
    }

    #[test]
    fn a_negated_edge_removes_matches_and_duplicates() {
        // Parallel a->b edges give two anonymous matches, which the negation makes one.
        let edges = [("a", "b"), ("a", "b"), ("b", "a"), ("b", "c")];
        assert_eq!(matches(&edges, "(x)-[]->(y)").len(), 4);
        assert_eq!(matches(&edges, "(x)-[]->(y); !(y)-[]->(x)"), [["b", "c"]]);
    }

    #[test]
    fn a_self_loop_matches_a_vertex_named_at_both_ends() {
        assert_eq!(matches(&[("a", "a"), ("a", "b")], "(x)-[e]->(x)"), [["a", "a>a"]]);
    }

    #[test]
    fn a_partial_match_past_the_limit_is_an_error() {
        let g = graph(&[("a", "b"), ("b", "c")]);
        let motif = Motif::parse("(x); (y); (z)").unwrap();
        let error = find(&g, &motif, |_| Err("too many".into())).unwrap_err();
        assert_eq!(error, "too many");
    }
}
