//! Spark's `xpath` functions over XML text: `xpath` (the values of the nodes found),
//! `xpath_string`, `xpath_boolean`, and `xpath_number`/`_double`/`_float`/`_int`/`_long`/
//! `_short`. XML is read by quick-xml into a bounded tree ([`document`]); XPath 1.0 is
//! supported in the part event XML calls for: location paths (absolute, relative, `//`),
//! steps by name, `*`, `text()`, `node()`, `@name`, `@*`, `.` and `..`, position and
//! attribute-or-child-equals predicates (`[2]`, `[@Name='x']`, `[Name='x']`), and the
//! functions `count`, `sum`, `string`, `number`, `boolean` and `not`. Anything else is
//! refused with an error that says so.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanBuilder, Float32Array, Float64Array, Int16Array, Int32Array, Int64Array, ListBuilder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF};

use super::args::{self, Kind};
use super::function::SparkFunction;

mod document;
mod expression;

use document::Document;
use expression::{Expression, Parser, Value};

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    let text2 = &[Kind::Text, Kind::Text];
    let mut all = vec![
        SparkFunction::new("xpath", text2, 2, DataType::new_list(DataType::Utf8, true), |name, call, rows| {
            let mut out = ListBuilder::new(StringBuilder::new());
            for value in evaluate_rows(name, call, rows)? {
                match value {
                    Some(Value::Nodes(nodes, document)) => out.append_value(nodes.iter().map(|n| document.node_value(*n))),
                    Some(_) => return exec_err!("{name}: the expression does not select nodes"),
                    None => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
        SparkFunction::new("xpath_string", text2, 2, DataType::Utf8, |name, call, rows| {
            let mut out = StringBuilder::new();
            evaluate_rows(name, call, rows)?.into_iter().for_each(|v| out.append_option(v.map(|v| v.string())));
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
        SparkFunction::new("xpath_boolean", text2, 2, DataType::Boolean, |name, call, rows| {
            let mut out = BooleanBuilder::new();
            evaluate_rows(name, call, rows)?.into_iter().for_each(|v| out.append_option(v.map(|v| v.boolean())));
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
    ];
    for (name, returns) in [("xpath_number", DataType::Float64), ("xpath_double", DataType::Float64), ("xpath_float", DataType::Float32), ("xpath_int", DataType::Int32), ("xpath_long", DataType::Int64), ("xpath_short", DataType::Int16)] {
        all.push(SparkFunction::new(name, text2, 2, returns, |name, call, rows| {
            let numbers: Vec<Option<f64>> = evaluate_rows(name, call, rows)?.into_iter().map(|v| v.map(|v| v.number())).collect();
            // Whole numbers as Java casts a double: NaN is 0, the rest truncated and saturated.
            Ok(match name {
                "xpath_float" => Arc::new(numbers.into_iter().map(|n| n.map(|n| n as f32)).collect::<Float32Array>()) as ArrayRef,
                "xpath_int" => Arc::new(numbers.into_iter().map(|n| n.map(|n| n as i32)).collect::<Int32Array>()),
                "xpath_long" => Arc::new(numbers.into_iter().map(|n| n.map(|n| n as i64)).collect::<Int64Array>()),
                "xpath_short" => Arc::new(numbers.into_iter().map(|n| n.map(|n| n as i32 as i16)).collect::<Int16Array>()),
                _ => Arc::new(numbers.into_iter().collect::<Float64Array>()),
            })
        }));
    }
    all.into_iter().map(ScalarUDF::from).collect()
}

/// Each row's XML evaluated with its expression (NULL where either is NULL).
fn evaluate_rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<Vec<Option<Value>>> {
    let (xml, paths) = (args::text(&call[0], rows)?, args::text(&call[1], rows)?);
    let mut compiled: Option<(String, Expression)> = None;
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        if xml.is_null(row) || paths.is_null(row) {
            out.push(None);
            continue;
        }
        let path = paths.value(row);
        if compiled.as_ref().is_none_or(|(text, _)| text != path) {
            let expression = Parser::new(path).expression().map_err(|e| datafusion::common::DataFusionError::Execution(format!("{name}: the XPath '{path}' {e}")))?;
            compiled = Some((path.to_string(), expression));
        }
        let document = match Document::parse(xml.value(row)) {
            Ok(document) => Arc::new(document),
            Err(why) => return exec_err!("{name}: row {} is not XML: {why}", row + 1),
        };
        let expression = &compiled.as_ref().expect("compiled above").1;
        match expression.evaluate(&document, Document::ROOT) {
            Ok(value) => out.push(Some(value)),
            Err(why) => return exec_err!("{name}: {why}"),
        }
    }
    Ok(out)
}
