//! `get_json_object(json, path)`: the value at a JSONPath (`$`, `.name`, `['name']`,
//! `[index]`, `[*]` for every element) of a JSON text: a string as itself, anything else
//! as compact JSON; NULL when the text is not JSON or nothing is at the path, as in Spark.
//! Through `[*]`, one value found is that value, more are a JSON array of them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;
use serde_json::Value;

use super::args::{self, Compiled, Kind};
use super::function::SparkFunction;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    Field(String),
    Index(usize),
    /// `[*]`: every element of an array.
    Every,
}

/// Spark's `get_json_object`.
pub fn get_json_object() -> SparkFunction {
    SparkFunction::new("get_json_object", &[Kind::Text, Kind::Text], 2, DataType::Utf8, rows)
}

fn rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let (texts, paths) = (args::text(&call[0], rows)?, args::text(&call[1], rows)?);
    let mut compiled: Compiled<Vec<Step>> = Compiled::new(parse_path);
    let mut out = StringBuilder::new();
    for row in 0..rows {
        if texts.is_null(row) || paths.is_null(row) {
            out.append_null();
            continue;
        }
        let steps = compiled.get(name, paths.value(row))?;
        let Ok(document) = serde_json::from_str::<Value>(texts.value(row)) else {
            out.append_null();
            continue;
        };
        let found = follow(&document, steps);
        let value = match found.as_slice() {
            [] => None,
            [one] if !steps.contains(&Step::Every) || !matches!(one, Value::Null) => Some((*one).clone()),
            [_] => None,
            many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
        };
        match value {
            None | Some(Value::Null) => out.append_null(),
            Some(Value::String(text)) => out.append_value(text),
            Some(other) => out.append_value(other.to_string()),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// The values at the end of `steps` from `value` (several through `[*]`).
pub(super) fn follow<'a>(value: &'a Value, steps: &[Step]) -> Vec<&'a Value> {
    let Some((step, rest)) = steps.split_first() else { return vec![value] };
    match step {
        Step::Field(field) => value.get(field).map(|v| follow(v, rest)).unwrap_or_default(),
        Step::Index(index) => value.get(*index).map(|v| follow(v, rest)).unwrap_or_default(),
        Step::Every => value.as_array().map(|items| items.iter().flat_map(|v| follow(v, rest)).collect()).unwrap_or_default(),
    }
}

/// The steps of a path, or what is wrong with it.
pub(super) fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let Some(mut rest) = path.strip_prefix('$') else {
        return Err(format!("the JSON path '{path}' must start with $"));
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let field = &after[..end];
            if field.is_empty() || field == "*" {
                return Err(format!("the JSON path '{path}': a field name is missing or a wildcard (not supported) after '.'"));
            }
            steps.push(Step::Field(field.to_string()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']").ok_or_else(|| format!("the JSON path '{path}': ['name'] is not closed"))?;
            steps.push(Step::Field(after[..end].to_string()));
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or_else(|| format!("the JSON path '{path}': [index] is not closed"))?;
            let inside = after[..end].trim();
            if inside == "*" {
                steps.push(Step::Every);
            } else {
                let index = inside.parse().map_err(|_| format!("the JSON path '{path}': [{inside}] is not an index or *"))?;
                steps.push(Step::Index(index));
            }
            rest = &after[end + 1..];
        } else {
            return Err(format!("the JSON path '{path}': unexpected '{}'", rest.chars().next().unwrap_or_default()));
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse_path("$.a.b[2]['c d']").unwrap(), [Step::Field("a".into()), Step::Field("b".into()), Step::Index(2), Step::Field("c d".into())]);
        assert_eq!(parse_path("$").unwrap(), []);
        assert!(parse_path("a.b").unwrap_err().contains("must start with $"));
        assert_eq!(parse_path("$[*].a").unwrap(), [Step::Every, Step::Field("a".into())]);
        assert!(parse_path("$.a[x]").unwrap_err().contains("not an index"));
        assert!(parse_path("$.").is_err());
        assert!(parse_path("$['a").is_err());
    }

    #[test]
    fn every_element_is_followed() {
        let document: Value = serde_json::from_str(r#"[{"a":1},{"b":2},{"a":[3,4]}]"#).unwrap();
        let found = follow(&document, &parse_path("$[*].a").unwrap());
        assert_eq!(found, [&Value::from(1), &serde_json::json!([3, 4])]);
        assert!(follow(&document, &parse_path("$[*].z").unwrap()).is_empty());
    }
}
