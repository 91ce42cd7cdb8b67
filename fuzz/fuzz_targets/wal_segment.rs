//! Any bytes given as a write-ahead log segment, or as one entry's payload: read as far as
//! they are whole, never a panic.
#![no_main]

use hela_serve::wal::{decode, decode_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_all(data);
    let _ = decode(data);
});
