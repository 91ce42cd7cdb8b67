//! Running the standing rules and indicators over records about to be stored.

use hela_hunt::{Detection, detect, sigma_view};
use hela_intel::Watchlist;
use hela_schema::records_to_inferred_batch;
use hela_sigma::Engine;
use rayon::prelude::*;
use serde_json::{Map, Value};

/// Records are turned into Arrow batches of at most this many, evaluated in parallel...
const RECORDS_PER_BATCH: usize = 4096;
/// ...and of at least this many, unless fewer came: a small fold is still spread over
/// the cores, which shortens the time from an event's arrival to its alert.
const MIN_RECORDS_PER_BATCH: usize = 256;

/// What the standing rules and indicators find in a fold of records.
#[derive(Default)]
pub struct Found {
    /// The rules' detections, in the records' order.
    pub detections: Vec<Detection>,
    /// The indicators' alert documents, in the records' order.
    pub sightings: Vec<Map<String, Value>>,
}

/// What `engine` and `watchlist` find in `records`; records that cannot be made a batch
/// are reported to `warn` and not evaluated, and they are stored all the same.
pub fn detections(engine: Option<&Engine>, watchlist: Option<&Watchlist>, records: &[Map<String, Value>], warn: &(dyn Fn(String) + Sync)) -> Found {
    let per_batch = records.len().div_ceil(rayon::current_num_threads()).clamp(MIN_RECORDS_PER_BATCH, RECORDS_PER_BATCH);
    let found: Vec<Found> = records
        .par_chunks(per_batch)
        .map(|chunk| {
            let batch = match records_to_inferred_batch(chunk) {
                Ok(batch) => batch,
                Err(e) => {
                    warn(format!("{} records were stored without running the rules over them: {e}", chunk.len()));
                    return Found::default();
                }
            };
            let detections = match engine.map(|engine| detect(&batch, engine, false, &None)).transpose() {
                Ok(detections) => detections.unwrap_or_default(),
                Err(e) => {
                    warn(format!("the rules' detections on {} records could not be read: {e}", chunk.len()));
                    Vec::new()
                }
            };
            let sightings = match watchlist.map(|list| sighted(&batch, list)).transpose() {
                Ok(sightings) => sightings.unwrap_or_default(),
                Err(e) => {
                    warn(format!("the indicators could not be looked up in {} records: {e}", chunk.len()));
                    Vec::new()
                }
            };
            Found { detections, sightings }
        })
        .collect();
    found.into_iter().fold(Found::default(), |mut all, part| {
        all.detections.extend(part.detections);
        all.sightings.extend(part.sightings);
        all
    })
}

/// The alert documents of the indicators found in `batch`, looked up in its Sigma view
/// (so Winlogbeat's nested fields are read by their event names).
fn sighted(batch: &arrow::array::RecordBatch, watchlist: &Watchlist) -> anyhow::Result<Vec<Map<String, Value>>> {
    let view = sigma_view(batch);
    let sightings = watchlist.sightings_in_known_fields(&view)?;
    crate::sightings::documents(&view, watchlist, &sightings)
}
