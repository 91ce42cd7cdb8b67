//! Widens record batches to a merged (wider) schema: fields a batch lacks become nulls,
//! structs are matched by field name at any depth, numbers widen, and values whose field
//! became a string are rendered as their JSON text.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, RecordBatch, RecordBatchOptions, StringBuilder, StructArray, new_null_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, SchemaRef};
use arrow::error::ArrowError;
use arrow::json::writer::{EncoderOptions, make_encoder};

/// Returns `batch` with exactly the columns of `target`, which must be at least as wide as
/// the batch's schema (as produced by [`crate::Shape::merge`]).
pub fn adapt_batch(batch: &RecordBatch, target: SchemaRef) -> Result<RecordBatch, ArrowError> {
    if batch.schema() == target {
        return Ok(batch.clone());
    }
    let columns = target
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(column) => adapt_array(column, field.data_type()),
            None => Ok(new_null_array(field.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(target, columns, &options)
}

/// Widens one array to `target`.
pub fn adapt_array(array: &ArrayRef, target: &DataType) -> Result<ArrayRef, ArrowError> {
    match (array.data_type(), target) {
        (source, target) if source == target => Ok(array.clone()),
        (DataType::Null, target) => Ok(new_null_array(target, array.len())),
        (DataType::Struct(_) | DataType::List(_), DataType::Utf8) => json_text(array),
        (DataType::Struct(_), DataType::Struct(fields)) => {
            let source = array.as_struct();
            let children = fields
                .iter()
                .map(|f| match source.column_by_name(f.name()) {
                    Some(child) => adapt_array(child, f.data_type()),
                    None => Ok(new_null_array(f.data_type(), array.len())),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Arc::new(StructArray::try_new(fields.clone(), children, source.nulls().cloned())?))
        }
        (DataType::List(_), DataType::List(field)) => {
            let source = array.as_list::<i32>();
            let values = adapt_array(source.values(), field.data_type())?;
            Ok(Arc::new(ListArray::try_new(field.clone(), source.offsets().clone(), values, source.nulls().cloned())?))
        }
        (_, target) => cast(array, target),
    }
}

/// Renders each value of a nested array as compact JSON text.
fn json_text(array: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let field: FieldRef = Arc::new(Field::new("value", array.data_type().clone(), true));
    let options = EncoderOptions::default();
    let mut encoder = make_encoder(&field, array.as_ref(), &options)?;
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 32);
    let mut buffer = Vec::new();
    for i in 0..array.len() {
        if array.is_null(i) {
            out.append_null();
            continue;
        }
        buffer.clear();
        encoder.encode(i, &mut buffer);
        out.append_value(String::from_utf8_lossy(&buffer));
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Shape, records_to_batch};
    use serde_json::{Map, Value, json};

    fn records(values: Vec<Value>) -> Vec<Map<String, Value>> {
        values.into_iter().map(|v| v.as_object().unwrap().clone()).collect()
    }

    #[test]
    fn batches_of_different_shapes_widen_to_their_union() {
        let first = records(vec![json!({"n": 1, "s": {"a": 1}, "l": [1], "only_first": true})]);
        let second = records(vec![json!({"n": 2.5, "s": "plain", "l": [{"k": 1}], "e": {"x": {"y": 1}}})]);
        let (mut a, mut b) = (Shape::Null, Shape::Null);
        first.iter().for_each(|r| a.observe_record(r));
        second.iter().for_each(|r| b.observe_record(r));
        let first_batch = records_to_batch(&first, Arc::new(a.storage_schema())).unwrap();
        let mut merged = a.clone();
        merged.merge(b);
        let target = Arc::new(merged.storage_schema());
        let widened = adapt_batch(&first_batch, target.clone()).unwrap();
        assert_eq!(widened.schema(), target);
        let n = widened.column_by_name("n").unwrap().as_primitive::<arrow::datatypes::Float64Type>();
        assert_eq!(n.value(0), 1.0);
        let s = widened.column_by_name("s").unwrap().as_string::<i32>();
        assert_eq!(s.value(0), "{\"a\":1}");
        let l = widened.column_by_name("l").unwrap().as_list::<i32>();
        assert_eq!(l.value(0).as_string::<i32>().value(0), "1");
        assert!(widened.column_by_name("e").unwrap().is_null(0));
    }

    #[test]
    fn rows_widened_to_text_read_as_rows_stored_as_text() {
        let values = [
            json!({"a": null, "b": {"c": null, "d": [{"e": null, "f": "x\"y\u{e9}\n"}, null, {"e": 1}]}, "g": true}),
            json!({"n": -3, "s": "", "l": [], "o": {"p": 1}}),
            json!([{"a": null, "b": 2}, null, {"b": 3}]),
        ];
        for value in values {
            let old = records(vec![json!({"v": value.clone()})]);
            let mut shape = Shape::Null;
            old.iter().for_each(|r| shape.observe_record(r));
            let batch = records_to_batch(&old, Arc::new(shape.storage_schema())).unwrap();
            let mut text_shape = Shape::Null;
            text_shape.observe_record(&records(vec![json!({"v": "text"})])[0]);
            let widened = adapt_batch(&batch, Arc::new(text_shape.storage_schema())).unwrap();
            let old_text = widened.column(0).as_string::<i32>().value(0).to_string();
            assert_eq!(old_text, crate::stored_text(&value), "{value}");
        }
    }
}
