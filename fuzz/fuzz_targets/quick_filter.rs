//! Any text typed into the web UI's quick-filter bar: a SQL condition or an error whose
//! position lies within the text, never a panic.
#![no_main]

#[path = "../../crates/web/src/filter.rs"]
mod filter;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let columns = ["Image".to_string(), "a.b".to_string()];
    match filter::condition(text, &columns) {
        Ok(Some(sql)) => assert!(!sql.is_empty()),
        Ok(None) => assert!(text.trim().is_empty()),
        Err(error) => assert!(error.position <= text.len(), "{error:?} for {text:?}"),
    }
});
