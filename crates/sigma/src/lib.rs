//! Sigma detection rules for Windows event logs: loading a rule corpus ([`load_rules`]),
//! mapping each rule's `logsource` to channels and event ids, and running all rules over
//! Arrow record batches in one pass ([`Engine`]).
//!
//! Supported: field maps and lists of maps, keyword lists, wildcards and escapes, the
//! modifiers `contains`, `startswith`, `endswith`, `all`, `re` (with `i`, `m`, `s`), `base64`,
//! `base64offset`, `utf16le`/`utf16be`/`wide`, `windash`, `cidr`, `exists`, `fieldref`,
//! `lt`/`lte`/`gt`/`gte` and `cased`; conditions with `and`/`or`/`not`, parentheses and
//! `1 of`/`all of` patterns or `them`; correlation rules and aggregations over detections in
//! event time ([`correlation`]); and hela's scheduled query rules ([`scheduled`]), read for
//! the server to run. Rules that need more (placeholders without values, regular
//! expressions Rust's engine lacks) are rejected with the reason.

pub mod condition;
pub mod correlation;
pub mod eval;
pub mod load;
pub mod logsource;
pub mod matcher;
pub mod rule;
pub mod scheduled;
pub mod value;

pub use eval::{Engine, Hit};
pub use correlation::{Correlation, Correlator, Fired};
pub use load::{Parsed, Rejected, RuleFile, RuleSet, load_rules, parse_rules, read_rule_files, rule_files, rules_of};
pub use rule::{Level, Meta, Rule};
pub use scheduled::ScheduledQuery;
