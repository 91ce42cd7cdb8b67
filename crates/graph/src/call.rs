//! The graph functions of hela's SQL: their names, arguments and result columns.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;
use hela_sql::{constant, constant_number};

use crate::algorithms::{Direction, PageRank};
use crate::motif::{Element, Motif};

/// The most hops `bfs` looks along, and generations a process tree walks.
pub const MAX_BFS_HOPS: u32 = 1_000;

/// A graph function and the settings of one call of it.
#[derive(Debug, Clone)]
pub enum Call {
    /// `degrees`: edges in and out of each vertex.
    Degrees,
    /// `connected_components`: weakly connected components.
    ConnectedComponents,
    /// `strongly_connected_components`.
    StronglyConnectedComponents,
    /// `pagerank`.
    PageRank(PageRank),
    /// `shortest_paths`: hops from each vertex to each landmark.
    ShortestPaths(Vec<String>),
    /// `bfs`: the shortest paths between vertices matching two SQL conditions.
    Bfs { from: String, to: String, max_hops: u32 },
    /// `label_propagation`: communities.
    LabelPropagation { max_iter: usize },
    /// `triangle_count`.
    TriangleCount,
    /// `motifs`: GraphFrames' motif finding.
    Motifs(Motif),
    /// `process_descendants` and `process_ancestors`: a process tree from Sysmon's process
    /// creations.
    ProcessTree { guid: String, direction: Direction, max_depth: u32 },
}

/// Every graph function: its name and how it is called.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("degrees", "degrees([vertices,] edges)"),
    ("connected_components", "connected_components([vertices,] edges)"),
    ("strongly_connected_components", "strongly_connected_components([vertices,] edges)"),
    ("pagerank", "pagerank([vertices,] edges [, reset_probability = 0.15 [, max_iter = 100 [, tol = 1e-6]]])"),
    ("shortest_paths", "shortest_paths([vertices,] edges, 'landmark id', ...)"),
    ("bfs", "bfs([vertices,] edges, 'condition on the start vertex', 'condition on the end vertex' [, max_path_length = 10])"),
    ("label_propagation", "label_propagation([vertices,] edges [, max_iter = 5])"),
    ("triangle_count", "triangle_count([vertices,] edges)"),
    ("motifs", "motifs([vertices,] edges, '(a)-[e]->(b); ...')"),
    ("process_descendants", "process_descendants(events, 'process guid' or (SELECT guid ...) [, max_depth = 32])"),
    ("process_ancestors", "process_ancestors(events, 'process guid' or (SELECT guid ...) [, max_depth = 64])"),
];

/// The usage line of function `name`.
pub fn usage(name: &str) -> &'static str {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map_or("", |(_, usage)| usage)
}

impl Call {
    /// Reads the settings of function `name` from the arguments after its tables.
    pub fn new(name: &str, settings: &[Expr]) -> Result<Call, String> {
        let values = settings.iter().enumerate().map(|(i, e)| constant(e).ok_or_else(|| format!("setting {} of {name} must be a constant, not `{e}`", i + 1))).collect::<Result<Vec<_>, _>>()?;
        let at_most = |n: usize| if values.len() > n { Err(format!("{name} takes {n} setting(s) after its tables, not {}", values.len())) } else { Ok(()) };
        let number = |i: usize, default: f64| values.get(i).filter(|v| !v.is_null()).map_or(Ok(default), |v| constant_number(v).ok_or_else(|| format!("setting {} of {name} must be a number, not {v}", i + 1)));
        let text = |i: usize| values.get(i).and_then(text).ok_or_else(|| format!("setting {} of {name} must be text", i + 1));
        let count = |i: usize, default: f64, most: f64| -> Result<f64, String> {
            let n = number(i, default)?;
            if n.fract() != 0.0 || !(0.0..=most).contains(&n) {
                return Err(format!("setting {} of {name} must be a whole number from 0 to {most}, not {n}", i + 1));
            }
            Ok(n)
        };
        Ok(match name {
            "degrees" => at_most(0).map(|_| Call::Degrees)?,
            "connected_components" => at_most(0).map(|_| Call::ConnectedComponents)?,
            "strongly_connected_components" => at_most(0).map(|_| Call::StronglyConnectedComponents)?,
            "triangle_count" => at_most(0).map(|_| Call::TriangleCount)?,
            "pagerank" => {
                at_most(3)?;
                let defaults = PageRank::default();
                let reset_probability = number(0, defaults.reset_probability)?;
                if !(0.0..1.0).contains(&reset_probability) {
                    return Err(format!("pagerank's reset probability must be at least 0 and below 1, not {reset_probability}"));
                }
                let tol = number(2, defaults.tol)?;
                if tol.is_nan() || tol < 0.0 {
                    return Err(format!("pagerank's tolerance must be 0 or more, not {tol}"));
                }
                Call::PageRank(PageRank { reset_probability, max_iter: count(1, defaults.max_iter as f64, 1e6)? as usize, tol })
            }
            "shortest_paths" => {
                let landmarks = (0..values.len()).map(text).collect::<Result<Vec<_>, _>>()?;
                if landmarks.is_empty() {
                    return Err("shortest_paths needs at least one landmark vertex id after the edges".into());
                }
                Call::ShortestPaths(landmarks)
            }
            "bfs" => {
                at_most(3)?;
                Call::Bfs { from: text(0)?, to: text(1)?, max_hops: count(2, 10.0, MAX_BFS_HOPS as f64)? as u32 }
            }
            "label_propagation" => {
                at_most(1)?;
                Call::LabelPropagation { max_iter: count(0, 5.0, 1e6)? as usize }
            }
            "motifs" => {
                at_most(1)?;
                Call::Motifs(Motif::parse(&text(0)?).map_err(|e| e.to_string())?)
            }
            "process_descendants" | "process_ancestors" => {
                at_most(2)?;
                let (direction, depth) = if name == "process_ancestors" { (Direction::Up, 64.0) } else { (Direction::Down, 32.0) };
                Call::ProcessTree { guid: text(0)?, direction, max_depth: count(1, depth, MAX_BFS_HOPS as f64)? as u32 }
            }
            other => return Err(format!("{other} is not a graph function")),
        })
    }

    /// The columns of the result, given the graph's vertex and edge columns (a vertex's
    /// `id` is text).
    pub fn schema(&self, vertices: &SchemaRef, edges: &SchemaRef) -> SchemaRef {
        let id = || Field::new("id", DataType::Utf8, false);
        let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
        let int = |name: &str| Field::new(name, DataType::Int64, false);
        let fields = match self {
            Call::Degrees => vec![id(), int("in_degree"), int("out_degree"), int("degree")],
            Call::ConnectedComponents | Call::StronglyConnectedComponents => vec![id(), text("component", false)],
            Call::PageRank(_) => vec![id(), Field::new("pagerank", DataType::Float64, false)],
            Call::ShortestPaths(_) => vec![id(), text("landmark", false), int("distance")],
            Call::Bfs { .. } => vec![
                text("from", false),
                text("to", false),
                int("hops"),
                Field::new("path", DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), false),
            ],
            Call::LabelPropagation { .. } => vec![id(), text("label", false)],
            Call::TriangleCount => vec![id(), int("count")],
            Call::Motifs(motif) => motif
                .elements
                .iter()
                .map(|element| {
                    let of = match element {
                        Element::Vertex(_) => vertices,
                        Element::Edge(_) => edges,
                    };
                    Field::new(element.name(), DataType::Struct(Fields::from(of.fields().to_vec())), false)
                })
                .collect(),
            Call::ProcessTree { .. } => [Arc::new(int("depth"))].into_iter().chain(edges.fields().iter().cloned()).map(|f| f.as_ref().clone()).collect(),
        };
        Arc::new(Schema::new(fields))
    }
}

fn text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::lit;

    #[test]
    fn settings_are_read_and_checked() {
        let Call::PageRank(p) = Call::new("pagerank", &[lit(0.2), lit(20)]).unwrap() else { panic!() };
        assert_eq!((p.reset_probability, p.max_iter, p.tol), (0.2, 20, 1e-6));
        for (name, args, said) in [
            ("pagerank", vec![lit(1.5)], "below 1"),
            ("pagerank", vec![lit("x")], "must be a number"),
            ("degrees", vec![lit(1)], "takes 0 setting"),
            ("shortest_paths", vec![], "at least one landmark"),
            ("bfs", vec![lit("id = 'a'"), lit("id = 'b'"), lit(2.5)], "whole number"),
            ("motifs", vec![lit("()-[]->()")], "anonymous elements only"),
        ] {
            let error = Call::new(name, &args).unwrap_err();
            assert!(error.contains(said), "{name}: {error}");
        }
    }
}
