//! Graph analytics in hela's SQL, with GraphFrames' names and meaning: `degrees`,
//! `connected_components`, `strongly_connected_components`, `pagerank`, `shortest_paths`,
//! `bfs`, `label_propagation`, `triangle_count` and motif finding (`motifs`), each a table
//! function over any query's edges (columns `src` and `dst`) and, optionally, vertices
//! (column `id`); and the security graphs: process trees from Sysmon's process creations
//! (`process_descendants`, `process_ancestors`) and the logon graph (`logon_graph`):
//!
//! ```sql
//! SELECT * FROM pagerank((SELECT TargetUserName AS src, Hostname AS dst FROM events WHERE EventID = 4624))
//! SELECT a.id, b.id FROM motifs(TABLE(edges), '(a)-[]->(b); !(b)-[]->(a)')
//! ```

pub mod algorithms;
mod call;
mod exec;
mod graph;
mod load;
mod logon;
pub mod motif;
mod output;
mod table;

use std::sync::Arc;

pub use call::{Call, FUNCTIONS, MAX_BFS_HOPS};
pub use graph::{Graph, GraphBuilder};
pub use logon::LogonGraph;
pub use table::GraphFunction;

/// Adds the graph functions to `session` and every session forked from it.
pub fn register(session: &hela_sql::Session) {
    for (name, _) in FUNCTIONS {
        session.context().register_udtf(name, Arc::new(GraphFunction::new(name)));
    }
    session.context().register_udtf("logon_graph", Arc::new(LogonGraph));
}
