//! Any bytes as JSON lines: every non-blank line becomes records or one bad record holding
//! its exact bytes; the records become an Arrow batch under their inferred schema, and
//! every value's stored text renders. Never a panic.
#![no_main]

use std::sync::Arc;

use hela_schema::{Shape, parse_chunk, records_to_batch, stored_text};
use hela_source::{Chunk, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let chunk = Chunk { origin: Origin::file("fuzz.json"), first_line: 1, data: data.to_vec() };
    let lines: Vec<(u64, &[u8])> = chunk.lines().collect();
    let parsed = parse_chunk(&chunk);
    for bad in &parsed.bad {
        let line = lines.iter().find(|(n, _)| *n == bad.line).expect("a bad record names a line of the chunk").1;
        assert_eq!(bad.raw.as_deref().unwrap_or(bad.text.as_bytes()), line, "a bad line is kept exactly");
    }
    assert!(parsed.bad.len() <= lines.len());
    let mut shape = Shape::Null;
    parsed.records.iter().for_each(|r| shape.observe_record(r));
    let batch = records_to_batch(&parsed.records, Arc::new(shape.storage_schema())).expect("records convert under their own schema");
    assert_eq!(batch.num_rows(), parsed.records.len());
    for record in &parsed.records {
        record.values().for_each(|v| drop(stored_text(v)));
    }
});
