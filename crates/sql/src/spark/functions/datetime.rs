//! Spark's date-time functions that take Java patterns: `date_format`, `from_unixtime`,
//! `to_timestamp`, `to_date` and `unix_timestamp`. Times are UTC. Text that does not read
//! as a time gives null, as Spark does outside ANSI mode.

use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Builder, Int64Builder, StringArray, StringBuilder, TimestampMicrosecondBuilder};
use arrow::datatypes::{DataType, TimestampMicrosecondType};
use chrono::format::{Parsed, parse};
use chrono::{DateTime, NaiveTime};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;

use super::args::{self, Compiled, Kind};
use super::function::SparkFunction;
use super::java_pattern::{JavaPattern, Use};

/// Spark's default pattern for `from_unixtime` and `unix_timestamp`.
const DEFAULT_PATTERN: &str = "yyyy-MM-dd HH:mm:ss";
const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// `date_format(time, pattern)`: a timestamp, date or timestamp text written with a Java pattern.
pub fn date_format() -> SparkFunction {
    SparkFunction::new("date_format", &[Kind::Time, Kind::Text], 2, DataType::Utf8, |name, call, rows| {
        let times = args::time(&call[0], rows)?;
        format_rows(name, times.as_primitive::<TimestampMicrosecondType>().iter(), &call[1], rows)
    })
}

/// `from_unixtime(seconds[, pattern])`: seconds since 1970 written with a Java pattern.
pub fn from_unixtime() -> SparkFunction {
    SparkFunction::new("from_unixtime", &[Kind::Int, Kind::Text], 1, DataType::Utf8, |name, call, rows| {
        let seconds = args::int(&call[0], rows)?;
        let micros = seconds.iter().map(|s| s.and_then(|s| s.checked_mul(MICROS_PER_SECOND)));
        format_rows(name, micros, call.get(1).unwrap_or(&default_pattern()), rows)
    })
}

/// `to_timestamp(text[, pattern])`: a timestamp read from text, with a Java pattern when given.
pub fn to_timestamp() -> SparkFunction {
    SparkFunction::new("to_timestamp", &[Kind::Time, Kind::Text], 1, args::timestamp_type(), |name, call, rows| {
        let mut out = TimestampMicrosecondBuilder::with_capacity(rows);
        out.extend(parsed_micros(name, call, rows, None)?);
        Ok(Arc::new(out.finish()))
    })
}

/// `to_date(text[, pattern])`: the day of a timestamp read from text.
pub fn to_date() -> SparkFunction {
    SparkFunction::new("to_date", &[Kind::Time, Kind::Text], 1, DataType::Date32, |name, call, rows| {
        let mut out = Date32Builder::with_capacity(rows);
        let days = parsed_micros(name, call, rows, None)?.into_iter();
        out.extend(days.map(|m| m.and_then(|m| i32::try_from(m.div_euclid(MICROS_PER_DAY)).ok())));
        Ok(Arc::new(out.finish()))
    })
}

/// `unix_timestamp(time[, pattern])`: seconds since 1970 of a timestamp or of text read
/// with a Java pattern (default `yyyy-MM-dd HH:mm:ss`).
pub fn unix_timestamp() -> SparkFunction {
    SparkFunction::new("unix_timestamp", &[Kind::Time, Kind::Text], 1, DataType::Int64, |name, call, rows| {
        let mut out = Int64Builder::with_capacity(rows);
        let micros = parsed_micros(name, call, rows, Some(DEFAULT_PATTERN))?.into_iter();
        out.extend(micros.map(|m| m.map(|m| m.div_euclid(MICROS_PER_SECOND))));
        Ok(Arc::new(out.finish()))
    })
}

fn default_pattern() -> ColumnarValue {
    ColumnarValue::Scalar(DEFAULT_PATTERN.into())
}

/// Writes each time (microseconds, UTC) with the row's pattern.
fn format_rows(
    name: &str,
    micros: impl Iterator<Item = Option<i64>>,
    pattern: &ColumnarValue,
    rows: usize,
) -> Result<ArrayRef> {
    let patterns = args::text(pattern, rows)?;
    let mut compiled: Compiled<JavaPattern> = Compiled::new(|p| JavaPattern::new(p, Use::Format));
    let mut out = StringBuilder::new();
    for (row, time) in micros.enumerate() {
        let time = time.and_then(DateTime::from_timestamp_micros);
        let (Some(time), true) = (time, patterns.is_valid(row)) else {
            out.append_null();
            continue;
        };
        let pattern = compiled.get(name, patterns.value(row))?;
        let mut text = String::new();
        match write!(text, "{}", time.format_with_items(pattern.items().iter())) {
            Ok(()) => out.append_value(text),
            Err(_) => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// The microseconds (UTC) of the first argument: a time as it is, text read with the
/// pattern in the second argument, else with `default`, else as a timestamp literal.
fn parsed_micros(name: &str, call: &[ColumnarValue], rows: usize, default: Option<&str>) -> Result<Vec<Option<i64>>> {
    let given = call.get(1).cloned().or_else(|| default.map(|d| ColumnarValue::Scalar(d.into())));
    let Some(pattern) = given.filter(|_| args::is_text(&call[0].data_type())) else {
        let times = args::time(&call[0], rows)?;
        return Ok(times.as_primitive::<TimestampMicrosecondType>().iter().collect());
    };
    let texts: StringArray = args::text(&call[0], rows)?;
    let patterns = args::text(&pattern, rows)?;
    let mut compiled: Compiled<JavaPattern> = Compiled::new(|p| JavaPattern::new(p, Use::Parse));
    (0..rows)
        .map(|row| {
            if texts.is_null(row) || patterns.is_null(row) {
                return Ok(None);
            }
            let pattern = compiled.get(name, patterns.value(row))?;
            Ok(read_micros(texts.value(row), pattern))
        })
        .collect()
}

/// Reads `text` with `pattern`; fields the pattern lacks take Spark's defaults (1970,
/// January, the 1st, midnight, UTC).
pub(crate) fn read_micros(text: &str, pattern: &JavaPattern) -> Option<i64> {
    let mut parsed = Parsed::new();
    parse(&mut parsed, text, pattern.items().iter()).ok()?;
    if parsed.year().is_none() && parsed.year_mod_100().is_none() && parsed.isoyear().is_none() {
        parsed.set_year(1970).ok()?;
    }
    if parsed.month().is_none() && parsed.ordinal().is_none() && parsed.isoweek().is_none() {
        parsed.set_month(1).ok()?;
    }
    if parsed.day().is_none() && parsed.ordinal().is_none() && parsed.weekday().is_none() {
        parsed.set_day(1).ok()?;
    }
    let date = parsed.to_naive_date().ok()?;
    let time = if parsed.hour_mod_12().is_some() { parsed.to_naive_time().ok()? } else { NaiveTime::MIN };
    let local = date.and_time(time).and_utc().timestamp_micros();
    Some(local - i64::from(parsed.offset().unwrap_or(0)) * MICROS_PER_SECOND)
}
