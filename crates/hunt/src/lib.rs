//! hela's hunt pipeline, shared by the `hela` program, the server and the Python package:
//! Sigma rules chosen ([`rules`]), run over event logs or the lake a batch at a time
//! ([`hunt_files`], [`hunt_lake`]; on a cluster [`hunt_lake_remotely`], through [`plan`]),
//! their hits made detections ([`Detection`]) and run through the correlations over them
//! in event time ([`Correlations`]), shown as JSON or Arrow rows and stored in the lake
//! ([`store`]); and the schema records are stored in ([`router`]).

mod correlate;
mod detection;
mod events;
pub mod plan;
mod records;
pub mod rules;
mod save;
mod view;

use std::path::PathBuf;

pub use correlate::{Correlations, event_time, time_text};
pub use detection::{Correlated, Detection, EventRef, TIME_FIELDS, detect, event_places, rows_as_json, to_arrow, to_json};
pub use events::{hunt_files, hunt_lake, hunt_lake_remotely};
pub use records::{RecordSchema, router, router_named};
pub use save::{DETECTIONS_TABLE, store};
pub use view::sigma_view;

/// Paths for a message: `a, b, c`.
pub fn display(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
