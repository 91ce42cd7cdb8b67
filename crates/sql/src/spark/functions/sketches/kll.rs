//! KLL quantile sketches of bigints, floats or doubles: `kll_sketch_agg_*(x[, k])`,
//! `kll_merge_agg_*(sketch[, k])`, `kll_sketch_merge_*(a, b)`, and the readers
//! `kll_sketch_get_n_*`, `kll_sketch_get_quantile_*(sketch, rank)`,
//! `kll_sketch_get_rank_*(sketch, value)` and `kll_sketch_to_string_*`. A sketch keeps
//! levels of at most k values each; a full level is sorted and every other value moves up
//! a level with twice the weight (alternating which half), so the memory is about
//! k × log2(n / k) values and a rank is off by about log2(n / k) / k. Ranks are inclusive:
//! the quantile at rank r is the smallest value with at least r of the weight at or below it.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

use super::codec::{Kind, Reader, Writer};
use super::{Number, SketchAggregate, State, constant_int, each_sketch, sketch_bytes};
use crate::spark::functions::args::{self, Kind as Arg};
use crate::spark::functions::function::SparkFunction;

const DEFAULT_K: i64 = 200;
const K_RANGE: std::ops::RangeInclusive<i64> = 8..=65_535;

/// The names of one value type's functions.
pub(super) struct Names {
    agg: &'static str,
    merge_agg: &'static str,
    merge: &'static str,
    n: &'static str,
    quantile: &'static str,
    rank: &'static str,
    to_string: &'static str,
}

/// The names of the functions of KLL sketches of `$suffix` values.
macro_rules! names {
    ($suffix:literal) => {
        Names {
            agg: concat!("kll_sketch_agg_", $suffix),
            merge_agg: concat!("kll_merge_agg_", $suffix),
            merge: concat!("kll_sketch_merge_", $suffix),
            n: concat!("kll_sketch_get_n_", $suffix),
            quantile: concat!("kll_sketch_get_quantile_", $suffix),
            rank: concat!("kll_sketch_get_rank_", $suffix),
            to_string: concat!("kll_sketch_to_string_", $suffix),
        }
    };
}

/// A value type of KLL sketches.
pub(super) trait Item: Number {
    const KIND: Kind;
    const NAMES: Names;
    fn to_bits(self) -> u64;
    fn from_bits(bits: u64) -> Self;
    fn from_f64(value: f64) -> Self;
}

impl Item for i64 {
    const KIND: Kind = Kind::KllBigint;
    const NAMES: Names = names!("bigint");
    fn to_bits(self) -> u64 {
        self as u64
    }
    fn from_bits(bits: u64) -> Self {
        bits as i64
    }
    fn from_f64(value: f64) -> Self {
        value as i64
    }
}

impl Item for f32 {
    const KIND: Kind = Kind::KllFloat;
    const NAMES: Names = names!("float");
    fn to_bits(self) -> u64 {
        u64::from(f32::to_bits(self))
    }
    fn from_bits(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

impl Item for f64 {
    const KIND: Kind = Kind::KllDouble;
    const NAMES: Names = names!("double");
    fn to_bits(self) -> u64 {
        f64::to_bits(self)
    }
    fn from_bits(bits: u64) -> Self {
        f64::from_bits(bits)
    }
    fn from_f64(value: f64) -> Self {
        value
    }
}

fn k_of(name: &str, value: i64) -> Result<u16> {
    match K_RANGE.contains(&value) {
        true => Ok(value as u16),
        false => exec_err!("{name}: k must be from {} to {}, not {value}", K_RANGE.start(), K_RANGE.end()),
    }
}

fn sort<T: Item>(values: &mut [T]) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
}

/// A KLL sketch: `levels[h]` holds values of weight 2^h.
#[derive(Clone, Debug)]
pub(super) struct Kll<T> {
    k: u16,
    n: u64,
    compactions: u64,
    levels: Vec<Vec<T>>,
}

impl<T: Item> Kll<T> {
    pub(super) fn new(k: u16) -> Self {
        Kll { k, n: 0, compactions: 0, levels: vec![Vec::new()] }
    }

    pub(super) fn add(&mut self, value: T) {
        self.levels[0].push(value);
        self.n += 1;
        self.compact();
    }

    /// Moves half of every full level up one level.
    fn compact(&mut self) {
        let mut level = 0;
        while level < self.levels.len() {
            if self.levels[level].len() >= usize::from(self.k) {
                let mut full = std::mem::take(&mut self.levels[level]);
                sort(&mut full);
                // An odd value out stays where it is.
                if full.len() % 2 == 1 {
                    self.levels[level].push(full.pop().expect("an odd count is not 0"));
                }
                let offset = (self.compactions % 2) as usize;
                self.compactions += 1;
                let promoted: Vec<T> = full.into_iter().skip(offset).step_by(2).collect();
                if level + 1 == self.levels.len() {
                    self.levels.push(Vec::new());
                }
                self.levels[level + 1].extend(promoted);
            }
            level += 1;
        }
    }

    fn merge(&mut self, other: &Kll<T>) {
        self.n = self.n.saturating_add(other.n);
        for (level, values) in other.levels.iter().enumerate() {
            if level == self.levels.len() {
                self.levels.push(Vec::new());
            }
            self.levels[level].extend(values);
        }
        self.compact();
    }

    /// Every value kept with its weight, in order.
    fn weighted(&self) -> Vec<(T, u64)> {
        let mut all: Vec<(T, u64)> = self.levels.iter().enumerate().flat_map(|(h, values)| values.iter().map(move |v| (*v, 1u64.checked_shl(h as u32).unwrap_or(u64::MAX)))).collect();
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        all
    }

    fn quantile(&self, rank: f64) -> Option<T> {
        let weighted = self.weighted();
        let total: u128 = weighted.iter().map(|(_, w)| u128::from(*w)).sum();
        let wanted = rank * total as f64;
        let mut so_far: u128 = 0;
        for (value, weight) in &weighted {
            so_far += u128::from(*weight);
            if so_far as f64 >= wanted {
                return Some(*value);
            }
        }
        weighted.last().map(|(v, _)| *v)
    }

    fn rank(&self, value: T) -> Option<f64> {
        let weighted = self.weighted();
        let total: u128 = weighted.iter().map(|(_, w)| u128::from(*w)).sum();
        let below: u128 = weighted.iter().filter(|(v, _)| *v <= value).map(|(_, w)| u128::from(*w)).sum();
        (total > 0).then(|| below as f64 / total as f64)
    }

    fn describe(&self) -> String {
        let retained: usize = self.levels.iter().map(Vec::len).sum();
        let weighted = self.weighted();
        let (min, max) = (weighted.first().map(|(v, _)| v.to_string()), weighted.last().map(|(v, _)| v.to_string()));
        format!(
            "### KLL sketch summary:\n   K              : {}\n   N              : {}\n   Levels         : {}\n   Retained items : {retained}\n   Min item       : {}\n   Max item       : {}\n### End sketch summary\n",
            self.k,
            self.n,
            self.levels.len(),
            min.unwrap_or_else(|| "none".into()),
            max.unwrap_or_else(|| "none".into())
        )
    }

    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut writer = Writer::new(T::KIND);
        writer.u64(u64::from(self.k)).u64(self.n).u64(self.compactions).u64(self.levels.len() as u64);
        for level in &self.levels {
            writer.u64(level.len() as u64);
            level.iter().for_each(|v| {
                writer.u64(v.to_bits());
            });
        }
        writer.finish()
    }

    pub(super) fn read(name: &str, bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(name, bytes, T::KIND)?;
        let k = k_of(name, reader.u64()? as i64)?;
        let (n, compactions) = (reader.u64()?, reader.u64()?);
        let level_count = reader.count(8)?;
        if level_count > 64 {
            return exec_err!("{name}: the KLL sketch claims {level_count} levels");
        }
        let mut levels = Vec::with_capacity(level_count);
        for _ in 0..level_count {
            let count = reader.count(8)?;
            levels.push((0..count).map(|_| reader.u64().map(T::from_bits)).collect::<Result<Vec<T>>>()?);
        }
        if levels.is_empty() {
            levels.push(Vec::new());
        }
        Ok(Kll { k, n, compactions, levels })
    }
}

/// The sketch an aggregate builds or merges.
#[derive(Debug)]
struct Building<T> {
    name: &'static str,
    sketch: Kll<T>,
    /// Whether the rows are sketches to merge rather than values.
    merging: bool,
}

impl<T: Item> State for Building<T> {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        if self.merging {
            for sketch in each_sketch(&args[0], |b| Kll::<T>::read(self.name, b))?.into_iter().flatten() {
                self.sketch.merge(&sketch);
            }
        } else {
            // NaN has no place in the order: it is not counted.
            T::read_column(&args[0]).into_iter().flatten().filter(|v| v.partial_cmp(v).is_some()).for_each(|v| self.sketch.add(v));
        }
        Ok(())
    }

    fn merge(&mut self, sketch: &[u8]) -> Result<()> {
        self.sketch.merge(&Kll::<T>::read(self.name, sketch)?);
        Ok(())
    }

    fn to_bytes(&self) -> Vec<u8> {
        self.sketch.to_bytes()
    }

    fn size(&self) -> usize {
        self.sketch.levels.iter().map(|l| l.capacity() * 8).sum()
    }
}

pub fn aggregates() -> Vec<AggregateUDF> {
    aggregates_of::<i64>().into_iter().chain(aggregates_of::<f32>()).chain(aggregates_of::<f64>()).collect()
}

pub fn scalars() -> Vec<ScalarUDF> {
    scalars_of::<i64>().into_iter().chain(scalars_of::<f32>()).chain(scalars_of::<f64>()).collect()
}

fn aggregates_of<T: Item>() -> Vec<AggregateUDF> {
    let names = T::NAMES;
    let start = |merging: bool| -> super::Start {
        if merging {
            |name, constants| Ok(Box::new(Building::<T> { name, sketch: Kll::new(k_of(name, constant_int(name, constants, 1, DEFAULT_K, "k")?)?), merging: true }))
        } else {
            |name, constants| Ok(Box::new(Building::<T> { name, sketch: Kll::new(k_of(name, constant_int(name, constants, 1, DEFAULT_K, "k")?)?), merging: false }))
        }
    };
    vec![
        SketchAggregate::udaf(
            names.agg,
            |name, types| match types {
                [value, rest @ ..] if rest.len() <= 1 && (value.is_numeric() || value.is_null()) => Ok([T::data_type()].into_iter().chain(rest.iter().map(|_| DataType::Int64)).collect()),
                _ => plan_err!("{name} takes (number[, k])"),
            },
            start(false),
        ),
        SketchAggregate::udaf(
            names.merge_agg,
            |name, types| match types {
                [sketch, rest @ ..] if rest.len() <= 1 => Ok([sketch_bytes(name, sketch)?].into_iter().chain(rest.iter().map(|_| DataType::Int64)).collect()),
                _ => plan_err!("{name} takes (sketch[, k])"),
            },
            start(true),
        ),
    ]
}

fn scalars_of<T: Item>() -> Vec<ScalarUDF> {
    let names = T::NAMES;
    [
        SparkFunction::new(names.n, &[Arg::Bytes], 1, DataType::Int64, |name, call, rows| {
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Kll::<T>::read(name, b))?;
            Ok(Arc::new(sketches.into_iter().map(|s| s.map(|s| s.n as i64)).collect::<Int64Array>()) as ArrayRef)
        }),
        SparkFunction::new(names.to_string, &[Arg::Bytes], 1, DataType::Utf8, |name, call, rows| {
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Kll::<T>::read(name, b))?;
            Ok(Arc::new(sketches.into_iter().map(|s| s.map(|s| s.describe())).collect::<StringArray>()) as ArrayRef)
        }),
        SparkFunction::new(names.quantile, &[Arg::Bytes, Arg::Float], 2, T::data_type(), |name, call, rows| {
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Kll::<T>::read(name, b))?;
            let ranks = args::float(&call[1], rows)?;
            let mut out = Vec::with_capacity(rows);
            for (sketch, rank) in sketches.into_iter().zip(ranks.iter()) {
                out.push(match (sketch, rank) {
                    (Some(sketch), Some(rank)) if (0.0..=1.0).contains(&rank) => sketch.quantile(rank),
                    (Some(_), Some(rank)) => return exec_err!("{name}: the rank {rank} is outside 0 to 1"),
                    _ => None,
                });
            }
            Ok(T::column(out))
        }),
        SparkFunction::new(names.rank, &[Arg::Bytes, Arg::Float], 2, DataType::Float64, |name, call, rows| {
            let sketches = each_sketch(&call[0].to_array(rows)?, |b| Kll::<T>::read(name, b))?;
            let values = args::float(&call[1], rows)?;
            let ranks = sketches.into_iter().zip(values.iter()).map(|(sketch, value)| sketch.zip(value).and_then(|(s, v)| s.rank(T::from_f64(v))));
            Ok(Arc::new(ranks.collect::<Float64Array>()) as ArrayRef)
        }),
        SparkFunction::new(names.merge, &[Arg::Bytes, Arg::Bytes], 2, DataType::Binary, |name, call, rows| {
            let a = each_sketch(&call[0].to_array(rows)?, |b| Kll::<T>::read(name, b))?;
            let b = each_sketch(&call[1].to_array(rows)?, |b| Kll::<T>::read(name, b))?;
            let merged = a.into_iter().zip(b).map(|(a, b)| match (a, b) {
                (Some(mut a), Some(b)) => {
                    a.merge(&b);
                    Some(a.to_bytes())
                }
                _ => None,
            });
            Ok(Arc::new(arrow::array::BinaryArray::from_iter(merged)) as ArrayRef)
        }),
    ]
    .into_iter()
    .map(ScalarUDF::from)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::Kll;

    #[test]
    fn quantiles_and_ranks_stay_close_over_many_values() {
        let mut sketch = Kll::<i64>::new(200);
        (1..=5).for_each(|v| sketch.add(v));
        assert_eq!((sketch.quantile(0.5), sketch.rank(3)), (Some(3), Some(0.6)));
        let mut big = Kll::<f64>::new(200);
        (0..100_000).for_each(|v| big.add(f64::from(v)));
        let median = big.quantile(0.5).unwrap();
        assert!((median - 50_000.0).abs() < 2_000.0, "{median}");
        assert!(big.levels.iter().map(Vec::len).sum::<usize>() < 200 * 12);
        let mut other = Kll::<f64>::new(200);
        (100_000..200_000).for_each(|v| other.add(f64::from(v)));
        big.merge(&other);
        assert_eq!(big.n, 200_000);
        let rank = big.rank(100_000.0).unwrap();
        assert!((rank - 0.5).abs() < 0.02, "{rank}");
        let read = Kll::<f64>::read("t", &big.to_bytes()).unwrap();
        assert_eq!(read.quantile(0.9), big.quantile(0.9));
    }
}
