//! Spark's arithmetic that DataFusion lacks: `a div b` (the whole quotient), `bround`
//! (rounding half to even, "banker's rounding") and `log1p`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array};
use arrow::compute::kernels::numeric;
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::args::{self, Kind};
use super::function::SparkFunction;
use super::number_format::format::shortest_digits;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    let log1p = SparkFunction::new("log1p", &[Kind::Float], 1, DataType::Float64, |_, call, rows| {
        let values = args::float(&call[0], rows)?;
        Ok(Arc::new(values.unary::<_, Float64Type>(f64::ln_1p)) as ArrayRef)
    });
    vec![ScalarUDF::from(log1p), ScalarUDF::new_from_impl(Div::new()), ScalarUDF::new_from_impl(Bround::new()), ScalarUDF::new_from_impl(Signum::new())]
}

/// `signum(x)` (also `sign`): -1.0, 0.0 or 1.0 as a number or an interval is below, at or
/// above zero (NaN and -0.0 as they are).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Signum {
    signature: Signature,
}

impl Signum {
    fn new() -> Self {
        Signum { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for Signum {
    fn name(&self) -> &str {
        "signum"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_numeric() || t.is_null() => Ok(vec![DataType::Float64]),
            [DataType::Interval(_)] => Ok(vec![DataType::Interval(IntervalUnit::MonthDayNano)]),
            [other] => plan_err!("signum takes a number or an interval, not {other}"),
            _ => plan_err!("signum takes 1 argument, not {}", arg_types.len()),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let values = call.args[0].to_array(rows)?;
        let signs: Float64Array = if let DataType::Interval(_) = values.data_type() {
            let length = |i: IntervalMonthDayNano| if i.months != 0 { i.months as i128 } else { day_time_nanos(i) };
            values.as_primitive::<IntervalMonthDayNanoType>().iter().map(|i| i.map(|i| length(i).signum() as f64)).collect()
        } else {
            values.as_primitive::<Float64Type>().iter().map(|x| x.map(|x| if x == 0.0 || x.is_nan() { x } else { x.signum() })).collect()
        };
        args::finish(Arc::new(signs), args::all_scalar(&call.args))
    }
}

/// The days and nanoseconds of an interval, in nanoseconds (its months aside).
fn day_time_nanos(interval: IntervalMonthDayNano) -> i128 {
    interval.days as i128 * 86_400_000_000_000 + interval.nanoseconds as i128
}

fn is_whole(data_type: &DataType) -> bool {
    data_type.is_integer() || data_type.is_null()
}

/// `a div b`: the quotient without its fraction (toward zero), a `bigint`; whole numbers
/// divide exactly, other numbers as doubles, intervals by their months (year-month) or
/// their length (day-time).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Div {
    signature: Signature,
}

impl Div {
    fn new() -> Self {
        Div { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for Div {
    fn name(&self) -> &str {
        "div"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a, b] if is_whole(a) && is_whole(b) => Ok(vec![DataType::Int64, DataType::Int64]),
            [a, b] if (a.is_numeric() || a.is_null()) && (b.is_numeric() || b.is_null()) => Ok(vec![DataType::Float64, DataType::Float64]),
            [DataType::Interval(_), DataType::Interval(_)] => Ok(vec![DataType::Interval(IntervalUnit::MonthDayNano); 2]),
            [a, b] => plan_err!("div takes two numbers or two intervals, not {a} and {b}"),
            _ => plan_err!("div takes 2 arguments, not {}", arg_types.len()),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let (a, b) = (call.args[0].to_array(rows)?, call.args[1].to_array(rows)?);
        let quotient: ArrayRef = if a.data_type() == &DataType::Int64 {
            numeric::div(&a, &b)?
        } else if let DataType::Interval(_) = a.data_type() {
            let (a, b) = (a.as_primitive::<IntervalMonthDayNanoType>(), b.as_primitive::<IntervalMonthDayNanoType>());
            let mut out = Int64Array::builder(rows);
            for (x, y) in a.iter().zip(b.iter()) {
                let (Some(x), Some(y)) = (x, y) else {
                    out.append_null();
                    continue;
                };
                let (dividend, divisor) = match (x.months, y.months, day_time_nanos(x), day_time_nanos(y)) {
                    (m, n, 0, 0) => (m as i128, n as i128),
                    (0, 0, l, k) => (l, k),
                    _ => return exec_err!("div: an interval of months and one of days or less do not divide"),
                };
                if divisor == 0 {
                    return exec_err!("div: division by a zero interval");
                }
                out.append_value((dividend / divisor) as i64);
            }
            Arc::new(out.finish())
        } else {
            let (a, b) = (a.as_primitive::<Float64Type>(), b.as_primitive::<Float64Type>());
            let mut out = Int64Array::builder(rows);
            for row in 0..rows {
                if a.is_null(row) || b.is_null(row) {
                    out.append_null();
                    continue;
                }
                let (x, y) = (a.value(row), b.value(row));
                if y == 0.0 {
                    return exec_err!("div: division by zero ({x} div {y})");
                }
                let whole = (x / y).trunc();
                if !whole.is_finite() || whole.abs() >= 9.2e18 {
                    return exec_err!("div: {x} div {y} does not fit in a bigint");
                }
                out.append_value(whole as i64);
            }
            Arc::new(out.finish())
        };
        args::finish(quotient, args::all_scalar(&call.args))
    }
}

/// `bround(x[, d])`: `x` rounded to `d` decimal places (default 0; negative rounds to
/// tens, hundreds, ...), a half going to the even neighbour. Whole numbers and decimals
/// keep their type; a double is rounded as the decimal it is written as (`2.675` is
/// 2.675, not the binary fraction just under it), as Spark's is.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Bround {
    signature: Signature,
}

impl Bround {
    fn new() -> Self {
        Bround { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for Bround {
    fn name(&self) -> &str {
        "bround"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let value = match arg_types.first() {
            Some(t) if is_whole(t) => DataType::Int64,
            Some(t @ DataType::Decimal128(..)) => t.clone(),
            Some(t) if t.is_numeric() => DataType::Float64,
            Some(t) => return plan_err!("bround rounds a number, not {t}"),
            None => return plan_err!("bround takes 1 or 2 arguments, not 0"),
        };
        match arg_types {
            [_] => Ok(vec![value]),
            [_, places] if is_whole(places) => Ok(vec![value, DataType::Int64]),
            [_, places] => plan_err!("the decimal places of bround are a whole number, not {places}"),
            _ => plan_err!("bround takes 1 or 2 arguments, not {}", arg_types.len()),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let places = match call.args.get(1) {
            None => 0,
            Some(ColumnarValue::Scalar(ScalarValue::Int64(Some(places)))) => *places,
            Some(ColumnarValue::Scalar(ScalarValue::Int64(None))) => return Ok(ColumnarValue::Scalar(ScalarValue::try_from(call.return_field.data_type())?)),
            Some(_) => return exec_err!("bround: the decimal places must be a constant"),
        };
        let rows = args::row_count(&call.args);
        let values = call.args[0].to_array(rows)?;
        let rounded: ArrayRef = match values.data_type() {
            DataType::Int64 => {
                let drop = places.saturating_neg().clamp(0, 40) as u32;
                Arc::new(values.as_primitive::<Int64Type>().unary::<_, Int64Type>(|v| half_even(i128::from(v), drop) as i64))
            }
            DataType::Decimal128(precision, scale) => {
                let drop = (i64::from(*scale) - places).clamp(0, 40) as u32;
                let decimals = values.as_primitive::<Decimal128Type>().unary::<_, Decimal128Type>(|v| half_even(v, drop));
                Arc::new(Decimal128Array::from(decimals).with_precision_and_scale(*precision, *scale)?)
            }
            _ => Arc::new(values.as_primitive::<Float64Type>().unary::<_, Float64Type>(|v| round_double(v, places)) as Float64Array),
        };
        args::finish(rounded, args::all_scalar(&call.args))
    }
}

/// `value` rounded to a multiple of 10^`drop`, a half to the even multiple.
fn half_even(value: i128, drop: u32) -> i128 {
    if drop == 0 {
        return value;
    }
    let Some(unit) = 10i128.checked_pow(drop) else { return 0 };
    let (quotient, remainder) = (value / unit, (value % unit).abs());
    let half = unit / 2;
    let away = remainder > half || (remainder == half && quotient % 2 != 0);
    let rounded = if away { quotient + value.signum() } else { quotient };
    rounded.saturating_mul(unit)
}

/// `value` rounded half to even at `places` decimals of its shortest decimal form.
fn round_double(value: f64, places: i64) -> f64 {
    let Some((units, scale)) = shortest_digits(value) else { return value };
    if scale <= places {
        return value;
    }
    let rounded = half_even(units, (scale - places).min(40) as u32);
    format!("{rounded}e{}", -scale).parse().unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::{half_even, round_double};

    #[test]
    fn rounds_halves_to_the_even_neighbour() {
        assert_eq!(half_even(25, 1), 20);
        assert_eq!(half_even(35, 1), 40);
        assert_eq!(half_even(-25, 1), -20);
        assert_eq!(half_even(-26, 1), -30);
        assert_eq!(round_double(2.5, 0), 2.0);
        assert_eq!(round_double(3.5, 0), 4.0);
        assert_eq!(round_double(2.675, 2), 2.68);
        assert_eq!(round_double(-0.125, 2), -0.12);
        assert_eq!(round_double(1234.5, -2), 1200.0);
        assert_eq!(round_double(1e-50, 2), 0.0);
        assert!(round_double(f64::NAN, 2).is_nan());
    }
}
