//! Spark's `percentile_approx(x, p[, accuracy])` (and `approx_percentile`): the smallest
//! value of `x` with at least `p` of the values at or below it, a value of the column
//! itself (no interpolation), as Spark's. A group keeps about `2 * accuracy` weighted
//! values (default accuracy 10000): exact up to `accuracy` rows, and beyond it adjacent
//! values are merged, so the answer's rank is off by at most 1/accuracy of the rows, the
//! error Spark's documentation allows. Values are compared as doubles.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray, UInt64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};
use datafusion::physical_expr::expressions::Literal;

/// Spark's default accuracy.
const DEFAULT_ACCURACY: i64 = 10_000;

/// `percentile_approx` and its alias `approx_percentile`.
pub fn all() -> Vec<AggregateUDF> {
    vec![AggregateUDF::new_from_impl(ApproxPercentile::new("percentile_approx")), AggregateUDF::new_from_impl(ApproxPercentile::new("approx_percentile"))]
}

named_aggregate!(ApproxPercentile);

impl AggregateUDFImpl for ApproxPercentile {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [value, p, rest @ ..] if rest.len() <= 1 && (value.is_numeric() || value.is_null()) && (p.is_numeric() || p.is_null()) => {
                Ok([value.clone(), DataType::Float64].into_iter().chain(rest.iter().map(|_| DataType::Int64)).collect())
            }
            [value, ..] if !value.is_numeric() => plan_err!("{} of {value} is not supported: it takes numbers", self.name),
            _ => plan_err!("{} takes (value, percentage[, accuracy]) with a constant percentage", self.name),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let constant = |i: usize| args.exprs.get(i).and_then(|e| e.downcast_ref::<Literal>()).map(|l| l.value().clone());
        let percentage = match constant(1) {
            Some(ScalarValue::Float64(Some(p))) if (0.0..=1.0).contains(&p) => p,
            _ => return plan_err!("{}: the percentage must be a constant between 0 and 1", self.name),
        };
        let accuracy = match constant(2) {
            None => DEFAULT_ACCURACY,
            Some(ScalarValue::Int64(Some(a))) if a > 0 => a,
            _ => return plan_err!("{}: the accuracy must be a constant whole number above 0", self.name),
        };
        let capacity = usize::try_from(accuracy.min(1 << 20)).unwrap_or(1 << 20);
        Ok(Box::new(Summary { values: Vec::new(), capacity, percentage, data_type: args.return_field.data_type().clone() }))
    }

    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new("values", DataType::new_list(DataType::Float64, true), true)),
            Arc::new(Field::new("weights", DataType::new_list(DataType::UInt64, true), true)),
        ])
    }
}

/// Values with the number of rows each stands for, about 2 × `capacity` once compressed.
#[derive(Debug)]
struct Summary {
    values: Vec<(f64, u64)>,
    capacity: usize,
    percentage: f64,
    data_type: DataType,
}

impl Summary {
    /// Sorts the values and merges neighbours (the lower value stands for both) while
    /// together they stand for at most 1/`capacity` of the rows: a value's rank is then off
    /// by at most that much, however often a summary is compressed, and at most about
    /// 2 × `capacity` values remain.
    fn compress(&mut self) {
        if self.values.len() <= self.capacity {
            return;
        }
        self.values.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: u64 = self.values.iter().map(|v| v.1).sum();
        let most = total.div_ceil(self.capacity as u64);
        let mut merged: Vec<(f64, u64)> = Vec::with_capacity(2 * self.capacity + 1);
        for &(value, weight) in &self.values {
            match merged.last_mut() {
                Some(last) if last.1 + weight <= most => last.1 += weight,
                _ => merged.push((value, weight)),
            }
        }
        self.values = merged;
    }
}

impl Accumulator for Summary {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let doubles = cast(&values[0], &DataType::Float64)?;
        for value in doubles.as_primitive::<Float64Type>().iter().flatten() {
            self.values.push((value, 1));
            if self.values.len() > 4 * self.capacity {
                self.compress();
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (values, weights) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            let (v, w) = (values.value(row), weights.value(row));
            let (v, w) = (v.as_primitive::<Float64Type>(), w.as_primitive::<arrow::datatypes::UInt64Type>());
            self.values.extend(v.values().iter().copied().zip(w.values().iter().copied()));
            self.compress();
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.compress();
        let values = Float64Array::from_iter_values(self.values.iter().map(|v| v.0));
        let weights = UInt64Array::from_iter_values(self.values.iter().map(|v| v.1));
        let list = |array: ArrayRef| ScalarValue::List(Arc::new(ListArray::new(Arc::new(Field::new_list_field(array.data_type().clone(), true)), arrow::buffer::OffsetBuffer::from_lengths([array.len()]), array, None)));
        Ok(vec![list(Arc::new(values)), list(Arc::new(weights))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.values.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: u64 = self.values.iter().map(|v| v.1).sum();
        if total == 0 {
            return ScalarValue::try_from(&self.data_type);
        }
        let rank = ((self.percentage * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        let found = self.values.iter().find(|v| {
            seen += v.1;
            seen >= rank
        });
        let Some(&(value, _)) = found.or(self.values.last()) else { return exec_err!("{}: no value", "percentile_approx") };
        ScalarValue::Float64(Some(value)).cast_to(&self.data_type)
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.values.capacity() * size_of::<(f64, u64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_bounded_summary_whose_rank_is_off_by_at_most_one_over_the_accuracy() {
        let accuracy = 10;
        let mut summary = Summary { values: Vec::new(), capacity: accuracy, percentage: 0.5, data_type: DataType::Int64 };
        let values: ArrayRef = Arc::new(arrow::array::Int64Array::from_iter_values(0..10_000));
        summary.update_batch(&[values]).unwrap();
        summary.compress();
        assert!(summary.values.len() <= 2 * accuracy + 1, "{}", summary.values.len());
        let ScalarValue::Int64(Some(median)) = summary.evaluate().unwrap() else { panic!("a whole number") };
        assert!((median - 4_999).abs() <= 10_000 / accuracy as i64, "{median}");
        // Exact while the rows fit.
        let mut exact = Summary { values: Vec::new(), capacity: accuracy, percentage: 0.4, data_type: DataType::Int64 };
        exact.update_batch(&[Arc::new(arrow::array::Int64Array::from(vec![10, 0, 2, 1]))]).unwrap();
        assert_eq!(exact.evaluate().unwrap(), ScalarValue::Int64(Some(1)));
    }
}
