//! Running the standing rules over records about to be stored.

use std::sync::Arc;
use std::time::Instant;

use hela_hunt::detect;
use hela_schema::{Shape, records_to_batch};
use hela_sigma::Engine;
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::alert::Alert;

/// Records turned into one Arrow batch at a time, the batches evaluated in parallel.
const RECORDS_PER_BATCH: usize = 4096;

/// The alerts `engine` raises on `records` (in their order), numbered from `first_seq`;
/// records that cannot be made a batch are reported to `warn` and not evaluated, and they
/// are stored all the same.
pub fn alerts(
    engine: &Engine,
    records: &[Map<String, Value>],
    first_seq: u64,
    taken: Instant,
    warn: &(dyn Fn(String) + Sync),
) -> Vec<Alert> {
    let detected_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let found: Vec<Vec<hela_hunt::Detection>> = records
        .par_chunks(RECORDS_PER_BATCH)
        .map(|chunk| {
            let mut shape = Shape::Null;
            chunk.iter().for_each(|r| shape.observe_record(r));
            let batch = match records_to_batch(chunk, Arc::new(shape.storage_schema())) {
                Ok(batch) => batch,
                Err(e) => {
                    warn(format!("{} records were stored without running the rules over them: {e}", chunk.len()));
                    return Vec::new();
                }
            };
            match detect(&batch, engine, false, &None) {
                Ok(detections) => detections,
                Err(e) => {
                    warn(format!("the rules' detections on {} records could not be read: {e}", chunk.len()));
                    Vec::new()
                }
            }
        })
        .collect();
    let seqs = first_seq..;
    found.iter().flatten().zip(seqs).map(|(d, seq)| Alert::new(d, engine, seq, &detected_at, taken)).collect()
}
