//! The k-minimum-values sketch under theta and tuple sketches: the smallest hashes seen
//! (at most k = 2^lg_k of them), each with a summary, and theta, the hash bound below which
//! every hash seen is kept. The estimate of distinct values is the count kept over the
//! fraction of hashes below theta; exact while fewer than k were seen. Unions,
//! intersections and differences keep theta the smaller of the two.

use std::collections::BTreeMap;

use datafusion::common::{Result, exec_err};

use super::codec::{Kind, Reader, Writer};

pub const DEFAULT_LG_K: i64 = 12;
const LG_K_RANGE: std::ops::RangeInclusive<i64> = 4..=26;

/// lg_k checked against its range.
pub fn lg_k(name: &str, value: i64) -> Result<u8> {
    match LG_K_RANGE.contains(&value) {
        true => Ok(value as u8),
        false => exec_err!("{name}: lg_k must be from {} to {}, not {value}", LG_K_RANGE.start(), LG_K_RANGE.end()),
    }
}

/// How the summaries of one key are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Sum,
    Min,
    Max,
    AlwaysOne,
}

impl Mode {
    pub fn parse(name: &str, text: &str) -> Result<Mode> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "sum" => Mode::Sum,
            "min" => Mode::Min,
            "max" => Mode::Max,
            "alwaysone" => Mode::AlwaysOne,
            _ => return exec_err!("{name}: the mode '{text}' is not one of sum, min, max and alwaysone"),
        })
    }

    pub fn combine<S: Summary>(self, a: S, b: S) -> S {
        match self {
            Mode::Sum => a.plus(b),
            Mode::Min => if b.less_than(a) { b } else { a },
            Mode::Max => if a.less_than(b) { b } else { a },
            Mode::AlwaysOne => S::identity(Mode::AlwaysOne),
        }
    }
}

/// What a key carries: nothing (theta sketches), a double or an integer (tuple sketches).
pub trait Summary: Copy + std::fmt::Debug + Send + Sync + 'static {
    fn plus(self, other: Self) -> Self;
    fn less_than(self, other: Self) -> bool;
    /// The summary a key starts from (and a theta sketch's keys carry): what combining with
    /// it leaves unchanged (1 for `alwaysone`).
    fn identity(mode: Mode) -> Self;
}

impl Summary for () {
    fn plus(self, _: Self) -> Self {}
    fn less_than(self, _: Self) -> bool {
        false
    }
    fn identity(_: Mode) -> Self {}
}

impl Summary for f64 {
    fn plus(self, other: Self) -> Self {
        self + other
    }
    fn less_than(self, other: Self) -> bool {
        self < other
    }
    fn identity(mode: Mode) -> Self {
        match mode {
            Mode::Sum => 0.0,
            Mode::Min => f64::INFINITY,
            Mode::Max => f64::NEG_INFINITY,
            Mode::AlwaysOne => 1.0,
        }
    }
}

/// Integer summaries are 32-bit, as Spark's.
impl Summary for i64 {
    fn plus(self, other: Self) -> Self {
        self.saturating_add(other)
    }
    fn less_than(self, other: Self) -> bool {
        self < other
    }
    fn identity(mode: Mode) -> Self {
        match mode {
            Mode::Sum => 0,
            Mode::Min => i64::from(i32::MAX),
            Mode::Max => i64::from(i32::MIN),
            Mode::AlwaysOne => 1,
        }
    }
}

/// A KMV sketch with summaries of type `S`.
#[derive(Clone, Debug)]
pub struct Kmv<S> {
    pub lg_k: u8,
    /// Every hash below theta is kept (u64::MAX: all of them, theta is 1).
    pub theta: u64,
    pub entries: BTreeMap<u64, S>,
}

impl<S: Summary> Kmv<S> {
    pub fn new(lg_k: u8) -> Self {
        Kmv { lg_k, theta: u64::MAX, entries: BTreeMap::new() }
    }

    fn capacity(&self) -> usize {
        1 << self.lg_k
    }

    /// Adds `summary` for `hash`, combined by `mode` with one already there.
    pub fn add(&mut self, hash: u64, summary: S, mode: Mode) {
        if hash >= self.theta {
            return;
        }
        self.entries.entry(hash).and_modify(|s| *s = mode.combine(*s, summary)).or_insert_with(|| mode.combine(S::identity(mode), summary));
        self.trim();
    }

    /// Keeps the k smallest hashes; theta becomes the smallest one dropped.
    pub fn trim(&mut self) {
        while self.entries.len() > self.capacity() {
            if let Some((largest, _)) = self.entries.pop_last() {
                self.theta = largest;
            }
        }
        let theta = self.theta;
        self.entries.retain(|h, _| *h < theta);
    }

    /// The fraction of hashes below theta.
    pub fn theta_fraction(&self) -> f64 {
        if self.theta == u64::MAX { 1.0 } else { self.theta as f64 / 2f64.powi(64) }
    }

    pub fn estimate(&self) -> f64 {
        self.entries.len() as f64 / self.theta_fraction()
    }

    /// The union with `other` (summaries of one key combined by `mode`) at `lg_k`.
    pub fn union(&self, other: &Kmv<S>, lg_k: u8, mode: Mode) -> Kmv<S> {
        let mut union = Kmv { lg_k, theta: self.theta.min(other.theta), entries: self.entries.clone() };
        for (hash, summary) in &other.entries {
            union.entries.entry(*hash).and_modify(|s| *s = mode.combine(*s, *summary)).or_insert(*summary);
        }
        union.trim();
        union
    }

    /// The keys of both, their summaries combined by `mode`.
    pub fn intersection<T: Summary>(&self, other: &Kmv<T>, combine: impl Fn(S, Option<T>) -> S) -> Kmv<S> {
        let theta = self.theta.min(other.theta);
        let entries = self.entries.iter().filter(|(h, _)| **h < theta).filter_map(|(h, s)| other.entries.get(h).map(|t| (*h, combine(*s, Some(*t))))).collect();
        Kmv { lg_k: self.lg_k.max(other.lg_k), theta, entries }
    }

    /// The keys of this one that are not in `other`.
    pub fn difference<T: Summary>(&self, other: &Kmv<T>) -> Kmv<S> {
        let theta = self.theta.min(other.theta);
        let entries = self.entries.iter().filter(|(h, _)| **h < theta && !other.entries.contains_key(h)).map(|(h, s)| (*h, *s)).collect();
        Kmv { lg_k: self.lg_k, theta, entries }
    }
}

/// A summary written in a sketch's bytes.
pub trait Stored: Summary {
    /// The kind of sketch whose keys carry this summary.
    const KIND: Kind;
    const SIZE: usize;
    fn write(self, writer: &mut Writer);
    fn read(reader: &mut Reader) -> Result<Self>;
}

impl Stored for () {
    const KIND: Kind = Kind::Theta;
    const SIZE: usize = 0;
    fn write(self, _: &mut Writer) {}
    fn read(_: &mut Reader) -> Result<Self> {
        Ok(())
    }
}

impl Stored for f64 {
    const KIND: Kind = Kind::TupleDouble;
    const SIZE: usize = 8;
    fn write(self, writer: &mut Writer) {
        writer.f64(self);
    }
    fn read(reader: &mut Reader) -> Result<Self> {
        reader.f64()
    }
}

impl Stored for i64 {
    const KIND: Kind = Kind::TupleInteger;
    const SIZE: usize = 8;
    fn write(self, writer: &mut Writer) {
        writer.u64(self as u64);
    }
    fn read(reader: &mut Reader) -> Result<Self> {
        Ok(reader.u64()? as i64)
    }
}

impl<S: Stored> Kmv<S> {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut writer = Writer::new(S::KIND);
        writer.u8(self.lg_k).u64(self.theta).u64(self.entries.len() as u64);
        for (hash, summary) in &self.entries {
            writer.u64(*hash);
            summary.write(&mut writer);
        }
        writer.finish()
    }

    pub fn read(name: &str, bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(name, bytes, S::KIND)?;
        let lg_k = lg_k(name, i64::from(reader.u8()?))?;
        let theta = reader.u64()?;
        let count = reader.count(8 + S::SIZE)?;
        let mut entries = BTreeMap::new();
        for _ in 0..count {
            let hash = reader.u64()?;
            entries.insert(hash, S::read(&mut reader)?);
        }
        if entries.len() > 1 << lg_k || entries.keys().next_back().is_some_and(|h| *h >= theta) {
            return exec_err!("{name}: the sketch's entries do not fit its size and theta");
        }
        Ok(Kmv { lg_k, theta, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::{Kmv, Mode};

    fn sketch(values: std::ops::Range<u64>) -> Kmv<()> {
        let mut kmv = Kmv::new(10);
        values.for_each(|v| kmv.add(twox_hash::XxHash64::oneshot(3, &v.to_le_bytes()), (), Mode::Sum));
        kmv
    }

    #[test]
    fn estimates_exactly_while_few_and_closely_after() {
        assert_eq!(sketch(0..1000).estimate(), 1000.0);
        let many = sketch(0..100_000);
        assert!((many.estimate() - 100_000.0).abs() < 10_000.0, "{}", many.estimate());
        let (a, b) = (sketch(0..50_000), sketch(25_000..75_000));
        let union = a.union(&b, 10, Mode::Sum).estimate();
        assert!((union - 75_000.0).abs() < 8_000.0, "{union}");
        let both = a.intersection(&b, |s, _| s).estimate();
        assert!((both - 25_000.0).abs() < 6_000.0, "{both}");
        let only_a = a.difference(&b).estimate();
        assert!((only_a - 25_000.0).abs() < 6_000.0, "{only_a}");
    }
}
