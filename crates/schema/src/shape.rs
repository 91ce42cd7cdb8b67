//! The inference lattice: what type a field has after seeing some values.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::columns::ObjectColumns;
use crate::view::{Json, JsonNumber, JsonView, map_members};

/// The largest whole number every smaller one of which a double holds exactly (2^53).
const EXACT_IN_DOUBLE: u64 = 1 << 53;

/// The inferred type of a JSON value, widened as more values are seen.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Only nulls (or empty objects) seen so far.
    #[default]
    Null,
    Bool,
    Int,
    /// Whole numbers, some beyond ±2^53 where a double is no longer exact: stored as 64-bit
    /// integers, and as text (not doubles) once fractions join them.
    #[serde(rename = "bigint")]
    BigInt,
    Float,
    /// Strings, or values of conflicting types kept as their JSON text.
    Str,
    List(Box<Shape>),
    /// Fields by name, in Spark's (sorted) order.
    Object(BTreeMap<String, Shape>),
}

impl Shape {
    /// The shape of one value.
    pub fn of<'a>(value: impl JsonView<'a>) -> Shape {
        match value.kind() {
            Json::Null => Shape::Null,
            Json::Bool(_) => Shape::Bool,
            Json::Number(JsonNumber::Int(i)) if i.unsigned_abs() > EXACT_IN_DOUBLE => Shape::BigInt,
            Json::Number(JsonNumber::Int(_)) => Shape::Int,
            // Above 64 bits: kept exactly as text.
            Json::Number(JsonNumber::UInt(_)) => Shape::Str,
            Json::Number(JsonNumber::Float(_)) => Shape::Float,
            Json::Str(_) => Shape::Str,
            Json::Array(array) => {
                let mut element = Shape::Null;
                array.items().for_each(|item| element.observe(item));
                Shape::List(Box::new(element))
            }
            Json::Object(object) => Shape::Object(object.members().map(|(k, v)| (k.to_string(), Shape::of(v))).collect()),
        }
    }

    /// Widens this shape to also describe `value`, in place.
    pub fn observe<'a>(&mut self, value: impl JsonView<'a>) {
        match (&mut *self, value.kind()) {
            (_, Json::Null) => {}
            (Shape::Null, _) => *self = Shape::of(value),
            (Shape::List(element), Json::Array(array)) => array.items().for_each(|item| element.observe(item)),
            (Shape::Object(fields), Json::Object(object)) => observe_fields(fields, object.members()),
            (Shape::Bool, Json::Bool(_)) | (Shape::Str, Json::Str(_)) => {}
            (_, _) => self.merge(Shape::of(value)),
        }
    }

    /// Widens this (object) shape to also describe one record.
    pub fn observe_record(&mut self, record: &Map<String, Value>) {
        if let Some(fields) = self.record_fields() {
            observe_fields(fields, map_members(record));
        }
    }

    /// Widens this (object) shape to also describe the records split into `columns`, as
    /// observing each record does, a column at a time.
    pub fn observe_columns<'a, V: JsonView<'a>>(&mut self, columns: &ObjectColumns<'a, V>) {
        if columns.rows() == 0 {
            return;
        }
        let Some(fields) = self.record_fields() else { return };
        for (name, values) in columns.iter() {
            let field = match fields.get_mut(name) {
                // Text takes every value as it is: nothing widens it.
                Some(Shape::Str) => continue,
                Some(field) => field,
                None => fields.entry(name.to_string()).or_default(),
            };
            values.iter().flatten().for_each(|value| field.observe(*value));
        }
    }

    /// The fields of this shape, for records to widen: a `Null` shape becomes an object with
    /// none yet; a shape that is neither becomes text, which has no fields.
    fn record_fields(&mut self) -> Option<&mut BTreeMap<String, Shape>> {
        match *self {
            Shape::Null => *self = Shape::Object(BTreeMap::new()),
            Shape::Object(_) => {}
            _ => self.merge(Shape::Str),
        }
        match self {
            Shape::Object(fields) => Some(fields),
            _ => None,
        }
    }

    /// Widens this shape to also describe everything `other` describes.
    pub fn merge(&mut self, other: Shape) {
        match (&mut *self, other) {
            (_, Shape::Null) => {}
            (Shape::Null, other) => *self = other,
            (Shape::Int, Shape::Float) => *self = Shape::Float,
            (Shape::Float, Shape::Int) | (Shape::BigInt, Shape::Int) => {}
            (Shape::Int, Shape::BigInt) => *self = Shape::BigInt,
            (Shape::List(a), Shape::List(b)) => a.merge(*b),
            (Shape::Object(a), Shape::Object(b)) => {
                for (name, shape) in b {
                    a.entry(name).or_default().merge(shape);
                }
            }
            (this, other) if *this == other => {}
            (this, _) => *this = Shape::Str,
        }
    }

    /// The Arrow type this shape is stored as. Unknown types (only nulls seen, or objects
    /// that were always empty) stay `Null` so that later data can give them a real type.
    pub fn storage_type(&self) -> DataType {
        match self {
            Shape::Null => DataType::Null,
            Shape::Bool => DataType::Boolean,
            Shape::Int | Shape::BigInt => DataType::Int64,
            Shape::Float => DataType::Float64,
            Shape::Str => DataType::Utf8,
            Shape::List(element) => DataType::List(Arc::new(Field::new("item", element.storage_type(), true))),
            Shape::Object(fields) if fields.is_empty() => DataType::Null,
            Shape::Object(fields) => DataType::Struct(fields_of(fields)),
        }
    }

    /// The schema of a record batch whose records had this (object) shape.
    pub fn storage_schema(&self) -> Schema {
        match self {
            Shape::Object(fields) => Schema::new(fields_of(fields)),
            _ => Schema::empty(),
        }
    }

    /// The shape an Arrow type stores (the inverse of [`Shape::storage_type`]).
    pub fn from_arrow(data_type: &DataType) -> Shape {
        match data_type {
            DataType::Null => Shape::Null,
            DataType::Boolean => Shape::Bool,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Shape::Int,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => Shape::Int,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Shape::Float,
            DataType::List(f) | DataType::LargeList(f) => Shape::List(Box::new(Shape::from_arrow(f.data_type()))),
            DataType::Struct(fields) => Shape::Object(
                fields.iter().map(|f| (f.name().clone(), Shape::from_arrow(f.data_type()))).collect(),
            ),
            _ => Shape::Str,
        }
    }

    /// The shape of a whole schema, as an object.
    pub fn from_schema(schema: &Schema) -> Shape {
        Shape::from_arrow(&DataType::Struct(schema.fields().clone()))
    }
}

fn observe_fields<'a, V: JsonView<'a>>(fields: &mut BTreeMap<String, Shape>, members: impl Iterator<Item = (&'a str, V)>) {
    for (name, value) in members {
        match fields.get_mut(name) {
            Some(field) => field.observe(value),
            None => {
                fields.insert(name.to_string(), Shape::of(value));
            }
        }
    }
}

fn fields_of(fields: &BTreeMap<String, Shape>) -> Fields {
    fields.iter().map(|(name, shape)| Field::new(name, shape.storage_type(), true)).collect()
}

/// The type a column is queried as: a stored `Null` type becomes a string, as in Spark,
/// at any depth.
pub fn query_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Null => DataType::Utf8,
        DataType::List(f) => DataType::List(Arc::new(f.as_ref().clone().with_data_type(query_type(f.data_type())))),
        DataType::Struct(fields) => DataType::Struct(query_fields(fields)),
        other => other.clone(),
    }
}

/// The schema a table is queried with (see [`query_type`]).
pub fn query_schema(schema: &Schema) -> Schema {
    Schema::new_with_metadata(query_fields(schema.fields()), schema.metadata().clone())
}

fn query_fields(fields: &Fields) -> Fields {
    fields.iter().map(|f| f.as_ref().clone().with_data_type(query_type(f.data_type()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn infer(values: &[Value]) -> Shape {
        let mut shape = Shape::Null;
        values.iter().for_each(|v| shape.observe(v));
        shape
    }

    #[test]
    fn numbers_widen_like_spark() {
        assert_eq!(infer(&[json!(1), json!(2)]), Shape::Int);
        assert_eq!(infer(&[json!(1), json!(2.5)]), Shape::Float);
        assert_eq!(infer(&[json!(2.5), json!(1)]), Shape::Float);
        assert_eq!(infer(&[json!(1), json!("x")]), Shape::Str);
        assert_eq!(infer(&[json!(true), json!(1)]), Shape::Str);
        assert_eq!(infer(&[json!(null), json!(-9223372036854775808i64)]), Shape::BigInt);
    }

    #[test]
    fn whole_numbers_a_double_cannot_hold_stay_exact() {
        let big = (1i64 << 53) + 1;
        assert_eq!(infer(&[json!(big), json!(1)]), Shape::BigInt);
        assert_eq!(infer(&[json!(1), json!(big)]), Shape::BigInt);
        assert_eq!(infer(&[json!(big), json!(0.5)]), Shape::Str);
        assert_eq!(infer(&[json!(0.5), json!(-big)]), Shape::Str);
        assert_eq!(infer(&[json!(1i64 << 53), json!(0.5)]), Shape::Float);
        assert_eq!(infer(&[json!(u64::MAX)]), Shape::Str);
        assert_eq!(infer(&[json!(1), json!(u64::MAX)]), Shape::Str);
        assert_eq!(Shape::BigInt.storage_type(), DataType::Int64);
        let mut merged = Shape::BigInt;
        merged.merge(Shape::Float);
        assert_eq!(merged, Shape::Str);
        let records = [json!({"n": big}), json!({"n": 0.5}), json!({"n": u64::MAX})];
        let records: Vec<_> = records.iter().map(|r| r.as_object().unwrap().clone()).collect();
        let mut shape = Shape::Null;
        records.iter().for_each(|r| shape.observe_record(r));
        let batch = crate::records_to_batch(&records, Arc::new(shape.storage_schema())).unwrap();
        let texts = arrow::array::AsArray::as_string::<i32>(batch.column(0));
        assert_eq!(texts.iter().collect::<Vec<_>>(), [Some("9007199254740993"), Some("0.5"), Some("18446744073709551615")]);
    }

    #[test]
    fn objects_union_their_fields_and_keep_case_variants() {
        let shape = infer(&[
            json!({"SourceProcessGUID": "{a}", "event_data": {"Image": "x"}}),
            json!({"SourceProcessGuid": "{b}", "event_data": {"ProcessId": 4}}),
        ]);
        let schema = shape.storage_schema();
        let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["SourceProcessGUID", "SourceProcessGuid", "event_data"]);
        let DataType::Struct(inner) = schema.field(2).data_type() else { panic!() };
        assert_eq!(inner.iter().map(|f| f.name().as_str()).collect::<Vec<_>>(), ["Image", "ProcessId"]);
        assert_eq!(inner[1].data_type(), &DataType::Int64);
    }

    #[test]
    fn conflicting_containers_become_strings_and_nulls_stay_open() {
        assert_eq!(infer(&[json!({"a": 1}), json!("text")]), Shape::Str);
        assert_eq!(infer(&[json!([1]), json!({"a": 1})]), Shape::Str);
        assert_eq!(infer(&[json!([]), json!([1.5])]), Shape::List(Box::new(Shape::Float)));
        let only_null = infer(&[json!({"x": null, "e": {}})]);
        assert_eq!(only_null.storage_schema().field(0).data_type(), &DataType::Null);
        assert_eq!(query_schema(&only_null.storage_schema()).field(1).data_type(), &DataType::Utf8);
    }

    #[test]
    fn observing_columns_agrees_with_observing_records() {
        let values = [
            json!({"a": 1, "b": [1], "n": null}),
            json!({"b": "s", "a": 2.5, "c": {"d": true}}),
            json!({"c": {"e": 1}, "a": null, "f": (1i64 << 53) + 1}),
        ];
        let records = |values: &[Value]| -> Vec<Map<String, Value>> { values.iter().map(|v| v.as_object().unwrap().clone()).collect() };
        let (more, records) = (records(&[json!({"b": [1, 2], "a": {"x": 1}, "c": "t"})]), records(&values));
        let mut by_record = Shape::Null;
        records.iter().for_each(|r| by_record.observe_record(r));
        let mut by_column = Shape::Null;
        by_column.observe_columns(&ObjectColumns::of_records(&records));
        assert_eq!(by_column, by_record);
        by_column.observe_columns(&ObjectColumns::of_records(&[]));
        assert_eq!(by_column, by_record, "no records change nothing");
        more.iter().for_each(|r| by_record.observe_record(r));
        by_column.observe_columns(&ObjectColumns::of_records(&more));
        assert_eq!(by_column, by_record, "text stays text; other shapes widen");
    }

    #[test]
    fn merging_shapes_agrees_with_observing_values() {
        let values = [json!({"a": 1, "b": [1]}), json!({"a": 1.5, "c": {"d": true}}), json!({"b": "s"})];
        let mut merged = Shape::Null;
        values.iter().for_each(|v| merged.merge(Shape::of(v)));
        assert_eq!(merged, infer(&values));
        let round_trip = Shape::from_schema(&merged.storage_schema());
        assert_eq!(round_trip, merged);
    }
}
