//! `split(str, regex[, limit])`: Spark splits around matches of a regular expression.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;

use super::args::{self, Kind};
use super::function::SparkFunction;

/// Spark's `split`: the parts of `str` around each match of `regex`, as an array. A
/// positive `limit` caps the number of parts (the last one holds the rest); otherwise
/// every part is kept, trailing empty ones included. A match of nothing at the very start
/// makes no empty first part (Java's rule).
pub fn split() -> SparkFunction {
    let returns = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
    SparkFunction::new("split", &[Kind::Text, Kind::Text, Kind::Int], 2, returns, split_rows)
}

fn split_rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let texts = args::text(&call[0], rows)?;
    let patterns = args::text(&call[1], rows)?;
    let limits = call.get(2).map(|limit| args::int(limit, rows)).transpose()?;
    let mut regexes = args::regexes();
    let mut out = ListBuilder::new(StringBuilder::new());
    for row in 0..rows {
        let limit = limits.as_ref().map_or(Some(-1), |l| l.is_valid(row).then(|| l.value(row)));
        let (Some(limit), true, true) = (limit, texts.is_valid(row), patterns.is_valid(row)) else {
            out.append_null();
            continue;
        };
        let regex = regexes.get(name, patterns.value(row))?;
        let text = texts.value(row);
        let limit = usize::try_from(limit).ok().filter(|&l| l > 0).unwrap_or(usize::MAX);
        let skip = usize::from(regex.find(text).is_some_and(|m| m.end() == 0 && !text.is_empty()));
        for part in regex.splitn(text, limit.saturating_add(skip)).skip(skip) {
            out.values().append_value(part);
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}
