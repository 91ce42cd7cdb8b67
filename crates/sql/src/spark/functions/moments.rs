//! Spark's `skewness` and `kurtosis` (excess): from the count, mean and central moments of
//! the values, updated one value at a time and merged between partial groups with the
//! same formulas as Spark's `CentralMomentAgg`, so the answers agree to the last bits.
//! NULL for no values or when every value is the same.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};

/// `skewness` and `kurtosis`.
pub fn all() -> Vec<AggregateUDF> {
    vec![AggregateUDF::new_from_impl(Moment::new("skewness")), AggregateUDF::new_from_impl(Moment::new("kurtosis"))]
}

named_aggregate!(Moment);

impl AggregateUDFImpl for Moment {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_numeric() || t.is_null() || super::is_text(t) => Ok(vec![DataType::Float64]),
            _ => plan_err!("{} takes one number, not {arg_types:?}", self.name),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Moments { kurtosis: self.name == "kurtosis", ..Moments::default() }))
    }

    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(["n", "mean", "m2", "m3", "m4"].iter().map(|name| Arc::new(Field::new(*name, DataType::Float64, true))).collect())
    }
}

/// The count, mean and sums of the 2nd to 4th powers of the deviations from the mean.
#[derive(Debug, Default)]
struct Moments {
    kurtosis: bool,
    n: f64,
    mean: f64,
    m2: f64,
    m3: f64,
    m4: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        let n = self.n + 1.0;
        let delta = x - self.mean;
        let delta_n = delta / n;
        let m2 = self.m2 + delta * (delta - delta_n);
        let (delta2, delta_n2) = (delta * delta, delta_n * delta_n);
        let m3 = self.m3 - 3.0 * delta_n * m2 + delta * (delta2 - delta_n2);
        let m4 = self.m4 - 4.0 * delta_n * m3 - 6.0 * delta_n2 * m2 + delta * (delta * delta2 - delta_n * delta_n2);
        (self.n, self.mean, self.m2, self.m3, self.m4) = (n, self.mean + delta_n, m2, m3, m4);
    }

    fn merge(&mut self, other: [f64; 5]) {
        let [n2, mean2, m2_2, m3_2, m4_2] = other;
        let (n1, m2_1, m3_1) = (self.n, self.m2, self.m3);
        let n = n1 + n2;
        if n == 0.0 {
            return;
        }
        let delta = mean2 - self.mean;
        let delta_n = delta / n;
        self.mean += delta_n * n2;
        self.m2 = m2_1 + m2_2 + delta * delta_n * n1 * n2;
        self.m3 = m3_1 + m3_2 + delta_n * delta_n * delta * n1 * n2 * (n1 - n2) + 3.0 * delta_n * (n1 * m2_2 - n2 * m2_1);
        self.m4 = self.m4
            + m4_2
            + delta_n * delta_n * delta_n * delta * n1 * n2 * (n1 * n1 - n1 * n2 + n2 * n2)
            + 6.0 * delta_n * delta_n * (n1 * n1 * m2_2 + n2 * n2 * m2_1)
            + 4.0 * delta_n * (n1 * m3_2 - n2 * m3_1);
        self.n = n;
    }
}

fn doubles(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(array, &DataType::Float64)?)
}

impl Accumulator for Moments {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let values = doubles(&values[0])?;
        values.as_primitive::<Float64Type>().iter().flatten().for_each(|x| self.add(x));
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let columns = states.iter().map(doubles).collect::<Result<Vec<_>>>()?;
        let columns: Vec<_> = columns.iter().map(|c| c.as_primitive::<Float64Type>()).collect();
        for row in 0..columns[0].len() {
            self.merge([0, 1, 2, 3, 4].map(|i| columns[i].value(row)));
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok([self.n, self.mean, self.m2, self.m3, self.m4].map(|v| ScalarValue::Float64(Some(v))).to_vec())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.n == 0.0 || self.m2 == 0.0 {
            return Ok(ScalarValue::Float64(None));
        }
        let answer = match self.kurtosis {
            true => self.n * self.m4 / (self.m2 * self.m2) - 3.0,
            false => self.n.sqrt() * self.m3 / (self.m2 * self.m2 * self.m2).sqrt(),
        };
        Ok(ScalarValue::Float64(Some(answer)))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}
