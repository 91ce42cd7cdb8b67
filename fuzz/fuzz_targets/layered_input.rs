//! Any bytes as an input file: gzip, zip and tar layers nested as they come, EVTX, or JSON
//! lines. Reading yields chunks of whole lines, warnings and refusals, or one error; never a
//! panic, and no line longer than the limit.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use hela_source::{ChunkEvent, ReadOptions, read_seekable};
use libfuzzer_sys::fuzz_target;

const MAX_RECORD: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions { chunk_bytes: 1024, max_record_bytes: MAX_RECORD, max_evtx_member_bytes: 1 << 20 };
    let _ = read_seekable(Path::new("fuzz-input"), Cursor::new(data), &options, &mut |event| {
        if let ChunkEvent::Chunk(chunk) = event {
            // A chunk is whole lines; only the end of a stream may leave one unfinished.
            for (_, line) in chunk.lines() {
                assert!(line.len() <= MAX_RECORD + chunk.data.len(), "a line over the limit");
            }
        }
    });
});
