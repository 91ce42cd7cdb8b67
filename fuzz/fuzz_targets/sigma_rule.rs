//! Any text given as a Sigma rule file: loaded or rejected with a reason, and a loaded rule
//! runs over a small batch of events, never a panic.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use hela_sigma::{Engine, parse_rules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let rules: Vec<_> = parse_rules(text, Path::new("fuzz.yml")).into_iter().filter_map(Result::ok).collect();
    if rules.is_empty() {
        return;
    }
    let schema = Schema::new(vec![
        Field::new("Channel", DataType::Utf8, true),
        Field::new("EventID", DataType::Int64, true),
        Field::new("Image", DataType::Utf8, true),
        Field::new("CommandLine", DataType::Utf8, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![Some("Microsoft-Windows-Sysmon/Operational"), Some("Security"), None])),
        Arc::new(Int64Array::from(vec![Some(1), Some(4688), None])),
        Arc::new(StringArray::from(vec![Some("C:\\Windows\\System32\\cmd.exe"), None, Some("ü")])),
        Arc::new(StringArray::from(vec![Some("cmd /c whoami -all"), Some("10.0.0.1"), Some("")])),
    ];
    let batch = RecordBatch::try_new(Arc::new(schema), columns).expect("a valid batch");
    let _ = Engine::new(rules).evaluate(&batch);
});
