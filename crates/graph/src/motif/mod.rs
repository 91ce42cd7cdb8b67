//! GraphFrames' motif finding: a pattern of vertices and edges (`(a)-[e]->(b); !(b)-[]->(a)`)
//! matched against a graph.

mod matcher;
mod pattern;

pub use matcher::{Matches, edge_slots, find};
pub use pattern::{Element, Motif, PatternError, Term, Vertex};
