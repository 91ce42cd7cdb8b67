//! Threat intelligence: indicators read from STIX 2.1 bundles, MISP events, AlienVault OTX
//! pulses and CSV into the lake's `indicators` table ([`load`]), and `ioc_match` in SQL
//! joining events to them the way each kind of indicator matches (an address inside a
//! network, a domain or any name under it, a hash inside Sysmon's `Hashes` list, a file name
//! in a path), through an index built once per query.

mod fields;
mod index;
mod ioc_match;
mod kind;
mod load;
mod net;
pub mod read;
pub mod stix_pattern;
mod watchlist;

use std::sync::Arc;

pub use fields::FIELDS;
pub use index::{FieldKind, Index};
pub use ioc_match::IocMatch;
pub use kind::{KINDS, Kind};
pub use load::{FileRead, INDICATORS_TABLE, LoadSummary, checkpoint, load, read_file};
pub use net::Network;
pub use watchlist::{Sighting, Watchlist};

/// Adds `ioc_match` to `session` and every session forked from it.
pub fn register(session: &hela_sql::Session) {
    session.context().register_udtf("ioc_match", Arc::new(IocMatch));
}
