//! Any text as a GraphFrames motif: read into terms or refused with the position and
//! reason, never a panic.
#![no_main]

#[path = "../../crates/graph/src/motif/pattern.rs"]
mod pattern;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(motif) = pattern::Motif::parse(text) {
        assert!(!motif.terms.is_empty());
    }
});
