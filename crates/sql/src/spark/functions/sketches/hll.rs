//! HyperLogLog sketches of distinct counts: `hll_sketch_agg(x[, lg_k])`,
//! `hll_union_agg(sketch[, allow_different_lg_k])`, `hll_union(a, b[, allow_different_lg_k])`
//! and `hll_sketch_estimate(sketch)`. A sketch keeps the exact hashes it saw while they are
//! few (up to 2^lg_k / 4 of them, so small counts are exact), then 2^lg_k registers.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryArray, Int64Array};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{AggregateUDF, ColumnarValue, ScalarUDF};

use super::codec::{Kind, Reader, Writer};
use super::{SketchAggregate, State, constant_int, each_sketch, hashing, sketch_bytes};
use crate::spark::functions::args::Kind as Arg;
use crate::spark::functions::function::SparkFunction;

const DEFAULT_LG_K: i64 = 12;
const LG_K_RANGE: std::ops::RangeInclusive<i64> = 4..=21;

pub fn aggregates() -> Vec<AggregateUDF> {
    vec![
        SketchAggregate::udaf(
            "hll_sketch_agg",
            |name, types| match types {
                [value, rest @ ..] if rest.len() <= 1 => Ok([hashing::hashed_type(name, value)?].into_iter().chain(rest.iter().map(|_| DataType::Int64)).collect()),
                _ => plan_err!("{name} takes (value[, lg_k])"),
            },
            |name, constants| Ok(Box::new(Hll::new(lg_k(name, constant_int(name, constants, 1, DEFAULT_LG_K, "lg_k")?)?))),
        ),
        SketchAggregate::udaf(
            "hll_union_agg",
            |name, types| match types {
                [sketch] => Ok(vec![sketch_bytes(name, sketch)?]),
                [sketch, _] => Ok(vec![sketch_bytes(name, sketch)?, DataType::Boolean]),
                _ => plan_err!("{name} takes (sketch[, allow_different_lg_k])"),
            },
            |name, constants| {
                let allow = matches!(constants.get(1), Some(Some(ScalarValue::Boolean(Some(true)))));
                Ok(Box::new(HllUnion { name, allow_different_lg_k: allow, union: None }))
            },
        ),
    ]
}

pub fn scalars() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(SparkFunction::new("hll_sketch_estimate", &[Arg::Bytes], 1, DataType::Int64, |name, call, rows| {
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Hll::read(name, b))?;
            Ok(Arc::new(sketches.into_iter().map(|s| s.map(|s| s.estimate().round() as i64)).collect::<Int64Array>()) as ArrayRef)
        })),
        ScalarUDF::from(SparkFunction::new("hll_union", &[Arg::Bytes, Arg::Bytes, Arg::Bool], 2, DataType::Binary, |name, call, rows| {
            let (a, b) = (each_sketch(&call[0].to_array(rows)?, |b| Hll::read(name, b))?, each_sketch(&call[1].to_array(rows)?, |b| Hll::read(name, b))?);
            let allow = matches!(call.get(2), Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true)))));
            let mut out = Vec::with_capacity(rows);
            for (a, b) in a.into_iter().zip(b) {
                out.push(match (a, b) {
                    (Some(mut a), Some(b)) => Some(a.union(name, &b, allow)?.to_bytes()),
                    _ => None,
                });
            }
            Ok(Arc::new(BinaryArray::from_iter(out)) as ArrayRef)
        })),
    ]
}

fn lg_k(name: &str, value: i64) -> Result<u8> {
    match LG_K_RANGE.contains(&value) {
        true => Ok(value as u8),
        false => exec_err!("{name}: lg_k must be from {} to {}, not {value}", LG_K_RANGE.start(), LG_K_RANGE.end()),
    }
}

/// A HyperLogLog sketch: exact hashes while few, then registers.
#[derive(Debug, Clone)]
pub(super) struct Hll {
    lg_k: u8,
    exact: Option<BTreeSet<u64>>,
    registers: Vec<u8>,
}

impl Hll {
    pub(super) fn new(lg_k: u8) -> Self {
        Hll { lg_k, exact: Some(BTreeSet::new()), registers: Vec::new() }
    }

    fn exact_limit(&self) -> usize {
        (1usize << self.lg_k) / 4
    }

    pub(super) fn add(&mut self, hash: u64) {
        let limit = self.exact_limit();
        match &mut self.exact {
            Some(exact) => {
                exact.insert(hash);
                if exact.len() > limit {
                    self.use_registers();
                }
            }
            None => self.add_to_registers(hash),
        }
    }

    fn use_registers(&mut self) {
        let Some(exact) = self.exact.take() else { return };
        self.registers = vec![0; 1 << self.lg_k];
        exact.into_iter().for_each(|h| self.add_to_registers(h));
    }

    fn add_to_registers(&mut self, hash: u64) {
        let index = (hash >> (64 - self.lg_k)) as usize;
        let rest = hash << self.lg_k;
        let rank = (rest.leading_zeros() + 1).min(64 - u32::from(self.lg_k) + 1) as u8;
        self.registers[index] = self.registers[index].max(rank);
    }

    /// The registers folded to `lg_k` (fewer, each standing for several).
    fn fold(&mut self, lg_k: u8) {
        if lg_k >= self.lg_k {
            return;
        }
        if self.exact.is_some() {
            self.lg_k = lg_k;
            if self.exact.as_ref().is_some_and(|e| e.len() > self.exact_limit()) {
                self.use_registers();
            }
            return;
        }
        let dropped = u32::from(self.lg_k - lg_k);
        let mut folded = vec![0u8; 1 << lg_k];
        for (index, &rank) in self.registers.iter().enumerate() {
            if rank == 0 {
                continue;
            }
            // The index bits dropped now lead the rest of the hash.
            let low = (index as u64) & ((1 << dropped) - 1);
            let new_rank = if low != 0 { (dropped - (64 - low.leading_zeros())) + 1 } else { dropped + u32::from(rank) };
            let target = &mut folded[index >> dropped];
            *target = (*target).max(new_rank.min(64 - u32::from(lg_k) + 1) as u8);
        }
        (self.lg_k, self.registers) = (lg_k, folded);
    }

    fn union(&mut self, name: &str, other: &Hll, allow_different_lg_k: bool) -> Result<&mut Self> {
        if self.lg_k != other.lg_k && !allow_different_lg_k {
            return exec_err!("{name}: the sketches have lg_k {} and {}; pass true to allow it (the union takes the smaller)", self.lg_k, other.lg_k);
        }
        let mut other = other.clone();
        let lg_k = self.lg_k.min(other.lg_k);
        self.fold(lg_k);
        other.fold(lg_k);
        match (&mut self.exact, other.exact) {
            (Some(mine), Some(theirs)) => {
                mine.extend(theirs);
                if mine.len() > self.exact_limit() {
                    self.use_registers();
                }
            }
            (Some(_), None) => {
                self.use_registers();
                self.registers.iter_mut().zip(&other.registers).for_each(|(a, b)| *a = (*a).max(*b));
            }
            (None, Some(theirs)) => theirs.into_iter().for_each(|h| self.add_to_registers(h)),
            (None, None) => self.registers.iter_mut().zip(&other.registers).for_each(|(a, b)| *a = (*a).max(*b)),
        }
        Ok(self)
    }

    fn estimate(&self) -> f64 {
        if let Some(exact) = &self.exact {
            return exact.len() as f64;
        }
        let m = self.registers.len() as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self.registers.iter().map(|&r| 2f64.powi(-i32::from(r))).sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        if raw <= 2.5 * m && zeros > 0 { m * (m / zeros as f64).ln() } else { raw }
    }

    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut writer = Writer::new(Kind::Hll);
        writer.u8(self.lg_k);
        match &self.exact {
            Some(exact) => {
                writer.u8(0).u64(exact.len() as u64);
                exact.iter().for_each(|h| {
                    writer.u64(*h);
                });
            }
            None => {
                writer.u8(1);
                let mut bytes = writer.finish();
                bytes.extend_from_slice(&self.registers);
                return bytes;
            }
        }
        writer.finish()
    }

    pub(super) fn read(name: &str, bytes: &[u8]) -> Result<Hll> {
        let mut reader = Reader::new(name, bytes, Kind::Hll)?;
        let lg_k = lg_k(name, i64::from(reader.u8()?))?;
        let mut sketch = Hll::new(lg_k);
        match reader.u8()? {
            0 => {
                let count = reader.count(8)?;
                let exact = (0..count).map(|_| reader.u64()).collect::<Result<BTreeSet<u64>>>()?;
                sketch.exact = Some(exact);
            }
            _ => {
                let registers = reader.rest();
                if registers.len() != 1 << lg_k {
                    return exec_err!("{name}: the HLL sketch has {} registers, not 2^{lg_k}", registers.len());
                }
                (sketch.exact, sketch.registers) = (None, registers.to_vec());
            }
        }
        Ok(sketch)
    }
}

impl State for Hll {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        hashing::hashes(&args[0])?.into_iter().flatten().for_each(|h| self.add(h));
        Ok(())
    }

    fn merge(&mut self, sketch: &[u8]) -> Result<()> {
        let other = Hll::read("hll_sketch_agg", sketch)?;
        self.union("hll_sketch_agg", &other, false).map(|_| ())
    }

    fn to_bytes(&self) -> Vec<u8> {
        Hll::to_bytes(self)
    }

    fn size(&self) -> usize {
        self.exact.as_ref().map_or(0, |e| e.len() * 16) + self.registers.len()
    }
}

/// The union of the sketches of a column.
#[derive(Debug)]
struct HllUnion {
    name: &'static str,
    allow_different_lg_k: bool,
    union: Option<Hll>,
}

impl HllUnion {
    fn add(&mut self, sketch: Hll) -> Result<()> {
        match &mut self.union {
            None => self.union = Some(sketch),
            Some(union) => {
                union.union(self.name, &sketch, self.allow_different_lg_k)?;
            }
        }
        Ok(())
    }
}

impl State for HllUnion {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        each_sketch(&args[0], |b| Hll::read(self.name, b))?.into_iter().flatten().try_for_each(|s| self.add(s))
    }

    fn merge(&mut self, sketch: &[u8]) -> Result<()> {
        self.add(Hll::read(self.name, sketch)?)
    }

    fn to_bytes(&self) -> Vec<u8> {
        self.union.as_ref().map_or_else(|| Hll::new(DEFAULT_LG_K as u8).to_bytes(), Hll::to_bytes)
    }

    fn size(&self) -> usize {
        self.union.as_ref().map_or(0, State::size)
    }
}

#[cfg(test)]
mod tests {
    use super::Hll;

    fn sketch(lg_k: u8, values: std::ops::Range<u64>) -> Hll {
        let mut hll = Hll::new(lg_k);
        values.for_each(|v| hll.add(twox_hash::XxHash64::oneshot(1, &v.to_le_bytes())));
        hll
    }

    #[test]
    fn counts_exactly_while_few_and_within_a_few_percent_after() {
        assert_eq!(sketch(12, 0..1000).estimate(), 1000.0);
        let many = sketch(12, 0..100_000).estimate();
        assert!((many - 100_000.0).abs() < 5_000.0, "{many}");
        let mut a = sketch(12, 0..60_000);
        let b = sketch(10, 30_000..100_000);
        let union = a.union("t", &b, true).unwrap().estimate();
        assert!((union - 100_000.0).abs() < 10_000.0, "{union}");
        let read = Hll::read("t", &a.to_bytes()).unwrap();
        assert_eq!(read.estimate(), a.estimate());
        assert!(Hll::read("t", b"not a sketch").is_err());
    }
}
