//! Any bytes given as a write-ahead log segment, or as one entry's payload: read as far as
//! they are whole, never a panic.
#![no_main]

#[path = "../../crates/serve/src/wal.rs"]
#[allow(dead_code)]
mod wal;

use libfuzzer_sys::fuzz_target;
use wal::{decode, decode_all};

fuzz_target!(|data: &[u8]| {
    let _ = decode_all(data);
    let _ = decode(data);
});
