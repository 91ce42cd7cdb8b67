//! Builds Arrow arrays from JSON records under an inferred schema.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListArray, NullArray, RecordBatch,
    RecordBatchOptions, StringBuilder, StructArray, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Fields, SchemaRef};
use arrow::error::ArrowError;
use serde_json::{Map, Value};

use crate::Shape;
use crate::columns::ObjectColumns;
use crate::view::{Json, JsonView};

/// Converts records into one batch of `schema`, which must describe them (as inferred by
/// [`crate::Shape`] over at least these records). A value whose field is a string but which
/// is not one is stored as its JSON text.
pub fn records_to_batch(records: &[Map<String, Value>], schema: SchemaRef) -> Result<RecordBatch, ArrowError> {
    columns_to_batch(&ObjectColumns::of_records(records), schema)
}

/// Converts records into one batch under the schema inferred from them alone.
pub fn records_to_inferred_batch(records: &[Map<String, Value>]) -> Result<RecordBatch, ArrowError> {
    columns_to_inferred_batch(&ObjectColumns::of_records(records))
}

/// Converts records split into columns into one batch under the schema inferred from them.
pub fn columns_to_inferred_batch<'a, V: JsonView<'a>>(columns: &ObjectColumns<'a, V>) -> Result<RecordBatch, ArrowError> {
    let mut shape = Shape::Null;
    shape.observe_columns(columns);
    columns_to_batch(columns, Arc::new(shape.storage_schema()))
}

/// Converts records split into columns into one batch of `schema`, as [`records_to_batch`].
pub fn columns_to_batch<'a, V: JsonView<'a>>(columns: &ObjectColumns<'a, V>, schema: SchemaRef) -> Result<RecordBatch, ArrowError> {
    let arrays = build_children(columns, schema.fields())?;
    let options = RecordBatchOptions::new().with_row_count(Some(columns.rows()));
    RecordBatch::try_new_with_options(schema, arrays, &options)
}

/// An array for each of `fields`, from the column of the same name (nulls when none has it).
fn build_children<'a, V: JsonView<'a>>(columns: &ObjectColumns<'a, V>, fields: &Fields) -> Result<Vec<ArrayRef>, ArrowError> {
    fields
        .iter()
        .map(|field| match columns.get(field.name()) {
            Some(values) => build_array(values, field.data_type()),
            None => Ok(new_null_array(field.data_type(), columns.rows())),
        })
        .collect()
}

fn build_array<'a, V: JsonView<'a>>(values: &[Option<V>], data_type: &DataType) -> Result<ArrayRef, ArrowError> {
    Ok(match data_type {
        DataType::Null => Arc::new(NullArray::new(values.len())),
        DataType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(values.len());
            values.iter().for_each(|v| b.append_option(present(v).and_then(V::as_bool)));
            Arc::new(b.finish())
        }
        DataType::Int64 => {
            let mut b = Int64Builder::with_capacity(values.len());
            values.iter().for_each(|v| b.append_option(present(v).and_then(V::as_i64)));
            Arc::new(b.finish())
        }
        DataType::Float64 => {
            let mut b = Float64Builder::with_capacity(values.len());
            values.iter().for_each(|v| b.append_option(present(v).and_then(V::as_f64)));
            Arc::new(b.finish())
        }
        DataType::Utf8 => {
            let mut b = StringBuilder::with_capacity(values.len(), text_bytes(values));
            values.iter().for_each(|v| b.append_option(present(v).map(stored_text)));
            Arc::new(b.finish())
        }
        DataType::List(field) => {
            let mut offsets = Vec::with_capacity(values.len() + 1);
            let mut validity = Vec::with_capacity(values.len());
            let mut items: Vec<Option<V>> = Vec::new();
            offsets.push(0i32);
            for value in values {
                let list = present(value).filter(|v| matches!(v.kind(), Json::Array(_)));
                items.extend(list.into_iter().flat_map(V::items).map(Some));
                validity.push(list.is_some());
                offsets.push(i32::try_from(items.len()).map_err(|_| overflow())?);
            }
            let child = build_array(&items, field.data_type())?;
            Arc::new(ListArray::try_new(field.clone(), OffsetBuffer::new(offsets.into()), child, nulls(validity))?)
        }
        DataType::Struct(fields) => {
            let objects: Vec<Option<V>> = values.iter().map(|v| present(v).filter(|v| matches!(v.kind(), Json::Object(_)))).collect();
            let validity = objects.iter().map(Option::is_some).collect();
            let columns = ObjectColumns::of(objects.iter().map(|object| object.map(V::members)), objects.len());
            let children = build_children(&columns, fields)?;
            Arc::new(StructArray::try_new(fields.clone(), children, nulls(validity))?)
        }
        other => return Err(ArrowError::NotYetImplemented(format!("JSON values as {other}"))),
    })
}

/// The text a value is stored as in a string column: a string as it is, anything else as
/// its compact JSON text, objects with their members in name order and those that are null
/// left out, at any depth. That is how a struct column widened to text later renders the
/// rows it already held ([`crate::adapt`]): there members are fields in name order, and a
/// missing member and a null one are the same.
pub fn stored_text<'a>(value: impl JsonView<'a>) -> Cow<'a, str> {
    match value.kind() {
        Json::Str(s) => Cow::Borrowed(s),
        Json::Object(_) | Json::Array(_) => Cow::Owned(canonical(&value.to_value()).to_string()),
        _ => Cow::Owned(value.to_value().to_string()),
    }
}

/// The value with object members in name order and null members left out.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(members) => {
            let mut kept: Vec<(&String, &Value)> = members.iter().filter(|(_, v)| !v.is_null()).collect();
            kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
            Value::Object(kept.into_iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// About the bytes of text `values` are stored as: strings exactly, other values guessed.
/// Room made at once is not grown (copied) value by value.
fn text_bytes<'a, V: JsonView<'a>>(values: &[Option<V>]) -> usize {
    values.iter().map(|value| present(value).map_or(0, |value| value.as_str().map_or(16, str::len))).sum()
}

/// The value, unless it is missing or JSON null.
fn present<'a, V: JsonView<'a>>(value: &Option<V>) -> Option<V> {
    value.filter(|v| !v.is_null())
}

fn nulls(validity: Vec<bool>) -> Option<NullBuffer> {
    let buffer = NullBuffer::from(validity);
    (buffer.null_count() > 0).then_some(buffer)
}

fn overflow() -> ArrowError {
    ArrowError::ComputeError("a list column holds more than 2^31 items in one batch".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    use serde_json::json;

    fn batch(values: Vec<Value>) -> RecordBatch {
        let records: Vec<Map<String, Value>> = values.into_iter().map(|v| v.as_object().unwrap().clone()).collect();
        records_to_inferred_batch(&records).unwrap()
    }

    #[test]
    fn mixed_types_nested_structs_and_lists() {
        let b = batch(vec![
            json!({"EventID": 1, "LogonType": "3", "event_data": {"ProcessId": 4}, "tags": ["a"]}),
            json!({"EventID": 2, "LogonType": 3, "event_data": {}, "tags": []}),
            json!({"EventID": null, "LogonType": {"x": 1}, "Extra": 1.5}),
        ]);
        assert_eq!(b.num_rows(), 3);
        let ids = b.column_by_name("EventID").unwrap().as_primitive::<Int64Type>();
        assert_eq!((ids.value(0), ids.value(1), ids.is_null(2)), (1, 2, true));
        let logon = b.column_by_name("LogonType").unwrap().as_string::<i32>();
        assert_eq!((logon.value(0), logon.value(1), logon.value(2)), ("3", "3", "{\"x\":1}"));
        let data = b.column_by_name("event_data").unwrap().as_struct();
        assert!(data.is_valid(1) && data.is_null(2));
        let pid = data.column_by_name("ProcessId").unwrap().as_primitive::<Int64Type>();
        assert_eq!((pid.value(0), pid.is_null(1)), (4, true));
        let tags = b.column_by_name("tags").unwrap().as_list::<i32>();
        assert_eq!((tags.value_length(0), tags.value_length(1), tags.is_null(2)), (1, 0, true));
        assert_eq!(b.column_by_name("Extra").unwrap().null_count(), 2);
    }

    #[test]
    fn keys_are_found_whatever_their_order_from_record_to_record() {
        let b = batch(vec![
            json!({"b": 1, "a": "x", "c": 3}),
            json!({"b": 2, "a": "y", "c": 4}),
            json!({"c": 5, "b": 6}),
            json!({"a": "z", "c": 7, "b": 8}),
            json!({"b": 9, "a": "w", "c": 10}),
        ]);
        let ints = |name: &str| b.column_by_name(name).unwrap().as_primitive::<Int64Type>().iter().collect::<Vec<_>>();
        assert_eq!(ints("b"), [Some(1), Some(2), Some(6), Some(8), Some(9)]);
        assert_eq!(ints("c"), [Some(3), Some(4), Some(5), Some(7), Some(10)]);
        let texts: Vec<_> = b.column_by_name("a").unwrap().as_string::<i32>().iter().collect();
        assert_eq!(texts, [Some("x"), Some("y"), None, Some("z"), Some("w")]);
    }

    #[test]
    fn records_with_no_fields_still_count() {
        let b = batch(vec![json!({}), json!({})]);
        assert_eq!((b.num_rows(), b.num_columns()), (2, 0));
    }
}
