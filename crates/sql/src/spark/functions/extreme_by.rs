//! Spark's `max_by(x, y[, k])` and `min_by(x, y[, k])`: the `x` of the row with the largest
//! (smallest) `y`, or with `k` the `x`s of the `k` such rows, largest (smallest) `y` first.
//! Rows whose `y` is NULL are not counted; of rows with equal `y`, the first seen wins. A
//! group keeps at most `k` rows (`k` up to 100,000).

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};
use datafusion::physical_expr::expressions::Literal;

const MAX_K: i64 = 100_000;

/// `max_by` and `min_by`.
pub fn all() -> Vec<AggregateUDF> {
    vec![AggregateUDF::new_from_impl(ExtremeBy::new("max_by")), AggregateUDF::new_from_impl(ExtremeBy::new("min_by"))]
}

named_aggregate!(ExtremeBy);

impl AggregateUDFImpl for ExtremeBy {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [x, y] => Ok(vec![x.clone(), y.clone()]),
            [x, y, k] if k.is_integer() => Ok(vec![x.clone(), y.clone(), DataType::Int64]),
            _ => plan_err!("{} takes (value, ordering[, k]) with a whole-number k, not {arg_types:?}", self.name),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types {
            [x, _] => x.clone(),
            _ => DataType::new_list(arg_types[0].clone(), true),
        })
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let k = match args.exprs.get(2) {
            None => None,
            Some(k) => match k.downcast_ref::<Literal>().map(|l| l.value()) {
                Some(ScalarValue::Int64(Some(k))) if (1..=MAX_K).contains(k) => Some(*k as usize),
                _ => return plan_err!("{}: k must be a constant from 1 to {MAX_K}", self.name),
            },
        };
        let (value_type, ordering_type) = (args.exprs[0].data_type(args.schema)?, args.exprs[1].data_type(args.schema)?);
        Ok(Box::new(Extremes { largest: self.name == "max_by", k, rows: Vec::new(), value_type, ordering_type }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |f: &FieldRef| DataType::new_list(f.data_type().clone(), true);
        Ok(vec![Arc::new(Field::new("values", list(&args.input_fields[0]), true)), Arc::new(Field::new("orderings", list(&args.input_fields[1]), true))])
    }
}

/// The best rows so far, best first.
#[derive(Debug)]
struct Extremes {
    largest: bool,
    /// None: one row, answered as a value rather than a list.
    k: Option<usize>,
    rows: Vec<(ScalarValue, ScalarValue)>,
    value_type: DataType,
    ordering_type: DataType,
}

impl Extremes {
    fn add(&mut self, value: ScalarValue, ordering: ScalarValue) -> Result<()> {
        if ordering.is_null() {
            return Ok(());
        }
        let largest = self.largest;
        let better = |a: &ScalarValue, b: &ScalarValue| -> Result<bool> {
            match a.partial_cmp(b) {
                Some(order) => Ok(if largest { order == Ordering::Greater } else { order == Ordering::Less }),
                None => exec_err!("max_by/min_by: {a} and {b} cannot be compared"),
            }
        };
        // The first row not beaten by the new one keeps its place ahead of it.
        let mut at = self.rows.len();
        for (i, (_, kept)) in self.rows.iter().enumerate() {
            if better(&ordering, kept)? {
                at = i;
                break;
            }
        }
        let limit = self.k.unwrap_or(1);
        if at < limit {
            self.rows.insert(at, (value, ordering));
            self.rows.truncate(limit);
        }
        Ok(())
    }
}

impl Accumulator for Extremes {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for row in 0..values[0].len() {
            self.add(ScalarValue::try_from_array(&values[0], row)?, ScalarValue::try_from_array(&values[1], row)?)?;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (values, orderings) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..values.len() {
            let (v, o) = (values.value(row), orderings.value(row));
            for i in 0..v.len() {
                self.add(ScalarValue::try_from_array(&v, i)?, ScalarValue::try_from_array(&o, i)?)?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (values, orderings): (Vec<_>, Vec<_>) = self.rows.iter().cloned().unzip();
        let list = |items: Vec<ScalarValue>, data_type: &DataType| ScalarValue::List(ScalarValue::new_list_nullable(&items, data_type));
        Ok(vec![list(values, &self.value_type), list(orderings, &self.ordering_type)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        match self.k {
            None => match self.rows.first() {
                Some((value, _)) => Ok(value.clone()),
                None => ScalarValue::try_from(&self.value_type),
            },
            Some(_) => {
                let values: Vec<ScalarValue> = self.rows.iter().map(|(v, _)| v.clone()).collect();
                Ok(ScalarValue::List(ScalarValue::new_list_nullable(&values, &self.value_type)))
            }
        }
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.rows.iter().map(|(v, o)| v.size() + o.size()).sum::<usize>()
    }
}
