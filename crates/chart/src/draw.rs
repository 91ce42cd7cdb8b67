//! Drawing a prepared chart with plotters, on the SVG or the bitmap backend.

use std::ops::Range;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::ChartError;
use crate::axis::{DAY, TickedAxis, index_ticks, number_ticks, time_ticks};
use crate::hist::Bin;
use crate::prepare::{LineX, Plot, PlotData};
use crate::text::{number, shorten, time};

/// The font family plotters asks for by default, served by DejaVu Sans.
const FONT: &str = "sans-serif";
/// Image width in pixels.
const WIDTH: u32 = 900;
/// Image height of line charts and histograms.
const HEIGHT: u32 = 500;
/// Vertical pixels per bar of a bar chart.
const BAR_PITCH: u32 = 24;
/// Vertical pixels of a bar chart that are not bars: title, note, axis.
const BAR_CHROME: u32 = 140;
/// The least height of a bar chart.
const MIN_BAR_HEIGHT: u32 = 260;
/// Category labels longer than this many characters are shortened.
const MAX_CATEGORY_CHARS: usize = 60;
/// Text labels on a line chart's x axis are shortened to this many characters.
const MAX_X_LABEL_CHARS: usize = 20;
/// The widest the category label area of a bar chart gets, in pixels.
const MAX_LABEL_AREA: u32 = 480;
/// The most labelled ticks on a numeric or time axis.
const MAX_TICKS: usize = 10;

/// Bars, lines and dots.
const MARK_COLOR: RGBColor = RGBColor(0x3b, 0x6e, 0xa8);
/// Grid lines.
const GRID_COLOR: RGBColor = RGBColor(0xe2, 0xe2, 0xe2);
/// A graph's edges.
const EDGE_COLOR: RGBColor = RGBColor(0xa8, 0xa8, 0xa8);
/// The note under the title and the values beside bars.
const NOTE_COLOR: RGBColor = RGBColor(0x66, 0x66, 0x66);

/// The image size, in pixels, for a chart: bar charts grow with their bars.
pub(crate) fn size(plot: &Plot) -> (u32, u32) {
    match &plot.data {
        // prepare() allows at most 200 bars, so this cannot overflow.
        PlotData::Bars(bars) => (
            WIDTH,
            (BAR_CHROME + BAR_PITCH * bars.len() as u32).max(MIN_BAR_HEIGHT),
        ),
        PlotData::Line { .. } | PlotData::Hist(_) => (WIDTH, HEIGHT),
        PlotData::Graph { .. } => (WIDTH, WIDTH),
    }
}

/// Draws `plot` on `root`, which should be `size(plot)` large, and finishes the image.
pub(crate) fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    plot: &Plot,
) -> Result<(), ChartError> {
    load_font()?;
    root.fill(&WHITE).map_err(fail)?;
    let mut area = root.titled(&plot.title, (FONT, 22)).map_err(fail)?;
    if let Some(note) = &plot.note {
        area = area
            .titled(note, TextStyle::from((FONT, 14)).color(&NOTE_COLOR))
            .map_err(fail)?;
    }
    match &plot.data {
        PlotData::Bars(bars) => draw_bars(&area, plot, bars)?,
        PlotData::Line { x, points } => draw_line(&area, plot, x, points)?,
        PlotData::Hist(bins) => draw_hist(&area, plot, bins)?,
        PlotData::Graph { vertices, edges } => draw_graph(&area, vertices, edges)?,
    }
    root.present().map_err(fail)
}

/// Registers DejaVu Sans as the sans-serif font, once. Plotters measures
/// text with it for layout on every backend, and draws with it on bitmaps.
fn load_font() -> Result<(), ChartError> {
    static LOADED: OnceLock<bool> = OnceLock::new();
    let loaded = *LOADED
        .get_or_init(|| register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok());
    if loaded {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// Horizontal bars, the first row on top, labelled with their values.
fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &Plot,
    bars: &[(String, f64)],
) -> Result<(), ChartError> {
    let labels: Vec<String> = bars
        .iter()
        .map(|(label, _)| shorten(label, MAX_CATEGORY_CHARS))
        .collect();
    let label_style = TextStyle::from((FONT, 14));
    let mut label_width = 0;
    for label in &labels {
        label_width = label_width.max(
            area.estimate_text_size(label, &label_style)
                .map_err(fail)?
                .0,
        );
    }

    let n = bars.len();
    // Row i is drawn in the band [n - 1 - i, n - i] of the vertical axis.
    let band = |row: usize| (n - 1 - row) as f64;
    let (lo, hi) = bar_range(bars.iter().map(|(_, v)| *v));
    let centers = (0..n).map(|i| i as f64 + 0.5).collect();
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(label_width.min(MAX_LABEL_AREA) + 48)
        .build_cartesian_2d(lo..hi, TickedAxis::new(0.0..n as f64, centers))
        .map_err(fail)?;

    let label_at = |v: &f64| {
        let band = v.floor() as usize; // `as` saturates; checked_sub below rejects anything off the axis
        n.checked_sub(band.saturating_add(1))
            .and_then(|row| labels.get(row))
            .cloned()
            .unwrap_or_default()
    };
    let value_label = |v: &f64| number(*v);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(MAX_TICKS)
        .y_labels(n)
        .x_label_formatter(&value_label)
        .y_label_formatter(&label_at)
        .x_desc(plot.y_name.as_str())
        .y_desc(plot.x_name.as_str())
        .label_style(label_style.clone())
        .axis_desc_style((FONT, 16))
        .bold_line_style(GRID_COLOR)
        .max_light_lines(0)
        .draw()
        .map_err(fail)?;

    chart
        .draw_series(bars.iter().enumerate().map(|(row, (_, v))| {
            Rectangle::new(
                [(0.0, band(row) + 0.15), (*v, band(row) + 0.85)],
                MARK_COLOR.filled(),
            )
        }))
        .map_err(fail)?;
    let value_style = TextStyle::from((FONT, 12))
        .color(&NOTE_COLOR)
        .pos(Pos::new(HPos::Left, VPos::Center));
    chart
        .draw_series(bars.iter().enumerate().map(|(row, (_, v))| {
            EmptyElement::at((v.max(0.0), band(row) + 0.5))
                + Text::new(number(*v), (5, 0), value_style.clone())
        }))
        .map_err(fail)?;
    Ok(())
}

/// The value axis of a bar chart: from zero (or a little below the least
/// value, when some are negative) to the largest, with room on the right for
/// the value labels.
fn bar_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = hi - lo;
    if span > 0.0 {
        (
            if lo < 0.0 { lo - span * 0.03 } else { 0.0 },
            hi + span * 0.12,
        )
    } else {
        (0.0, 1.0)
    }
}

/// A line through the points, with dots when they are few.
fn draw_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &Plot,
    x: &LineX,
    points: &[(f64, f64)],
) -> Result<(), ChartError> {
    let (x_lo, x_hi) = match x {
        LineX::Labels(labels) => (-0.5, labels.len() as f64 - 0.5),
        LineX::Numbers => padded(points.iter().map(|p| p.0), 0.02, 1.0),
        LineX::Times => padded(points.iter().map(|p| p.0), 0.02, 60_000.0),
        LineX::Dates => padded(points.iter().map(|p| p.0), 0.02, DAY),
    };
    let (y_lo, y_hi) = padded(points.iter().map(|p| p.1), 0.05, 1.0);
    let label_style = TextStyle::from((FONT, 14));
    let (ticks, x_label) = line_x_labels(area, x, x_lo..x_hi, &label_style)?;

    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(TickedAxis::new(x_lo..x_hi, ticks), y_lo..y_hi)
        .map_err(fail)?;
    let y_label = |v: &f64| number(*v);
    chart
        .configure_mesh()
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .y_labels(MAX_TICKS)
        .x_desc(plot.x_name.as_str())
        .y_desc(plot.y_name.as_str())
        .label_style(label_style)
        .axis_desc_style((FONT, 16))
        .bold_line_style(GRID_COLOR)
        .max_light_lines(0)
        .draw()
        .map_err(fail)?;

    let dots = if points.len() <= 60 { 3 } else { 0 };
    chart
        .draw_series(
            LineSeries::new(points.iter().copied(), MARK_COLOR.filled().stroke_width(2))
                .point_size(dots),
        )
        .map_err(fail)?;
    Ok(())
}

/// The labelled ticks of a line chart's x axis, and the text at each.
type XLabels = (Vec<f64>, Box<dyn Fn(&f64) -> String>);

/// Ticks for numbers, round times for times and dates, and for text as many
/// evenly spaced labels as fit side by side.
fn line_x_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &LineX,
    range: Range<f64>,
    label_style: &TextStyle,
) -> Result<XLabels, ChartError> {
    Ok(match x {
        LineX::Numbers => (
            number_ticks(range.start, range.end, MAX_TICKS),
            Box::new(|v: &f64| number(*v)),
        ),
        LineX::Times | LineX::Dates => {
            let min_step = if matches!(x, LineX::Dates) { DAY } else { 0.0 };
            let (ticks, pattern) = time_ticks(range.start, range.end, MAX_TICKS - 2, min_step);
            (ticks, Box::new(move |v: &f64| time(*v, pattern)))
        }
        LineX::Labels(labels) => {
            let short: Vec<String> = labels
                .iter()
                .map(|l| shorten(l, MAX_X_LABEL_CHARS))
                .collect();
            let mut widest = 0;
            for label in &short {
                widest = widest.max(area.estimate_text_size(label, label_style).map_err(fail)?.0);
            }
            let fit = (WIDTH.saturating_sub(120) / (widest + 24)).max(1) as usize;
            let ticks = index_ticks(labels.len(), fit.min(MAX_TICKS + 2));
            // Ticks sit on whole positions 0, 1, ...; `as` saturates.
            (
                ticks,
                Box::new(move |v: &f64| short.get(v.round() as usize).cloned().unwrap_or_default()),
            )
        }
    })
}

/// The least and largest value widened by `frac` of their span on each
/// side, or by `flat` when they are equal.
fn padded(values: impl Iterator<Item = f64>, frac: f64, flat: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if hi > lo {
        let pad = (hi - lo) * frac;
        (lo - pad, hi + pad)
    } else if lo.is_finite() {
        (lo - flat, lo + flat)
    } else {
        (0.0, 1.0)
    }
}

/// The bins as adjoining bars over the value axis.
fn draw_hist<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &Plot,
    bins: &[Bin],
) -> Result<(), ChartError> {
    let (Some(first), Some(last)) = (bins.first(), bins.last()) else {
        return Ok(());
    };
    let most = bins.iter().map(|b| b.count).max().unwrap_or(0) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(first.start..last.end, count_axis(most))
        .map_err(fail)?;
    let label = |v: &f64| number(*v);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(MAX_TICKS)
        .y_labels(MAX_TICKS)
        .x_label_formatter(&label)
        .y_label_formatter(&label)
        .x_desc(plot.x_name.as_str())
        .y_desc(plot.y_name.as_str())
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .bold_line_style(GRID_COLOR)
        .max_light_lines(0)
        .draw()
        .map_err(fail)?;
    chart
        .draw_series(bins.iter().map(|bin| {
            let mut bar = Rectangle::new(
                [(bin.start, 0.0), (bin.end, bin.count as f64)],
                MARK_COLOR.filled(),
            );
            bar.set_margin(0, 0, 1, 1);
            bar
        }))
        .map_err(fail)?;
    Ok(())
}

/// A vertical axis for counts up to `most`, labelled on whole numbers only.
fn count_axis(most: f64) -> TickedAxis {
    let top = (most * 1.08).max(1.0);
    let whole = number_ticks(0.0, top, MAX_TICKS)
        .into_iter()
        .filter(|t| t.fract() == 0.0)
        .collect();
    TickedAxis::new(0.0..top, whole)
}

/// Edges as lines (thicker for more rows, a dot near the destination for direction), and
/// vertices as labelled circles.
fn draw_graph<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    vertices: &[(String, (f64, f64))],
    edges: &[(usize, usize, usize)],
) -> Result<(), ChartError> {
    let (width, height) = area.dim_in_pixel();
    // Room for labels, which run right of their vertex.
    let (left, right, top, bottom) = (30.0, 200.0, 20.0, 30.0);
    let place = |(x, y): (f64, f64)| -> (i32, i32) {
        ((left + x * (width as f64 - left - right)) as i32, (top + y * (height as f64 - top - bottom)) as i32)
    };
    for &(a, b, rows) in edges {
        let (from, to) = (place(vertices[a].1), place(vertices[b].1));
        let stroke = 1 + (rows as f64).log2().min(4.0) as u32;
        area.draw(&PathElement::new(vec![from, to], ShapeStyle::from(&EDGE_COLOR).stroke_width(stroke))).map_err(fail)?;
        let near = (to.0 + (from.0 - to.0) / 8, to.1 + (from.1 - to.1) / 8);
        area.draw(&Circle::new(near, 3, NOTE_COLOR.filled())).map_err(fail)?;
    }
    let label_style = TextStyle::from((FONT, 12)).color(&BLACK);
    for (label, at) in vertices {
        let at = place(*at);
        area.draw(&Circle::new(at, 6, MARK_COLOR.filled())).map_err(fail)?;
        area.draw(&Text::new(shorten(label, MAX_X_LABEL_CHARS * 2), (at.0 + 8, at.1 - 6), label_style.clone())).map_err(fail)?;
    }
    Ok(())
}

/// A plotters drawing error as a chart error.
fn fail<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> ChartError {
    ChartError::Draw(e.to_string())
}

#[cfg(test)]
mod tests {
    use plotters::coord::ranged1d::Ranged;

    use super::*;

    #[test]
    fn count_axis_labels_whole_numbers_only() {
        let axis = count_axis(3.0);
        assert_eq!(axis.range(), 0.0..3.24);
        let ticks = axis.key_points(MAX_TICKS);
        assert_eq!(ticks, vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn bar_range_starts_at_zero_and_leaves_room_for_values() {
        assert_eq!(bar_range([10.0, 50.0].into_iter()), (0.0, 56.0));
        let (lo, hi) = bar_range([-10.0, 10.0].into_iter());
        assert!(lo < -10.0 && hi > 10.0);
        assert_eq!(bar_range([0.0].into_iter()), (0.0, 1.0));
    }
}
