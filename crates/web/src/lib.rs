//! hela's web UI, served by `hela serve` at `/`: what Kibana is to HELK's hunters.
//!
//! - Discover ([`discover`]): Spark SQL with completion, a quick-filter bar ([`filter`]), a
//!   time range every query obeys ([`scope`]), a histogram over time ([`histogram`]), the
//!   result paged on the server, fields' top values.
//! - Detections ([`detections`]): the standing rules' detections as they come, grouped,
//!   each with its event, rule and surrounding events, and a triage state kept in the lake.
//! - Process trees ([`process`]) from Sysmon's process creations.
//! - Playbooks ([`playbooks`]) and dashboards ([`panels`]) of saved queries ([`saved`]).
//!
//! The page, script and styles are built into the binary ([`assets`]): nothing is fetched
//! from elsewhere. They are public; every endpoint under `/_hela/ui/` needs a reading key
//! when the server has keys, and the page asks for one on a login screen.

mod answer;
pub mod assets;
pub mod detections;
pub mod discover;
pub mod filter;
pub mod histogram;
pub mod panels;
pub mod playbooks;
pub mod process;
pub mod saved;
pub mod scope;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Extension;
use axum::routing::{get, post};
use hela_serve::Pages;

/// How the UI is set up.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The directory whose Markdown playbooks the UI lists and runs.
    pub playbooks: Option<PathBuf>,
}

/// The UI's page, files and endpoints, for `hela serve`.
pub fn pages(settings: Settings) -> Pages {
    let routes = axum::Router::new()
        .route("/ui/{name}", get(assets::asset))
        .route("/_hela/ui/schema", get(discover::schema))
        .route("/_hela/ui/search", post(discover::page))
        .route("/_hela/ui/count", post(discover::count))
        .route("/_hela/ui/histogram", post(discover::histogram))
        .route("/_hela/ui/values", post(discover::values))
        .route("/_hela/ui/saved", get(saved::list).post(saved::save))
        .route("/_hela/ui/detections", post(detections::list))
        .route("/_hela/ui/detection", get(detections::one))
        .route("/_hela/ui/triage", post(detections::triage))
        .route("/_hela/ui/process", get(process::tree))
        .route("/_hela/ui/processes", get(process::search))
        .route("/_hela/ui/process/activity", get(process::activity))
        .route("/_hela/ui/playbooks", get(playbooks::list))
        .route("/_hela/ui/playbooks/run", post(playbooks::run))
        .route("/_hela/ui/panel", post(panels::panel))
        .layer(Extension(Arc::new(settings)));
    Pages { routes, index: assets::index }
}
