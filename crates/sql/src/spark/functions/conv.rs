//! Spark's `conv(number, from_base, to_base)`: a number written in one base, rewritten in
//! another (hunters turn hex logon ids and addresses into decimal with it). As Spark's:
//! digits are read up to the first that does not belong to the base, in 64 unsigned bits
//! (a number past them stops the query, as Spark's ANSI mode does); a negative `to_base`
//! writes the value signed; empty text is NULL.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};

use super::args::{self, Kind};
use super::function::SparkFunction;

/// Spark's `conv`.
pub fn conv() -> SparkFunction {
    SparkFunction::new("conv", &[Kind::Text, Kind::Int, Kind::Int], 3, DataType::Utf8, |_, call, rows| {
        let (numbers, from, to) = (args::text(&call[0], rows)?, args::int(&call[1], rows)?, args::int(&call[2], rows)?);
        let mut out = StringBuilder::with_capacity(rows, rows * 8);
        for row in 0..rows {
            if numbers.is_null(row) || from.is_null(row) || to.is_null(row) {
                out.append_null();
                continue;
            }
            match convert(numbers.value(row), from.value(row), to.value(row)) {
                Ok(converted) => out.append_option(converted),
                Err(error) => return exec_err!("conv: {error}"),
            }
        }
        Ok(Arc::new(out.finish()) as ArrayRef)
    })
}

/// `number` (in base `from`) in base `to`; none when a base is outside 2..=36 or the text
/// is empty; an error when the number does not fit in 64 bits.
pub fn convert(number: &str, from: i64, to: i64) -> Result<Option<String>, String> {
    let (from_radix, to_radix) = (from.unsigned_abs(), to.unsigned_abs());
    if !(2..=36).contains(&from_radix) || !(2..=36).contains(&to_radix) || number.is_empty() {
        return Ok(None);
    }
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let Some(digit) = c.to_digit(from_radix as u32) else { break };
        value = match value.checked_mul(from_radix).and_then(|v| v.checked_add(u64::from(digit))) {
            Some(v) => v,
            None => return Err(format!("'{number}' in base {from_radix} does not fit in 64 bits")),
        };
    }
    if negative {
        value = value.wrapping_neg();
    }
    let (sign, magnitude) = if to < 0 && (value as i64) < 0 { ("-", (value as i64).unsigned_abs()) } else { ("", value) };
    Ok(Some(format!("{sign}{}", in_radix(magnitude, to_radix as u32))))
}

fn in_radix(mut value: u64, radix: u32) -> String {
    if value == 0 {
        return "0".into();
    }
    let mut digits = Vec::new();
    while value > 0 {
        let digit = (value % u64::from(radix)) as u32;
        digits.push(std::char::from_digit(digit, radix).expect("a digit of the radix").to_ascii_uppercase());
        value /= u64::from(radix);
    }
    digits.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::convert;

    #[test]
    fn converts_as_spark_does() {
        // Spark 4.3's answers to the same calls.
        let converted = |n, f, t| convert(n, f, t).unwrap();
        assert_eq!(converted("100", 2, 10).as_deref(), Some("4"));
        assert_eq!(converted("-10", 16, -10).as_deref(), Some("-16"));
        assert_eq!(converted("-10", 16, 10).as_deref(), Some("18446744073709551600"));
        assert_eq!(converted("0x3e7", 16, 10).as_deref(), Some("0"));
        assert_eq!(converted("3e7", 16, 10).as_deref(), Some("999"));
        assert_eq!(converted("ff", 16, 2).as_deref(), Some("11111111"));
        assert_eq!(converted("12z", 10, 16).as_deref(), Some("C"));
        assert_eq!(converted("-", 10, 16).as_deref(), Some("0"));
        assert_eq!(converted("", 10, 16), None);
        assert_eq!(converted("1", 1, 10), None);
        assert!(convert("FFFFFFFFFFFFFFFFFF", 16, 10).unwrap_err().contains("does not fit in 64 bits"));
    }
}
