//! Spark's `hash` (Murmur3, 32 bits) and `xxhash64` of any values: each argument folds
//! into a running hash that starts at 42; a NULL anywhere leaves it as it is; arrays,
//! structs and maps fold element by element (a map key, then its value), so nesting leaves
//! no mark; 32-bit and narrower whole numbers, booleans and dates hash as ints, 64-bit ones
//! and timestamps as longs, floats and doubles by their bits (0.0 and -0.0 alike, one NaN),
//! decimals by their unscaled value, text and bytes by their bytes.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, Int64Array};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type,
};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use twox_hash::XxHash64;

use super::args;

/// The running hash's first value.
const SEED: u64 = 42;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    [RowHash::new(Algorithm::Murmur3), RowHash::new(Algorithm::XxHash64)].into_iter().map(ScalarUDF::new_from_impl).collect()
}

/// How values are hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Algorithm {
    /// `hash`: MurmurHash3 x86 32 bits, with Spark's way of hashing the last bytes.
    Murmur3,
    /// `xxhash64`: XXH64.
    XxHash64,
}

impl Algorithm {
    /// The hash of `bytes` with `seed` (for Murmur3, the seed's low 32 bits).
    fn bytes(self, bytes: &[u8], seed: u64) -> u64 {
        match self {
            Algorithm::Murmur3 => murmur3_32(bytes, seed as u32) as u64,
            Algorithm::XxHash64 => XxHash64::oneshot(seed, bytes),
        }
    }

    fn int(self, value: i32, seed: u64) -> u64 {
        self.bytes(&value.to_le_bytes(), seed)
    }

    fn long(self, value: i64, seed: u64) -> u64 {
        self.bytes(&value.to_le_bytes(), seed)
    }
}

/// MurmurHash3 (x86, 32 bits) of `data` as Spark hashes bytes: whole 4-byte blocks as the
/// standard does, then each byte left over (sign-extended) as a block of its own. For
/// lengths that are a multiple of 4, the standard hash.
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    let mix = |h: u32, k: u32| (h ^ k.wrapping_mul(0xcc9e_2d51).rotate_left(15).wrapping_mul(0x1b87_3593)).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    let blocks = data.chunks_exact(4);
    let tail = blocks.remainder();
    let mut h = blocks.fold(seed, |h, block| mix(h, u32::from_le_bytes([block[0], block[1], block[2], block[3]])));
    h = tail.iter().fold(h, |h, &byte| mix(h, byte as i8 as i32 as u32));
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RowHash {
    algorithm: Algorithm,
    signature: Signature,
}

impl RowHash {
    fn new(algorithm: Algorithm) -> Self {
        RowHash { algorithm, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// Whether values of a type can be hashed as Spark hashes them.
fn hashable(data_type: &DataType) -> bool {
    match data_type {
        DataType::List(field) | DataType::LargeList(field) | DataType::FixedSizeList(field, _) | DataType::Map(field, _) => hashable(field.data_type()),
        DataType::Struct(fields) => fields.iter().all(|f| hashable(f.data_type())),
        t => t.is_integer() || t.is_floating() || t.is_null() || matches!(t, DataType::Boolean | DataType::Date32 | DataType::Timestamp(..) | DataType::Decimal128(..))
            || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Binary | DataType::LargeBinary | DataType::BinaryView),
    }
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        match self.algorithm {
            Algorithm::Murmur3 => "hash",
            Algorithm::XxHash64 => "xxhash64",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() {
            return plan_err!("{} takes at least one argument", self.name());
        }
        if let Some(other) = arg_types.iter().find(|t| !hashable(t)) {
            return plan_err!("{} hashes numbers, text, bytes, booleans, dates, timestamps and arrays and structs of them, not {other}", self.name());
        }
        Ok(arg_types.to_vec())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.algorithm {
            Algorithm::Murmur3 => DataType::Int32,
            Algorithm::XxHash64 => DataType::Int64,
        })
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let arrays = call.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let mut hashes = vec![SEED; rows];
        for array in &arrays {
            for (row, hash) in hashes.iter_mut().enumerate() {
                *hash = fold(self.algorithm, array, row, *hash)?;
            }
        }
        let answer: ArrayRef = match self.algorithm {
            Algorithm::Murmur3 => Arc::new(hashes.iter().map(|&h| h as u32 as i32).collect::<Int32Array>()),
            Algorithm::XxHash64 => Arc::new(hashes.iter().map(|&h| h as i64).collect::<Int64Array>()),
        };
        args::finish(answer, args::all_scalar(&call.args))
    }
}

/// `hash` with the value at `row` of `array` folded in.
fn fold(algorithm: Algorithm, array: &ArrayRef, row: usize, hash: u64) -> Result<u64> {
    if array.is_null(row) {
        return Ok(hash);
    }
    let fold_all = |values: ArrayRef, hash: u64| (0..values.len()).try_fold(hash, |hash, i| fold(algorithm, &values, i, hash));
    Ok(match array.data_type() {
        DataType::Null => hash,
        DataType::Boolean => algorithm.int(array.as_boolean().value(row) as i32, hash),
        DataType::Int8 => algorithm.int(array.as_primitive::<Int8Type>().value(row) as i32, hash),
        DataType::Int16 => algorithm.int(array.as_primitive::<Int16Type>().value(row) as i32, hash),
        DataType::Int32 => algorithm.int(array.as_primitive::<Int32Type>().value(row), hash),
        DataType::UInt8 => algorithm.int(array.as_primitive::<UInt8Type>().value(row) as i32, hash),
        DataType::UInt16 => algorithm.int(array.as_primitive::<UInt16Type>().value(row) as i32, hash),
        DataType::Date32 => algorithm.int(array.as_primitive::<Date32Type>().value(row), hash),
        DataType::Int64 => algorithm.long(array.as_primitive::<Int64Type>().value(row), hash),
        DataType::UInt32 => algorithm.long(array.as_primitive::<UInt32Type>().value(row) as i64, hash),
        DataType::Timestamp(unit, _) => algorithm.long(micros(array, *unit, row), hash),
        DataType::Float32 => {
            let value = array.as_primitive::<Float32Type>().value(row);
            let bits = if value == 0.0 { 0 } else if value.is_nan() { 0x7fc0_0000 } else { value.to_bits() as i32 };
            algorithm.int(bits, hash)
        }
        DataType::Float64 => {
            let value = array.as_primitive::<Float64Type>().value(row);
            let bits = if value == 0.0 { 0 } else if value.is_nan() { 0x7ff8_0000_0000_0000 } else { value.to_bits() as i64 };
            algorithm.long(bits, hash)
        }
        DataType::Decimal128(precision, _) => {
            let unscaled = array.as_primitive::<Decimal128Type>().value(row);
            if *precision <= 18 { algorithm.long(unscaled as i64, hash) } else { algorithm.bytes(&minimal_big_endian(unscaled), hash) }
        }
        DataType::Utf8 => algorithm.bytes(array.as_string::<i32>().value(row).as_bytes(), hash),
        DataType::LargeUtf8 => algorithm.bytes(array.as_string::<i64>().value(row).as_bytes(), hash),
        DataType::Utf8View => algorithm.bytes(array.as_string_view().value(row).as_bytes(), hash),
        DataType::Binary => algorithm.bytes(array.as_binary::<i32>().value(row), hash),
        DataType::LargeBinary => algorithm.bytes(array.as_binary::<i64>().value(row), hash),
        DataType::BinaryView => algorithm.bytes(array.as_binary_view().value(row), hash),
        DataType::List(_) => fold_all(array.as_list::<i32>().value(row), hash)?,
        DataType::LargeList(_) => fold_all(array.as_list::<i64>().value(row), hash)?,
        DataType::FixedSizeList(..) => fold_all(array.as_fixed_size_list().value(row), hash)?,
        DataType::Struct(_) => array.as_struct().columns().iter().try_fold(hash, |hash, field| fold(algorithm, field, row, hash))?,
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            (0..entries.len()).try_fold(hash, |hash, i| {
                let hash = fold(algorithm, entries.column(0), i, hash)?;
                fold(algorithm, entries.column(1), i, hash)
            })?
        }
        other => return plan_err!("hash of {other} is not supported"),
    })
}

/// A timestamp as microseconds since 1970.
fn micros(array: &ArrayRef, unit: TimeUnit, row: usize) -> i64 {
    match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row).saturating_mul(1_000_000),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row).saturating_mul(1_000),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row).div_euclid(1_000),
    }
}

/// A whole number's shortest big-endian two's complement bytes (at least one), as Java's
/// `BigInteger.toByteArray`.
fn minimal_big_endian(value: i128) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let sign = if value < 0 { 0xff } else { 0x00 };
    let mut start = 0;
    // A leading byte can go while the next keeps the sign in its top bit.
    while start < 15 && bytes[start] == sign && (bytes[start + 1] & 0x80) == (sign & 0x80) {
        start += 1;
    }
    bytes[start..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_of_a_whole_number_are_javas() {
        assert_eq!(minimal_big_endian(0), [0]);
        assert_eq!(minimal_big_endian(-1), [0xff]);
        assert_eq!(minimal_big_endian(128), [0, 128]);
        assert_eq!(minimal_big_endian(-129), [0xff, 0x7f]);
    }

    #[test]
    fn text_hashes_as_sparks_do() {
        // hash('Spark', 123, 2) and xxhash64 of the same, from Spark 4.3 (the array of the
        // documented example folds like its element).
        let murmur = [Algorithm::Murmur3.bytes(b"Spark", SEED)].into_iter().map(|h| Algorithm::Murmur3.int(2, Algorithm::Murmur3.int(123, h))).next().unwrap();
        assert_eq!(murmur as u32 as i32, -1321691492);
        let xx = Algorithm::XxHash64.int(2, Algorithm::XxHash64.int(123, Algorithm::XxHash64.bytes(b"Spark", SEED)));
        assert_eq!(xx as i64, 5602566077635097486);
    }
}
