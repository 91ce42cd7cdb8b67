//! Running the standing rules over records about to be stored.

use std::sync::Arc;

use hela_hunt::{Detection, detect};
use hela_schema::{Shape, records_to_batch};
use hela_sigma::Engine;
use rayon::prelude::*;
use serde_json::{Map, Value};

/// Records are turned into Arrow batches of at most this many, evaluated in parallel...
const RECORDS_PER_BATCH: usize = 4096;
/// ...and of at least this many, unless fewer came: a small fold is still spread over
/// the cores, which shortens the time from an event's arrival to its alert.
const MIN_RECORDS_PER_BATCH: usize = 256;

/// The detections `engine` finds in `records`, in the records' order; records that cannot
/// be made a batch are reported to `warn` and not evaluated, and they are stored all the
/// same.
pub fn detections(engine: &Engine, records: &[Map<String, Value>], warn: &(dyn Fn(String) + Sync)) -> Vec<Detection> {
    let per_batch = records.len().div_ceil(rayon::current_num_threads()).clamp(MIN_RECORDS_PER_BATCH, RECORDS_PER_BATCH);
    let found: Vec<Vec<Detection>> = records
        .par_chunks(per_batch)
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
    found.into_iter().flatten().collect()
}
