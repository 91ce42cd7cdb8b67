//! `typeof(x)`: the name Spark gives the type of `x` (`int`, `array<int>`,
//! `struct<a:int,b:string>`, `decimal(10,2)`).

use arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::variant::is_variant;

/// The function of this module.
pub fn type_of() -> ScalarUDF {
    ScalarUDF::new_from_impl(TypeOf { signature: Signature::any(1, Volatility::Immutable) })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TypeOf {
    signature: Signature,
}

impl ScalarUDFImpl for TypeOf {
    fn name(&self) -> &str {
        "typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = type_name(&call.arg_fields[0])?;
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))))
    }
}

/// Spark's name of the type of `field`'s values.
fn type_name(field: &Field) -> Result<String> {
    if is_variant(field) {
        return Ok("variant".into());
    }
    Ok(match field.data_type() {
        DataType::Null => "void".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time(6)".into(),
        DataType::Interval(IntervalUnit::YearMonth) => "interval year to month".into(),
        DataType::Interval(_) | DataType::Duration(TimeUnit::Microsecond | TimeUnit::Nanosecond) => "interval day to second".into(),
        DataType::List(element) | DataType::LargeList(element) | DataType::FixedSizeList(element, _) => format!("array<{}>", type_name(element)?),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!("map<{},{}>", type_name(&kv[0])?, type_name(&kv[1])?),
            other => return plan_err!("typeof: a map of {other}"),
        },
        DataType::Struct(fields) => {
            let fields = fields.iter().map(|f| Ok(format!("{}:{}", f.name(), type_name(f)?))).collect::<Result<Vec<_>>>()?;
            format!("struct<{}>", fields.join(","))
        }
        other => return plan_err!("typeof: hela has no Spark name for the type {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn names_nested_types_as_spark_does() {
        let point = DataType::Struct(vec![Field::new("a", DataType::Int32, true), Field::new("b", DataType::Utf8, true)].into());
        let list = DataType::List(Arc::new(Field::new("item", point, true)));
        assert_eq!(type_name(&Field::new("x", list, true)).unwrap(), "array<struct<a:int,b:string>>");
    }
}
