//! Spark's CSV functions: `from_csv(text, schema[, options])` (one CSV line into a struct of
//! a DDL schema, PERMISSIVE: a field that does not read as its type is NULL),
//! `schema_of_csv(text)` and `to_csv(struct[, options])`. Fields are separated by `,` (the
//! `sep` option changes it) and may be quoted with `"` (a quote inside written `\"`, as
//! Spark writes it, or doubled).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;

use super::{ddl, options, read, unsupported_option, write};
use crate::spark::functions::args::{self, Kind};
use crate::spark::functions::function::SparkFunction;
use crate::spark::functions::java_pattern::{JavaPattern, Use};

/// The CSV functions.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(FromCsv { signature: Signature::variadic_any(Volatility::Immutable) }),
        ScalarUDF::new_from_impl(ToCsv { signature: Signature::variadic_any(Volatility::Immutable) }),
        ScalarUDF::from(SparkFunction::new("schema_of_csv", &[Kind::Text, Kind::Text], 1, DataType::Utf8, |_, call, rows| {
            let texts = args::text(&call[0], rows)?;
            let schemas = texts.iter().map(|text| text.map(|text| ddl::write(&inferred(&fields(text, ',')))));
            Ok(Arc::new(schemas.collect::<arrow::array::StringArray>()) as ArrayRef)
        })),
    ]
}

/// The fields of one CSV line.
fn fields(line: &str, separator: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        let field = out.last_mut().expect("a field");
        match c {
            '\\' | '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            c if c == separator && !quoted => out.push(String::new()),
            c => field.push(c),
        }
    }
    out
}

/// The type Spark infers for a CSV field: INT, BIGINT, DOUBLE, BOOLEAN or STRING.
fn field_type(text: &str) -> DataType {
    let text = text.trim();
    if text.parse::<i32>().is_ok() {
        DataType::Int32
    } else if text.parse::<i64>().is_ok() {
        DataType::Int64
    } else if !text.is_empty() && text.parse::<f64>().is_ok() {
        DataType::Float64
    } else if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") {
        DataType::Boolean
    } else {
        DataType::Utf8
    }
}

/// The struct of a line's fields as Spark names them (`_c0`, `_c1`, ...).
fn inferred(fields: &[String]) -> DataType {
    DataType::Struct(Fields::from(fields.iter().enumerate().map(|(i, f)| Field::new(format!("_c{i}"), field_type(f), true)).collect::<Vec<_>>()))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FromCsv {
    signature: Signature,
}

impl ScalarUDFImpl for FromCsv {
    fn name(&self) -> &str {
        "from_csv"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [text, schema, rest @ ..] if rest.len() <= 1 && (args::is_text(text) || text.is_null()) => Ok([DataType::Utf8, schema.clone()].into_iter().chain(rest.iter().cloned()).collect()),
            _ => plan_err!("from_csv takes (text, schema[, options]), not {arg_types:?}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("from_csv gives its type from its schema")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let schema = match args.scalar_arguments.get(1).copied().flatten() {
            Some(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)) | ScalarValue::LargeUtf8(Some(text))) => ddl::parse(text),
            _ => return plan_err!("from_csv(text, schema): the schema must be a constant string such as 'a INT, b STRING'"),
        };
        match schema {
            Ok(data_type @ DataType::Struct(_)) => Ok(Arc::new(Field::new("from_csv", data_type, true))),
            Ok(other) => plan_err!("from_csv: the schema must be a struct of fields, not {other}"),
            Err(error) => plan_err!("from_csv: {error}"),
        }
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let data_type = call.return_field.data_type().clone();
        let DataType::Struct(schema) = &data_type else { return exec_err!("from_csv: the schema is not a struct") };
        let mut formats = read::TimeFormats::default();
        let mut separator = ',';
        for (name, value) in options("from_csv", call.args.get(2))? {
            let pattern = || JavaPattern::new(&value, Use::Parse).or_else(|e| plan_err!("from_csv: the option {name}: {e}"));
            match name.as_str() {
                "timestampFormat" => formats.timestamp = Some(pattern()?),
                "dateFormat" => formats.date = Some(pattern()?),
                "sep" | "delimiter" if value.chars().count() == 1 => separator = value.chars().next().expect("one character"),
                other => return unsupported_option("from_csv", other, "sep (one character), timestampFormat and dateFormat"),
            }
        }
        let rows = call.number_rows;
        let texts = args::text(&call.args[0], rows)?;
        // Each line as a JSON object of its fields, read as the JSON functions read.
        let objects: Vec<Option<Value>> = texts
            .iter()
            .map(|line| {
                line.map(|line| {
                    let values = fields(line, separator);
                    let members = schema.iter().zip(values).filter(|(_, text)| !text.is_empty()).map(|(field, text)| {
                        let value = match field.data_type() {
                            DataType::Utf8 => Value::String(text),
                            _ => serde_json::from_str::<Value>(text.trim()).ok().filter(|v| !v.is_string()).unwrap_or(Value::String(text)),
                        };
                        (field.name().clone(), value)
                    });
                    Value::Object(members.collect())
                })
            })
            .collect();
        let values: Vec<Option<&Value>> = objects.iter().map(Option::as_ref).collect();
        let answer = read::column(&values, &data_type, &formats)?;
        args::finish(answer, args::all_scalar(&call.args))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToCsv {
    signature: Signature,
}

impl ScalarUDFImpl for ToCsv {
    fn name(&self) -> &str {
        "to_csv"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Struct(_), rest @ ..] if rest.len() <= 1 => Ok(arg_types.to_vec()),
            _ => plan_err!("to_csv takes (struct[, options]), not {arg_types:?}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut written = write::WriteOptions::default();
        let mut separator = ',';
        for (name, value) in options("to_csv", call.args.get(1))? {
            match name.as_str() {
                "timestampFormat" => written.timestamp = Some(JavaPattern::new(&value, Use::Format).or_else(|e| plan_err!("to_csv: the option {name}: {e}"))?),
                "sep" | "delimiter" if value.chars().count() == 1 => separator = value.chars().next().expect("one character"),
                other => return unsupported_option("to_csv", other, "sep (one character) and timestampFormat"),
            }
        }
        let rows = call.number_rows;
        let structs = call.args[0].to_array(rows)?;
        let columns = structs.as_struct().columns();
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        for row in 0..rows {
            if structs.is_null(row) {
                out.append_null();
                continue;
            }
            let mut line = String::new();
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    line.push(separator);
                }
                if column.is_valid(row) {
                    // The field as the JSON functions write it, a JSON string read back.
                    let mut json = String::new();
                    write::value(column, row, &written, &mut json);
                    let text = serde_json::from_str::<String>(&json).unwrap_or(json);
                    if text.contains([separator, '"', '\n', '\r']) {
                        line.push('"');
                        line.push_str(&text.replace('"', "\\\""));
                        line.push('"');
                    } else {
                        line.push_str(&text);
                    }
                }
            }
            out.append_value(line);
        }
        args::finish(Arc::new(out.finish()), args::all_scalar(&call.args))
    }
}

#[cfg(test)]
mod tests {
    use super::fields;

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(fields(r#"1,"a,b","say ""hi""",,x"#, ','), ["1", "a,b", "say \"hi\"", "", "x"]);
        assert_eq!(fields(r#""say \"hi\"""#, ','), ["say \"hi\""]);
        assert_eq!(fields("a;b", ';'), ["a", "b"]);
    }
}
