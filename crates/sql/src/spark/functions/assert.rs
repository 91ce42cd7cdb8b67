//! Spark's `assert_true(condition[, message])`: NULL when the condition holds, else the
//! query stops with the message (by default, the condition not being true).

use arrow::array::{Array, ArrayRef, new_null_array};
use arrow::datatypes::DataType;
use datafusion::common::exec_err;
use datafusion::logical_expr::ScalarUDF;

use super::args::{self, Kind};
use super::function::SparkFunction;

/// `assert_true`.
pub fn assert_true() -> ScalarUDF {
    ScalarUDF::from(SparkFunction::new("assert_true", &[Kind::Bool, Kind::Text], 1, DataType::Null, |name, call, rows| {
        let conditions = call[0].to_array(rows)?;
        let conditions = conditions.as_any().downcast_ref::<arrow::array::BooleanArray>().expect("coerced to booleans");
        let messages = match call.get(1) {
            Some(message) => Some(args::text(message, rows)?),
            None => None,
        };
        for row in 0..rows {
            if conditions.is_null(row) || !conditions.value(row) {
                return match messages.as_ref().filter(|m| m.is_valid(row)) {
                    Some(messages) => exec_err!("{}", messages.value(row)),
                    None => exec_err!("{name}: the condition is not true (row {})", row + 1),
                };
            }
        }
        Ok(new_null_array(&DataType::Null, rows) as ArrayRef)
    }))
}
