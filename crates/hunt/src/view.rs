//! The batch Sigma rules see. Rules name the fields of the Windows event (`Channel`,
//! `EventID`, `CommandLine`); Winlogbeat ships them nested and renamed (`log_name`,
//! `event_id`, `event_data.CommandLine` in version 6; `winlog.channel`,
//! `winlog.event_data.CommandLine` in 7 and later). Those are lifted to the top level under
//! the event's names, beside the batch's own columns. Where a batch mixes shapes, a row's
//! own value wins and its nulls are filled from the nested one, so that what fires on an
//! event does not depend on the events batched with it.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StructArray, make_array};
use arrow::buffer::NullBuffer;
use arrow::compute::kernels::zip::zip;
use arrow::compute::{cast, is_not_null};
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

/// The batch's columns with those lifted beside them.
struct Lifted {
    names: Vec<String>,
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
    /// How many columns the batch itself has.
    own: usize,
}

impl Lifted {
    fn new(batch: &RecordBatch) -> Self {
        let schema = batch.schema();
        Lifted {
            names: schema.fields().iter().map(|f| f.name().clone()).collect(),
            fields: schema.fields().iter().map(|f| f.as_ref().clone()).collect(),
            columns: batch.columns().to_vec(),
            own: batch.num_columns(),
        }
    }

    /// Adds the renamed system fields among `columns`, and the fields of their
    /// `event_data` and `user_data`.
    fn lift_from<'a>(&mut self, columns: impl Iterator<Item = (&'a Field, ArrayRef)>) {
        for (field, column) in columns {
            let name = field.name().as_str();
            if let Some((_, event_name)) = RENAMED.iter().find(|(winlogbeat, _)| *winlogbeat == name) {
                self.add(event_name, column);
            } else if EVENT_FIELDS.contains(&name)
                && let Some(nested) = column.as_struct_opt()
            {
                for (inner, values) in struct_fields(nested) {
                    self.add(inner.name(), values);
                }
            }
        }
    }

    /// Adds `column` as `name`; where a column of that very name is there already (a batch
    /// mixing flat and nested events), fills its nulls with `column`'s values. Names are
    /// compared exactly, as rules' field names are looked up first: Winlogbeat's `user`
    /// (who ran the process) is not the event's `User`.
    fn add(&mut self, name: &str, column: ArrayRef) {
        match self.names.iter().position(|n| n == name) {
            Some(at) => self.columns[at] = coalesce(&self.columns[at], &column),
            None => {
                self.names.push(name.to_string());
                self.fields.push(Field::new(name, column.data_type().clone(), true));
                self.columns.push(column);
            }
        }
    }

    fn finish(self, batch: &RecordBatch) -> RecordBatch {
        let unchanged = self.columns.len() == self.own && self.columns.iter().zip(batch.columns()).all(|(a, b)| Arc::ptr_eq(a, b));
        if unchanged {
            return batch.clone();
        }
        let fields: Vec<Field> = self.fields.into_iter().zip(&self.columns).map(|(f, c)| f.with_data_type(c.data_type().clone())).collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), self.columns).expect("lifted columns have the batch's length")
    }
}

/// `first`'s values, and `second`'s where `first` is null (cast to `first`'s type; a value
/// that does not cast stays null). `first` as it is when the types cannot be merged.
fn coalesce(first: &ArrayRef, second: &ArrayRef) -> ArrayRef {
    if first.null_count() == 0 || second.null_count() == second.len() {
        return first.clone();
    }
    let merged = (|| {
        let second = if second.data_type() == first.data_type() { second.clone() } else { cast(second, first.data_type())? };
        zip(&is_not_null(first)?, first, &second)
    })();
    merged.unwrap_or_else(|_| first.clone())
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
    use hela_schema::records_to_inferred_batch;
    use serde_json::{Map, Value, json};

    fn batch(records: &[Value]) -> RecordBatch {
        let records: Vec<Map<String, Value>> = records.iter().map(|r| r.as_object().unwrap().clone()).collect();
        records_to_inferred_batch(&records).unwrap()
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
        assert_eq!(text(&view, "Channel", 1).as_deref(), Some("Microsoft-Windows-Sysmon/Operational"));
        assert_eq!(text(&view, "CommandLine", 1).as_deref(), Some("whoami"));
        assert_eq!(text(&view, "EventRecordID", 1).as_deref(), Some("9"));
    }

    #[test]
    fn a_field_differing_only_in_case_is_another_field() {
        // Winlogbeat 6's `user` is who ran the process; the event's `User` is in event_data.
        for records in [
            vec![json!({"user": {"name": "SYSTEM"}, "event_data": {"User": "NT AUTHORITY\\NETWORK SERVICE"}})],
            vec![
                json!({"User": "THESHIRE\\pgustavo"}),
                json!({"user": {"name": "SYSTEM"}, "event_data": {"User": "NT AUTHORITY\\NETWORK SERVICE"}}),
            ],
        ] {
            let view = sigma_view(&batch(&records));
            let column = hela_sigma::eval::column_index(&view, "User").unwrap();
            assert_eq!(view.schema().field(column).name(), "User");
            assert_eq!(text(&view, "User", records.len() - 1).as_deref(), Some("NT AUTHORITY\\NETWORK SERVICE"));
        }
    }

    #[test]
    fn in_a_batch_mixing_shapes_each_row_keeps_its_own_value_and_gets_its_nested_one() {
        let records = [
            json!({"Channel": "Security", "EventID": 4624, "LogonType": "3"}),
            json!({"log_name": "Security", "event_id": 4624, "event_data": {"LogonType": 3}}),
            json!({"Channel": "Security", "EventID": "4625", "log_name": "ignored", "event_data": {"LogonType": 10}}),
        ];
        let view = sigma_view(&batch(&records));
        for (row, (channel, id, logon)) in [("Security", "4624", "3"), ("Security", "4624", "3"), ("Security", "4625", "10")].into_iter().enumerate() {
            assert_eq!(text(&view, "Channel", row).as_deref(), Some(channel), "row {row}");
            assert_eq!(text(&view, "EventID", row).as_deref(), Some(id), "row {row}");
            assert_eq!(text(&view, "LogonType", row).as_deref(), Some(logon), "row {row}");
        }
        // What fires on an event does not depend on the events batched with it.
        for (row, record) in records.iter().enumerate() {
            let alone = sigma_view(&batch(std::slice::from_ref(record)));
            for name in ["Channel", "EventID", "LogonType"] {
                assert_eq!(text(&alone, name, 0), text(&view, name, row), "{name} of row {row}");
            }
        }
    }

    #[test]
    fn winlogbeat_7_alone_and_flat_events_keep_their_own_columns() {
        let view = sigma_view(&batch(&[json!({"winlog": {"channel": "Security", "event_id": 4688, "event_data": {"NewProcessName": "x"}}})]));
        assert_eq!(text(&view, "Channel", 0).as_deref(), Some("Security"));
        assert_eq!(text(&view, "EventID", 0).as_deref(), Some("4688"));
        assert_eq!(text(&view, "NewProcessName", 0).as_deref(), Some("x"));

        let flat = batch(&[json!({"Channel": "Security", "EventID": 4624, "event_id": 1, "event_data": {"Channel": "nested"}})]);
        let view = sigma_view(&flat);
        assert_eq!(view.num_columns(), flat.num_columns(), "nothing is lifted over the event's own fields");
        assert_eq!(text(&view, "EventID", 0).as_deref(), Some("4624"));
        assert_eq!(text(&view, "Channel", 0).as_deref(), Some("Security"));
    }
}
