//! The higher-order functions over maps, as Spark answers them: a null map gives null; a
//! key made NULL or made twice by `transform_keys` stops the query, as in Spark.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, MapArray, StructArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, filter as keep, interleave, take};
use arrow::datatypes::{DataType, Field, Fields};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_err, plan_err};

use super::Lambda;
use super::elements::{Flat, take_each};

/// The key and value types of `function`'s map argument of type `map`.
pub fn entry_types(function: &str, map: &DataType) -> Result<(DataType, DataType)> {
    match map {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => Ok((fields[0].data_type().clone(), fields[1].data_type().clone())),
            other => plan_err!("{function}(...): a map's entries are not {other}"),
        },
        DataType::Null => Ok((DataType::Null, DataType::Null)),
        other => plan_err!("{function}(...) takes a map, not {other}"),
    }
}

/// The map type with keys of type `key` and values of type `value`.
pub fn map_type(key: DataType, value: DataType) -> DataType {
    DataType::Map(Arc::new(Field::new("entries", DataType::Struct(entry_fields(key, value)), false)), false)
}

fn entry_fields(key: DataType, value: DataType) -> Fields {
    Fields::from(vec![Field::new("key", key, false), Field::new("value", value, true)])
}

/// A map column's entries: (keys, values) laid out one after another.
fn entries(function: &str, map: &ArrayRef) -> Result<(Flat, ArrayRef, ArrayRef)> {
    let (key, value) = entry_types(function, map.data_type())?;
    let map = cast(map.as_ref(), &map_type(key, value))?;
    let map = map.as_map();
    let flat = Flat::new(map.offsets(), map.nulls(), &(Arc::new(map.entries().clone()) as ArrayRef))?;
    let entries = flat.values.as_struct();
    let (keys, values) = (entries.column(0).clone(), entries.column(1).clone());
    Ok((flat, keys, values))
}

fn map_of(key_values: (ArrayRef, ArrayRef), offsets: OffsetBuffer<i32>, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
    let (keys, values) = key_values;
    let fields = entry_fields(keys.data_type().clone(), values.data_type().clone());
    let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
    let field = Arc::new(Field::new("entries", DataType::Struct(fields), false));
    Ok(Arc::new(MapArray::try_new(field, offsets, entries, nulls, false)?))
}

/// `map_filter(map, (k, v) -> ...)`: the entries the lambda is true for.
pub fn filter(lambda: &Lambda, map: &ArrayRef, outer: &[ArrayRef]) -> Result<ArrayRef> {
    let (flat, keys, values) = entries("map_filter", map)?;
    let verdicts = cast(lambda.run(vec![keys.clone(), values.clone()], flat.outer(outer)?, keys.len())?.as_ref(), &DataType::Boolean)?;
    let verdicts = verdicts.as_boolean();
    let chosen = BooleanArray::from_iter((0..verdicts.len()).map(|i| Some(verdicts.is_valid(i) && verdicts.value(i))));
    let lengths = (0..flat.rows()).map(|row| flat.range(row).map_or(0, |r| r.filter(|&i| chosen.value(i)).count()));
    let offsets = OffsetBuffer::from_lengths(lengths);
    map_of((keep(keys.as_ref(), &chosen)?, keep(values.as_ref(), &chosen)?), offsets, flat.nulls)
}

/// `transform_values(map, (k, v) -> ...)`, or `transform_keys` when `of_keys`.
pub fn transform(lambda: &Lambda, map: &ArrayRef, outer: &[ArrayRef], of_keys: bool) -> Result<ArrayRef> {
    let function = if of_keys { "transform_keys" } else { "transform_values" };
    let (flat, keys, values) = entries(function, map)?;
    let made = lambda.run(vec![keys.clone(), values.clone()], flat.outer(outer)?, keys.len())?;
    if !of_keys {
        return map_of((keys, made), flat.offsets, flat.nulls);
    }
    if made.null_count() > 0 {
        return exec_err!("transform_keys: the lambda made a NULL key; a map's keys cannot be NULL");
    }
    let converter = RowConverter::new(vec![SortField::new(made.data_type().clone())])?;
    let rows = converter.convert_columns(std::slice::from_ref(&made))?;
    for row in 0..flat.rows() {
        let Some(range) = flat.range(row) else { continue };
        let mut seen = HashSet::new();
        if let Some(twice) = range.clone().find(|&i| !seen.insert(rows.row(i))) {
            let key = arrow::util::display::array_value_to_string(&made, twice).unwrap_or_default();
            return exec_err!("transform_keys: the lambda made the key {key} twice in one map; a map's keys are unique");
        }
    }
    map_of((made, values), flat.offsets, flat.nulls)
}

/// `map_zip_with(left, right, (k, v1, v2) -> ...)`: every key of either map (the left's
/// first, in order, then the right's others), with its value in each (or null).
pub fn zip_with(lambda: &Lambda, left: &ArrayRef, right: &ArrayRef, outer: &[ArrayRef]) -> Result<ArrayRef> {
    let (left, left_keys, left_values) = entries("map_zip_with", left)?;
    let (right, right_keys, right_values) = entries("map_zip_with", right)?;
    let converter = RowConverter::new(vec![SortField::new(left_keys.data_type().clone())])?;
    let (left_rows, right_rows) = (converter.convert_columns(std::slice::from_ref(&left_keys))?, converter.convert_columns(&[cast(right_keys.as_ref(), left_keys.data_type())?])?);
    let (mut key_picks, mut from_left, mut from_right, mut parents, mut lengths, mut valid) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for row in 0..left.rows() {
        let (Some(l), Some(r)) = (left.range(row), right.range(row)) else {
            valid.push(false);
            lengths.push(0);
            continue;
        };
        valid.push(true);
        let in_right: HashMap<_, usize> = r.clone().map(|i| (right_rows.row(i), i)).collect();
        let in_left: HashSet<_> = l.clone().map(|i| left_rows.row(i)).collect();
        let before = key_picks.len();
        for i in l {
            key_picks.push((0, i));
            from_left.push(Some(i as u32));
            from_right.push(in_right.get(&left_rows.row(i)).map(|&j| j as u32));
        }
        for j in r.filter(|&j| !in_left.contains(&right_rows.row(j))) {
            key_picks.push((1, j));
            from_left.push(None);
            from_right.push(Some(j as u32));
        }
        parents.extend(std::iter::repeat_n(row as u32, key_picks.len() - before));
        lengths.push(key_picks.len() - before);
    }
    let right_keys = cast(right_keys.as_ref(), left_keys.data_type())?;
    let keys = interleave(&[left_keys.as_ref(), right_keys.as_ref()], &key_picks)?;
    let params = vec![keys.clone(), take(left_values.as_ref(), &UInt32Array::from(from_left), None)?, take(right_values.as_ref(), &UInt32Array::from(from_right), None)?];
    let parents = UInt32Array::from(parents);
    let values = lambda.run(params, take_each(outer, &parents)?, parents.len())?;
    let nulls = NullBuffer::from(valid);
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    map_of((keys, values), OffsetBuffer::from_lengths(lengths), nulls)
}
