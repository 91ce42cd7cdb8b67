//! Spark's calendar arithmetic: `make_timestamp` and its `_ntz`, `_ltz` and `try_` forms
//! (a timestamp from its fields, or from a date and a time of day, in a given zone),
//! `months_between` and `convert_timezone`. Timestamps are UTC microseconds, as hela's
//! session runs in UTC.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Builder, TimestampMicrosecondBuilder};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, Time64NanosecondType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::args::{self, Kind};
use super::function::SparkFunction;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    let mut all: Vec<ScalarUDF> = ["make_timestamp", "make_timestamp_ltz", "make_timestamp_ntz", "try_make_timestamp", "try_make_timestamp_ltz", "try_make_timestamp_ntz"]
        .into_iter()
        .map(|name| ScalarUDF::new_from_impl(MakeTimestamp { name, signature: Signature::user_defined(Volatility::Immutable) }))
        .collect();
    all.push(ScalarUDF::from(SparkFunction::new("months_between", &[Kind::Time, Kind::Time, Kind::Bool], 2, DataType::Float64, months_between)));
    all.push(ScalarUDF::from(SparkFunction::new("convert_timezone", &[Kind::Text, Kind::Text, Kind::Time], 2, args::timestamp_type(), convert_timezone)));
    all
}

/// A zone by its IANA name or a fixed offset (`+01:00`, `UTC`), or an error naming it.
fn zone(function: &str, name: &str) -> Result<Tz> {
    match name.parse::<Tz>() {
        Ok(tz) => Ok(tz),
        Err(_) => exec_err!("{function}: '{name}' is not a time zone (an IANA name such as 'Europe/Brussels', or 'UTC')"),
    }
}

/// Microseconds since the epoch of the wall time `local` in `tz` (the earlier instant of
/// an hour that happens twice; the hour after a gap for one that does not happen).
fn instant(local: NaiveDateTime, tz: Option<Tz>) -> Option<i64> {
    let utc = match tz {
        None => local.and_utc(),
        Some(tz) => match tz.from_local_datetime(&local).earliest() {
            Some(t) => t.with_timezone(&chrono::Utc),
            None => tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest()?.with_timezone(&chrono::Utc),
        },
    };
    Some(utc.timestamp_micros())
}

/// `make_timestamp(year, month, day, hour, minute, second[, zone])` or
/// `make_timestamp(date[, time[, zone]])`: a field out of its range stops the query (NULL
/// from the `try_` forms); a second of 60 is the next minute's first.
#[derive(Debug, PartialEq, Eq, Hash)]
struct MakeTimestamp {
    name: &'static str,
    signature: Signature,
}

impl MakeTimestamp {
    fn takes_zone(&self) -> bool {
        !self.name.ends_with("_ntz")
    }
}

impl ScalarUDFImpl for MakeTimestamp {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name;
        let whole = |t: &DataType| t.is_integer() || t.is_null();
        let zone = usize::from(self.takes_zone());
        match arg_types {
            [DataType::Date32 | DataType::Date64, rest @ ..] if rest.len() <= 1 + zone => {
                let mut types = vec![DataType::Date32];
                if !rest.is_empty() {
                    types.push(DataType::Time64(TimeUnit::Nanosecond));
                }
                if rest.len() == 2 {
                    types.push(DataType::Utf8);
                }
                Ok(types)
            }
            fields if (6..=6 + zone).contains(&fields.len()) && fields[..5].iter().all(whole) && (fields[5].is_numeric() || fields[5].is_null()) => {
                let mut types = vec![DataType::Int64; 5];
                types.push(DataType::Float64);
                if fields.len() == 7 {
                    types.push(DataType::Utf8);
                }
                Ok(types)
            }
            _ if zone == 1 => plan_err!("{name} takes (year, month, day, hour, minute, second[, zone]) or (date[, time[, zone]]), not {arg_types:?}"),
            _ => plan_err!("{name} takes (year, month, day, hour, minute, second) or (date[, time]), not {arg_types:?}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(args::timestamp_type())
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let arrays = call.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<ArrayRef>>>()?;
        let from_date = arrays[0].data_type() == &DataType::Date32;
        let zone_at = if from_date { 2 } else { 6 };
        let zones = arrays.get(zone_at).map(|z| z.as_string::<i32>().clone());
        let mut out = TimestampMicrosecondBuilder::with_capacity(rows);
        for row in 0..rows {
            if arrays.iter().any(|a| a.is_null(row)) {
                out.append_null();
                continue;
            }
            let tz = match &zones {
                Some(zones) => Some(zone(self.name, zones.value(row))?),
                None => None,
            };
            let local = if from_date { date_and_time(&arrays, row) } else { fields(&arrays, row) };
            match local.map(|local| instant(local, tz)) {
                Ok(Some(micros)) => out.append_value(micros),
                Ok(None) => out.append_null(),
                Err(_) if self.name.starts_with("try_") => out.append_null(),
                Err(fault) => return exec_err!("{}: {fault} (try_{} gives NULL instead)", self.name, self.name.trim_start_matches("try_")),
            }
        }
        args::finish(Arc::new(out.finish()), args::all_scalar(&call.args))
    }
}

fn date_and_time(arrays: &[ArrayRef], row: usize) -> Result<NaiveDateTime, String> {
    let days = arrays[0].as_primitive::<Date32Type>().value(row);
    let date = NaiveDate::from_num_days_from_ce_opt(days + 719_163).ok_or_else(|| format!("day {days} is out of range"))?;
    let nanos = match arrays.get(1) {
        Some(time) => time.as_primitive::<Time64NanosecondType>().value(row),
        None => 0,
    };
    let time = NaiveTime::from_num_seconds_from_midnight_opt((nanos / 1_000_000_000) as u32, (nanos % 1_000_000_000) as u32).ok_or_else(|| format!("{nanos} ns is not a time of day"))?;
    Ok(date.and_time(time))
}

fn fields(arrays: &[ArrayRef], row: usize) -> Result<NaiveDateTime, String> {
    let field = |i: usize| arrays[i].as_primitive::<Int64Type>().value(row);
    let (year, month, day, hour, minute) = (field(0), field(1), field(2), field(3), field(4));
    let second = arrays[5].as_primitive::<Float64Type>().value(row);
    let micros = (second * 1e6).round();
    if !(0.0..=60e6).contains(&micros) {
        return Err(format!("the second {second} is outside 0 to 60"));
    }
    let micros = micros as i64;
    // 60 seconds (exactly) is the first second of the next minute.
    let next_minute = micros == 60_000_000;
    let in_range = |v: i64, low: i64, high: i64| (low..=high).contains(&v);
    if !in_range(month, 1, 12) || !in_range(hour, 0, 23) || !in_range(minute, 0, 59) || !in_range(year, -290_000, 290_000) {
        return Err(format!("{year}-{month}-{day} {hour}:{minute} has a field out of its range"));
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month as u32, day.clamp(0, 40) as u32).ok_or_else(|| format!("{year}-{month}-{day} is not a date"))?;
    let seconds = if next_minute { 0 } else { (micros / 1_000_000) as u32 };
    let time = NaiveTime::from_hms_micro_opt(hour as u32, minute as u32, seconds, if next_minute { 0 } else { (micros % 1_000_000) as u32 }).ok_or("not a time of day")?;
    let local = date.and_time(time);
    Ok(if next_minute { local + chrono::Duration::minutes(1) } else { local })
}

/// The UTC date-time of microseconds since the epoch.
fn date_time(micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|t| t.naive_utc())
}

fn is_last_day_of_month(date: NaiveDate) -> bool {
    date.succ_opt().is_none_or(|next| next.month() != date.month())
}

/// Spark's `months_between(later, earlier[, round_off])`: whole months when both days of the
/// month are the same or both are their month's last; otherwise the difference in days
/// and seconds as a fraction of 31 days; rounded to 8 decimals unless `round_off` is false.
fn months_between(_: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let (later, earlier) = (args::time(&call[0], rows)?, args::time(&call[1], rows)?);
    let (later, earlier) = (later.as_primitive::<TimestampMicrosecondType>(), earlier.as_primitive::<TimestampMicrosecondType>());
    let round_off = match call.get(2) {
        Some(flag) => Some(flag.to_array(rows)?.as_boolean().clone()),
        None => None,
    };
    let mut out = Float64Builder::with_capacity(rows);
    for row in 0..rows {
        let round = round_off.as_ref().map(|r| r.is_valid(row).then(|| r.value(row)));
        let (Some(a), Some(b), Some(round)) = (later.is_valid(row).then(|| later.value(row)), earlier.is_valid(row).then(|| earlier.value(row)), round.unwrap_or(Some(true))) else {
            out.append_null();
            continue;
        };
        let (Some(a), Some(b)) = (date_time(a), date_time(b)) else {
            out.append_null();
            continue;
        };
        let months = f64::from((a.year() * 12 + a.month() as i32) - (b.year() * 12 + b.month() as i32));
        let whole = a.day() == b.day() || (is_last_day_of_month(a.date()) && is_last_day_of_month(b.date()));
        let answer = if whole {
            months
        } else {
            let seconds = |t: NaiveDateTime| i64::from(t.num_seconds_from_midnight());
            let difference = (i64::from(a.day()) - i64::from(b.day())) * 86_400 + seconds(a) - seconds(b);
            months + difference as f64 / (31.0 * 86_400.0)
        };
        out.append_value(if round { (answer * 1e8 + 0.5).floor() / 1e8 } else { answer });
    }
    Ok(Arc::new(out.finish()))
}

/// `convert_timezone([from_zone, ]to_zone, wall_time)`: the wall time in `from_zone` (the
/// session's, UTC, when not given) as the wall time in `to_zone` at the same instant.
fn convert_timezone(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let (from, to, times) = match call {
        [to, times] => (None, to, times),
        [from, to, times] => (Some(args::text(from, rows)?), to, times),
        _ => return exec_err!("{name} takes 2 or 3 arguments"),
    };
    let to = args::text(to, rows)?;
    let times = args::time(times, rows)?;
    let times = times.as_primitive::<TimestampMicrosecondType>();
    let mut out = TimestampMicrosecondBuilder::with_capacity(rows);
    for row in 0..rows {
        let from_zone = from.as_ref().map(|f| f.is_valid(row).then(|| f.value(row)));
        if times.is_null(row) || to.is_null(row) || from_zone == Some(None) {
            out.append_null();
            continue;
        }
        let Some(local) = date_time(times.value(row)) else {
            out.append_null();
            continue;
        };
        let from_zone = from_zone.flatten().map(|f| zone(name, f)).transpose()?;
        let to_zone = zone(name, to.value(row))?;
        let converted = instant(local, from_zone).and_then(DateTime::from_timestamp_micros).map(|t| t.with_timezone(&to_zone).naive_local());
        out.append_option(converted.map(|t| t.and_utc().timestamp_micros()));
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::instant;
    use chrono::NaiveDate;

    #[test]
    fn wall_times_in_a_zone_are_their_instants() {
        let local = NaiveDate::from_ymd_opt(2014, 12, 28).unwrap().and_hms_micro_opt(6, 30, 45, 887_000).unwrap();
        let cet = instant(local, Some(chrono_tz::CET)).unwrap();
        assert_eq!(instant(local, None).unwrap() - cet, 3_600_000_000);
        // 02:30 on 2021-03-28 does not happen in Brussels: the hour after it is taken.
        let gap = NaiveDate::from_ymd_opt(2021, 3, 28).unwrap().and_hms_opt(2, 30, 0).unwrap();
        assert!(instant(gap, Some(chrono_tz::Europe::Brussels)).is_some());
    }
}
