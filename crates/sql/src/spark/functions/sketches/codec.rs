//! The bytes of a sketch: a header naming its kind, then little-endian numbers. Reading
//! checks the header and every length, so bytes that are not such a sketch are an error
//! that names what was expected, never a panic.

use datafusion::common::{Result, exec_err};

const MAGIC: &[u8; 4] = b"HSK1";

/// The kinds of sketch, each its own header byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Hll = 1,
    Theta = 2,
    TupleDouble = 3,
    TupleInteger = 4,
    KllBigint = 5,
    KllFloat = 6,
    KllDouble = 7,
}

impl Kind {
    fn described(self) -> &'static str {
        match self {
            Kind::Hll => "an HLL sketch (from hll_sketch_agg or hll_union_agg)",
            Kind::Theta => "a theta sketch (from theta_sketch_agg or theta_union_agg)",
            Kind::TupleDouble => "a tuple sketch of double summaries (from tuple_sketch_agg_double)",
            Kind::TupleInteger => "a tuple sketch of integer summaries (from tuple_sketch_agg_integer)",
            Kind::KllBigint => "a KLL sketch of bigints (from kll_sketch_agg_bigint)",
            Kind::KllFloat => "a KLL sketch of floats (from kll_sketch_agg_float)",
            Kind::KllDouble => "a KLL sketch of doubles (from kll_sketch_agg_double)",
        }
    }
}

/// Writes a sketch of one kind.
pub struct Writer(Vec<u8>);

impl Writer {
    pub fn new(kind: Kind) -> Self {
        let mut bytes = MAGIC.to_vec();
        bytes.push(kind as u8);
        Writer(bytes)
    }

    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.0.push(value);
        self
    }

    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn f64(&mut self, value: f64) -> &mut Self {
        self.u64(value.to_bits())
    }

    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// Reads a sketch of one kind.
pub struct Reader<'a> {
    bytes: &'a [u8],
    kind: Kind,
}

impl<'a> Reader<'a> {
    /// A reader of `bytes`, or an error when they are not a sketch of `kind`.
    pub fn new(function: &str, bytes: &'a [u8], kind: Kind) -> Result<Self> {
        match bytes.strip_prefix(MAGIC.as_slice()) {
            Some([tag, rest @ ..]) if *tag == kind as u8 => Ok(Reader { bytes: rest, kind }),
            _ => exec_err!("{function}: the bytes are not {}", kind.described()),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return exec_err!("the bytes of {} end too soon", self.kind.described());
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    pub fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }

    /// A count of items each `item_size` bytes long, checked against the bytes left.
    pub fn count(&mut self, item_size: usize) -> Result<usize> {
        let count = self.u64()?;
        match usize::try_from(count) {
            Ok(count) if count.saturating_mul(item_size) <= self.bytes.len() => Ok(count),
            _ => exec_err!("the bytes of {} claim {count} items but hold fewer", self.kind.described()),
        }
    }

    /// The bytes left, all of them.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }
}
