//! Numbers written and read by pattern: Spark's `to_char`/`to_varchar` (numbers by a
//! number format, dates by a date-time pattern, bytes as base64, hex or UTF-8),
//! `to_number`/`try_to_number`, and `format_number` (Java's decimal format: grouped
//! thousands and a number of decimals, or a `#,##0.00` pattern).
//!
//! A number format is made of `0`/`9` (digits; a leading `0` pads with zeros, a `9` with
//! spaces), `.`/`D` (the decimal point), `,`/`G` (a group separator), `$`, and a sign:
//! `S` at either end (`+` or `-`), `MI` at the end (`-` or a space) or `PR` at the end
//! (a negative number in angle brackets).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder, StringBuilder};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type};
use base64::Engine;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

pub(super) mod format;

use format::{Decimal, DecimalPattern, NumberFormat};

use super::args::{self, Kind};
use super::function::SparkFunction;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    let mut all: Vec<ScalarUDF> = ["to_number", "try_to_number"]
        .into_iter()
        .map(|name| ScalarUDF::new_from_impl(ToNumber { name, signature: Signature::user_defined(Volatility::Immutable) }))
        .collect();
    all.extend(["to_char", "to_varchar"].into_iter().map(|name| ScalarUDF::new_from_impl(ToChar { name, signature: Signature::user_defined(Volatility::Immutable) })));
    all.push(ScalarUDF::from(SparkFunction::new("format_number", &[Kind::Float, Kind::Text], 2, DataType::Utf8, format_number)));
    all
}

/// The format argument: a constant text.
fn constant_format(name: &str, arg: Option<&ColumnarValue>) -> Result<Option<String>> {
    match arg {
        Some(ColumnarValue::Scalar(value)) => match value.cast_to(&DataType::Utf8)? {
            ScalarValue::Utf8(format) => Ok(format),
            _ => exec_err!("{name}: the format must be text"),
        },
        _ => exec_err!("{name}: the format must be a constant"),
    }
}

/// `to_number(text, format)` and `try_to_number` (NULL where the text does not match).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToNumber {
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for ToNumber {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.len() {
            2 => Ok(vec![DataType::Utf8, DataType::Utf8]),
            n => plan_err!("{} takes (text, format), not {n} arguments", self.name),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{}: the result's type depends on the format", self.name)
    }

    fn return_field_from_args(&self, args: datafusion::logical_expr::ReturnFieldArgs) -> Result<arrow::datatypes::FieldRef> {
        let format = match args.scalar_arguments.get(1) {
            Some(Some(value)) => value.cast_to(&DataType::Utf8)?,
            _ => return plan_err!("{}: the format must be a constant", self.name),
        };
        let ScalarValue::Utf8(Some(format)) = format else { return plan_err!("{}: the format must not be NULL", self.name) };
        let format = NumberFormat::parse(&format).map_err(|e| datafusion::common::DataFusionError::Plan(format!("{}: {e}", self.name)))?;
        let (precision, scale) = format.precision_and_scale();
        Ok(Arc::new(arrow::datatypes::Field::new(self.name, DataType::Decimal128(precision, scale), true)))
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let Some(format) = constant_format(self.name, call.args.get(1))? else {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(call.return_field.data_type())?));
        };
        let format = NumberFormat::parse(&format).map_err(|e| datafusion::common::DataFusionError::Execution(format!("{}: {e}", self.name)))?;
        let (precision, scale) = format.precision_and_scale();
        let text = args::text(&call.args[0], rows)?;
        let mut out = Decimal128Builder::with_capacity(rows);
        for value in text.iter() {
            match value.map(|v| format.read(v)) {
                None => out.append_null(),
                Some(Ok(units)) => out.append_value(units),
                Some(Err(_)) if self.name.starts_with("try_") => out.append_null(),
                Some(Err(why)) => return exec_err!("{}: {why} (try_to_number gives NULL instead)", self.name),
            }
        }
        let numbers = out.finish().with_precision_and_scale(precision, scale)?;
        args::finish(Arc::new(numbers), args::all_scalar(&call.args))
    }
}

/// `to_char(value, format)` (and `to_varchar`): a number by a number format, a date or
/// timestamp by a date-time pattern, bytes as `base64`, `hex` or `utf-8` text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToChar {
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for ToChar {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let value = match arg_types {
            [v, _] if v.is_numeric() || v.is_null() => match v {
                DataType::Decimal128(..) => v.clone(),
                _ => DataType::Float64,
            },
            [v, _] if v.is_temporal() => args::timestamp_type(),
            [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_), _] => DataType::Binary,
            [v, _] => return plan_err!("{} writes numbers, dates, timestamps or bytes, not {v}", self.name),
            _ => return plan_err!("{} takes (value, format), not {} arguments", self.name, arg_types.len()),
        };
        Ok(vec![value, DataType::Utf8])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let name = self.name;
        let Some(format) = constant_format(name, call.args.get(1))? else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        };
        let values = call.args[0].to_array(rows)?;
        let written: ArrayRef = match values.data_type() {
            DataType::Timestamp(..) => return super::datetime::date_format().invoke_with_args(call),
            DataType::Binary => {
                let bytes = values.as_binary::<i32>();
                let write: fn(&[u8]) -> Option<String> = match format.to_ascii_lowercase().as_str() {
                    "base64" => |b| Some(base64::engine::general_purpose::STANDARD.encode(b)),
                    "hex" => |b| Some(b.iter().map(|x| format!("{x:02X}")).collect()),
                    "utf-8" | "utf8" => |b| std::str::from_utf8(b).ok().map(str::to_string),
                    other => return exec_err!("{name}: bytes are written as base64, hex or utf-8, not '{other}'"),
                };
                let mut out = StringBuilder::with_capacity(rows, bytes.value_data().len() * 2);
                for value in bytes.iter() {
                    match value.map(|b| write(b).ok_or(b)) {
                        None => out.append_null(),
                        Some(Ok(text)) => out.append_value(text),
                        Some(Err(_)) => return exec_err!("{name}: the bytes are not valid UTF-8"),
                    }
                }
                Arc::new(out.finish())
            }
            data_type => {
                let format = NumberFormat::parse(&format).map_err(|e| datafusion::common::DataFusionError::Execution(format!("{name}: {e}")))?;
                let numbers: Vec<Option<Decimal>> = match data_type {
                    DataType::Decimal128(_, scale) => values
                        .as_primitive::<Decimal128Type>()
                        .iter()
                        .map(|v| v.map(|v| Decimal { negative: v < 0, units: v.unsigned_abs(), scale: (*scale).max(0) as u32 }))
                        .collect(),
                    _ => values.as_primitive::<Float64Type>().iter().map(|v| v.and_then(Decimal::of_double)).collect(),
                };
                Arc::new(numbers.into_iter().map(|n| n.map(|n| format.write(n))).collect::<arrow::array::StringArray>())
            }
        };
        args::finish(written, args::all_scalar(&call.args))
    }
}

/// `format_number(x, d)`: `x` with groups of thousands and `d` decimals (rounded half to
/// even); `format_number(x, pattern)`: by a decimal-format pattern such as `#,##0.00`.
fn format_number(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let numbers = args::float(&call[0], rows)?;
    let shapes = args::text(&call[1], rows)?;
    let mut out = StringBuilder::with_capacity(rows, rows * 12);
    for row in 0..rows {
        if numbers.is_null(row) || shapes.is_null(row) {
            out.append_null();
            continue;
        }
        let shape = shapes.value(row);
        let pattern = match shape.parse::<i64>() {
            Ok(decimals) if decimals < 0 => {
                out.append_null();
                continue;
            }
            Ok(decimals) => DecimalPattern { min_whole: 1, group: Some(3), min_fraction: decimals as u32, max_fraction: decimals as u32 },
            Err(_) if shape.is_empty() => DecimalPattern { min_whole: 1, group: Some(3), min_fraction: 0, max_fraction: 0 },
            Err(_) => DecimalPattern::parse(shape).map_err(|e| datafusion::common::DataFusionError::Execution(format!("{name}: {e}")))?,
        };
        out.append_option(Decimal::of_double(numbers.value(row)).map(|n| pattern.write(n)));
    }
    Ok(Arc::new(out.finish()))
}
