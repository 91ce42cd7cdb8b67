//! `element_at(array, index)` and `element_at(map, key)` as Spark's: arrays count from 1
//! (negative indexes from the end; 0 is an error); a map gives the value of the key.
//! DataFusion's `element_at` is a map lookup only, answering a list. An index past the end
//! or a missing key is NULL, as hela's subscripts are (Spark 4 in ANSI mode stops the
//! query; its `try_element_at` answers NULL).


use arrow::array::{Array, ArrayRef, AsArray, UInt32Array};
use arrow::compute::{cast, take};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use super::args;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ElementAt {
    signature: Signature,
}

impl ElementAt {
    pub fn new() -> Self {
        ElementAt { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// A list type as a plain `List` of the same elements.
fn plain_list(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) => Some(DataType::List(f.clone())),
        _ => None,
    }
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [list, index] if plain_list(list).is_some() && (index.is_integer() || index.is_null()) => Ok(vec![plain_list(list).expect("a list"), DataType::Int64]),
            [map @ DataType::Map(entries, _), _] => match entries.data_type() {
                DataType::Struct(fields) => Ok(vec![map.clone(), fields[0].data_type().clone()]),
                _ => plan_err!("element_at: a map's entries are not key-value pairs"),
            },
            _ => plan_err!("element_at takes (array, index) or (map, key), not {arg_types:?}"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::List(f)) => Ok(f.data_type().clone()),
            Some(DataType::Map(entries, _)) => match entries.data_type() {
                DataType::Struct(fields) => Ok(fields[1].data_type().clone()),
                _ => plan_err!("element_at: a map's entries are not key-value pairs"),
            },
            other => plan_err!("element_at takes an array or a map, not {other:?}"),
        }
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let (container, wanted) = (call.args[0].to_array(rows)?, call.args[1].to_array(rows)?);
        let (values, positions) = match container.data_type() {
            DataType::List(_) => {
                let list = container.as_list::<i32>();
                let indexes = cast(&wanted, &DataType::Int64)?;
                let indexes = indexes.as_primitive::<arrow::datatypes::Int64Type>();
                let mut positions = Vec::with_capacity(rows);
                for row in 0..rows {
                    if list.is_null(row) || indexes.is_null(row) {
                        positions.push(None);
                        continue;
                    }
                    let (start, length) = (list.value_offsets()[row] as i64, list.value_length(row) as i64);
                    let index = indexes.value(row);
                    if index == 0 {
                        return exec_err!("element_at: index 0 is not valid; arrays count from 1 (and from -1 at the end)");
                    }
                    let at = if index > 0 { index - 1 } else { length + index };
                    positions.push((0..length).contains(&at).then(|| (start + at) as u32));
                }
                (list.values().clone(), positions)
            }
            DataType::Map(..) => {
                let map = container.as_map();
                let mut positions = Vec::with_capacity(rows);
                for row in 0..rows {
                    if map.is_null(row) || wanted.is_null(row) {
                        positions.push(None);
                        continue;
                    }
                    let key = ScalarValue::try_from_array(&wanted, row)?;
                    let (start, end) = (map.value_offsets()[row] as usize, map.value_offsets()[row + 1] as usize);
                    let mut found = None;
                    for entry in start..end {
                        if ScalarValue::try_from_array(map.keys(), entry)? == key {
                            found = Some(entry as u32);
                            break;
                        }
                    }
                    positions.push(found);
                }
                (map.values().clone(), positions)
            }
            other => return exec_err!("element_at takes an array or a map, not {other}"),
        };
        let taken: ArrayRef = take(values.as_ref(), &UInt32Array::from(positions), None)?;
        args::finish(taken, args::all_scalar(&call.args))
    }
}

