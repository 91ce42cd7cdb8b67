//! Any text given as a Sigma rule file: rules and correlations loaded or rejected with a
//! reason, and what loaded runs over a small batch of events, its detections through the
//! correlations, and the correlations' windows saved and read back, never a panic.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use hela_sigma::{Correlator, Engine, RuleSet, parse_rules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse_rules(text, Path::new("fuzz.yml")).into_iter().filter_map(Result::ok).map(Ok);
    let (rules, correlations) = RuleSet::new(parsed, Vec::new()).select(&|_| true);
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
    let engine = Engine::with_correlations(rules, correlations);
    let mut correlator = Correlator::<usize>::new(engine.correlations());
    for (n, hit) in engine.evaluate(&batch).into_iter().enumerate() {
        let field = |name: &str| (name.len() % 3 != 0).then(|| format!("{}", hit.row));
        let _ = correlator.observe(hit.rule, n as i64 * 1000, &field, hit.row);
    }
    let mut saved = Vec::new();
    correlator.save(&mut saved).expect("windows written");
    correlator.restore(saved.as_slice()).expect("windows read back");
});
