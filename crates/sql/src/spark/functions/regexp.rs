//! `regexp_extract`, `regexp_extract_all` and `regexp_replace` as Spark defines them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ColumnarValue;

use super::args::{self, Kind};
use super::function::SparkFunction;

/// Spark's `regexp_extract(str, regex[, group])`: the text of capture group `group`
/// (default 1; 0 is the whole match) in the first match, or `''` when nothing matches.
pub fn regexp_extract() -> SparkFunction {
    SparkFunction::new("regexp_extract", &[Kind::Text, Kind::Text, Kind::Int], 2, DataType::Utf8, extract_rows)
}

fn extract_rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let mut out = StringBuilder::new();
    each_row_group(name, call, rows, |found| {
        match found {
            Some((regex, index, text)) => out.append_value(regex.captures(text).and_then(|c| c.get(index)).map_or("", |m| m.as_str())),
            None => out.append_null(),
        }
    })?;
    Ok(Arc::new(out.finish()))
}

/// Calls `each` for every row of `(str, regex[, group])` arguments with the row's regular
/// expression, capture group (default 1) and text, or none when one of them is null.
fn each_row_group(name: &str, call: &[ColumnarValue], rows: usize, mut each: impl FnMut(Option<(&regex::Regex, usize, &str)>)) -> Result<()> {
    let texts = args::text(&call[0], rows)?;
    let patterns = args::text(&call[1], rows)?;
    let groups = call.get(2).map(|g| args::int(g, rows)).transpose()?;
    let mut regexes = args::regexes();
    for row in 0..rows {
        let group = groups.as_ref().map_or(Some(1), |g| g.is_valid(row).then(|| g.value(row)));
        let (Some(group), true, true) = (group, texts.is_valid(row), patterns.is_valid(row)) else {
            each(None);
            continue;
        };
        let regex = regexes.get(name, patterns.value(row))?;
        let index = group_index(name, regex, patterns.value(row), group)?;
        each(Some((regex, index, texts.value(row))));
    }
    Ok(())
}

/// Capture group `group` of `regex` (written `pattern`), or the error that it has none.
fn group_index(name: &str, regex: &regex::Regex, pattern: &str, group: i64) -> Result<usize> {
    let available = regex.captures_len() - 1;
    match usize::try_from(group).ok().filter(|&g| g <= available) {
        Some(index) => Ok(index),
        None => exec_err!("{name}: the regular expression '{pattern}' has {available} groups, so group {group} does not exist"),
    }
}

/// Spark's `regexp_extract_all(str, regex[, group])`: the text of capture group `group`
/// (default 1; 0 is the whole match) in every match, in order (`''` where the group took
/// no part in a match).
pub fn regexp_extract_all() -> SparkFunction {
    let returns = DataType::List(Arc::new(arrow::datatypes::Field::new_list_field(DataType::Utf8, true)));
    SparkFunction::new("regexp_extract_all", &[Kind::Text, Kind::Text, Kind::Int], 2, returns, extract_all_rows)
}

fn extract_all_rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let mut out = arrow::array::ListBuilder::new(StringBuilder::new());
    each_row_group(name, call, rows, |found| match found {
        Some((regex, index, text)) => {
            for captures in regex.captures_iter(text) {
                out.values().append_value(captures.get(index).map_or("", |m| m.as_str()));
            }
            out.append(true);
        }
        None => out.append_null(),
    })?;
    Ok(Arc::new(out.finish()))
}

/// Spark's `regexp_replace(str, regex, replacement[, position])`: every match from
/// character `position` on (1-based, default 1) replaced; the replacement refers to groups
/// as Java does (`$1`, `${name}`, `\$` for a dollar sign).
pub fn regexp_replace() -> SparkFunction {
    let kinds = &[Kind::Text, Kind::Text, Kind::Text, Kind::Int];
    SparkFunction::new("regexp_replace", kinds, 3, DataType::Utf8, replace_rows)
}

fn replace_rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let texts = args::text(&call[0], rows)?;
    let patterns = args::text(&call[1], rows)?;
    let replacements = args::text(&call[2], rows)?;
    let positions = call.get(3).map(|p| args::int(p, rows)).transpose()?;
    let mut regexes = args::regexes();
    let mut out = StringBuilder::new();
    for row in 0..rows {
        let position = positions.as_ref().map_or(Some(1), |p| p.is_valid(row).then(|| p.value(row)));
        let (Some(position), true, true, true) =
            (position, texts.is_valid(row), patterns.is_valid(row), replacements.is_valid(row))
        else {
            out.append_null();
            continue;
        };
        let Some(skipped) = usize::try_from(position).ok().and_then(|p| p.checked_sub(1)) else {
            return exec_err!("{name}: the position must be 1 or more, not {position}");
        };
        let regex = regexes.get(name, patterns.value(row))?;
        let replacement = rust_replacement(replacements.value(row), regex.captures_len() - 1);
        let text = texts.value(row);
        let start = text.char_indices().nth(skipped).map_or(text.len(), |(i, _)| i);
        let (kept, searched) = text.split_at(start);
        out.append_value(format!("{kept}{}", regex.replace_all(searched, replacement.as_str())));
    }
    Ok(Arc::new(out.finish()))
}

/// Rewrites a Java replacement string into the `regex` crate's syntax: `$12` takes as many
/// digits as name an existing group (Java's rule) and becomes `${12}`, `\x` is a literal `x`,
/// and a literal `$` is written `$$`.
fn rust_replacement(java: &str, groups: usize) -> String {
    let mut out = String::with_capacity(java.len() + 4);
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '$' if chars.peek() == Some(&'{') => {
                out.push('$');
                for named in chars.by_ref() {
                    out.push(named);
                    if named == '}' {
                        break;
                    }
                }
            }
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut number = 0usize;
                let mut digits = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    let longer = number * 10 + d.to_digit(10).unwrap_or(0) as usize;
                    if !digits.is_empty() && longer > groups {
                        break;
                    }
                    number = longer;
                    digits.push(d);
                    chars.next();
                }
                out.push_str(&format!("${{{digits}}}"));
            }
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rust_replacement;

    #[test]
    fn java_replacements_become_rust_ones() {
        assert_eq!(rust_replacement("$1a", 1), "${1}a");
        assert_eq!(rust_replacement("$12", 1), "${1}2");
        assert_eq!(rust_replacement("$12", 12), "${12}");
        assert_eq!(rust_replacement(r"\$5 \\ ${host}", 0), r"$$5 \ ${host}");
        assert_eq!(rust_replacement("cost: $", 0), "cost: $$");
    }
}
