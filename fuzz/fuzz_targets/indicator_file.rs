//! Any bytes as a threat-intelligence file (STIX bundle, MISP event, OTX pulses, CSV) and
//! any text as a STIX pattern: indicators or refusals with reasons, never a panic.
#![no_main]

#[path = "../../crates/intel/src/kind.rs"]
mod kind;
#[path = "../../crates/intel/src/net.rs"]
mod net;
#[path = "../../crates/intel/src/read/mod.rs"]
mod read;
#[path = "../../crates/intel/src/stix_pattern.rs"]
mod stix_pattern;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(read) = read::read(data) {
        for indicator in &read.indicators {
            let _ = indicator.record("fuzz");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = stix_pattern::indicators(text);
    }
});
