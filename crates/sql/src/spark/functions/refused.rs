//! Spark functions hela knows by name but refuses while planning, saying why (rather than
//! failing with an engine's words when the query runs).

use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(Refused {
        name: "input_file_name",
        reason: "hela does not support `input_file_name()` yet: a row does not carry the file it came from",
        signature: Signature::nullary(Volatility::Volatile),
    })]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Refused {
    name: &'static str,
    reason: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for Refused {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        plan_err!("{}", self.reason)
    }

    fn invoke_with_args(&self, _call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        plan_err!("{}", self.reason)
    }
}
