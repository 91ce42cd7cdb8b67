//! Any schema text given to Spark's `from_json`: a type, written back as DDL that reads
//! as the same type, or an error; never a panic.
#![no_main]

#[path = "../../crates/sql/src/spark/functions/json/ddl.rs"]
mod ddl;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(data_type) = ddl::parse(text) {
        let written = ddl::write(&data_type);
        assert_eq!(ddl::parse(&written).as_ref(), Ok(&data_type), "{text:?} written as {written:?}");
    }
});
