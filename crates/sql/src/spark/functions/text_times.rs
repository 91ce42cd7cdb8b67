//! Spark reads text as a date or timestamp wherever a date-time function wants one
//! (`date_add('2016-07-30', 1)`, `weekday('2018-02-14 12:58:59')`, `last_day(@timestamp)`).
//! DataFusion's and `datafusion-spark`'s functions take only dates and timestamps, so each is
//! wrapped: when its own signature refuses the argument types, text arguments are offered
//! as timestamps, then as dates (and whole numbers as 32-bit ones), and the first the
//! function takes is cast to. Spark's text functions that count, trim or compare take bytes
//! as well (`octet_length(x'..')`, `contains(bytes, bytes)`): where a wrapped function
//! refuses bytes, they are offered as the text they hold (bytes that are not UTF-8 stop
//! the query with an error, never change).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use arrow::datatypes::Field;
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature};

use super::args::{is_bytes, is_text, timestamp_type};

/// The functions whose text arguments are read as times (date-time functions), whose
/// whole numbers may be 32-bit (`space`, `factorial`), and whose bytes are read as text.
pub const NAMES: [&str; 21] = [
    "date_add", "date_sub", "dateadd", "datediff", "add_months", "last_day", "next_day", "weekday",
    "monthname", "dayname", "months_between", "space", "factorial", "bit_length", "octet_length", "btrim", "ltrim", "rtrim",
    "contains", "starts_with", "ends_with",
];

/// A function that takes text where it wants a date or timestamp.
#[derive(Debug)]
pub struct TextAsTime {
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

impl TextAsTime {
    pub fn new(inner: Arc<ScalarUDF>) -> Self {
        let volatility = inner.signature().volatility;
        TextAsTime { inner, signature: Signature::user_defined(volatility) }
    }
}

impl PartialEq for TextAsTime {
    fn eq(&self, other: &Self) -> bool {
        self.inner.name() == other.inner.name()
    }
}

impl Eq for TextAsTime {}

impl Hash for TextAsTime {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.name().hash(state);
    }
}

impl ScalarUDFImpl for TextAsTime {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let takes = |types: &[DataType]| {
            let fields: Vec<FieldRef> = types.iter().map(|t| Arc::new(Field::new("", t.clone(), true))).collect();
            fields_with_udf(&fields, self.inner.as_ref()).map(|fields| fields.iter().map(|f| f.data_type().clone()).collect::<Vec<_>>())
        };
        let refused = match takes(arg_types) {
            Ok(types) => return Ok(types),
            Err(refused) => refused,
        };
        if arg_types.iter().any(is_bytes) {
            let as_text: Vec<DataType> = arg_types.iter().map(|t| if is_bytes(t) { DataType::Utf8 } else { t.clone() }).collect();
            if let Ok(types) = takes(&as_text) {
                return Ok(types);
            }
        }
        let texts: Vec<usize> = (0..arg_types.len()).filter(|&i| is_text(&arg_types[i])).collect();
        // Every choice of which text arguments are times (none, or some; the others stay
        // text), each offered as a timestamp, then as a date.
        for chosen in 0..(1u32 << texts.len().min(4)) {
            for time in [timestamp_type(), DataType::Date32] {
                let mut offered = arg_types.to_vec();
                for (bit, &position) in texts.iter().enumerate() {
                    if chosen & (1 << bit) != 0 {
                        offered[position] = time.clone();
                    }
                }
                // Whole numbers are written as 64-bit; Spark's day counts are 32-bit.
                let narrowed: Vec<DataType> = offered.iter().map(|t| if *t == DataType::Int64 { DataType::Int32 } else { t.clone() }).collect();
                if let Ok(types) = takes(&offered).or_else(|_| takes(&narrowed)) {
                    return Ok(types);
                }
            }
        }
        Err(refused)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }
}

