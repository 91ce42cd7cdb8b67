//! The 64-bit hashes sketches count: of whole numbers, fractions, text and bytes, each by
//! its value (the same value in any integer type is one value). Empty text and empty bytes
//! are not counted, as in Spark's sketches.

use arrow::array::{ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, plan_err};
use twox_hash::XxHash64;

const SEED: u64 = 9001;

/// The type values of `data_type` are hashed as, or an error naming the function.
pub fn hashed_type(name: &str, data_type: &DataType) -> Result<DataType> {
    Ok(match data_type {
        t if t.is_integer() || t.is_null() || matches!(t, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)) => DataType::Int64,
        t if t.is_floating() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) => DataType::Float64,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => DataType::Binary,
        other => return plan_err!("{name} counts numbers, text or bytes, not {other}"),
    })
}

/// The hash of each value of `values` (cast as [`hashed_type`] said); none for NULL and
/// for empty text or bytes.
pub fn hashes(values: &ArrayRef) -> Result<Vec<Option<u64>>> {
    let hash = |bytes: &[u8]| XxHash64::oneshot(SEED, bytes);
    Ok(match values.data_type() {
        DataType::Int64 => values.as_primitive::<Int64Type>().iter().map(|v| v.map(|v| hash(&v.to_le_bytes()))).collect(),
        DataType::Float64 => values
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(|v| if v == 0.0 { 0.0 } else if v.is_nan() { f64::NAN } else { v }).map(|v| hash(&v.to_bits().to_le_bytes())))
            .collect(),
        DataType::Binary => values.as_binary::<i32>().iter().map(|v| v.filter(|v| !v.is_empty()).map(hash)).collect(),
        _ => {
            let text = cast(values, &DataType::Utf8)?;
            text.as_string::<i32>().iter().map(|v| v.filter(|v| !v.is_empty()).map(|v| hash(v.as_bytes()))).collect()
        }
    })
}

