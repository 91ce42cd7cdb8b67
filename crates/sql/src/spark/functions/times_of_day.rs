//! Spark's functions of the time of day (`TIME`): `make_time`, `time_from_seconds`,
//! `time_from_millis`, `time_from_micros`, their inverses `time_to_*`, and
//! `time_diff(unit, start, end)`, `to_time`/`try_to_time` of text (with a Java pattern or
//! as `HH:mm[:ss[.ffffff]]`), and `hour`, `minute` and `second` of a time of day or of a
//! point in time. A time outside the day (below 0 or from 24:00 on) stops the query, as
//! in Spark.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, Time64NanosecondArray};
use arrow::datatypes::{DataType, Time64NanosecondType, TimestampMicrosecondType};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF};

use chrono::format::{Parsed, parse};
use chrono::{NaiveTime, Timelike};

use super::args::{self, Compiled, Kind, time_of_day_type};
use super::java_pattern::{JavaPattern, Use};
use super::function::SparkFunction;

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    let time = time_of_day_type();
    [
        SparkFunction::new("time_from_micros", &[Kind::Int], 1, time.clone(), |name, call, rows| from_whole(name, call, rows, 1_000)),
        SparkFunction::new("time_from_millis", &[Kind::Int], 1, time.clone(), |name, call, rows| from_whole(name, call, rows, 1_000_000)),
        SparkFunction::new("time_from_seconds", &[Kind::Float], 1, time.clone(), |name, call, rows| {
            let seconds = args::float(&call[0], rows)?;
            times(name, seconds.iter().map(|s| s.map(|s| (s * 1e6).round() as i64 * 1_000)))
        }),
        SparkFunction::new("make_time", &[Kind::Int, Kind::Int, Kind::Float], 3, time, |name, call, rows| {
            let (hours, minutes, seconds) = (args::int(&call[0], rows)?, args::int(&call[1], rows)?, args::float(&call[2], rows)?);
            let mut nanos = Vec::with_capacity(rows);
            for row in 0..rows {
                if hours.is_null(row) || minutes.is_null(row) || seconds.is_null(row) {
                    nanos.push(None);
                    continue;
                }
                let (h, m, s) = (hours.value(row), minutes.value(row), seconds.value(row));
                if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0.0..60.0).contains(&s) {
                    return exec_err!("{name}: {h}:{m}:{s} is not a time of day");
                }
                nanos.push(Some((h * 3600 + m * 60) * 1_000_000_000 + (s * 1e6).round() as i64 * 1_000));
            }
            times(name, nanos.into_iter())
        }),
        SparkFunction::new("time_to_micros", &[Kind::TimeOfDay], 1, DataType::Int64, |_, call, rows| to_whole(call, rows, 1_000)),
        SparkFunction::new("time_to_millis", &[Kind::TimeOfDay], 1, DataType::Int64, |_, call, rows| to_whole(call, rows, 1_000_000)),
        SparkFunction::new("time_to_seconds", &[Kind::TimeOfDay], 1, DataType::Float64, |_, call, rows| {
            let nanos = call[0].to_array(rows)?;
            // Whole microseconds, as Spark's TIME holds.
            let seconds = nanos.as_primitive::<Time64NanosecondType>().iter().map(|n| n.map(|n| (n / 1_000) as f64 / 1e6));
            Ok(Arc::new(seconds.collect::<Float64Array>()) as ArrayRef)
        }),
        SparkFunction::new("time_diff", &[Kind::Text, Kind::TimeOfDay, Kind::TimeOfDay], 3, DataType::Int64, |name, call, rows| {
            let units = args::text(&call[0], rows)?;
            let (start, end) = (call[1].to_array(rows)?, call[2].to_array(rows)?);
            let (start, end) = (start.as_primitive::<Time64NanosecondType>(), end.as_primitive::<Time64NanosecondType>());
            let mut out = Int64Array::builder(rows);
            for row in 0..rows {
                if units.is_null(row) || start.is_null(row) || end.is_null(row) {
                    out.append_null();
                    continue;
                }
                let per_unit = match units.value(row).to_ascii_uppercase().as_str() {
                    "HOUR" => 3_600_000_000_000,
                    "MINUTE" => 60_000_000_000,
                    "SECOND" => 1_000_000_000,
                    "MILLISECOND" => 1_000_000,
                    "MICROSECOND" => 1_000,
                    other => return exec_err!("{name}: the unit '{other}' is not one of HOUR, MINUTE, SECOND, MILLISECOND and MICROSECOND"),
                };
                out.append_value((end.value(row) - start.value(row)) / per_unit);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
    ]
    .into_iter()
    .chain(["hour", "minute", "second"].map(|name| SparkFunction::new(name, &[Kind::Time], 1, DataType::Int32, clock_field)))
    .chain(["to_time", "try_to_time"].map(|name| SparkFunction::new(name, &[Kind::Text, Kind::Text], 1, time_of_day_type(), read_times)))
    .map(ScalarUDF::from)
    .collect()
}

/// Times of day read from text, with the pattern of the second argument when there is one;
/// text that does not read as one stops the query (`to_time`) or is NULL (`try_to_time`).
fn read_times(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let texts = args::text(&call[0], rows)?;
    let patterns = call.get(1).map(|p| args::text(p, rows)).transpose()?;
    let mut compiled: Compiled<JavaPattern> = Compiled::new(|p| JavaPattern::new(p, Use::Parse));
    let mut nanos = Vec::with_capacity(rows);
    for row in 0..rows {
        if texts.is_null(row) || patterns.as_ref().is_some_and(|p| p.is_null(row)) {
            nanos.push(None);
            continue;
        }
        let text = texts.value(row);
        let read = match &patterns {
            Some(patterns) => {
                let mut parsed = Parsed::new();
                let pattern = compiled.get(name, patterns.value(row))?;
                parse(&mut parsed, text, pattern.items().iter()).ok().and_then(|_| parsed.to_naive_time().ok())
            }
            None => ["%H:%M:%S%.f", "%H:%M"].iter().find_map(|format| NaiveTime::parse_from_str(text.trim(), format).ok()),
        };
        match read {
            Some(time) => nanos.push(Some(time.num_seconds_from_midnight() as i64 * 1_000_000_000 + (time.nanosecond() / 1_000) as i64 * 1_000)),
            None if name == "try_to_time" => nanos.push(None),
            None => return exec_err!("{name}: '{text}' is not a time of day{}", patterns.as_ref().map(|p| format!(" in the pattern '{}'", p.value(row))).unwrap_or_default()),
        }
    }
    times(name, nanos.into_iter())
}

/// The hour, minute or second (by the function's name) of times read as microseconds.
fn clock_field(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let (micros_per_unit, units) = match name {
        "hour" => (3_600_000_000, 24),
        "minute" => (60_000_000, 60),
        _ => (1_000_000, 60),
    };
    let micros = args::time(&call[0], rows)?;
    let fields = micros.as_primitive::<TimestampMicrosecondType>().iter().map(|m| m.map(|m| m.div_euclid(micros_per_unit).rem_euclid(units) as i32));
    Ok(Arc::new(fields.collect::<Int32Array>()))
}

/// Times of day from nanoseconds since midnight, each checked to be within the day.
fn times(name: &str, nanos: impl Iterator<Item = Option<i64>>) -> Result<ArrayRef> {
    let nanos: Vec<Option<i64>> = nanos.collect();
    if let Some(outside) = nanos.iter().flatten().find(|n| !(0..NANOS_PER_DAY).contains(*n)) {
        return exec_err!("{name}: {} seconds after midnight is not a time of day", *outside as f64 / 1e9);
    }
    Ok(Arc::new(Time64NanosecondArray::from(nanos)))
}

/// Times of day from whole numbers of units of `unit_nanos` nanoseconds.
fn from_whole(name: &str, call: &[ColumnarValue], rows: usize, unit_nanos: i64) -> Result<ArrayRef> {
    let counts = args::int(&call[0], rows)?;
    times(name, counts.iter().map(|c| c.map(|c| c.saturating_mul(unit_nanos))))
}

/// Whole units of `unit_nanos` nanoseconds since midnight.
fn to_whole(call: &[ColumnarValue], rows: usize, unit_nanos: i64) -> Result<ArrayRef> {
    let nanos = call[0].to_array(rows)?;
    let counts = nanos.as_primitive::<Time64NanosecondType>().iter().map(|n| n.map(|n| n / unit_nanos));
    Ok(Arc::new(counts.collect::<Int64Array>()))
}
