//! `xxhash64` of plain values only. Of arrays, maps and structs, `datafusion-spark`'s hash
//! differs from Spark's, so such a call is refused, saying so, rather than answered
//! otherwise.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature};

/// The name of the function wrapped.
pub const NAME: &str = "xxhash64";

/// A hash function that refuses arrays, maps and structs.
#[derive(Debug)]
pub struct PlainValuesHash {
    inner: Arc<ScalarUDF>,
}

impl PlainValuesHash {
    pub fn new(inner: Arc<ScalarUDF>) -> Self {
        PlainValuesHash { inner }
    }
}

impl PartialEq for PlainValuesHash {
    fn eq(&self, other: &Self) -> bool {
        self.inner.name() == other.inner.name()
    }
}

impl Eq for PlainValuesHash {}

impl Hash for PlainValuesHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.name().hash(state);
    }
}

impl ScalarUDFImpl for PlainValuesHash {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if args.arg_fields.iter().any(|f| f.data_type().is_nested()) {
            return plan_err!("hela does not support `{}` of arrays, maps or structs yet: it hashes them otherwise than Spark", self.name());
        }
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }
}
