//! `histogram_numeric(x, bins)`: Spark's streaming histogram (Ben-Haim and Tom-Tov, as Hive
//! has it): at most `bins` centres with counts, each new value a bin of its own (or one
//! more in the bin of an equal value), and while there are too many bins, the two closest
//! merged into their weighted mean. Of equally close pairs, one is drawn as Spark draws it
//! (`java.util.Random(31183)` per group), so one partition's rows give Spark's bins. A
//! group keeps at most `bins` + 1 bins.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray, StructArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};
use datafusion::physical_expr::expressions::Literal;

use super::random::{JavaRandom, RandomBits};

/// The most bins a histogram may ask for.
const MOST_BINS: i64 = 1 << 16;

/// `histogram_numeric`.
pub fn all() -> Vec<AggregateUDF> {
    vec![AggregateUDF::new_from_impl(HistogramNumeric::new("histogram_numeric"))]
}

named_aggregate!(HistogramNumeric);

/// Whether bins of values of this type can be made (their centres read as doubles and
/// written back in the type).
fn binnable(data_type: &DataType) -> bool {
    data_type.is_integer() || data_type.is_floating() || matches!(data_type, DataType::Date32 | DataType::Timestamp(..))
}

/// The type of the answer: an array of `{x, y}`, `x` in the type of the values.
fn answer_type(value: &DataType) -> DataType {
    let fields = Fields::from(vec![Field::new("x", value.clone(), true), Field::new("y", DataType::Float64, true)]);
    DataType::new_list(DataType::Struct(fields), true)
}

impl AggregateUDFImpl for HistogramNumeric {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [value, bins] if binnable(value) && bins.is_integer() => Ok(vec![value.clone(), DataType::Int64]),
            [DataType::Null, bins] if bins.is_integer() => Ok(vec![DataType::Float64, DataType::Int64]),
            [value, _] => plan_err!("histogram_numeric takes numbers, dates or timestamps and a whole number of bins, not {value} (cast decimals to DOUBLE)"),
            _ => plan_err!("histogram_numeric takes (value, bins), not {} arguments", arg_types.len()),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(answer_type(&arg_types[0]))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let bins = match args.exprs.get(1).and_then(|e| e.downcast_ref::<Literal>()).map(|l| l.value()) {
            Some(ScalarValue::Int64(Some(n))) if (2..=MOST_BINS).contains(n) => *n as usize,
            _ => return plan_err!("histogram_numeric: the number of bins must be a constant from 2 to {MOST_BINS}"),
        };
        let value_type = args.exprs[0].data_type(args.schema)?;
        Ok(Box::new(Histogram { bins: Vec::new(), most: bins, random: JavaRandom::new(31183), value_type }))
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new("centres", DataType::new_list(DataType::Float64, true), true)),
            Arc::new(Field::new("counts", DataType::new_list(DataType::Float64, true), true)),
        ])
    }
}

#[derive(Debug)]
struct Histogram {
    /// Centres and counts, by centre.
    bins: Vec<(f64, f64)>,
    most: usize,
    random: JavaRandom,
    value_type: DataType,
}

impl Histogram {
    fn add(&mut self, value: f64) {
        let position = self.bins.partition_point(|(x, _)| *x < value);
        match self.bins.get_mut(position) {
            Some((x, count)) if *x == value => *count += 1.0,
            _ => {
                self.bins.insert(position, (value, 1.0));
                self.trim();
            }
        }
    }

    /// Merges the closest bins until there are at most as many as asked for.
    fn trim(&mut self) {
        while self.bins.len() > self.most {
            let mut closest = self.bins[1].0 - self.bins[0].0;
            let (mut at, mut ties) = (0, 1);
            for i in 1..self.bins.len() - 1 {
                let gap = self.bins[i + 1].0 - self.bins[i].0;
                if gap < closest {
                    (closest, at, ties) = (gap, i, 1);
                } else if gap == closest {
                    ties += 1;
                    if self.random.next_double() <= 1.0 / ties as f64 {
                        at = i;
                    }
                }
            }
            let ((left, left_count), (right, right_count)) = (self.bins[at], self.bins[at + 1]);
            let count = left_count + right_count;
            let centre = left * (left_count / count) + right / count * right_count;
            self.bins[at] = (centre, count);
            self.bins.remove(at + 1);
        }
    }
}

impl Accumulator for Histogram {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        // Dates count days and timestamps their units since 1970.
        let whole = match values[0].data_type() {
            DataType::Date32 => cast_with_options(&values[0], &DataType::Int32, &CastOptions::default())?,
            DataType::Timestamp(..) => cast_with_options(&values[0], &DataType::Int64, &CastOptions::default())?,
            _ => values[0].clone(),
        };
        let values = cast_with_options(&whole, &DataType::Float64, &CastOptions::default())?;
        for value in values.as_primitive::<Float64Type>().iter().flatten() {
            self.add(value);
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (centres, counts) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..centres.len() {
            if centres.is_null(row) {
                continue;
            }
            let (x, y) = (centres.value(row), counts.value(row));
            let other: Vec<(f64, f64)> = x.as_primitive::<Float64Type>().values().iter().copied().zip(y.as_primitive::<Float64Type>().values().iter().copied()).collect();
            if other.is_empty() {
                continue;
            }
            if self.bins.is_empty() {
                self.bins = other;
                continue;
            }
            self.bins.extend(other);
            self.bins.sort_by(|a, b| a.0.total_cmp(&b.0));
            self.trim();
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = |values: Vec<f64>| ScalarValue::List(Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>([Some(values.into_iter().map(Some))])));
        Ok(vec![list(self.bins.iter().map(|b| b.0).collect()), list(self.bins.iter().map(|b| b.1).collect())])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let answer = answer_type(&self.value_type);
        if self.bins.is_empty() {
            return ScalarValue::try_from(&answer);
        }
        let DataType::List(item) = &answer else { return exec_err!("histogram_numeric: an answer that is not a list") };
        let DataType::Struct(fields) = item.data_type() else { return exec_err!("histogram_numeric: bins that are not structs") };
        let centres: ArrayRef = Arc::new(self.bins.iter().map(|b| Some(b.0)).collect::<Float64Array>());
        // Whole numbers, dates and timestamps are cut toward zero, as Java casts them.
        let truncated: ArrayRef = if self.value_type.is_floating() { centres } else { Arc::new(centres.as_primitive::<Float64Type>().unary::<_, Float64Type>(f64::trunc)) };
        let wide = if self.value_type.is_floating() { self.value_type.clone() } else { DataType::Int64 };
        let mut x = cast_with_options(&truncated, &wide, &CastOptions::default())?;
        if self.value_type == DataType::Date32 {
            x = cast_with_options(&x, &DataType::Int32, &CastOptions::default())?;
        }
        if x.data_type() != &self.value_type {
            x = cast_with_options(&x, &self.value_type, &CastOptions::default())?;
        }
        let y: ArrayRef = Arc::new(self.bins.iter().map(|b| Some(b.1)).collect::<Float64Array>());
        let bins = StructArray::try_new(fields.clone(), vec![x, y], None)?;
        Ok(ScalarValue::List(Arc::new(ListArray::new(item.clone(), arrow::buffer::OffsetBuffer::from_lengths([bins.len()]), Arc::new(bins), None))))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.bins.capacity() * size_of::<(f64, f64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: &[f64], most: usize) -> Vec<(f64, f64)> {
        let mut h = Histogram { bins: Vec::new(), most, random: JavaRandom::new(31183), value_type: DataType::Float64 };
        values.iter().for_each(|v| h.add(*v));
        h.bins
    }

    // Spark 4.3's answers to the same values in the same order.
    #[test]
    fn bins_are_sparks() {
        assert_eq!(histogram(&[0.0, 4.0, 5.0, 9.0, 10.0, 14.0], 3), [(3.0, 3.0), (9.5, 2.0), (14.0, 1.0)]);
        assert_eq!(histogram(&[0.0, 4.0, 5.0, 9.0, 14.0, 10.0], 3), [(0.0, 1.0), (7.0, 4.0), (14.0, 1.0)]);
        let evens: Vec<f64> = (0..20).map(|i| (2 * i) as f64).collect();
        assert_eq!(histogram(&evens, 4), [(6.0, 7.0), (17.0, 4.0), (28.0, 7.0), (37.0, 2.0)]);
    }
}
