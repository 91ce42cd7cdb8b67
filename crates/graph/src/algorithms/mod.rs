//! Graph algorithms with GraphFrames' names, each a function of a [`Graph`](crate::Graph)
//! whose answers are checked against networkx on the same edges.

mod components;
mod degrees;
mod labels;
mod pagerank;
mod paths;
mod tree;
mod triangles;

pub use components::{connected_components, strongly_connected_components};
pub use degrees::{Degrees, degrees};
pub use labels::label_propagation;
pub use pagerank::{PageRank, pagerank};
pub use paths::{Path, all_shortest_paths, distances_to};
pub use tree::{Direction, tree};
pub use triangles::triangle_count;
