//! Indicators indexed for matching: the rows of an indicators table with an [`Index`] over
//! their values. `ioc_match` builds one per query; a server keeps one standing and looks
//! up every batch it stores.

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::{can_cast_types, cast};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;

use crate::fields::fields;
use crate::index::{FieldKind, Index};
use crate::kind::Kind;

/// Indicators with their index.
#[derive(Debug)]
pub struct Watchlist {
    index: Index,
    rows: RecordBatch,
}

/// An indicator's value found in an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting {
    /// The event's row in its batch.
    pub row: u32,
    /// The column the value was found in.
    pub column: usize,
    /// The indicator's row in [`Watchlist::rows`].
    pub indicator: u32,
}

impl Watchlist {
    /// Indexes `rows`, which have `type` and `value` columns; a row whose type is not one
    /// hela matches, or whose value is not of its type, matches nothing.
    pub fn new(rows: RecordBatch) -> Result<Watchlist, ArrowError> {
        let column = |name: &str| {
            let column = rows.column_by_name(name).ok_or_else(|| ArrowError::SchemaError(format!("the indicators have no column `{name}`")))?;
            cast(column, &DataType::Utf8)
        };
        let (kinds, values) = (column("type")?, column("value")?);
        let mut index = Index::default();
        for (row, (kind, value)) in kinds.as_string::<i32>().iter().zip(values.as_string::<i32>().iter()).enumerate() {
            if let (Some(kind), Some(value)) = (kind.and_then(Kind::named), value) {
                index.add(row as u32, kind, value);
            }
        }
        Ok(Watchlist { index, rows })
    }

    /// No indicators.
    pub fn empty() -> Watchlist {
        let schema = Schema::new(vec![Field::new("type", DataType::Utf8, true), Field::new("value", DataType::Utf8, true)]);
        Watchlist { index: Index::default(), rows: RecordBatch::new_empty(Arc::new(schema)) }
    }

    /// The indicators' rows.
    pub fn rows(&self) -> &RecordBatch {
        &self.rows
    }

    /// The number of indicators that can match.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no indicator can match.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The indicators found in `events`' `columns` (each read as what it holds), column by
    /// column; an indicator found twice in one value counts once.
    pub fn sightings(&self, events: &RecordBatch, columns: &[(usize, FieldKind)]) -> Result<Vec<Sighting>, ArrowError> {
        let mut sightings = Vec::new();
        let mut found = Vec::new();
        for &(column, kind) in columns {
            let text = cast(events.column(column), &DataType::Utf8)?;
            for (row, value) in text.as_string::<i32>().iter().enumerate() {
                let Some(value) = value else { continue };
                found.clear();
                self.index.lookup(kind, value, &mut found);
                found.sort_unstable();
                found.dedup();
                sightings.extend(found.iter().map(|&indicator| Sighting { row: row as u32, column, indicator }));
            }
        }
        Ok(sightings)
    }

    /// The indicators found in whichever of `events`' columns [`crate::FIELDS`] names.
    pub fn sightings_in_known_fields(&self, events: &RecordBatch) -> Result<Vec<Sighting>, ArrowError> {
        let schema = events.schema();
        let mut columns = fields(&schema, None).map_err(ArrowError::SchemaError)?;
        columns.retain(|&(at, _)| can_cast_types(schema.field(at).data_type(), &DataType::Utf8));
        self.sightings(events, &columns)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, Int64Array, StringArray};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn watchlist() -> Watchlist {
        Watchlist::new(batch(vec![
            ("type", Arc::new(StringArray::from(vec!["ip", "domain", "sha256", "mutex", "ip"])) as ArrayRef),
            ("value", Arc::new(StringArray::from(vec!["10.0.0.0/8", "evil.com", &"ab".repeat(32), "x", "not an address"]))),
        ]))
        .unwrap()
    }

    #[test]
    fn known_fields_are_looked_up_as_what_they_hold() {
        let list = watchlist();
        assert_eq!(list.len(), 3, "an unknown type and a bad value match nothing");
        let events = batch(vec![
            ("DestinationIp", Arc::new(StringArray::from(vec![Some("10.1.2.3"), Some("8.8.8.8"), None])) as ArrayRef),
            ("QueryName", Arc::new(StringArray::from(vec![None, Some("www.EVIL.com"), Some("evil.com.au")]))),
            ("Hashes", Arc::new(StringArray::from(vec![Some(format!("MD5=00,SHA256={}", "AB".repeat(32))), None, None]))),
            ("EventID", Arc::new(Int64Array::from(vec![3, 22, 22]))),
        ]);
        let found = list.sightings_in_known_fields(&events).unwrap();
        assert_eq!(
            found,
            [Sighting { row: 0, column: 0, indicator: 0 }, Sighting { row: 1, column: 1, indicator: 1 }, Sighting { row: 0, column: 2, indicator: 2 }]
        );
    }

    #[test]
    fn indicators_without_a_type_or_value_column_are_refused() {
        let rows = batch(vec![("value", Arc::new(StringArray::from(vec!["evil.com"])) as ArrayRef)]);
        assert!(Watchlist::new(rows).unwrap_err().to_string().contains("no column `type`"));
    }
}
