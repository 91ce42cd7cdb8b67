//! Arrow values written as JSON text, as Spark's `to_json` writes them: a struct's null
//! fields left out, times in ISO 8601 with milliseconds and the zone, a map's keys as text.

use std::fmt::Write as _;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, TimeUnit};
use chrono::DateTime;

use crate::spark::functions::java_pattern::JavaPattern;

/// How values are written.
#[derive(Default)]
pub struct WriteOptions {
    /// Each object's keys in order (Spark's `sortKeys`).
    pub sort_keys: bool,
    /// How times are written (Spark's `timestampFormat`), else ISO 8601 in UTC.
    pub timestamp: Option<JavaPattern>,
}

/// Row `row` of `array` as JSON, into `out`.
pub fn value(array: &ArrayRef, row: usize, options: &WriteOptions, out: &mut String) {
    if array.is_null(row) {
        out.push_str("null");
        return;
    }
    match array.data_type() {
        DataType::Struct(fields) => {
            let columns = array.as_struct().columns();
            let mut members: Vec<(String, &ArrayRef)> = fields.iter().zip(columns).filter(|(_, c)| c.is_valid(row)).map(|(f, c)| (f.name().clone(), c)).collect();
            if options.sort_keys {
                members.sort_by(|a, b| a.0.cmp(&b.0));
            }
            object(members.into_iter().map(|(name, column)| (name, column, row)), options, out);
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0).clone(), entries.column(1).clone());
            let mut members: Vec<(String, usize)> = (0..entries.len()).map(|i| (key_text(&keys, i), i)).collect();
            if options.sort_keys {
                members.sort_by(|a, b| a.0.cmp(&b.0));
            }
            object(members.into_iter().map(|(name, i)| (name, &values, i)), options, out);
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            let list = arrow::compute::cast(array, &DataType::new_list(list_element(array.data_type()), true)).expect("a list casts to a list");
            let elements = list.as_list::<i32>().value(row);
            out.push('[');
            for i in 0..elements.len() {
                if i > 0 {
                    out.push(',');
                }
                value(&elements, i, options, out);
            }
            out.push(']');
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = arrow::compute::cast(array, &DataType::Utf8).expect("text casts to text");
            string(text.as_string::<i32>().value(row), out);
        }
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) { "true" } else { "false" }),
        DataType::Timestamp(..) => {
            let micros = arrow::compute::cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None)).expect("a time casts to microseconds");
            let micros = micros.as_primitive::<arrow::datatypes::TimestampMicrosecondType>().value(row);
            match DateTime::from_timestamp_micros(micros) {
                Some(time) => match &options.timestamp {
                    Some(pattern) => {
                        let mut text = String::new();
                        match write!(text, "{}", time.format_with_items(pattern.items().iter())) {
                            Ok(()) => string(&text, out),
                            Err(_) => out.push_str("null"),
                        }
                    }
                    None => string(&time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), out),
                },
                None => out.push_str("null"),
            }
        }
        DataType::Date32 | DataType::Date64 => string(&arrow::util::display::array_value_to_string(array, row).unwrap_or_default(), out),
        DataType::Float32 | DataType::Float64 => {
            let number = arrow::compute::cast(array, &DataType::Float64).expect("a float casts to double");
            let number = number.as_primitive::<arrow::datatypes::Float64Type>().value(row);
            match number {
                n if n.is_nan() => string("NaN", out),
                n if n.is_infinite() => string(if n > 0.0 { "Infinity" } else { "-Infinity" }, out),
                // Java's shortest form keeps a `.0` on whole numbers.
                n if n.fract() == 0.0 && n.abs() < 1e7 => {
                    let _ = write!(out, "{n:.1}");
                }
                n => {
                    let _ = write!(out, "{n}");
                }
            }
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes = arrow::compute::cast(array, &DataType::Binary).expect("bytes cast to binary");
            use base64::Engine as _;
            string(&base64::engine::general_purpose::STANDARD.encode(bytes.as_binary::<i32>().value(row)), out);
        }
        dt if dt.is_numeric() => out.push_str(&arrow::util::display::array_value_to_string(array, row).unwrap_or_default()),
        _ => string(&arrow::util::display::array_value_to_string(array, row).unwrap_or_default(), out),
    }
}

fn list_element(data_type: &DataType) -> DataType {
    match data_type {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type().clone(),
        other => other.clone(),
    }
}

/// A map key as the text of an object's member name: text as itself, a struct or array as
/// Spark shows it (`[1]`), anything else as displayed.
fn key_text(keys: &ArrayRef, row: usize) -> String {
    match keys.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            arrow::compute::cast(keys, &DataType::Utf8).expect("text casts to text").as_string::<i32>().value(row).to_string()
        }
        DataType::Struct(_) => {
            let parts: Vec<String> = keys.as_struct().columns().iter().map(|c| arrow::util::display::array_value_to_string(c, row).unwrap_or_default()).collect();
            format!("[{}]", parts.join(", "))
        }
        _ => arrow::util::display::array_value_to_string(keys, row).unwrap_or_default(),
    }
}

fn object<'a>(members: impl Iterator<Item = (String, &'a ArrayRef, usize)>, options: &WriteOptions, out: &mut String) {
    out.push('{');
    for (i, (name, column, row)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&name, out);
        out.push(':');
        value(column, row, options, out);
    }
    out.push('}');
}

fn string(text: &str, out: &mut String) {
    out.push_str(&serde_json::Value::String(text.to_string()).to_string());
}
