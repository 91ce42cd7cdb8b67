//! The order a merge writes rows in. Compaction sorts a file's rows by `EventID` and time,
//! so that rows a hunt reads together lie together: runs of one value encode small, and
//! the statistics of each page bound a narrow range.

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::{SortColumn, SortOptions, concat, interleave_record_batch, lexsort_to_indices};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;

use crate::writer::{ROWS_PER_ROW_GROUP, SORTED_ROWS_PER_ROW_GROUP};

/// The order a merge writes rows in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOrder {
    /// The files' rows one file after another, as they are stored.
    AsStored,
    /// Sorted by `EventID`, then time, in runs of rows that together take at most `memory`
    /// bytes once read (one run when they all do).
    EventAndTime { memory: usize },
}

impl RowOrder {
    /// The rows per row group of a file written in this order: fewer when they are sorted,
    /// so that statistics skip the event numbers a hunt does not read.
    pub(crate) fn rows_per_row_group(self) -> usize {
        match self {
            RowOrder::AsStored => ROWS_PER_ROW_GROUP,
            RowOrder::EventAndTime { .. } => SORTED_ROWS_PER_ROW_GROUP,
        }
    }
}

/// The columns rows are sorted by, in order, each the first of its names that a batch has:
/// the event's number (raw and HELK names), then its time (`@timestamp`, or Zeek's `ts`).
const SORT_KEYS: &[&[&str]] = &[&["EventID", "event_id"], &["@timestamp", "ts"]];

/// Batches held back to be written in order: all of them, or each run that fills the memory.
pub(crate) struct Held {
    /// The memory the held batches may take; `None` when rows are written as stored.
    limit: Option<usize>,
    batches: Vec<RecordBatch>,
    bytes: usize,
}

impl Held {
    pub(crate) fn new(order: RowOrder) -> Held {
        let limit = match order {
            RowOrder::AsStored => None,
            RowOrder::EventAndTime { memory } => Some(memory),
        };
        Held { limit, batches: Vec::new(), bytes: 0 }
    }

    /// Takes `batch`, and returns the batches to write now: none while rows are held; the
    /// rows held so far, sorted, once `batch` would take them past their memory (`batch`
    /// then starts the next run); `batch` itself when rows are written as stored.
    pub(crate) fn push(&mut self, batch: RecordBatch) -> Result<Vec<RecordBatch>, ArrowError> {
        let Some(limit) = self.limit else { return Ok(vec![batch]) };
        let size = batch.get_array_memory_size();
        let mut ready = Vec::new();
        if !self.batches.is_empty() && self.bytes + size > limit {
            ready.push(sorted(&std::mem::take(&mut self.batches))?);
            self.bytes = 0;
        }
        self.bytes += size;
        self.batches.push(batch);
        Ok(ready)
    }

    /// The held rows in order, when any are held.
    pub(crate) fn finish(self) -> Result<Option<RecordBatch>, ArrowError> {
        if self.batches.is_empty() {
            return Ok(None);
        }
        sorted(&self.batches).map(Some)
    }
}

/// The rows of `batches` (of one schema) as one batch, sorted by [`SORT_KEYS`] (nulls last);
/// in their order when the batches have none of the keys.
fn sorted(batches: &[RecordBatch]) -> Result<RecordBatch, ArrowError> {
    let first = &batches[0];
    let mut keys = Vec::new();
    for names in SORT_KEYS {
        let Some(index) = names.iter().find_map(|name| first.schema().index_of(name).ok()) else { continue };
        if !sortable(first.column(index).data_type()) {
            continue;
        }
        let columns: Vec<&dyn arrow::array::Array> = batches.iter().map(|batch| batch.column(index).as_ref()).collect();
        let values: ArrayRef = concat(&columns)?;
        keys.push(SortColumn { values, options: Some(SortOptions { descending: false, nulls_first: false }) });
    }
    let positions: Vec<(usize, usize)> = batches.iter().enumerate().flat_map(|(b, batch)| (0..batch.num_rows()).map(move |row| (b, row))).collect();
    let order: Vec<(usize, usize)> = if keys.is_empty() {
        positions
    } else {
        lexsort_to_indices(&keys, None)?.values().iter().map(|&i| positions[i as usize]).collect()
    };
    let batches: Vec<&RecordBatch> = batches.iter().collect();
    interleave_record_batch(&batches, &order)
}

/// True for a column of numbers or text, which sort as their values.
fn sortable(data_type: &DataType) -> bool {
    data_type.is_primitive() || matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, Int64Array, StringArray};
    use arrow::datatypes::{Field, Int64Type, Schema};
    use std::sync::Arc;

    fn batch(ids: Vec<Option<i64>>, times: Vec<&str>) -> RecordBatch {
        let schema = Schema::new(vec![Field::new("EventID", DataType::Int64, true), Field::new("@timestamp", DataType::Utf8, true)]);
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(Int64Array::from(ids)), Arc::new(StringArray::from(times))]).unwrap()
    }

    fn rows(batch: &RecordBatch) -> Vec<(Option<i64>, String)> {
        let ids = batch.column(0).as_primitive::<Int64Type>();
        let times = batch.column(1).as_string::<i32>();
        (0..batch.num_rows()).map(|i| (ids.is_valid(i).then(|| ids.value(i)), times.value(i).to_string())).collect()
    }

    #[test]
    fn held_rows_come_out_by_event_then_time_with_unnumbered_rows_last() {
        let mut held = Held::new(RowOrder::EventAndTime { memory: 1 << 20 });
        assert!(held.push(batch(vec![Some(4688), None, Some(4624)], vec!["2020-09-21T02", "2020-09-20T00", "2020-09-22T00"])).unwrap().is_empty());
        assert!(held.push(batch(vec![Some(4624), Some(4688)], vec!["2020-09-20T05", "2020-09-21T01"])).unwrap().is_empty());
        let out = rows(&held.finish().unwrap().unwrap());
        let expected = [(Some(4624), "2020-09-20T05"), (Some(4624), "2020-09-22T00"), (Some(4688), "2020-09-21T01"), (Some(4688), "2020-09-21T02"), (None, "2020-09-20T00")];
        assert_eq!(out, expected.map(|(id, time)| (id, time.to_string())));
    }

    #[test]
    fn rows_past_the_memory_are_sorted_in_runs_that_fit_it() {
        let one = batch(vec![Some(2), Some(1)], vec!["b", "a"]);
        let two = batch(vec![Some(3), Some(1), Some(2)], vec!["c", "x", "y"]);
        let memory = one.get_array_memory_size() + two.get_array_memory_size();
        let mut held = Held::new(RowOrder::EventAndTime { memory });
        assert!(held.push(one.clone()).unwrap().is_empty());
        assert!(held.push(two.clone()).unwrap().is_empty());
        let ready = held.push(one.clone()).unwrap();
        let run: Vec<(Option<i64>, String)> = [(1, "a"), (1, "x"), (2, "b"), (2, "y"), (3, "c")].iter().map(|(id, t)| (Some(*id), t.to_string())).collect();
        assert_eq!(ready.iter().map(rows).collect::<Vec<_>>(), vec![run], "the first run, sorted");
        assert_eq!(rows(&held.finish().unwrap().unwrap()), vec![(Some(1), "a".to_string()), (Some(2), "b".to_string())], "the next run, sorted");
        let mut stored = Held::new(RowOrder::AsStored);
        assert_eq!(stored.push(one.clone()).unwrap().iter().map(rows).collect::<Vec<_>>(), vec![rows(&one)], "as stored");
        assert!(stored.finish().unwrap().is_none());
    }

    #[test]
    fn batches_without_the_keys_keep_their_order() {
        let schema = Arc::new(Schema::new(vec![Field::new("Image", DataType::Utf8, true)]));
        let make = |v: &str| RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(vec![v]))]).unwrap();
        let out = sorted(&[make("z"), make("a")]).unwrap();
        assert_eq!(out.column(0).as_string::<i32>().iter().flatten().collect::<Vec<_>>(), ["z", "a"]);
    }
}
