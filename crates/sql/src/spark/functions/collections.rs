//! Spark's `array_insert(array, position, value)` and `map_concat(map, ...)`.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, AsArray, ListArray, MapArray, MutableArrayData, StructArray, make_array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::args;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(ArrayInsert::new()), ScalarUDF::new_from_impl(MapConcat::new())]
}

/// How many elements an array may grow to when a position pads it with nulls.
const MAX_PADDED_LENGTH: i64 = 1 << 20;

/// `array_insert(array, position, value)`: `value` inserted at `position`, counting from 1;
/// a negative position counts from the end (-1 puts it last); a position past either end
/// pads the array with nulls. Position 0 is an error.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayInsert {
    signature: Signature,
}

impl ArrayInsert {
    fn new() -> Self {
        ArrayInsert { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for ArrayInsert {
    fn name(&self) -> &str {
        "array_insert"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [list, position, value] = arg_types else { return plan_err!("array_insert takes 3 arguments (array, position, value), not {}", arg_types.len()) };
        let element = match list {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type().clone(),
            DataType::Null => value.clone(),
            other => return plan_err!("array_insert inserts into an array, not {other}"),
        };
        if !(position.is_integer() || position.is_null()) {
            return plan_err!("the position of array_insert is a whole number, not {position}");
        }
        let Some(common) = type_union_resolution(&[element.clone(), value.clone()]) else {
            return plan_err!("array_insert cannot insert {value} into an array of {element}");
        };
        Ok(vec![DataType::new_list(common.clone(), true), DataType::Int64, common])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let list = call.args[0].to_array(rows)?;
        let list = list.as_list::<i32>();
        let positions = args::int(&call.args[1], rows)?;
        let values = call.args[2].to_array(rows)?;
        let elements = list.values().to_data();
        let value_data = values.to_data();
        let mut out = MutableArrayData::new(vec![&elements, &value_data], true, elements.len() + rows);
        let (mut offsets, mut valid) = (vec![0i32], Vec::with_capacity(rows));
        for row in 0..rows {
            if list.is_null(row) || positions.is_null(row) {
                valid.push(false);
                offsets.push(*offsets.last().expect("an offset"));
                continue;
            }
            let (start, end) = (list.value_offsets()[row] as usize, list.value_offsets()[row + 1] as usize);
            let length = (end - start) as i64;
            let position = positions.value(row);
            let index = match position {
                0 => return exec_err!("array_insert: the position is 0; positions count from 1 (or from -1 at the end)"),
                p if p > 0 => p - 1,
                p => length + p + 1,
            };
            if !(-MAX_PADDED_LENGTH..=MAX_PADDED_LENGTH).contains(&index) {
                return exec_err!("array_insert: position {position} would pad the array past {MAX_PADDED_LENGTH} elements");
            }
            let before = out.len();
            if index < 0 {
                // Past the start: the value first, nulls, then the array.
                out.try_extend(1, row, row + 1)?;
                out.try_extend_nulls((-index) as usize)?;
                out.try_extend(0, start, end)?;
            } else if index >= length {
                out.try_extend(0, start, end)?;
                out.try_extend_nulls((index - length) as usize)?;
                out.try_extend(1, row, row + 1)?;
            } else {
                let at = start + index as usize;
                out.try_extend(0, start, at)?;
                out.try_extend(1, row, row + 1)?;
                out.try_extend(0, at, end)?;
            }
            valid.push(true);
            offsets.push(offsets.last().expect("an offset") + (out.len() - before) as i32);
        }
        let DataType::List(field) = list.data_type() else { return exec_err!("array_insert: not a list") };
        let inserted = ListArray::try_new(field.clone(), OffsetBuffer::new(offsets.into()), make_array(out.freeze()), Some(NullBuffer::from(valid)))?;
        args::finish(Arc::new(inserted), args::all_scalar(&call.args))
    }
}

/// `map_concat(map, ...)`: the entries of every map, in order; NULL when one is NULL. A key
/// in two maps is an error, as in Spark (whose default is to refuse duplicate keys).
#[derive(Debug, PartialEq, Eq, Hash)]
struct MapConcat {
    signature: Signature,
}

impl MapConcat {
    fn new() -> Self {
        MapConcat { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for MapConcat {
    fn name(&self) -> &str {
        "map_concat"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let Some(map) = arg_types.iter().find(|t| matches!(t, DataType::Map(..))) else {
            return plan_err!("map_concat joins maps, not {arg_types:?}");
        };
        match arg_types.iter().all(|t| t == map || t.is_null()) {
            true => Ok(vec![map.clone(); arg_types.len()]),
            false => plan_err!("map_concat joins maps of one key and value type, not {arg_types:?}"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let arrays = call.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let maps: Vec<&MapArray> = arrays.iter().map(|a| a.as_map()).collect();
        let entries: Vec<_> = maps.iter().map(|m| m.entries().to_data()).collect();
        let mut out = MutableArrayData::new(entries.iter().collect(), false, entries.iter().map(|e| e.len()).sum());
        let (mut offsets, mut valid) = (vec![0i32], Vec::with_capacity(rows));
        for row in 0..rows {
            let before = out.len();
            let whole = maps.iter().all(|m| m.is_valid(row));
            if whole {
                let mut keys = HashSet::new();
                for (source, map) in maps.iter().enumerate() {
                    let (start, end) = (map.value_offsets()[row] as usize, map.value_offsets()[row + 1] as usize);
                    for i in start..end {
                        let key = ScalarValue::try_from_array(map.keys(), i)?;
                        if !keys.insert(key.clone()) {
                            return exec_err!("map_concat: the key {key} is in more than one map");
                        }
                    }
                    out.try_extend(source, start, end)?;
                }
            }
            valid.push(whole);
            offsets.push(offsets.last().expect("an offset") + (out.len() - before) as i32);
        }
        let DataType::Map(field, sorted) = maps[0].data_type() else { return exec_err!("map_concat: not a map") };
        let entries = StructArray::from(out.freeze());
        let joined = MapArray::try_new(Field::clone(field).into(), OffsetBuffer::new(offsets.into()), entries, Some(NullBuffer::from(valid)), *sorted)?;
        args::finish(Arc::new(joined), args::all_scalar(&call.args))
    }
}
