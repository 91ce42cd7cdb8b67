//! Any bytes as JSON lines: every non-blank line becomes records or one bad record holding
//! its exact bytes; the records become an Arrow batch under their inferred schema, and
//! every value's stored text renders; their shape learnt a column at a time is the one
//! learnt record by record. Read keeping some fields, the same lines are refused
//! for the same reasons and each record is the whole one less the fields left out. Read onto
//! a tape, the same lines are refused, the records read back the same and make the same
//! batch. Never a panic.
#![no_main]

use std::collections::HashSet;
use std::sync::Arc;

use hela_schema::{JsonView, KeptFields, ObjectColumns, Shape, columns_to_batch, parse_chunk, parse_chunk_into_tape, records_to_batch, stored_text};
use hela_source::{Chunk, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let chunk = Chunk { origin: Origin::file("fuzz.json"), first_line: 1, data: data.to_vec() };
    let lines: Vec<(u64, &[u8])> = chunk.lines().collect();
    let parsed = parse_chunk(&chunk, &KeptFields::All);
    for bad in &parsed.bad {
        let line = lines.iter().find(|(n, _)| *n == bad.line).expect("a bad record names a line of the chunk").1;
        assert_eq!(bad.raw.as_deref().unwrap_or(bad.text.as_bytes()), line, "a bad line is kept exactly");
    }
    assert!(parsed.bad.len() <= lines.len());
    let mut shape = Shape::Null;
    parsed.records.iter().for_each(|r| shape.observe_record(r));
    let mut by_columns = Shape::Null;
    by_columns.observe_columns(&ObjectColumns::of_records(&parsed.records));
    assert_eq!(by_columns, shape, "the same shape, learnt a column at a time");
    let batch = records_to_batch(&parsed.records, Arc::new(shape.storage_schema())).expect("records convert under their own schema");
    assert_eq!(batch.num_rows(), parsed.records.len());
    for record in &parsed.records {
        record.values().for_each(|v| drop(stored_text(v)));
    }
    let taped = parse_chunk_into_tape(&chunk);
    assert_eq!(taped.bad, parsed.bad, "the same lines are refused, for the same reasons");
    assert_eq!(taped.bytes, parsed.bytes);
    assert_eq!(taped.records.to_maps(), parsed.records, "the same records");
    let tape = &taped.records;
    let columns = ObjectColumns::of_tape(tape);
    let mut by_tape = Shape::Null;
    by_tape.observe_columns(&columns);
    assert_eq!(by_tape, shape, "the same shape, learnt from the tape");
    let from_tape = columns_to_batch(&columns, Arc::new(shape.storage_schema())).expect("a tape's records convert under their schema");
    assert_eq!(from_tape, batch, "the same batch, built from the tape");
    for record in tape.records() {
        record.members().for_each(|(_, v)| assert_eq!(stored_text(v), stored_text(&v.to_value().into_owned())));
    }
    // Keep the fields whose names have an even length, in any case.
    let names: HashSet<String> = parsed.records.iter().flat_map(|r| r.keys()).map(|k| k.to_lowercase()).filter(|k| k.len() % 2 == 0).collect();
    let kept = parse_chunk(&chunk, &KeptFields::Named(names.clone()));
    assert_eq!(kept.bad, parsed.bad, "the same lines are refused for the same reasons");
    assert_eq!(kept.records.len(), parsed.records.len());
    for (kept, whole) in kept.records.iter().zip(&parsed.records) {
        let expected: Vec<_> = whole.iter().filter(|(k, _)| names.contains(&k.to_lowercase())).collect();
        assert_eq!(kept.iter().collect::<Vec<_>>(), expected);
    }
});
