//! Reading inputs into records from a thread of the pool that parses them.

use std::sync::atomic::AtomicU64;

use hela_schema::{KeptFields, RecordEvent, RecordForm, stream_records};
use hela_source::{ReadOptions, discover};

#[test]
fn records_come_in_input_order_even_to_the_one_thread_of_the_pool() {
    // This test's process has a pool of one thread, and the records are asked for from it:
    // waiting for the chunks it has to parse must not stop it parsing them.
    rayon::ThreadPoolBuilder::new().num_threads(1).build_global().expect("the first use of the pool");
    let path = std::env::temp_dir().join(format!("hela-stream-{}.json", std::process::id()));
    let lines: String = (0..2000).map(|n| if n % 500 == 7 { "{bad\n".to_string() } else { format!("{{\"n\":{n}}}\n") }).collect();
    std::fs::write(&path, &lines).unwrap();
    let inputs = discover(std::slice::from_ref(&path)).inputs;
    let options = ReadOptions { chunk_bytes: 256, ..ReadOptions::default() };
    let read = || {
        let (mut numbers, mut bad) = (Vec::new(), Vec::new());
        stream_records(&inputs, &options, &RecordForm::Maps(KeptFields::All), &AtomicU64::new(0), None, &mut |event| {
            match event {
                RecordEvent::Records { records, .. } => numbers.extend(records.into_maps().iter().map(|record| record["n"].as_i64().unwrap())),
                RecordEvent::Bad { record, .. } => bad.push(record.line),
                _ => {}
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        (numbers, bad)
    };
    let expected: Vec<i64> = (0..2000).filter(|n| n % 500 != 7).collect();
    let (from_outside, (from_the_pool, ())) = (read(), rayon::join(read, || ()));
    std::fs::remove_file(&path).unwrap();
    for (numbers, bad) in [from_outside, from_the_pool] {
        assert_eq!(numbers, expected);
        assert_eq!(bad, [8, 508, 1008, 1508]);
    }
}
