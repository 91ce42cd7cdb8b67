//! Spark's JSON functions: `from_json` (text to a struct, array or map of a DDL schema),
//! `to_json`, `schema_of_json`, `json_array_length` and `json_object_keys`; and the CSV
//! functions, which read and write their fields the same way.

mod csv;
mod ddl;
mod infer;
mod read;
mod write;

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Builder, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::args::{self, Kind};
use super::function::SparkFunction;
use super::java_pattern::{JavaPattern, Use};

/// Every JSON function of this module.
pub fn all() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![
        datafusion::logical_expr::ScalarUDF::new_from_impl(FromJson::new()),
        datafusion::logical_expr::ScalarUDF::new_from_impl(ToJson::new()),
        datafusion::logical_expr::ScalarUDF::from(schema_of_json()),
        datafusion::logical_expr::ScalarUDF::from(json_array_length()),
        datafusion::logical_expr::ScalarUDF::from(json_object_keys()),
    ]
    .into_iter()
    .chain(csv::all())
    .collect()
}

/// `values` read as `data_type` as `from_json` reads them (a value that does not fit is
/// NULL), times in ISO 8601.
pub(super) fn read_as(values: &[Option<&Value>], data_type: &DataType) -> Result<ArrayRef> {
    read::column(values, data_type, &read::TimeFormats::default())
}

/// A type written in Spark's DDL (`INT`, `ARRAY<STRING>`, `a INT, b STRING`).
pub(super) fn parse_type(text: &str) -> Result<DataType, String> {
    ddl::parse(text)
}

/// Row `row` of `array` as JSON, object members in key order.
pub(super) fn sorted_json(array: &ArrayRef, row: usize) -> String {
    let mut out = String::new();
    write::value(array, row, &write::WriteOptions { sort_keys: true, timestamp: None }, &mut out);
    out
}

/// The `(name, value)` options of a `map('name', 'value', ...)` argument.
fn options(function: &str, argument: Option<&ColumnarValue>) -> Result<Vec<(String, String)>> {
    let Some(argument) = argument else { return Ok(vec![]) };
    let ColumnarValue::Scalar(ScalarValue::Map(map)) = argument else { return plan_err!("{function}: the options must be a constant map('name', 'value', ...)") };
    if map.is_empty() || map.is_null(0) {
        return Ok(vec![]);
    }
    let entries = map.value(0);
    let text = |column: &ArrayRef, i| arrow::util::display::array_value_to_string(column, i).unwrap_or_default();
    Ok((0..entries.len()).map(|i| (text(entries.column(0), i), text(entries.column(1), i))).collect())
}

fn unsupported_option<T>(function: &str, name: &str, supported: &str) -> Result<T> {
    plan_err!("{function}: the option '{name}' is not supported (hela reads {supported})")
}

/// Spark's `from_json(json, schema[, options])`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromJson {
    signature: Signature,
}

impl FromJson {
    fn new() -> Self {
        FromJson { signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

fn schema_of(argument: Option<&ScalarValue>) -> Result<DataType> {
    match argument {
        Some(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)) | ScalarValue::LargeUtf8(Some(text))) => match ddl::parse(text) {
            Ok(data_type) => Ok(data_type),
            Err(error) => plan_err!("from_json: {error}"),
        },
        _ => plan_err!("from_json(json, schema): the schema must be a constant string such as 'a INT, b STRING'"),
    }
}

impl ScalarUDFImpl for FromJson {
    fn name(&self) -> &str {
        "from_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [json, schema, rest @ ..] if rest.len() <= 1 => {
                let json = if args::is_text(json) || json.is_null() { DataType::Utf8 } else { return plan_err!("from_json takes the JSON as text, not {json}") };
                Ok([json, schema.clone()].into_iter().chain(rest.iter().cloned()).collect())
            }
            _ => plan_err!("from_json takes (json, schema[, options]), not {} arguments", arg_types.len()),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("from_json gives its type from its schema")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new("from_json", schema_of(args.scalar_arguments.get(1).copied().flatten())?, true)))
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let data_type = call.return_field.data_type().clone();
        let mut formats = read::TimeFormats::default();
        for (name, value) in options("from_json", call.args.get(2))? {
            let pattern = || JavaPattern::new(&value, Use::Parse).or_else(|e| plan_err!("from_json: the option {name}: {e}"));
            match name.as_str() {
                "timestampFormat" => formats.timestamp = Some(pattern()?),
                "dateFormat" => formats.date = Some(pattern()?),
                other => return unsupported_option("from_json", other, "timestampFormat and dateFormat"),
            }
        }
        let rows = call.number_rows;
        let texts = args::text(&call.args[0], rows)?;
        let is_struct = matches!(data_type, DataType::Struct(_));
        let empty = Value::Object(Default::default());
        let parsed: Vec<Option<Value>> = (0..rows).map(|row| texts.is_valid(row).then(|| serde_json::from_str::<Value>(texts.value(row)).ok()).flatten()).collect();
        // Text that is not JSON: a struct of nulls, as Spark's PERMISSIVE reading gives.
        let values: Vec<Option<&Value>> = parsed
            .iter()
            .enumerate()
            .map(|(row, value)| match value {
                Some(value) if !is_struct || value.is_object() => Some(value),
                _ if is_struct && texts.is_valid(row) => Some(&empty),
                _ => None,
            })
            .collect();
        let answer = read::column(&values, &data_type, &formats)?;
        args::finish(answer, args::all_scalar(&call.args))
    }
}

/// Spark's `to_json(value[, options])`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJson {
    signature: Signature,
}

impl ToJson {
    fn new() -> Self {
        ToJson { signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for ToJson {
    fn name(&self) -> &str {
        "to_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [value, ..] if arg_types.len() <= 2 && matches!(value, DataType::Struct(_) | DataType::Map(..) | DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)) => Ok(arg_types.to_vec()),
            [value, ..] if arg_types.len() <= 2 => plan_err!("to_json takes a struct, map or array, not {value}"),
            _ => plan_err!("to_json takes (value[, options]), not {} arguments", arg_types.len()),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut written = write::WriteOptions::default();
        for (name, value) in options("to_json", call.args.get(1))? {
            match name.as_str() {
                "sortKeys" => written.sort_keys = value.eq_ignore_ascii_case("true"),
                "timestampFormat" => written.timestamp = Some(JavaPattern::new(&value, Use::Format).or_else(|e| plan_err!("to_json: the option {name}: {e}"))?),
                other => return unsupported_option("to_json", other, "sortKeys and timestampFormat"),
            }
        }
        let rows = call.number_rows;
        let values = call.args[0].to_array(rows)?;
        let mut out = StringBuilder::with_capacity(rows, rows * 32);
        let mut text = String::new();
        for row in 0..rows {
            if values.is_null(row) {
                out.append_null();
                continue;
            }
            text.clear();
            write::value(&values, row, &written, &mut text);
            out.append_value(&text);
        }
        args::finish(Arc::new(out.finish()), args::all_scalar(&call.args))
    }
}

/// Spark's `schema_of_json(json[, options])`: the DDL of the type Spark infers. Of the
/// options, `allowNumericLeadingZeros` is taken (`01` reads as 1); others are refused.
fn schema_of_json() -> SparkFunction {
    SparkFunction::new("schema_of_json", &[Kind::Text, Kind::Options], 1, DataType::Utf8, |name, call, rows| {
        let texts = args::text(&call[0], rows)?;
        let options = call.get(1).map(args::options).transpose()?.unwrap_or_default();
        let mut leading_zeros = false;
        for (option, value) in &options {
            match option.as_str() {
                "allownumericleadingzeros" => leading_zeros = value.eq_ignore_ascii_case("true"),
                other => return exec_err!("{name}: the option '{other}' is not supported (allowNumericLeadingZeros is)"),
            }
        }
        let mut out = StringBuilder::new();
        for row in 0..rows {
            if texts.is_null(row) {
                out.append_null();
                continue;
            }
            let text = if leading_zeros { without_leading_zeros(texts.value(row)) } else { texts.value(row).into() };
            match serde_json::from_str::<Value>(&text) {
                Ok(value) => out.append_value(ddl::write(&infer::infer(&value))),
                Err(error) => return exec_err!("{name}: the text is not JSON ({error})"),
            }
        }
        Ok(Arc::new(out.finish()))
    })
}

/// `text` with the leading zeros of its numbers (outside strings) dropped: `[01, 007.5]`
/// as `[1, 7.5]`.
fn without_leading_zeros(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped, mut previous) = (false, false, ' ');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            in_string = c != '"' || escaped;
            escaped = c == '\\' && !escaped;
        } else if c == '"' {
            in_string = true;
        } else if c == '0' && !previous.is_ascii_digit() && previous != '.' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            // A leading zero of a number: dropped (the digits after it stay).
            continue;
        }
        out.push(c);
        previous = c;
    }
    if out.len() == text.len() { text.into() } else { out.into() }
}

/// Spark's `json_array_length(json)`: the number of elements of a JSON array; null for
/// anything else.
fn json_array_length() -> SparkFunction {
    SparkFunction::new("json_array_length", &[Kind::Text], 1, DataType::Int32, |_, call, rows| {
        let texts = args::text(&call[0], rows)?;
        let mut out = Int32Builder::with_capacity(rows);
        for row in 0..rows {
            let length = texts.is_valid(row).then(|| serde_json::from_str::<Vec<IgnoredAny>>(texts.value(row)).ok()).flatten();
            out.append_option(length.map(|elements| elements.len() as i32));
        }
        Ok(Arc::new(out.finish()))
    })
}

/// Spark's `json_object_keys(json)`: the keys of a JSON object in their order; null for
/// anything else.
fn json_object_keys() -> SparkFunction {
    SparkFunction::new("json_object_keys", &[Kind::Text], 1, DataType::new_list(DataType::Utf8, true), |_, call, rows| {
        let texts = args::text(&call[0], rows)?;
        let mut out = ListBuilder::new(StringBuilder::new());
        for row in 0..rows {
            let keys = texts.is_valid(row).then(|| serde_json::Deserializer::from_str(texts.value(row)).deserialize_any(KeysInOrder).ok().flatten()).flatten();
            match keys {
                Some(keys) => {
                    keys.iter().for_each(|k| out.values().append_value(k));
                    out.append(true);
                }
                None => out.append(false),
            }
        }
        Ok(Arc::new(out.finish()))
    })
}

/// An object's keys in the order the text gives them; none for any other value.
struct KeysInOrder;

impl<'de> Visitor<'de> for KeysInOrder {
    type Value = Option<Vec<String>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            keys.push(key);
        }
        Ok(Some(keys))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zeros_of_numbers_only_are_dropped() {
        assert_eq!(without_leading_zeros(r#"[01, 007.5, 0.5, 0, -01, 10, "01", "a\"01"]"#), r#"[1, 7.5, 0.5, 0, -1, 10, "01", "a\"01"]"#);
    }
}
