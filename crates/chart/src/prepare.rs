//! Checks a chart spec against the result and turns its rows into what is drawn.

use std::collections::HashMap;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::data::{self, Column};
use crate::hist::{Bin, bin_values};
use crate::text::shorten;
use crate::{ChartError, ChartKind, ChartSpec};

/// The most bars a bar chart draws.
const MAX_BARS: usize = 200;

/// The longest title drawn, in characters.
const MAX_TITLE: usize = 100;

/// The largest magnitude charted: axes span at most twice this plus some
/// padding, which an f64 still holds.
const MAX_MAGNITUDE: f64 = 1e300;

/// The label of a bar whose x value is null.
const NULL_LABEL: &str = "(null)";

/// A chart ready to draw.
pub(crate) struct Plot {
    /// The title on top.
    pub title: String,
    /// A line under the title, telling how many rows were skipped.
    pub note: Option<String>,
    /// The name of the axis that shows the x values.
    pub x_name: String,
    /// The name of the axis that shows the y values (or counts).
    pub y_name: String,
    /// The marks to draw.
    pub data: PlotData,
}

/// The marks of a chart.
pub(crate) enum PlotData {
    /// Bars from top to bottom: label and length.
    Bars(Vec<(String, f64)>),
    /// Points (x, y) in drawing order; `x` tells what the x numbers mean.
    Line { x: LineX, points: Vec<(f64, f64)> },
    /// Histogram bins, lowest first.
    Hist(Vec<Bin>),
    /// Vertices (label, position in the unit square) and edges (source, destination,
    /// how many rows give it).
    Graph { vertices: Vec<(String, (f64, f64))>, edges: Vec<(usize, usize, usize)> },
}

/// What the x numbers of a line chart's points are.
pub(crate) enum LineX {
    /// Plain numbers.
    Numbers,
    /// Milliseconds since the Unix epoch, of timestamps.
    Times,
    /// Milliseconds since the Unix epoch, of dates (whole days).
    Dates,
    /// Positions 0, 1, ... of these labels, in result order.
    Labels(Vec<String>),
}

/// Checks `spec` against the result and gathers the values to draw.
pub(crate) fn prepare(batches: &[RecordBatch], spec: &ChartSpec) -> Result<Plot, ChartError> {
    match (spec.kind, &spec.y) {
        (ChartKind::Line, None) => return Err(ChartError::LineNeedsY),
        (ChartKind::Graph, None) => return Err(ChartError::GraphNeedsY),
        (ChartKind::Hist, Some(y)) => return Err(ChartError::HistWithY { y: y.clone() }),
        _ => {}
    }
    if batches.is_empty() {
        return Err(ChartError::Empty);
    }
    let x = Column::find(batches, &spec.x)?;
    let y = spec
        .y
        .as_deref()
        .map(|y| Column::find(batches, y))
        .transpose()?;
    let rows = data::row_count(batches);

    let (mut plot, kept) = match spec.kind {
        ChartKind::Bar => bars(&x, y.as_ref(), rows)?,
        ChartKind::Line => line(&x, y.as_ref().ok_or(ChartError::LineNeedsY)?, rows)?,
        ChartKind::Hist => hist(&x, rows)?,
        ChartKind::Graph => graph(&x, y.as_ref().ok_or(ChartError::GraphNeedsY)?)?,
    };
    if kept == 0 {
        return Err(ChartError::NothingLeft { rows });
    }
    let skipped = rows - kept;
    if skipped > 0 {
        let noun = if skipped == 1 { "row" } else { "rows" };
        plot.note = Some(format!(
            "{skipped} {noun} skipped: null or not a finite number"
        ));
    }
    if let Some(title) = &spec.title {
        plot.title = title.clone();
    }
    plot.title = shorten(&plot.title, MAX_TITLE);
    Ok(plot)
}

/// The most vertices a graph draws: the most connected are kept.
const MAX_VERTICES: usize = 150;

/// A graph of an edge per row from x to y, rows with a null end left out; with more than
/// [`MAX_VERTICES`] vertices, the most connected are drawn and the note says how many
/// edges are not. Also returns how many rows were kept.
fn graph(x: &Column, y: &Column) -> Result<(Plot, usize), ChartError> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut number = |name: String| match index.get(&name) {
        Some(&v) => v,
        None => {
            index.insert(name.clone(), names.len());
            names.push(name);
            names.len() - 1
        }
    };
    let mut counted: HashMap<(usize, usize), usize> = HashMap::new();
    let mut kept = 0;
    for (src, dst) in x.labels()?.into_iter().zip(y.labels()?) {
        let (Some(src), Some(dst)) = (src, dst) else { continue };
        let key = (number(src), number(dst));
        *counted.entry(key).or_default() += 1;
        kept += 1;
    }
    let mut degree = vec![0usize; names.len()];
    for &(a, b) in counted.keys() {
        degree[a] += 1;
        degree[b] += 1;
    }
    let mut by_degree: Vec<usize> = (0..names.len()).collect();
    by_degree.sort_by(|&a, &b| degree[b].cmp(&degree[a]).then(names[a].cmp(&names[b])));
    by_degree.truncate(MAX_VERTICES);
    let mut drawn = vec![None; names.len()];
    for (at, &v) in by_degree.iter().enumerate() {
        drawn[v] = Some(at);
    }
    let mut edges: Vec<(usize, usize, usize)> = counted.iter().filter_map(|(&(a, b), &n)| Some((drawn[a]?, drawn[b]?, n))).collect();
    edges.sort_unstable();
    let pairs: Vec<(usize, usize)> = edges.iter().map(|&(a, b, _)| (a, b)).collect();
    let positions = crate::layout::layout(by_degree.len(), &pairs);
    let vertices = by_degree.iter().zip(positions).map(|(&v, p)| (names[v].clone(), p)).collect();
    let left_out = counted.len() - edges.len();
    let plot = Plot {
        title: format!("{} → {}", x.name, y.name),
        note: (left_out > 0).then(|| format!("the {MAX_VERTICES} most connected of {} vertices; {left_out} edges not drawn", names.len())),
        x_name: x.name.clone(),
        y_name: y.name.clone(),
        data: PlotData::Graph { vertices, edges },
    };
    Ok((plot, kept))
}

/// A bar per row (label, y), or without y a bar per distinct x value with
/// its row count; a null x is a bar labelled "(null)". Also returns how many
/// rows were kept.
fn bars(x: &Column, y: Option<&Column>, rows: usize) -> Result<(Plot, usize), ChartError> {
    if let Some(y) = y {
        ensure_numeric(y, "y column of a bar chart")?;
    }
    ensure_rows(rows)?;
    let labels = x
        .labels()?
        .into_iter()
        .map(|l| l.unwrap_or_else(|| NULL_LABEL.to_string()));
    let (bars, kept, title, y_name) = match y {
        Some(y) => {
            let bars: Vec<(String, f64)> = labels
                .zip(within_range(y, y.numbers()?)?)
                .filter_map(|(label, v)| Some((label, v?)))
                .collect();
            let kept = bars.len();
            (
                bars,
                kept,
                format!("{} by {}", y.name, x.name),
                y.name.clone(),
            )
        }
        None => (
            count_by_label(labels),
            rows,
            format!("rows by {}", x.name),
            "rows".to_string(),
        ),
    };
    if bars.len() > MAX_BARS {
        return Err(ChartError::TooManyBars {
            bars: bars.len(),
            max: MAX_BARS,
        });
    }
    Ok((
        Plot {
            title,
            note: None,
            x_name: x.name.clone(),
            y_name,
            data: PlotData::Bars(bars),
        },
        kept,
    ))
}

/// The number of times each label occurs, in order of first occurrence.
fn count_by_label(labels: impl Iterator<Item = String>) -> Vec<(String, f64)> {
    let mut bars: Vec<(String, f64)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for label in labels {
        match index.get(&label) {
            Some(&i) => bars[i].1 += 1.0,
            None => {
                index.insert(label.clone(), bars.len());
                bars.push((label, 1.0));
            }
        }
    }
    bars
}

/// Points of y over x: numbers and times sorted by x, anything else as
/// evenly spaced text labels in result order.
fn line(x: &Column, y: &Column, rows: usize) -> Result<(Plot, usize), ChartError> {
    ensure_numeric(y, "y column of a line chart")?;
    ensure_rows(rows)?;
    let ys = within_range(y, y.numbers()?)?;
    let mut x_name = x.name.clone();
    let (line_x, points) = if let Some(ms_per_unit) = data::ms_per_unit(&x.data_type) {
        if matches!(x.data_type, DataType::Timestamp(_, Some(_))) {
            x_name.push_str(" (UTC)");
        }
        let line_x = if matches!(x.data_type, DataType::Timestamp(_, _)) {
            LineX::Times
        } else {
            LineX::Dates
        };
        (line_x, sorted_points(x.times_ms(ms_per_unit)?, ys))
    } else if x.data_type.is_numeric() {
        (
            LineX::Numbers,
            sorted_points(within_range(x, x.numbers()?)?, ys),
        )
    } else {
        let (labels, values): (Vec<String>, Vec<f64>) = x
            .labels()?
            .into_iter()
            .zip(ys)
            .filter_map(|(l, v)| Some((l?, v?)))
            .unzip();
        let points = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as f64, v))
            .collect();
        (LineX::Labels(labels), points)
    };
    let kept = points.len();
    let title = format!("{} by {}", y.name, x.name);
    let plot = Plot {
        title,
        note: None,
        x_name,
        y_name: y.name.clone(),
        data: PlotData::Line { x: line_x, points },
    };
    Ok((plot, kept))
}

/// The (x, y) pairs where both are present, sorted by x.
fn sorted_points(xs: Vec<Option<f64>>, ys: Vec<Option<f64>>) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = xs
        .into_iter()
        .zip(ys)
        .filter_map(|(x, y)| Some((x?, y?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

/// The x values binned.
fn hist(x: &Column, rows: usize) -> Result<(Plot, usize), ChartError> {
    ensure_numeric(x, "x column of a histogram")?;
    ensure_rows(rows)?;
    let values: Vec<f64> = within_range(x, x.numbers()?)?
        .into_iter()
        .flatten()
        .collect();
    let bins = bin_values(&values);
    let title = format!("distribution of {}", x.name);
    let plot = Plot {
        title,
        note: None,
        x_name: x.name.clone(),
        y_name: "rows".to_string(),
        data: PlotData::Hist(bins),
    };
    Ok((plot, values.len()))
}

fn ensure_numeric(column: &Column, role: &'static str) -> Result<(), ChartError> {
    if column.data_type.is_numeric() {
        Ok(())
    } else {
        Err(ChartError::NotNumeric {
            column: column.name.clone(),
            data_type: column.data_type.clone(),
            role,
        })
    }
}

/// `values`, if none lies beyond ±1e300.
fn within_range(column: &Column, values: Vec<Option<f64>>) -> Result<Vec<Option<f64>>, ChartError> {
    match values.iter().flatten().find(|v| v.abs() > MAX_MAGNITUDE) {
        Some(&value) => Err(ChartError::TooLarge {
            column: column.name.clone(),
            value,
        }),
        None => Ok(values),
    }
}

fn ensure_rows(rows: usize) -> Result<(), ChartError> {
    if rows == 0 {
        Err(ChartError::Empty)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keep_first_occurrence_order() {
        let labels = ["b", "a", "b", "c", "b"].into_iter().map(String::from);
        let bars = count_by_label(labels);
        assert_eq!(
            bars,
            vec![
                ("b".to_string(), 3.0),
                ("a".to_string(), 1.0),
                ("c".to_string(), 1.0)
            ]
        );
    }

    #[test]
    fn points_are_sorted_by_x_without_nulls() {
        let points = sorted_points(
            vec![Some(3.0), None, Some(1.0), Some(2.0)],
            vec![Some(30.0), Some(0.0), Some(10.0), None],
        );
        assert_eq!(points, vec![(1.0, 10.0), (3.0, 30.0)]);
    }
}
