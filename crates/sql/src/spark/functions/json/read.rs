//! JSON values into an Arrow column of a given type, as Spark's `from_json` reads them
//! (PERMISSIVE): a value that does not fit its field's type is null there, the other
//! fields keep theirs.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, MapArray, StringArray, StructArray, new_null_array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::util::display::FormatOptions;
use datafusion::common::{Result, exec_err};
use serde_json::Value;

use crate::spark::functions::datetime::read_micros;
use crate::spark::functions::java_pattern::JavaPattern;

/// How times are read: with Java patterns (`timestampFormat`, `dateFormat`), or leniently.
#[derive(Default)]
pub struct TimeFormats {
    pub timestamp: Option<JavaPattern>,
    pub date: Option<JavaPattern>,
}

/// The column of `values` (one a row; none is null) read as `data_type`.
pub fn column(values: &[Option<&Value>], data_type: &DataType, formats: &TimeFormats) -> Result<ArrayRef> {
    let nulls = |valid: &dyn Fn(&Value) -> bool| {
        let buffer = NullBuffer::from(values.iter().map(|v| v.is_some_and(valid)).collect::<Vec<_>>());
        (buffer.null_count() > 0).then_some(buffer)
    };
    Ok(match data_type {
        DataType::Struct(fields) => {
            let columns = fields
                .iter()
                .map(|field| {
                    let children: Vec<Option<&Value>> = values.iter().map(|v| v.and_then(Value::as_object).and_then(|o| o.get(field.name())).filter(|v| !v.is_null())).collect();
                    column(&children, field.data_type(), formats)
                })
                .collect::<Result<Vec<_>>>()?;
            Arc::new(StructArray::try_new(fields.clone(), columns, nulls(&Value::is_object))?)
        }
        DataType::List(field) => {
            let lengths = values.iter().map(|v| v.and_then(Value::as_array).map_or(0, Vec::len));
            let offsets = OffsetBuffer::from_lengths(lengths);
            let children: Vec<Option<&Value>> = values.iter().filter_map(|v| v.and_then(Value::as_array)).flatten().map(|v| Some(v).filter(|v| !v.is_null())).collect();
            let elements = column(&children, field.data_type(), formats)?;
            Arc::new(ListArray::try_new(field.clone(), offsets, elements, nulls(&Value::is_array))?)
        }
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else { return exec_err!("a map's entries are not a struct") };
            let objects = || values.iter().filter_map(|v| v.and_then(Value::as_object));
            let offsets = OffsetBuffer::from_lengths(values.iter().map(|v| v.and_then(Value::as_object).map_or(0, |o| o.len())));
            let keys: Vec<Value> = objects().flat_map(|o| o.keys().map(|k| Value::String(k.clone()))).collect();
            let keys = column(&keys.iter().map(Some).collect::<Vec<_>>(), kv[0].data_type(), formats)?;
            if keys.null_count() > 0 {
                return exec_err!("from_json: a key of the JSON object does not read as the map's key type {}", kv[0].data_type());
            }
            let children: Vec<Option<&Value>> = objects().flat_map(|o| o.values()).map(|v| Some(v).filter(|v| !v.is_null())).collect();
            let children = column(&children, kv[1].data_type(), formats)?;
            let entries_array = StructArray::try_new(kv.clone(), vec![keys, children], None)?;
            Arc::new(MapArray::try_new(entries.clone(), offsets, entries_array, nulls(&Value::is_object), *sorted)?)
        }
        DataType::Utf8 => Arc::new(StringArray::from_iter(values.iter().map(|v| {
            v.map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        }))),
        DataType::Boolean => Arc::new(BooleanArray::from_iter(values.iter().map(|v| v.and_then(Value::as_bool)))),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            let wide = Int64Array::from_iter(values.iter().map(|v| v.and_then(Value::as_i64)));
            // Out of the type's range: null, as Spark.
            lenient_cast(&(Arc::new(wide) as ArrayRef), data_type)?
        }
        DataType::Float32 | DataType::Float64 => {
            let wide = Float64Array::from_iter(values.iter().map(|v| match v {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => match s.as_str() {
                    "NaN" => Some(f64::NAN),
                    "Infinity" | "+Infinity" | "+INF" | "INF" => Some(f64::INFINITY),
                    "-Infinity" | "-INF" => Some(f64::NEG_INFINITY),
                    _ => None,
                },
                _ => None,
            }));
            lenient_cast(&(Arc::new(wide) as ArrayRef), data_type)?
        }
        DataType::Decimal128(..) => {
            let texts = StringArray::from_iter(values.iter().map(|v| v.filter(|v| v.is_number()).map(Value::to_string)));
            lenient_cast(&(Arc::new(texts) as ArrayRef), data_type)?
        }
        DataType::Timestamp(TimeUnit::Microsecond, None) => times(values, formats.timestamp.as_ref(), data_type)?,
        DataType::Date32 => times(values, formats.date.as_ref(), data_type)?,
        other => new_null_array(other, values.len()),
    })
}

/// Text read as times: with the pattern when one is given, else as ISO 8601 or
/// `yyyy-MM-dd HH:mm:ss`; a number as seconds since 1970.
fn times(values: &[Option<&Value>], pattern: Option<&JavaPattern>, data_type: &DataType) -> Result<ArrayRef> {
    let Some(pattern) = pattern else {
        let texts = StringArray::from_iter(values.iter().map(|v| v.and_then(Value::as_str)));
        let read = lenient_cast(&(Arc::new(texts) as ArrayRef), data_type)?;
        if data_type == &DataType::Date32 || !values.iter().any(|v| v.is_some_and(Value::is_number)) {
            return Ok(read);
        }
        let seconds = Int64Array::from_iter(values.iter().map(|v| v.and_then(Value::as_i64).map(|s| s.saturating_mul(1_000_000))));
        let seconds = cast_with_options(&seconds, data_type, &CastOptions::default())?;
        return Ok(arrow::compute::kernels::zip::zip(&arrow::compute::is_not_null(&read)?, &read, &seconds)?);
    };
    let micros = Int64Array::from_iter(values.iter().map(|v| v.and_then(Value::as_str).and_then(|text| read_micros(text, pattern))));
    let micros = cast_with_options(&micros, &DataType::Timestamp(TimeUnit::Microsecond, None), &CastOptions::default())?;
    Ok(cast_with_options(&micros, data_type, &CastOptions::default())?)
}

/// A cast where what does not fit becomes null.
fn lenient_cast(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let options = CastOptions { safe: true, format_options: FormatOptions::default() };
    Ok(cast_with_options(array, to, &options)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spark::functions::json::ddl;

    #[test]
    fn reads_each_field_as_its_type_and_nulls_what_does_not_fit() {
        let rows: Vec<Value> = vec![
            serde_json::json!({"a": 1, "b": "x", "c": [1, 2], "d": {"k": 1.5}}),
            serde_json::json!({"a": "not a number", "b": {"n": 1}, "c": "no", "d": null}),
        ];
        let values: Vec<Option<&Value>> = rows.iter().map(Some).chain([None]).collect();
        let data_type = ddl::parse("a INT, b STRING, c ARRAY<BIGINT>, d MAP<STRING, DOUBLE>").unwrap();
        let read = column(&values, &data_type, &TimeFormats::default()).unwrap();
        let shown: Vec<String> = (0..3).map(|i| arrow::util::display::array_value_to_string(&read, i).unwrap()).collect();
        assert_eq!(shown, ["{a: 1, b: x, c: [1, 2], d: {k: 1.5}}", "{a: , b: {\"n\":1}, c: , d: }", ""]);
        assert!(read.is_null(2));
    }
}
