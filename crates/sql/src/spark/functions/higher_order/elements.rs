//! An array column's elements (or a map column's entries) laid out one after another, with
//! the row each came from, so a lambda runs once over all of them.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, ListArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, plan_err};

/// The elements of every non-null row of a list-like column.
pub struct Flat {
    /// The elements, row after row.
    pub values: ArrayRef,
    /// The row each element came from.
    pub parents: UInt32Array,
    /// Each element's place in its row, from 0.
    pub positions: Int32Array,
    /// Where each row's elements are in `values` (a null row has none).
    pub offsets: OffsetBuffer<i32>,
    /// The null rows.
    pub nulls: Option<NullBuffer>,
}

impl Flat {
    /// The elements of the rows whose elements are `values[offsets[i]..offsets[i + 1]]`,
    /// where `nulls` does not mark row `i` null.
    pub fn new(offsets: &OffsetBuffer<i32>, nulls: Option<&NullBuffer>, values: &ArrayRef) -> Result<Flat> {
        let rows = offsets.len() - 1;
        let (mut indices, mut parents, mut positions) = (Vec::new(), Vec::new(), Vec::new());
        let mut lengths = Vec::with_capacity(rows);
        for row in 0..rows {
            if nulls.is_some_and(|n| n.is_null(row)) {
                lengths.push(0);
                continue;
            }
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            lengths.push(end - start);
            for (place, index) in (start..end).enumerate() {
                indices.push(index as u32);
                parents.push(row as u32);
                positions.push(place as i32);
            }
        }
        let values = take(values.as_ref(), &UInt32Array::from(indices), None)?;
        Ok(Flat {
            values,
            parents: UInt32Array::from(parents),
            positions: Int32Array::from(positions),
            offsets: OffsetBuffer::from_lengths(lengths),
            nulls: nulls.cloned(),
        })
    }

    /// The elements of a list column.
    pub fn of_list(list: &ListArray) -> Result<Flat> {
        Flat::new(list.offsets(), list.nulls(), list.values())
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Row `row`'s elements, or none for a null row.
    pub fn range(&self, row: usize) -> Option<Range<usize>> {
        if self.nulls.as_ref().is_some_and(|n| n.is_null(row)) {
            return None;
        }
        Some(self.offsets[row] as usize..self.offsets[row + 1] as usize)
    }

    /// The outer values (one per row) for each element.
    pub fn outer(&self, outer: &[ArrayRef]) -> Result<Vec<ArrayRef>> {
        take_each(outer, &self.parents)
    }
}

/// The rows `indices` of each of `columns`.
pub fn take_each(columns: &[ArrayRef], indices: &UInt32Array) -> Result<Vec<ArrayRef>> {
    columns.iter().map(|column| Ok(take(column.as_ref(), indices, None)?)).collect()
}

/// The type of the elements of `function`'s array argument of type `array`.
pub fn element_type(function: &str, array: &DataType) -> Result<DataType> {
    match array {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) | DataType::LargeListView(f) => Ok(f.data_type().clone()),
        DataType::Null => Ok(DataType::Null),
        other => plan_err!("{function}(...) takes an array, not {other}"),
    }
}

/// `array` as a list column (a null column as a list of nulls).
pub fn as_list(function: &str, array: &ArrayRef) -> Result<ListArray> {
    let element = element_type(function, array.data_type())?;
    let list_type = DataType::List(Arc::new(Field::new_list_field(element, true)));
    let list = cast(array.as_ref(), &list_type)?;
    Ok(list.as_any().downcast_ref::<ListArray>().expect("cast to a list").clone())
}
