//! The shape every function here shares: a name, the kinds of its arguments, a return type
//! and a body that turns argument arrays into the answer.

use std::hash::{Hash, Hasher};

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use super::args::{self, Kind};

/// Computes a function's answer for `rows` rows from its (already coerced) arguments.
pub type Body = fn(name: &str, args: &[ColumnarValue], rows: usize) -> Result<ArrayRef>;

/// A Spark function with arguments of fixed kinds, the last ones optional. Two are the
/// same function when their names are (a session holds one function per name).
#[derive(Debug)]
pub struct SparkFunction {
    name: &'static str,
    kinds: &'static [Kind],
    required: usize,
    returns: DataType,
    body: Body,
    signature: Signature,
}

impl SparkFunction {
    /// A function called `name` taking `kinds` (the first `required` of them mandatory).
    pub fn new(name: &'static str, kinds: &'static [Kind], required: usize, returns: DataType, body: Body) -> Self {
        let signature = Signature::user_defined(Volatility::Immutable);
        SparkFunction { name, kinds, required, returns, body, signature }
    }
}

impl PartialEq for SparkFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SparkFunction {}

impl Hash for SparkFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for SparkFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::coerce(self.name, arg_types, self.kinds, self.required)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let answer = (self.body)(self.name, &call.args, rows)?;
        args::finish(answer, args::all_scalar(&call.args))
    }
}
