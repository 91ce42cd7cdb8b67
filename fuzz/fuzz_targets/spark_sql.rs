//! Any text as Spark SQL: read into statements rewritten into DataFusion's terms, or refused
//! with a reason; never a panic, a hang or a stack overflow.
#![no_main]

use hela_sql::Session;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else { return };
    let _ = Session::parse(sql);
});
