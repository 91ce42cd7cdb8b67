//! `schema_of_json`: the type Spark infers for a JSON value.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields};
use serde_json::Value;

/// The type of `value` as Spark's JSON reader infers it: whole numbers BIGINT, others
/// DOUBLE, an object's fields in name order, an array's elements merged; a type nothing
/// decided (null, an empty array's elements) is STRING.
pub fn infer(value: &Value) -> DataType {
    settle(seen(value))
}

fn seen(value: &Value) -> DataType {
    match value {
        Value::Null => DataType::Null,
        Value::Bool(_) => DataType::Boolean,
        Value::Number(n) if n.is_i64() => DataType::Int64,
        Value::Number(n) if n.is_u64() => DataType::Decimal128(20, 0),
        Value::Number(_) => DataType::Float64,
        Value::String(_) => DataType::Utf8,
        Value::Array(elements) => DataType::new_list(elements.iter().map(seen).fold(DataType::Null, merge), true),
        Value::Object(members) => {
            let sorted: BTreeMap<&String, DataType> = members.iter().map(|(k, v)| (k, seen(v))).collect();
            DataType::Struct(sorted.into_iter().map(|(k, t)| Field::new(k, t, true)).collect())
        }
    }
}

/// The type that holds values of both types.
fn merge(a: DataType, b: DataType) -> DataType {
    match (a, b) {
        (a, b) if a == b => a,
        (DataType::Null, t) | (t, DataType::Null) => t,
        (DataType::Int64 | DataType::Decimal128(..), DataType::Float64) | (DataType::Float64, DataType::Int64 | DataType::Decimal128(..)) => DataType::Float64,
        (DataType::Int64, d @ DataType::Decimal128(..)) | (d @ DataType::Decimal128(..), DataType::Int64) => d,
        (DataType::List(a), DataType::List(b)) => DataType::new_list(merge(a.data_type().clone(), b.data_type().clone()), true),
        (DataType::Struct(a), DataType::Struct(b)) => {
            let mut fields: BTreeMap<String, DataType> = a.iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
            for field in b.iter() {
                let merged = match fields.remove(field.name()) {
                    Some(t) => merge(t, field.data_type().clone()),
                    None => field.data_type().clone(),
                };
                fields.insert(field.name().clone(), merged);
            }
            DataType::Struct(fields.into_iter().map(|(k, t)| Field::new(k, t, true)).collect())
        }
        _ => DataType::Utf8,
    }
}

/// Undecided types as STRING.
fn settle(data_type: DataType) -> DataType {
    match data_type {
        DataType::Null => DataType::Utf8,
        DataType::List(f) => DataType::new_list(settle(f.data_type().clone()), true),
        DataType::Struct(fields) => DataType::Struct(Fields::from(fields.iter().map(|f| Arc::new(Field::new(f.name(), settle(f.data_type().clone()), true))).collect::<Vec<_>>())),
        other => other,
    }
}
