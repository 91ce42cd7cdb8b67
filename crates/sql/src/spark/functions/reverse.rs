//! `reverse(x)`: Spark reverses strings, bytes and arrays with one function.

use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::functions::unicode::reverse as string_reverse;
use datafusion::functions_nested::reverse::array_reverse_udf as array_reverse;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use super::args::is_text;

/// Spark's `reverse`: the characters of a string, or the elements of an array, in
/// reverse order. DataFusion's string and array functions do the work.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Reverse {
    signature: Signature,
}

impl Reverse {
    pub fn new() -> Self {
        Reverse { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn is_array(data_type: &DataType) -> bool {
    matches!(data_type, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..))
}

impl ScalarUDFImpl for Reverse {
    fn name(&self) -> &str {
        "reverse"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_array(t) || is_text(t) => Ok(vec![t.clone()]),
            [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_)] => Ok(vec![DataType::Binary]),
            [DataType::Null] => Ok(vec![DataType::Utf8]),
            [other] => plan_err!("reverse takes a string, bytes or an array, not {other}"),
            _ => plan_err!("reverse takes 1 argument, not {}", arg_types.len()),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if call.args[0].data_type() == DataType::Binary {
            let rows = super::args::row_count(&call.args);
            let bytes = super::args::bytes(&call.args[0], rows)?;
            let reversed: arrow::array::BinaryArray = bytes.iter().map(|b| b.map(|b| b.iter().rev().copied().collect::<Vec<u8>>())).collect();
            super::args::finish(std::sync::Arc::new(reversed), super::args::all_scalar(&call.args))
        } else if is_array(&call.args[0].data_type()) {
            array_reverse().invoke_with_args(call)
        } else {
            string_reverse().invoke_with_args(call)
        }
    }
}
