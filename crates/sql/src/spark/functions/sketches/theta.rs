//! Theta sketches of distinct counts: `theta_sketch_agg(x[, lg_k])`,
//! `theta_union_agg(sketch[, lg_k])`, `theta_intersection_agg(sketch)`,
//! `theta_union(a, b[, lg_k])`, `theta_intersection(a, b)`, `theta_difference(a, b)` and
//! `theta_sketch_estimate(sketch)`.

use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryArray, Int64Array};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{AggregateUDF, ColumnarValue, ScalarUDF};

use super::kmv::{DEFAULT_LG_K, Kmv, Mode, Stored, lg_k};
use super::{SketchAggregate, State, constant_int, each_sketch, hashing, sketch_bytes};
use crate::spark::functions::args::Kind as Arg;
use crate::spark::functions::function::SparkFunction;

pub type Theta = Kmv<()>;

pub fn aggregates() -> Vec<AggregateUDF> {
    vec![
        SketchAggregate::udaf(
            "theta_sketch_agg",
            |name, types| match types {
                [value, rest @ ..] if rest.len() <= 1 => Ok([hashing::hashed_type(name, value)?].into_iter().chain(rest.iter().map(|_| DataType::Int64)).collect()),
                _ => plan_err!("{name} takes (value[, lg_k])"),
            },
            |name, constants| Ok(Box::new(Build(Theta::new(lg_k(name, constant_int(name, constants, 1, DEFAULT_LG_K, "lg_k")?)?)))),
        ),
        SketchAggregate::udaf(
            "theta_union_agg",
            |name, types| match types {
                [sketch, rest @ ..] if rest.len() <= 1 => Ok([sketch_bytes(name, sketch)?].into_iter().chain(rest.iter().map(|_| DataType::Int64)).collect()),
                _ => plan_err!("{name} takes (sketch[, lg_k])"),
            },
            |name, constants| Ok(Box::new(Combine::<()>::union(name, lg_k(name, constant_int(name, constants, 1, DEFAULT_LG_K, "lg_k")?)?, Mode::Sum))),
        ),
        SketchAggregate::udaf(
            "theta_intersection_agg",
            |name, types| match types {
                [sketch] => Ok(vec![sketch_bytes(name, sketch)?]),
                _ => plan_err!("{name} takes (sketch)"),
            },
            |name, _| Ok(Box::new(Combine::<()>::intersection(name, Mode::Sum))),
        ),
    ]
}

pub fn scalars() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(SparkFunction::new("theta_sketch_estimate", &[Arg::Bytes], 1, DataType::Int64, |name, call, rows| {
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Theta::read(name, b))?;
            Ok(Arc::new(sketches.into_iter().map(|s| s.map(|s| s.estimate().round() as i64)).collect::<Int64Array>()) as ArrayRef)
        })),
        ScalarUDF::from(SparkFunction::new("theta_union", &[Arg::Bytes, Arg::Bytes, Arg::Int], 2, DataType::Binary, |name, call, rows| {
            let size = match call.get(2) {
                Some(ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))) => lg_k(name, *v)?,
                _ => DEFAULT_LG_K as u8,
            };
            pairwise(name, call, rows, |a: &Theta, b: &Theta| a.union(b, size, Mode::Sum))
        })),
        ScalarUDF::from(SparkFunction::new("theta_intersection", &[Arg::Bytes, Arg::Bytes], 2, DataType::Binary, |name, call, rows| {
            pairwise(name, call, rows, |a: &Theta, b: &Theta| a.intersection(b, |s, _| s))
        })),
        ScalarUDF::from(SparkFunction::new("theta_difference", &[Arg::Bytes, Arg::Bytes], 2, DataType::Binary, |name, call, rows| {
            pairwise(name, call, rows, |a: &Theta, b: &Theta| a.difference(b))
        })),
    ]
}

/// `combine` of the sketches in the first two arguments, row by row (NULL where either is).
pub fn pairwise<A: Stored, B: Stored, C: Stored>(name: &str, call: &[ColumnarValue], rows: usize, combine: impl Fn(&Kmv<A>, &Kmv<B>) -> Kmv<C>) -> Result<ArrayRef> {
    let a = each_sketch(&call[0].to_array(rows)?, |b| Kmv::<A>::read(name, b))?;
    let b = each_sketch(&call[1].to_array(rows)?, |b| Kmv::<B>::read(name, b))?;
    let combined = a.iter().zip(&b).map(|(a, b)| match (a, b) {
        (Some(a), Some(b)) => Some(combine(a, b).to_bytes()),
        _ => None,
    });
    Ok(Arc::new(BinaryArray::from_iter(combined)))
}

/// A theta sketch of the values of a column.
#[derive(Debug)]
struct Build(Theta);

impl State for Build {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        hashing::hashes(&args[0])?.into_iter().flatten().for_each(|h| self.0.add(h, (), Mode::Sum));
        Ok(())
    }

    fn merge(&mut self, sketch: &[u8]) -> Result<()> {
        self.0 = self.0.union(&Theta::read("theta_sketch_agg", sketch)?, self.0.lg_k, Mode::Sum);
        Ok(())
    }

    fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }

    fn size(&self) -> usize {
        self.0.entries.len() * 48
    }
}

/// The union or the intersection of the sketches of a column (theta or tuple sketches),
/// summaries of one key combined by `mode`.
#[derive(Debug)]
pub struct Combine<S> {
    name: &'static str,
    /// The union's size; none for an intersection.
    union_lg_k: Option<u8>,
    mode: Mode,
    /// None before the first sketch.
    combined: Option<Kmv<S>>,
}

impl<S: Stored> Combine<S> {
    pub fn union(name: &'static str, lg_k: u8, mode: Mode) -> Self {
        Combine { name, union_lg_k: Some(lg_k), mode, combined: None }
    }

    pub fn intersection(name: &'static str, mode: Mode) -> Self {
        Combine { name, union_lg_k: None, mode, combined: None }
    }

    fn add(&mut self, sketch: Kmv<S>) {
        let mode = self.mode;
        self.combined = Some(match (&self.combined, self.union_lg_k) {
            (None, Some(lg_k)) => Kmv::new(lg_k).union(&sketch, lg_k, mode),
            (None, None) => sketch,
            (Some(so_far), Some(lg_k)) => so_far.union(&sketch, lg_k, mode),
            (Some(so_far), None) => so_far.intersection(&sketch, |s, t| t.map_or(s, |t| mode.combine(s, t))),
        });
    }
}

impl<S: Stored> State for Combine<S> {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        each_sketch(&args[0], |b| Kmv::<S>::read(self.name, b))?.into_iter().flatten().for_each(|s| self.add(s));
        Ok(())
    }

    fn merge(&mut self, sketch: &[u8]) -> Result<()> {
        self.add(Kmv::<S>::read(self.name, sketch)?);
        Ok(())
    }

    fn to_bytes(&self) -> Vec<u8> {
        match &self.combined {
            Some(combined) => combined.to_bytes(),
            None => Kmv::<S>::new(self.union_lg_k.unwrap_or(DEFAULT_LG_K as u8)).to_bytes(),
        }
    }

    fn partial(&self) -> Option<Vec<u8>> {
        self.combined.as_ref().map(Kmv::to_bytes)
    }

    fn size(&self) -> usize {
        self.combined.as_ref().map_or(0, |c| c.entries.len() * 56)
    }
}
