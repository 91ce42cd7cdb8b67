//! The batch Sigma rules see. Rules name the fields of the Windows event (`Channel`,
//! `EventID`, `CommandLine`); Winlogbeat ships them nested and renamed (`log_name`,
//! `event_id`, `event_data.CommandLine` in version 6; `winlog.channel`,
//! `winlog.event_data.CommandLine` in 7 and later). Those are lifted to the top level under
//! the event's names, beside the batch's own columns, which are left as they are and win
//! when both exist.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StructArray, make_array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Schema};

/// Winlogbeat's names of the event's system fields, and the event's own.
const RENAMED: &[(&str, &str)] = &[
    ("log_name", "Channel"),
    ("channel", "Channel"),
    ("event_id", "EventID"),
    ("computer_name", "Computer"),
    ("record_number", "EventRecordID"),
    ("record_id", "EventRecordID"),
    ("provider_name", "Provider_Name"),
    ("source_name", "Provider_Name"),
];

/// Structs whose fields are the event's own.
const EVENT_FIELDS: &[&str] = &["event_data", "user_data"];

/// `batch` with Winlogbeat's nested and renamed fields also under the event's names; the
/// batch itself when it has none.
pub fn sigma_view(batch: &RecordBatch) -> RecordBatch {
    let mut lifted = Lifted::new(batch);
    let schema = batch.schema();
    lifted.lift_from(schema.fields().iter().map(|f| f.as_ref()).zip(batch.columns().iter().cloned()));
    if let Some(winlog) = struct_column(batch, "winlog") {
        lifted.lift_from(struct_fields(winlog).into_iter());
    }
    lifted.finish(batch)
}

/// The columns added to a batch.
struct Lifted {
    names: Vec<String>,
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
}

impl Lifted {
    fn new(batch: &RecordBatch) -> Self {
        let names = batch.schema().fields().iter().map(|f| f.name().to_ascii_lowercase()).collect();
        Lifted { names, fields: Vec::new(), columns: Vec::new() }
    }

    /// Adds the renamed system fields among `columns`, and the fields of their
    /// `event_data` and `user_data`.
    fn lift_from<'a>(&mut self, columns: impl Iterator<Item = (&'a Field, ArrayRef)>) {
        for (field, column) in columns {
            let name = field.name().as_str();
            if let Some((_, event_name)) = RENAMED.iter().find(|(winlogbeat, _)| *winlogbeat == name) {
                self.add(event_name, field, column);
            } else if EVENT_FIELDS.contains(&name)
                && let Some(nested) = column.as_struct_opt()
            {
                for (inner, values) in struct_fields(nested) {
                    self.add(inner.name(), inner, values);
                }
            }
        }
    }

    fn add(&mut self, name: &str, field: &Field, column: ArrayRef) {
        let lower = name.to_ascii_lowercase();
        if self.names.contains(&lower) {
            return;
        }
        self.names.push(lower);
        self.fields.push(Field::new(name, field.data_type().clone(), true));
        self.columns.push(column);
    }

    fn finish(self, batch: &RecordBatch) -> RecordBatch {
        if self.columns.is_empty() {
            return batch.clone();
        }
        let schema = batch.schema();
        let fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).chain(self.fields).collect();
        let columns: Vec<ArrayRef> = batch.columns().iter().cloned().chain(self.columns).collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("lifted columns have the batch's length")
    }
}

fn struct_column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a StructArray> {
    batch.column_by_name(name).and_then(|c| c.as_struct_opt())
}

/// A struct's fields with their values, null where the struct itself is null.
fn struct_fields(array: &StructArray) -> Vec<(&Field, ArrayRef)> {
    array
        .fields()
        .iter()
        .zip(array.columns())
        .map(|(field, child)| {
            let values = match array.nulls() {
                Some(parent) if child.data_type() != &DataType::Null => {
                    let nulls = NullBuffer::union(Some(parent), child.nulls());
                    make_array(child.to_data().into_builder().nulls(nulls).build().expect("the same length"))
                }
                _ => child.clone(),
            };
            (field.as_ref(), values)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hela_schema::{Shape, records_to_batch};
    use serde_json::{Map, Value, json};

    fn batch(records: &[Value]) -> RecordBatch {
        let records: Vec<Map<String, Value>> = records.iter().map(|r| r.as_object().unwrap().clone()).collect();
        let mut shape = Shape::Null;
        records.iter().for_each(|r| shape.observe_record(r));
        records_to_batch(&records, Arc::new(shape.storage_schema())).unwrap()
    }

    fn text(batch: &RecordBatch, name: &str, row: usize) -> Option<String> {
        let column = batch.column_by_name(name)?;
        let text = arrow::compute::cast(column, &DataType::Utf8).unwrap();
        let text = text.as_string::<i32>();
        text.is_valid(row).then(|| text.value(row).to_string())
    }

    #[test]
    fn winlogbeat_6_and_7_fields_are_seen_under_the_events_names() {
        let view = sigma_view(&batch(&[
            json!({"log_name": "Security", "event_id": 4624, "computer_name": "DC1", "record_number": "7",
                   "event_data": {"LogonType": "3", "TargetLogonId": "0x1"}}),
            json!({"winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "computer_name": "WS1",
                   "record_id": 9, "event_data": {"CommandLine": "whoami"}}}),
        ]));
        assert_eq!(text(&view, "Channel", 0).as_deref(), Some("Security"));
        assert_eq!(text(&view, "EventID", 0).as_deref(), Some("4624"));
        assert_eq!(text(&view, "Computer", 0).as_deref(), Some("DC1"));
        assert_eq!(text(&view, "EventRecordID", 0).as_deref(), Some("7"));
        assert_eq!(text(&view, "LogonType", 0).as_deref(), Some("3"));
        assert_eq!(text(&view, "CommandLine", 0), None);
        // Winlogbeat 7's `winlog.channel` is lifted only when no top-level name took it.
        assert_eq!(text(&view, "Channel", 1), None, "log_name came first and names the column");
        assert_eq!(text(&view, "CommandLine", 1).as_deref(), Some("whoami"));
        assert_eq!(text(&view, "EventRecordID", 1), None);
    }

    #[test]
    fn winlogbeat_7_alone_and_flat_events_keep_their_own_columns() {
        let view = sigma_view(&batch(&[json!({"winlog": {"channel": "Security", "event_id": 4688, "event_data": {"NewProcessName": "x"}}})]));
        assert_eq!(text(&view, "Channel", 0).as_deref(), Some("Security"));
        assert_eq!(text(&view, "EventID", 0).as_deref(), Some("4688"));
        assert_eq!(text(&view, "NewProcessName", 0).as_deref(), Some("x"));

        let flat = batch(&[json!({"Channel": "Security", "EventID": 4624, "event_id": 1, "event_data": {"channel": "nested"}})]);
        let view = sigma_view(&flat);
        assert_eq!(view.num_columns(), flat.num_columns(), "nothing is lifted over the event's own fields");
        assert_eq!(text(&view, "EventID", 0).as_deref(), Some("4624"));
    }
}
