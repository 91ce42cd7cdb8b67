//! Any bytes given as a bulk request body: read into actions or refused with the line and
//! reason, each document checked or refused, never a panic.
#![no_main]

#[path = "../../crates/serve/src/bulk.rs"]
#[allow(dead_code)]
mod bulk;

use libfuzzer_sys::fuzz_target;
use bulk::{check_index_name, document, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(actions) = parse(data) else { return };
    for action in actions {
        if let Some(index) = &action.index {
            let _ = check_index_name(index);
        }
        if let Some(source) = action.source {
            let _ = document(source, 1 << 16);
        }
    }
});
