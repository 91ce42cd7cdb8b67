//! Spark's `mode(x[, deterministic])` and `mode() WITHIN GROUP (ORDER BY x [DESC])`: the
//! most frequent value other than NULL. Of values equally frequent, the lowest (Spark may
//! give any unless `deterministic`; with `ORDER BY x DESC`, the highest). A group keeps one
//! count per distinct value, as Spark's does.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};

/// The name `mode() WITHIN GROUP (ORDER BY x DESC)` is planned as.
pub const MODE_HIGHEST: &str = "mode_highest";

/// `mode` and its descending form.
pub fn all() -> Vec<AggregateUDF> {
    vec![AggregateUDF::new_from_impl(Mode::new("mode")), AggregateUDF::new_from_impl(Mode::new(MODE_HIGHEST))]
}

named_aggregate!(Mode);

impl AggregateUDFImpl for Mode {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Interval(_) | DataType::Duration(_), ..] => plan_err!("mode of intervals is not supported (nor in Spark)"),
            [value] => Ok(vec![value.clone()]),
            [value, DataType::Boolean | DataType::Null] => Ok(vec![value.clone(), DataType::Boolean]),
            _ => plan_err!("mode takes (value[, deterministic]), not {} arguments", arg_types.len()),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        // Of equally frequent values, the highest rather than the lowest.
        let highest = self.name == MODE_HIGHEST;
        Ok(Box::new(Counts { counts: HashMap::new(), data_type: args.return_field.data_type().clone(), highest }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let value = args.return_field.data_type().clone();
        Ok(vec![
            Arc::new(Field::new("values", DataType::new_list(value, true), true)),
            Arc::new(Field::new("counts", DataType::new_list(DataType::UInt64, true), true)),
        ])
    }
}

#[derive(Debug)]
struct Counts {
    counts: HashMap<ScalarValue, u64>,
    data_type: DataType,
    highest: bool,
}

impl Counts {
    fn add(&mut self, values: &ArrayRef, counts: Option<&UInt64Array>) -> Result<()> {
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            let n = counts.map_or(1, |c| c.value(row));
            *self.counts.entry(ScalarValue::try_from_array(values, row)?).or_default() += n;
        }
        Ok(())
    }
}

impl Accumulator for Counts {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&values[0], None)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (values, counts) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            let counts = counts.value(row);
            self.add(&values.value(row), Some(counts.as_primitive()))?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values: Vec<ScalarValue> = self.counts.keys().cloned().collect();
        let counts: Vec<ScalarValue> = self.counts.values().map(|&n| ScalarValue::UInt64(Some(n))).collect();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(&values, &self.data_type)),
            ScalarValue::List(ScalarValue::new_list_nullable(&counts, &DataType::UInt64)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let best = self.counts.iter().max_by(|(a, m), (b, n)| {
            let by_value = a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
            m.cmp(n).then(if self.highest { by_value } else { by_value.reverse() })
        });
        match best {
            Some((value, _)) => Ok(value.clone()),
            None => ScalarValue::try_from(&self.data_type),
        }
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.counts.keys().map(|k| k.size() + size_of::<u64>()).sum::<usize>()
    }
}
