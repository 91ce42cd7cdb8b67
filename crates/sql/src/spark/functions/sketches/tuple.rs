//! Tuple sketches: theta sketches whose keys carry a summary (a double or an integer),
//! combined by a mode (`sum`, `min`, `max` or `alwaysone`). `tuple_sketch_agg_*(key,
//! summary[, lg_k[, mode]])` builds one; `tuple_union_agg_*`, `tuple_intersection_agg_*` and
//! the scalar `tuple_union_*`, `tuple_intersection_*`, `tuple_difference_*` (and their
//! `_theta_` forms, with a theta sketch whose keys carry the mode's neutral summary) combine
//! them; `tuple_sketch_estimate_*`, `tuple_sketch_summary_*` and `tuple_sketch_theta_*` read
//! them.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{AggregateUDF, ColumnarValue, ScalarUDF};

use super::kmv::{DEFAULT_LG_K, Kmv, Mode, Stored, lg_k};
use super::theta::{Combine, Theta, pairwise};
use super::{Number, SketchAggregate, State, constant_int, constant_text, each_sketch, hashing, sketch_bytes};
use crate::spark::functions::args::Kind as Arg;
use crate::spark::functions::function::SparkFunction;

/// The names of one summary type's functions.
struct Names {
    agg: &'static str,
    union_agg: &'static str,
    intersection_agg: &'static str,
    estimate: &'static str,
    summary: &'static str,
    theta: &'static str,
    union: &'static str,
    intersection: &'static str,
    difference: &'static str,
    union_theta: &'static str,
    intersection_theta: &'static str,
    difference_theta: &'static str,
}

/// The names of the functions of tuple sketches of `$suffix` summaries.
macro_rules! names {
    ($suffix:literal) => {
        Names {
            agg: concat!("tuple_sketch_agg_", $suffix),
            union_agg: concat!("tuple_union_agg_", $suffix),
            intersection_agg: concat!("tuple_intersection_agg_", $suffix),
            estimate: concat!("tuple_sketch_estimate_", $suffix),
            summary: concat!("tuple_sketch_summary_", $suffix),
            theta: concat!("tuple_sketch_theta_", $suffix),
            union: concat!("tuple_union_", $suffix),
            intersection: concat!("tuple_intersection_", $suffix),
            difference: concat!("tuple_difference_", $suffix),
            union_theta: concat!("tuple_union_theta_", $suffix),
            intersection_theta: concat!("tuple_intersection_theta_", $suffix),
            difference_theta: concat!("tuple_difference_theta_", $suffix),
        }
    };
}

/// A summary type of tuple sketches.
trait TupleSummary: Stored + Number {
    const NAMES: Names;
}

impl TupleSummary for f64 {
    const NAMES: Names = names!("double");
}

impl TupleSummary for i64 {
    const NAMES: Names = names!("integer");
}

pub fn aggregates() -> Vec<AggregateUDF> {
    aggregates_of::<f64>().into_iter().chain(aggregates_of::<i64>()).collect()
}

pub fn scalars() -> Vec<ScalarUDF> {
    scalars_of::<f64>().into_iter().chain(scalars_of::<i64>()).collect()
}

/// The mode given as text at `position` (`sum` when not given).
fn mode_at(name: &str, constants: &[Option<ScalarValue>], position: usize) -> Result<Mode> {
    Mode::parse(name, &constant_text(name, constants, position, "sum", "the mode")?)
}

/// A scalar call's constant mode at `position`.
fn call_mode(name: &str, call: &[ColumnarValue], position: usize) -> Result<Mode> {
    match call.get(position) {
        None => Ok(Mode::Sum),
        Some(ColumnarValue::Scalar(value)) => match value.cast_to(&DataType::Utf8)? {
            ScalarValue::Utf8(Some(text)) => Mode::parse(name, &text),
            _ => exec_err!("{name}: the mode must not be NULL"),
        },
        Some(_) => exec_err!("{name}: the mode must be a constant"),
    }
}

/// A scalar call's constant lg_k at `position`.
fn call_lg_k(name: &str, call: &[ColumnarValue], position: usize) -> Result<u8> {
    match call.get(position) {
        Some(ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))) => lg_k(name, *v),
        Some(_) => exec_err!("{name}: lg_k must be a constant whole number"),
        None => Ok(DEFAULT_LG_K as u8),
    }
}

fn aggregates_of<S: TupleSummary>() -> Vec<AggregateUDF> {
    let names = S::NAMES;
    vec![
        SketchAggregate::udaf(
            names.agg,
            |name, types| match types {
                [key, summary, rest @ ..] if rest.len() <= 2 && (summary.is_numeric() || summary.is_null()) => {
                    let mut cast = vec![hashing::hashed_type(name, key)?, S::data_type()];
                    cast.extend(rest.iter().zip([DataType::Int64, DataType::Utf8]).map(|(_, t)| t));
                    Ok(cast)
                }
                _ => plan_err!("{name} takes (key, summary[, lg_k[, mode]]) with a numeric summary"),
            },
            |name, constants| {
                let size = lg_k(name, constant_int(name, constants, 2, DEFAULT_LG_K, "lg_k")?)?;
                Ok(Box::new(Build::<S> { sketch: Kmv::new(size), mode: mode_at(name, constants, 3)? }))
            },
        ),
        SketchAggregate::udaf(
            names.union_agg,
            |name, types| match types {
                [sketch, rest @ ..] if rest.len() <= 2 => {
                    Ok([sketch_bytes(name, sketch)?].into_iter().chain(rest.iter().zip([DataType::Int64, DataType::Utf8]).map(|(_, t)| t)).collect())
                }
                _ => plan_err!("{name} takes (sketch[, lg_k[, mode]])"),
            },
            |name, constants| {
                let size = lg_k(name, constant_int(name, constants, 1, DEFAULT_LG_K, "lg_k")?)?;
                Ok(Box::new(Combine::<S>::union(name, size, mode_at(name, constants, 2)?)))
            },
        ),
        SketchAggregate::udaf(
            names.intersection_agg,
            |name, types| match types {
                [sketch, rest @ ..] if rest.len() <= 1 => Ok([sketch_bytes(name, sketch)?].into_iter().chain(rest.iter().map(|_| DataType::Utf8)).collect()),
                _ => plan_err!("{name} takes (sketch[, mode])"),
            },
            |name, constants| Ok(Box::new(Combine::<S>::intersection(name, mode_at(name, constants, 1)?))),
        ),
    ]
}

fn scalars_of<S: TupleSummary>() -> Vec<ScalarUDF> {
    let names = S::NAMES;
    let summary_type = S::data_type();
    [
        SparkFunction::new(names.estimate, &[Arg::Bytes], 1, DataType::Float64, |name, call, rows| {
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Kmv::<S>::read(name, b))?;
            Ok(Arc::new(sketches.into_iter().map(|s| s.map(|s| s.estimate())).collect::<Float64Array>()) as ArrayRef)
        }),
        SparkFunction::new(names.theta, &[Arg::Bytes], 1, DataType::Float64, |name, call, rows| {
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Kmv::<S>::read(name, b))?;
            Ok(Arc::new(sketches.into_iter().map(|s| s.map(|s| s.theta_fraction())).collect::<Float64Array>()) as ArrayRef)
        }),
        SparkFunction::new(names.summary, &[Arg::Bytes, Arg::Text], 1, summary_type, |name, call, rows| {
            let mode = call_mode(name, call, 1)?;
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Kmv::<S>::read(name, b))?;
            let totals = sketches.into_iter().map(|s| s.map(|s| s.entries.values().fold(S::identity(mode), |total, v| mode.combine(total, *v))));
            Ok(S::column(totals.collect()))
        }),
        SparkFunction::new(names.union, &[Arg::Bytes, Arg::Bytes, Arg::Int, Arg::Text], 2, DataType::Binary, |name, call, rows| {
            let (size, mode) = (call_lg_k(name, call, 2)?, call_mode(name, call, 3)?);
            pairwise(name, call, rows, |a: &Kmv<S>, b: &Kmv<S>| a.union(b, size, mode))
        }),
        SparkFunction::new(names.intersection, &[Arg::Bytes, Arg::Bytes, Arg::Text], 2, DataType::Binary, |name, call, rows| {
            let mode = call_mode(name, call, 2)?;
            pairwise(name, call, rows, |a: &Kmv<S>, b: &Kmv<S>| a.intersection(b, |s, t| t.map_or(s, |t| mode.combine(s, t))))
        }),
        SparkFunction::new(names.difference, &[Arg::Bytes, Arg::Bytes], 2, DataType::Binary, |name, call, rows| {
            pairwise(name, call, rows, |a: &Kmv<S>, b: &Kmv<S>| a.difference(b))
        }),
        SparkFunction::new(names.union_theta, &[Arg::Bytes, Arg::Bytes, Arg::Int, Arg::Text], 2, DataType::Binary, |name, call, rows| {
            let (size, mode) = (call_lg_k(name, call, 2)?, call_mode(name, call, 3)?);
            pairwise(name, call, rows, |a: &Kmv<S>, b: &Theta| a.union(&with_summaries(b, mode), size, mode))
        }),
        SparkFunction::new(names.intersection_theta, &[Arg::Bytes, Arg::Bytes, Arg::Text], 2, DataType::Binary, |name, call, rows| {
            let mode = call_mode(name, call, 2)?;
            pairwise(name, call, rows, |a: &Kmv<S>, b: &Theta| a.intersection(b, |s, _| mode.combine(s, S::identity(mode))))
        }),
        SparkFunction::new(names.difference_theta, &[Arg::Bytes, Arg::Bytes], 2, DataType::Binary, |name, call, rows| {
            pairwise(name, call, rows, |a: &Kmv<S>, b: &Theta| a.difference(b))
        }),
    ]
    .into_iter()
    .map(ScalarUDF::from)
    .collect()
}

/// A theta sketch's keys, each carrying the mode's neutral summary.
fn with_summaries<S: TupleSummary>(theta: &Theta, mode: Mode) -> Kmv<S> {
    Kmv { lg_k: theta.lg_k, theta: theta.theta, entries: theta.entries.keys().map(|h| (*h, S::identity(mode))).collect() }
}

/// A tuple sketch of the (key, summary) rows of a column.
#[derive(Debug)]
struct Build<S> {
    sketch: Kmv<S>,
    mode: Mode,
}

impl<S: TupleSummary> State for Build<S> {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        let hashes = hashing::hashes(&args[0])?;
        for (hash, summary) in hashes.into_iter().zip(S::read_column(&args[1])) {
            if let (Some(hash), Some(summary)) = (hash, summary) {
                self.sketch.add(hash, summary, self.mode);
            }
        }
        Ok(())
    }

    fn merge(&mut self, sketch: &[u8]) -> Result<()> {
        self.sketch = self.sketch.union(&Kmv::<S>::read(S::NAMES.agg, sketch)?, self.sketch.lg_k, self.mode);
        Ok(())
    }

    fn to_bytes(&self) -> Vec<u8> {
        self.sketch.to_bytes()
    }

    fn size(&self) -> usize {
        self.sketch.entries.len() * 56
    }
}
