//! Any bytes given as an EVTX file: read as far as they go, never a panic.
#![no_main]

use std::io::Cursor;

use hela_source::Origin;
use hela_source::evtx::read_evtx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = Origin::file("fuzz.evtx");
    read_evtx(&origin, Cursor::new(data.to_vec()), 1 << 16, &mut |_| {});
});
