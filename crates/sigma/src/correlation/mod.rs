//! Sigma correlation rules (specification 2.x): rules over the detections of other rules,
//! counted or measured per group of field values within a sliding time window
//! (`event_count`, `value_count`, `temporal`, `temporal_ordered`, `value_sum`, `value_avg`,
//! `value_percentile`, `value_median`), with `group-by`, `aliases`, `generate` and chains
//! of correlations; and the older `| count() by F > N` conditions, read as the correlations
//! the specification replaces them with.
//!
//! A correlation is read from YAML ([`parse`]), its references linked to the rules of a
//! [`RuleSet`](crate::RuleSet) ([`link`]), and run over detections in event time by a
//! [`Correlator`].

mod aggregation;
mod correlator;
mod link;
mod parse;
mod window;

pub use aggregation::aggregation;
pub use correlator::{Correlator, Fired, Observed};
pub use link::link;
pub use parse::{parse, timespan_ms};

use crate::rule::Meta;

/// What a correlation measures in its window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// How many detections.
    EventCount,
    /// How many distinct values of its field.
    ValueCount,
    /// How many of its rules fired (all of them, unless a condition says otherwise).
    Temporal,
    /// Whether all its rules fired in the order listed.
    TemporalOrdered,
    /// The sum of its field's numbers.
    ValueSum,
    /// The mean of its field's numbers.
    ValueAvg,
    /// A percentile (0 to 100) of its field's numbers, linearly interpolated.
    ValuePercentile(f64),
    /// The median of its field's numbers.
    ValueMedian,
}

impl Kind {
    /// The name the rule's `type` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::EventCount => "event_count",
            Kind::ValueCount => "value_count",
            Kind::Temporal => "temporal",
            Kind::TemporalOrdered => "temporal_ordered",
            Kind::ValueSum => "value_sum",
            Kind::ValueAvg => "value_avg",
            Kind::ValuePercentile(_) => "value_percentile",
            Kind::ValueMedian => "value_median",
        }
    }

    /// Whether it measures the values of a field.
    pub fn reads_values(self) -> bool {
        !matches!(self, Kind::EventCount | Kind::Temporal | Kind::TemporalOrdered)
    }

    /// Whether it measures numbers.
    fn numeric(self) -> bool {
        self.reads_values() && self != Kind::ValueCount
    }
}

/// The condition on the measured value: every bound given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bounds {
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    pub eq: Option<f64>,
    pub neq: Option<f64>,
}

impl Bounds {
    /// Whether `value` meets every bound.
    pub fn holds(&self, value: f64) -> bool {
        self.gt.is_none_or(|b| value > b)
            && self.gte.is_none_or(|b| value >= b)
            && self.lt.is_none_or(|b| value < b)
            && self.lte.is_none_or(|b| value <= b)
            && self.eq.is_none_or(|b| value == b)
            && self.neq.is_none_or(|b| value != b)
    }

    fn is_empty(&self) -> bool {
        *self == Bounds::default()
    }
}

/// What one of a correlation's references names, once linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A detection rule, by its place among the rules.
    Rule(usize),
    /// Another correlation, by its place among the correlations.
    Correlation(usize),
}

/// A reference to a rule, as a correlation writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reference {
    /// By the rule's `id` or `name`.
    Named(String),
    /// The detection of the same document (an aggregation in a rule's condition).
    Itself,
}

/// One of a correlation's inputs: the rule it reads and the fields it reads from that
/// rule's events.
#[derive(Debug, Clone)]
pub struct Input {
    pub reference: Reference,
    /// Set by [`link`].
    pub source: Option<Source>,
    /// The field read for each `group-by` entry (an alias resolved for this rule).
    pub group_fields: Vec<String>,
    /// The fields whose values are measured (`value_*`); several for `value_count` of
    /// tuples.
    pub value_fields: Vec<String>,
}

/// `alias → (rule id or name → field)`.
pub type Aliases = Vec<(String, Vec<(String, String)>)>;

/// A correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub meta: Meta,
    pub kind: Kind,
    /// One per entry of `rules`, in order.
    pub inputs: Vec<Input>,
    /// The names groups are keyed by, as written (aliases included).
    pub group_by: Vec<String>,
    pub aliases: Aliases,
    /// The measured field(s), as written.
    pub fields: Vec<String>,
    /// The window's length in milliseconds.
    pub timespan_ms: i64,
    /// When it fires; for `temporal` without a condition, when every rule fired.
    pub bounds: Bounds,
    /// Whether the rules it references also raise their own detections.
    pub generate: bool,
    /// Whether its detections are raised on their own, and not only fed to the
    /// correlations that reference it.
    pub standalone: bool,
}

impl Correlation {
    /// How many distinct rules it references.
    pub fn distinct_references(&self) -> usize {
        let mut seen: Vec<&Reference> = Vec::new();
        for input in &self.inputs {
            if !seen.contains(&&input.reference) {
                seen.push(&input.reference);
            }
        }
        seen.len()
    }
}
