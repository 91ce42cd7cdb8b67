//! Charts of a query result: a bar chart, a line chart, a histogram or a graph of
//! the columns of Arrow record batches, written as SVG (for files and for HTML
//! reports) or PNG.
//!
//! Text is measured and, in PNG, drawn with the DejaVu Sans font built into
//! the program, so no system font is needed.

mod axis;
mod data;
mod draw;
mod error;
mod hist;
mod layout;
mod png;
mod prepare;
mod text;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use arrow::record_batch::RecordBatch;
use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};

pub use error::ChartError;
pub use hist::{Bin, bin_values};

/// The kind of chart to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    /// One horizontal bar per row (or, without y, per distinct x value), in result order.
    Bar,
    /// Y values joined by a line along a numeric, time or text x axis.
    Line,
    /// Counts of the x values in equal-width bins.
    Hist,
    /// A graph: an edge from each row's x value to its y value, vertices placed by a
    /// force-directed layout.
    Graph,
}

impl FromStr for ChartKind {
    type Err = ChartError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "bar" => Ok(ChartKind::Bar),
            "line" => Ok(ChartKind::Line),
            "hist" => Ok(ChartKind::Hist),
            "graph" => Ok(ChartKind::Graph),
            _ => Err(ChartError::UnknownKind(s.to_string())),
        }
    }
}

impl fmt::Display for ChartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChartKind::Bar => "bar",
            ChartKind::Line => "line",
            ChartKind::Hist => "hist",
            ChartKind::Graph => "graph",
        })
    }
}

/// What to chart: the kind and the columns of the result to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartSpec {
    /// The kind of chart.
    pub kind: ChartKind,
    /// The x column: bar categories, line positions, or the values a histogram bins.
    pub x: String,
    /// The y column (numeric): bar lengths or line heights. A bar chart without
    /// it counts rows per x value; a histogram takes none.
    pub y: Option<String>,
    /// The title; without it one is made from the column names.
    pub title: Option<String>,
}

/// The image formats a chart file can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// Scalable vector graphics.
    Svg,
    /// A PNG bitmap.
    Png,
}

impl ImageFormat {
    /// The format named by the file's extension (`.svg` or `.png`, any case).
    pub fn from_path(path: &Path) -> Result<ImageFormat, ChartError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(ImageFormat::Svg),
            Some("png") => Ok(ImageFormat::Png),
            _ => Err(ChartError::UnsupportedExtension {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Draws the chart as SVG text, ready to write to a file or embed in HTML.
pub fn render_svg(batches: &[RecordBatch], spec: &ChartSpec) -> Result<String, ChartError> {
    let plot = prepare::prepare(batches, spec)?;
    let mut svg = String::new();
    draw::draw(
        SVGBackend::with_string(&mut svg, draw::size(&plot)).into_drawing_area(),
        &plot,
    )?;
    Ok(svg)
}

/// Draws the chart into `path`, as SVG or PNG after its extension.
pub fn render_file(
    batches: &[RecordBatch],
    spec: &ChartSpec,
    path: &Path,
) -> Result<(), ChartError> {
    let bytes = match ImageFormat::from_path(path)? {
        ImageFormat::Svg => render_svg(batches, spec)?.into_bytes(),
        ImageFormat::Png => render_png(batches, spec)?,
    };
    std::fs::write(path, bytes).map_err(|source| ChartError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Draws the chart as the bytes of a PNG file.
fn render_png(batches: &[RecordBatch], spec: &ChartSpec) -> Result<Vec<u8>, ChartError> {
    let plot = prepare::prepare(batches, spec)?;
    let (width, height) = draw::size(&plot);
    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    draw::draw(
        BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area(),
        &plot,
    )?;
    png::encode_rgb(&pixels, width, height).map_err(ChartError::PngEncode)
}
