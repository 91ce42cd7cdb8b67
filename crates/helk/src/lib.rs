//! HELK field normalisation for hela.
//!
//! [`Normaliser`] renames the fields of Windows event records (NXLog-flat JSON or Winlogbeat 6
//! nested JSON) to the names of HELK's Logstash pipeline and routes each record to the table
//! named after its HELK index (`logs-endpoint-winevent-security`, ...). It implements
//! [`hela_lake::Router`], so an ingest can store events the way HELK hunters query them.
//!
//! The rules live in TOML mapping files, embedded in the binary ([`EMBEDDED`]) or loaded from a
//! directory ([`Normaliser::from_dir`]) so users can extend them. `mappings/common.toml`
//! documents the format, the order of the steps and the precedence of the rules;
//! `docs/helk-mapping.md` (from [`Normaliser::reference_markdown`]) lists every rule.
//!
//! Unlike HELK, hela loses nothing: it keeps `@timestamp`, does not delete fields, keeps both
//! values when two fields are renamed to the same name, and only removes `"-"` placeholders.
//!
//! ```
//! use serde_json::json;
//!
//! let helk = hela_helk::Normaliser::embedded().unwrap();
//! let record = json!({"Channel": "Security", "EventID": 4624, "TargetLogonId": "0x3e7"});
//! let (table, record) = helk.normalise(record.as_object().unwrap().clone());
//! assert_eq!(&*table, "logs-endpoint-winevent-security");
//! assert_eq!(record["user_logon_id"], 999);
//! ```

#![warn(missing_docs)]

mod error;
mod extract;
pub mod mapping;
mod normalise;
mod plan;
mod reference;
mod rename;
mod route;
mod row;
mod transform;

pub use error::MappingError;
pub use mapping::{EMBEDDED, MappingSet};
pub use normalise::Normaliser;

#[cfg(test)]
mod tests;
