//! Any bytes as a Kafka message's value: stored as a record that names its topic and
//! position, or quarantined with them, never a panic.
#![no_main]

#[path = "../../crates/stream/src/kafka/message.rs"]
mod message;

use libfuzzer_sys::fuzz_target;
use message::Message;

fuzz_target!(|data: &[u8]| {
    let (offset, payload) = match data.split_first() {
        Some((&first, rest)) => (i64::from(first) - 1, (first != 0).then(|| rest.to_vec())),
        None => (0, None),
    };
    let message = Message { topic: "winlogbeat".into(), partition: 3, offset, payload };
    match message.record() {
        Ok(record) => assert_eq!(record["_id"], format!("3-{offset}")),
        Err(bad) => assert!(bad.origin.to_string() == "kafka topic winlogbeat partition 3" && bad.reason.starts_with(&format!("offset {offset}: "))),
    }
});
