//! Argument handling shared by the functions: arity and type checks, and turning arguments
//! into arrays of one type.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::ColumnarValue;
use regex::Regex;

/// What a function takes at one argument position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Text; other scalar types are written as text.
    Text,
    /// A whole number.
    Int,
    /// A point in time: a timestamp or date, or text read as one.
    Time,
    /// Bytes: binary, or text as its UTF-8 bytes.
    Bytes,
    /// A number, read as a double.
    Float,
    /// True or false.
    Bool,
    /// A time of day (Spark's `TIME`).
    TimeOfDay,
    /// Options: a map of names to values (`map('allowNumericLeadingZeros', 'true')`).
    Options,
}

/// The types the arguments are cast to before the call, or an error naming the function
/// and what it takes. `kinds` lists every argument; the first `required` must be given.
pub fn coerce(name: &str, arg_types: &[DataType], kinds: &[Kind], required: usize) -> Result<Vec<DataType>> {
    if arg_types.len() < required || arg_types.len() > kinds.len() {
        let count = if required == kinds.len() { required.to_string() } else { format!("{required} to {}", kinds.len()) };
        return plan_err!("{name} takes {count} arguments, not {}", arg_types.len());
    }
    arg_types
        .iter()
        .zip(kinds)
        .enumerate()
        .map(|(position, (given, kind))| match kind {
            Kind::Text => Ok(DataType::Utf8),
            Kind::Int if given.is_integer() || given.is_null() => Ok(DataType::Int64),
            Kind::Int => plan_err!("argument {} of {name} must be a whole number, not {given}", position + 1),
            Kind::Time if matches!(given, DataType::Time32(_) | DataType::Time64(_)) => Ok(time_of_day_type()),
            Kind::Time if given.is_temporal() || given.is_null() => Ok(timestamp_type()),
            Kind::Time if is_text(given) => Ok(DataType::Utf8),
            Kind::Time => plan_err!("argument {} of {name} must be a timestamp, date or text, not {given}", position + 1),
            Kind::Bytes if is_text(given) || given.is_null() || is_bytes(given) => Ok(DataType::Binary),
            Kind::Bytes => plan_err!("argument {} of {name} must be binary or text, not {given}", position + 1),
            Kind::Float if given.is_numeric() || given.is_null() => Ok(DataType::Float64),
            Kind::Float => plan_err!("argument {} of {name} must be a number, not {given}", position + 1),
            Kind::Bool if matches!(given, DataType::Boolean | DataType::Null) => Ok(DataType::Boolean),
            Kind::Bool => plan_err!("argument {} of {name} must be true or false, not {given}", position + 1),
            Kind::TimeOfDay if matches!(given, DataType::Time32(_) | DataType::Time64(_) | DataType::Null) => Ok(time_of_day_type()),
            Kind::TimeOfDay => plan_err!("argument {} of {name} must be a time of day (TIME), not {given}", position + 1),
            Kind::Options if matches!(given, DataType::Map(..) | DataType::Null) => Ok(given.clone()),
            Kind::Options => plan_err!("argument {} of {name} must be a map of options (map('name', 'value', ...)), not {given}", position + 1),
        })
        .collect()
}

/// The timestamp type of Spark's `TIMESTAMP`: microseconds, in UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

/// The type of Spark's `TIME`: nanoseconds since midnight (as hela's `TIME` literals).
pub fn time_of_day_type() -> DataType {
    DataType::Time64(TimeUnit::Nanosecond)
}

/// The number of rows a call works on: the length of its array arguments, else 1.
pub fn row_count(args: &[ColumnarValue]) -> usize {
    args.iter()
        .find_map(|a| match a {
            ColumnarValue::Array(array) => Some(array.len()),
            ColumnarValue::Scalar(_) => None,
        })
        .unwrap_or(1)
}

/// Whether every argument is a scalar, so the answer is one too.
pub fn all_scalar(args: &[ColumnarValue]) -> bool {
    args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)))
}

/// Returns the answer as a scalar when every argument was one.
pub fn finish(result: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

/// A text argument as an array of `rows` strings.
pub fn text(arg: &ColumnarValue, rows: usize) -> Result<StringArray> {
    let array = arg.to_array(rows)?;
    Ok(cast_with_options(&array, &DataType::Utf8, &CastOptions::default())?.as_string::<i32>().clone())
}

/// A bytes argument as an array of `rows` byte strings.
pub fn bytes(arg: &ColumnarValue, rows: usize) -> Result<arrow::array::BinaryArray> {
    let array = arg.to_array(rows)?;
    Ok(cast_with_options(&array, &DataType::Binary, &CastOptions::default())?.as_binary::<i32>().clone())
}

/// A whole-number argument as an array of `rows` numbers.
pub fn int(arg: &ColumnarValue, rows: usize) -> Result<Int64Array> {
    let array = arg.to_array(rows)?;
    Ok(cast_with_options(&array, &DataType::Int64, &CastOptions::default())?.as_primitive().clone())
}

/// A number argument as an array of `rows` doubles.
pub fn float(arg: &ColumnarValue, rows: usize) -> Result<arrow::array::Float64Array> {
    let array = arg.to_array(rows)?;
    Ok(cast_with_options(&array, &DataType::Float64, &CastOptions::default())?.as_primitive().clone())
}

/// A point-in-time argument as microseconds since the epoch, UTC; text that does not read
/// as a timestamp is null, and a time of day is that time on 1970-01-01.
pub fn time(arg: &ColumnarValue, rows: usize) -> Result<ArrayRef> {
    let array = arg.to_array(rows)?;
    if array.data_type() == &time_of_day_type() {
        let nanos = array.as_primitive::<arrow::datatypes::Time64NanosecondType>();
        return Ok(Arc::new(nanos.unary::<_, arrow::datatypes::TimestampMicrosecondType>(|n| n / 1_000)));
    }
    let lenient = CastOptions { safe: true, ..CastOptions::default() };
    Ok(Arc::new(cast_with_options(&array, &timestamp_type(), &lenient)?))
}

/// The options of a call, as names (in lower case) and values: a map argument's first row.
pub fn options(arg: &ColumnarValue) -> Result<HashMap<String, String>> {
    let array = arg.to_array(1)?;
    let DataType::Map(..) = array.data_type() else { return Ok(HashMap::new()) };
    if array.is_empty() || array.is_null(0) {
        return Ok(HashMap::new());
    }
    let entries = array.as_map().value(0);
    let (names, values) = (cast_with_options(entries.column(0), &DataType::Utf8, &CastOptions::default())?, cast_with_options(entries.column(1), &DataType::Utf8, &CastOptions::default())?);
    let (names, values) = (names.as_string::<i32>(), values.as_string::<i32>());
    Ok((0..names.len()).filter(|&i| names.is_valid(i)).map(|i| (names.value(i).to_ascii_lowercase(), if values.is_valid(i) { values.value(i).to_string() } else { String::new() })).collect())
}

/// The patterns of one call (regular expressions, date-time patterns), each compiled once.
pub struct Compiled<T> {
    compile: fn(&str) -> Result<T, String>,
    compiled: HashMap<String, T>,
}

impl<T> Compiled<T> {
    /// Patterns compiled with `compile`, which says what is wrong with a bad one.
    pub fn new(compile: fn(&str) -> Result<T, String>) -> Self {
        Compiled { compile, compiled: HashMap::new() }
    }

    /// The compiled form of `pattern`, or an error naming the function and the fault.
    pub fn get(&mut self, function: &str, pattern: &str) -> Result<&T> {
        if !self.compiled.contains_key(pattern) {
            match (self.compile)(pattern) {
                Ok(compiled) => {
                    self.compiled.insert(pattern.to_string(), compiled);
                }
                Err(e) => return exec_err!("{function}: {e}"),
            }
        }
        Ok(&self.compiled[pattern])
    }
}

/// Regular expressions of one call.
pub fn regexes() -> Compiled<Regex> {
    Compiled::new(|pattern| {
        Regex::new(pattern).map_err(|e| format!("the regular expression '{pattern}' is not valid here: {e}"))
    })
}

/// Whether a type holds bytes.
pub fn is_bytes(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_))
}

/// Whether a type holds text.
pub fn is_text(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}
