//! Spark's `VARIANT` functions. A variant in hela is JSON text in its canonical form
//! (compact, object members in key order) in a column marked with Arrow's `arrow.json`
//! extension type, so that a variant is told apart from a plain string wherever it goes
//! (a string given to `variant_insert` is inserted as a JSON string, a variant as itself).
//! Numbers are read as 64-bit integers or doubles.
//!
//! `parse_json`/`try_parse_json` make one; `variant_get`/`try_variant_get` read the value at
//! a JSON path, as a variant or as a type; `is_variant_null`, `is_valid_variant`,
//! `schema_of_variant` and `schema_of_variant_agg` describe them; `to_variant_object` makes
//! one of a struct, map or array; and [`edit`] changes them.

mod edit;
mod schema;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{AggregateUDF, ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;

use super::args;
use super::json_path::{Step, parse_path};

/// The extension type name a variant column carries.
const EXTENSION: &str = "arrow.json";

/// The scalar variant functions.
pub fn all() -> Vec<ScalarUDF> {
    let functions = [
        Which::ParseJson,
        Which::TryParseJson,
        Which::IsVariantNull,
        Which::IsValidVariant,
        Which::SchemaOfVariant,
        Which::ToVariantObject,
        Which::VariantGet,
        Which::TryVariantGet,
    ];
    functions.into_iter().map(|which| ScalarUDF::new_from_impl(VariantFunction { which, signature: Signature::user_defined(Volatility::Immutable) })).chain(edit::all()).collect()
}

/// `schema_of_variant_agg`.
pub fn aggregates() -> Vec<AggregateUDF> {
    vec![schema::aggregate()]
}

/// A field of variants.
fn variant_field(name: &str) -> FieldRef {
    let metadata = HashMap::from([("ARROW:extension:name".to_string(), EXTENSION.to_string())]);
    Arc::new(Field::new(name, DataType::Utf8, true).with_metadata(metadata))
}

/// Whether a field holds variants.
pub(super) fn is_variant(field: &Field) -> bool {
    field.metadata().get("ARROW:extension:name").is_some_and(|n| n == EXTENSION)
}

/// `value` as canonical JSON: compact, object members in key order.
fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(members) => {
            let mut keys: Vec<&String> = members.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&members[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The variants of a column (NULL stays NULL), or an error naming the function.
fn variants(name: &str, column: &ArrayRef) -> Result<Vec<Option<Value>>> {
    let text = arrow::compute::cast(column, &DataType::Utf8)?;
    let text = text.as_any().downcast_ref::<StringArray>().expect("cast to text");
    text.iter()
        .map(|t| match t.map(serde_json::from_str::<Value>) {
            None => Ok(None),
            Some(Ok(value)) => Ok(Some(value)),
            Some(Err(error)) => exec_err!("{name}: the variant is not valid JSON ({error})"),
        })
        .collect()
}

/// The JSON values of a function's argument: a variant as itself, anything else as the JSON
/// it is written as (a string as a JSON string).
fn json_values(field: &Field, column: &ArrayRef) -> Result<Vec<Option<Value>>> {
    if is_variant(field) {
        return variants("variant", column);
    }
    let nulls = column.logical_nulls();
    let valid = |row: usize| column.data_type() != &DataType::Null && nulls.as_ref().is_none_or(|n| n.is_valid(row));
    Ok((0..column.len()).map(|row| valid(row).then(|| serde_json::from_str(&super::json::sorted_json(column, row)).unwrap_or(Value::Null))).collect())
}

/// The value at `steps` of `value`.
fn at<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(value, |value, step| match step {
        Step::Field(field) => value.get(field),
        Step::Index(index) => value.get(*index),
        Step::Every => None,
    })
}

/// The steps of a path into a variant (`$`, `.name`, `['name']`, `[index]`; not `[*]`).
fn variant_path(path: &str) -> Result<Vec<Step>, String> {
    let steps = parse_path(path)?;
    if steps.contains(&Step::Every) {
        return Err(format!("the path '{path}': [*] does not lead to one value of a variant"));
    }
    Ok(steps)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Which {
    ParseJson,
    TryParseJson,
    IsVariantNull,
    IsValidVariant,
    SchemaOfVariant,
    ToVariantObject,
    VariantGet,
    TryVariantGet,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VariantFunction {
    which: Which,
    signature: Signature,
}

impl VariantFunction {
    /// The type `variant_get` reads as, from its constant third argument.
    fn target_type(&self, argument: Option<&ScalarValue>) -> Result<Option<DataType>> {
        match argument {
            None => Ok(None),
            Some(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)) | ScalarValue::LargeUtf8(Some(text))) => {
                super::json::parse_type(text).map(Some).or_else(|e| plan_err!("{}: {e}", self.name()))
            }
            Some(_) => plan_err!("{}: the type must be a constant such as 'int' or 'array<string>'", self.name()),
        }
    }
}

impl ScalarUDFImpl for VariantFunction {
    fn name(&self) -> &str {
        match self.which {
            Which::ParseJson => "parse_json",
            Which::TryParseJson => "try_parse_json",
            Which::IsVariantNull => "is_variant_null",
            Which::IsValidVariant => "is_valid_variant",
            Which::SchemaOfVariant => "schema_of_variant",
            Which::ToVariantObject => "to_variant_object",
            Which::VariantGet => "variant_get",
            Which::TryVariantGet => "try_variant_get",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        match (self.which, arg_types) {
            (Which::ToVariantObject, [DataType::Struct(_) | DataType::Map(..) | DataType::List(_) | DataType::LargeList(_) | DataType::Null]) => Ok(arg_types.to_vec()),
            (Which::ToVariantObject, _) => plan_err!("{name} takes a struct, map or array, not {arg_types:?}"),
            (Which::VariantGet | Which::TryVariantGet, [_, _]) => Ok(vec![DataType::Utf8, DataType::Utf8]),
            (Which::VariantGet | Which::TryVariantGet, [_, _, _]) => Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Utf8]),
            (Which::VariantGet | Which::TryVariantGet, _) => plan_err!("{name} takes (variant, path[, type])"),
            (_, [_]) => Ok(vec![DataType::Utf8]),
            _ => plan_err!("{name} takes one argument, not {}", arg_types.len()),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{}: the type comes from the arguments", self.name())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let name = self.name();
        Ok(match self.which {
            Which::ParseJson | Which::TryParseJson | Which::ToVariantObject => variant_field(name),
            Which::IsVariantNull | Which::IsValidVariant => Arc::new(Field::new(name, DataType::Boolean, true)),
            Which::SchemaOfVariant => Arc::new(Field::new(name, DataType::Utf8, true)),
            Which::VariantGet | Which::TryVariantGet => match self.target_type(args.scalar_arguments.get(2).copied().flatten())? {
                None => variant_field(name),
                Some(data_type) => Arc::new(Field::new(name, data_type, true)),
            },
        })
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let name = self.name();
        let first = call.args[0].to_array(rows)?;
        let answer: ArrayRef = match self.which {
            Which::ParseJson | Which::TryParseJson => {
                let text = args::text(&call.args[0], rows)?;
                let mut out = Vec::with_capacity(rows);
                for value in text.iter() {
                    out.push(match value.map(serde_json::from_str::<Value>) {
                        None => None,
                        Some(Ok(value)) => Some(canonical(&value)),
                        Some(Err(_)) if self.which == Which::TryParseJson => None,
                        Some(Err(error)) => return exec_err!("{name}: the text is not JSON ({error}); try_parse_json gives NULL instead"),
                    });
                }
                Arc::new(StringArray::from(out))
            }
            Which::IsVariantNull => Arc::new(variants(name, &first)?.into_iter().map(|v| Some(v == Some(Value::Null))).collect::<BooleanArray>()),
            Which::IsValidVariant => {
                let text = args::text(&call.args[0], rows)?;
                Arc::new(text.iter().map(|t| t.map(|t| serde_json::from_str::<Value>(t).is_ok())).collect::<BooleanArray>())
            }
            Which::SchemaOfVariant => Arc::new(variants(name, &first)?.iter().map(|v| v.as_ref().map(|v| schema::of(v).to_string())).collect::<StringArray>()),
            Which::ToVariantObject => Arc::new((0..rows).map(|row| first.is_valid(row).then(|| super::json::sorted_json(&first, row))).map(|j| j.and_then(|j| serde_json::from_str::<Value>(&j).ok()).map(|v| canonical(&v))).collect::<StringArray>()),
            Which::VariantGet | Which::TryVariantGet => self.get(&call, &first, rows)?,
        };
        args::finish(answer, args::all_scalar(&call.args))
    }
}

impl VariantFunction {
    fn get(&self, call: &ScalarFunctionArgs, variants_column: &ArrayRef, rows: usize) -> Result<ArrayRef> {
        let name = self.name();
        let paths = args::text(&call.args[1], rows)?;
        let values = variants(name, variants_column)?;
        let mut found: Vec<Option<Value>> = Vec::with_capacity(rows);
        for (value, path) in values.iter().zip(paths.iter()) {
            let (Some(value), Some(path)) = (value, path) else {
                found.push(None);
                continue;
            };
            let steps = variant_path(path).or_else(|e| exec_err!("{name}: {e}"))?;
            found.push(at(value, &steps).cloned());
        }
        let target = call.return_field.data_type();
        if is_variant(&call.return_field) {
            return Ok(Arc::new(found.iter().map(|v| v.as_ref().map(canonical)).collect::<StringArray>()));
        }
        let present: Vec<Option<&Value>> = found.iter().map(|v| v.as_ref().filter(|v| !v.is_null())).collect();
        let read = super::json::read_as(&present, target)?;
        if self.which == Which::VariantGet
            && let Some(row) = (0..rows).find(|row| present[*row].is_some() && read.is_null(*row))
        {
            return exec_err!("{name}: {} at '{}' does not read as {target}; try_variant_get gives NULL instead", present[row].map(canonical).unwrap_or_default(), paths.value(row));
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn writes_objects_in_key_order() {
        let value: serde_json::Value = serde_json::from_str(r#"{"b": [1, {"d": 2.5, "c": null}], "a": "x"}"#).unwrap();
        assert_eq!(canonical(&value), r#"{"a":"x","b":[1,{"c":null,"d":2.5}]}"#);
    }
}
