//! `try_add`, `try_subtract` and `try_multiply`: Spark's arithmetic that answers NULL where
//! the exact answer does not fit the type (`try_add(2147483647, 1)` of two INTs), rather
//! than stopping the query. Whole numbers are computed in the wider of the two types; a
//! date plus or minus whole days; a date, timestamp or time of day plus or minus an
//! interval (a time that leaves the day is NULL); other numbers as `+`, `-` and `*` compute
//! them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, Int64Array, Time64NanosecondArray};
use arrow::compute::kernels::numeric;
use arrow::compute::{cast, cast_with_options, CastOptions};
use arrow::datatypes::{DataType, IntervalMonthDayNanoType, IntervalUnit, Time64NanosecondType};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{ColumnarValue, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::args::{self, time_of_day_type};

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    [Operator::Plus, Operator::Minus, Operator::Multiply].into_iter().map(|op| ScalarUDF::new_from_impl(TryArithmetic::new(op))).collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TryArithmetic {
    operator: Operator,
    signature: Signature,
}

impl TryArithmetic {
    fn new(operator: Operator) -> Self {
        TryArithmetic { operator, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// How a pair of argument types is computed.
enum Shape {
    /// Whole numbers, in this type.
    Whole(DataType),
    /// A date and whole days.
    DateAndDays,
    /// A time of day and an interval.
    TimeOfDayAndInterval,
    /// Anything `+`, `-` or `*` computes, with the arguments of these types.
    Plain(DataType, DataType),
}

fn is_interval(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Interval(_))
}

fn is_time_of_day(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Time32(_) | DataType::Time64(_))
}

/// The wider of two whole-number types, as Spark widens TINYINT, SMALLINT, INT and BIGINT.
fn wider_whole(a: &DataType, b: &DataType) -> DataType {
    let rank = |t: &DataType| match t {
        DataType::Int8 => 1,
        DataType::Int16 | DataType::UInt8 => 2,
        DataType::Int32 | DataType::UInt16 => 3,
        _ => 4,
    };
    [DataType::Int8, DataType::Int16, DataType::Int32, DataType::Int64][rank(a).max(rank(b)) - 1].clone()
}

impl TryArithmetic {
    fn shape(&self, a: &DataType, b: &DataType) -> Result<Shape> {
        let additive = self.operator != Operator::Multiply;
        Ok(match (a, b) {
            (a, b) if (a.is_integer() || a.is_null()) && (b.is_integer() || b.is_null()) => Shape::Whole(wider_whole(a, b)),
            (DataType::Date32, b) if additive && b.is_integer() => Shape::DateAndDays,
            (a, b) if additive && is_time_of_day(a) && is_interval(b) => Shape::TimeOfDayAndInterval,
            (DataType::Date32 | DataType::Timestamp(..), b) if additive && is_interval(b) => Shape::Plain(a.clone(), DataType::Interval(IntervalUnit::MonthDayNano)),
            (a, b) if a.is_numeric() && b.is_numeric() => {
                let (a, b) = BinaryTypeCoercer::new(a, &self.operator, b).get_input_types()?;
                Shape::Plain(a, b)
            }
            (a, b) => return plan_err!("{} does not take {a} and {b}", self.name()),
        })
    }
}

impl ScalarUDFImpl for TryArithmetic {
    fn name(&self) -> &str {
        match self.operator {
            Operator::Plus => "try_add",
            Operator::Minus => "try_subtract",
            _ => "try_multiply",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = arg_types else { return plan_err!("{} takes 2 arguments, not {}", self.name(), arg_types.len()) };
        Ok(match self.shape(a, b)? {
            Shape::Whole(t) => vec![t.clone(), t],
            Shape::DateAndDays => vec![DataType::Date32, DataType::Int64],
            Shape::TimeOfDayAndInterval => vec![time_of_day_type(), DataType::Interval(IntervalUnit::MonthDayNano)],
            Shape::Plain(a, b) => vec![a, b],
        })
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let (a, b) = (&arg_types[0], &arg_types[1]);
        Ok(match self.shape(a, b)? {
            Shape::Whole(t) => t,
            Shape::DateAndDays => DataType::Date32,
            Shape::TimeOfDayAndInterval => time_of_day_type(),
            Shape::Plain(a, b) if is_interval(&b) => a,
            Shape::Plain(a, b) => BinaryTypeCoercer::new(&a, &self.operator, &b).get_result_type()?,
        })
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let (a, b) = (call.args[0].to_array(rows)?, call.args[1].to_array(rows)?);
        let checked = |x: i64, y: i64| match self.operator {
            Operator::Plus => x.checked_add(y),
            Operator::Minus => x.checked_sub(y),
            _ => x.checked_mul(y),
        };
        let answer: ArrayRef = match self.shape(a.data_type(), b.data_type())? {
            Shape::Whole(whole) => {
                let (x, y) = (args::int(&call.args[0], rows)?, args::int(&call.args[1], rows)?);
                let exact: Int64Array = x.iter().zip(y.iter()).map(|(x, y)| checked(x?, y?)).collect();
                // A value beyond the narrower type is NULL, as an overflow.
                cast_with_options(&exact, &whole, &CastOptions { safe: true, ..Default::default() })?
            }
            Shape::DateAndDays => {
                let days = args::int(&call.args[1], rows)?;
                let dates = a.as_primitive::<arrow::datatypes::Date32Type>();
                let moved: Date32Array = dates.iter().zip(days.iter()).map(|(d, n)| checked(d? as i64, n?).and_then(|d| i32::try_from(d).ok())).collect();
                Arc::new(moved)
            }
            Shape::TimeOfDayAndInterval => {
                let times = a.as_primitive::<Time64NanosecondType>();
                let intervals = b.as_primitive::<IntervalMonthDayNanoType>();
                let moved: Time64NanosecondArray = times
                    .iter()
                    .zip(intervals.iter())
                    .map(|(t, i)| {
                        let i = i?;
                        let shift = (i.months == 0).then(|| (i.days as i64).checked_mul(NANOS_PER_DAY)?.checked_add(i.nanoseconds))??;
                        checked(t?, shift).filter(|t| (0..NANOS_PER_DAY).contains(t))
                    })
                    .collect();
                Arc::new(moved)
            }
            Shape::Plain(..) => {
                let returns = self.return_type(&[a.data_type().clone(), b.data_type().clone()])?;
                let computed = match self.operator {
                    Operator::Plus => numeric::add(&a, &b),
                    Operator::Minus => numeric::sub(&a, &b),
                    _ => numeric::mul(&a, &b),
                }?;
                cast(&computed, &returns)?
            }
        };
        args::finish(answer, args::all_scalar(&call.args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;

    #[test]
    fn whole_numbers_widen_as_sparks_do() {
        assert_eq!(wider_whole(&DataType::Int8, &DataType::Int32), DataType::Int32);
        assert_eq!(wider_whole(&DataType::Int16, &DataType::Int64), DataType::Int64);
        assert_eq!(wider_whole(&DataType::Int8, &DataType::Int8), DataType::Int8);
    }

    #[test]
    fn times_of_day_take_intervals_of_days_and_less() {
        let op = TryArithmetic::new(Operator::Plus);
        assert!(matches!(op.shape(&DataType::Time64(TimeUnit::Nanosecond), &DataType::Interval(IntervalUnit::MonthDayNano)).unwrap(), Shape::TimeOfDayAndInterval));
        assert!(op.shape(&DataType::Utf8, &DataType::Int64).is_err());
    }
}
