//! Runs correlations over detections: each detection of a rule a correlation references
//! goes into the window of its group (the values of the `group-by` fields in its event),
//! and the correlation fires whenever its condition holds after one arrives. A correlation
//! that fires feeds the correlations that reference it. Memory is bounded: at most
//! [`MAX_GROUPS`] groups per correlation and [`MAX_ENTRIES`](super::window::MAX_ENTRIES)
//! detections per group. The state can be saved and read back, so that a restart does not
//! forget a half-open window.

use std::collections::HashMap;
use std::io::{Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::window::{Entry, Inserted, Window, fires};
use super::{Correlation, Kind, Source};

/// The most groups one correlation keeps; beyond it, groups whose window has passed go
/// first, then the stalest tenth.
pub const MAX_GROUPS: usize = 100_000;

/// How many of the detections behind a firing are kept with it, the newest.
pub const EVIDENCE: usize = 10;

/// A group: the values of the `group-by` fields (none where an event lacks one).
type Key = Vec<Option<String>>;

/// Saved windows: each correlation's signature with its groups.
type Saved<K, W> = Vec<(K, Vec<W>)>;

/// A correlation that fired.
#[derive(Debug, Clone)]
pub struct Fired<P> {
    /// Its place among the correlator's correlations.
    pub correlation: usize,
    /// Event time of the detection that made it fire, milliseconds since 1970.
    pub time: i64,
    /// The group: each `group-by` name with its value.
    pub group: Vec<(String, Option<String>)>,
    /// What it measured: the count, distinct values, rules fired, sum...
    pub value: f64,
    /// The newest detections in the window, oldest first (at most [`EVIDENCE`]).
    pub evidence: Vec<P>,
}

/// What the correlator had to leave out, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observed {
    /// Detections older than their group's window when they arrived.
    pub late: u64,
    /// Detections dropped from a full window.
    pub dropped: u64,
    /// Groups dropped to keep a correlation within [`MAX_GROUPS`] while still open.
    pub groups_dropped: u64,
}

/// What the correlator needs of one correlation.
struct Plan {
    kind: Kind,
    timespan_ms: i64,
    bounds: super::Bounds,
    /// Distinct rules referenced.
    needed: usize,
    /// The slot of each input (inputs naming the same rule share one).
    slots: Vec<u32>,
    group_by: Vec<String>,
    group_fields: Vec<Vec<String>>,
    value_fields: Vec<Vec<String>>,
    /// What the state was built for: a correlation changed in these is started afresh.
    signature: String,
}

/// The correlations' windows.
pub struct Correlator<P> {
    plans: Vec<Plan>,
    windows: Vec<HashMap<Key, Window<P>>>,
    /// The (correlation, input) pairs each source feeds.
    feeds: HashMap<Source, Vec<(usize, usize)>>,
    observed: Observed,
}

impl<P: Clone> Correlator<P> {
    /// A correlator over linked `correlations`.
    pub fn new(correlations: &[Correlation]) -> Self {
        let mut feeds: HashMap<Source, Vec<(usize, usize)>> = HashMap::new();
        let plans = correlations
            .iter()
            .enumerate()
            .map(|(c, correlation)| {
                let mut references = Vec::new();
                let slots = correlation
                    .inputs
                    .iter()
                    .enumerate()
                    .map(|(k, input)| {
                        if let Some(source) = input.source {
                            feeds.entry(source).or_default().push((c, k));
                        }
                        let slot = references.iter().position(|r| *r == &input.reference).unwrap_or_else(|| {
                            references.push(&input.reference);
                            references.len() - 1
                        });
                        slot as u32
                    })
                    .collect();
                Plan {
                    kind: correlation.kind,
                    timespan_ms: correlation.timespan_ms,
                    bounds: correlation.bounds.clone(),
                    needed: references.len(),
                    slots,
                    group_by: correlation.group_by.clone(),
                    group_fields: correlation.inputs.iter().map(|i| i.group_fields.clone()).collect(),
                    value_fields: correlation.inputs.iter().map(|i| i.value_fields.clone()).collect(),
                    signature: format!(
                        "{}|{}|{:?}|{:?}|{:?}|{:?}|{}",
                        correlation.meta.id,
                        correlation.meta.title,
                        correlation.inputs.iter().map(|i| (&i.reference, &i.group_fields, &i.value_fields)).collect::<Vec<_>>(),
                        correlation.group_by,
                        correlation.kind,
                        correlation.fields,
                        correlation.timespan_ms
                    ),
                }
            })
            .collect::<Vec<_>>();
        let windows = plans.iter().map(|_| HashMap::new()).collect();
        Correlator { plans, windows, feeds, observed: Observed::default() }
    }

    /// Whether detections of rule `rule` feed a correlation.
    pub fn reads(&self, rule: usize) -> bool {
        self.feeds.contains_key(&Source::Rule(rule))
    }

    /// What was left out so far.
    pub fn observed(&self) -> Observed {
        self.observed
    }

    /// Takes a detection of rule `rule` at event time `time` (ms), whose event's fields
    /// `field` reads, and returns the correlations it made fire, chained ones after those
    /// that fed them.
    pub fn observe(&mut self, rule: usize, time: i64, field: &dyn Fn(&str) -> Option<String>, payload: P) -> Vec<Fired<P>> {
        let mut fired = Vec::new();
        let Some(targets) = self.feeds.get(&Source::Rule(rule)).cloned() else { return fired };
        for (c, k) in targets {
            let plan = &self.plans[c];
            let key: Key = plan.group_fields[k].iter().map(|f| field(f)).collect();
            let fields = &plan.value_fields[k];
            let value = if fields.is_empty() {
                None
            } else {
                fields.iter().map(|f| field(f)).collect::<Option<Vec<String>>>().map(|v| v.join("\u{1f}"))
            };
            self.feed(c, k, time, key, value, payload.clone(), &mut fired);
        }
        fired
    }

    #[allow(clippy::too_many_arguments)]
    fn feed(&mut self, c: usize, k: usize, time: i64, key: Key, value: Option<String>, payload: P, fired: &mut Vec<Fired<P>>) {
        let plan = &self.plans[c];
        let windows = &mut self.windows[c];
        if !windows.contains_key(&key) && windows.len() >= MAX_GROUPS {
            self.observed.groups_dropped += make_room(windows, time, plan.timespan_ms);
        }
        let window = windows.entry(key.clone()).or_default();
        match window.insert(Entry { time, slot: plan.slots[k], value, payload }, plan.timespan_ms) {
            Inserted::Late => {
                self.observed.late += 1;
                return;
            }
            Inserted::KeptDroppingOldest => self.observed.dropped += 1,
            Inserted::Kept => {}
        }
        let Some(measured) = window.measure(plan.kind, &plan.slots) else { return };
        if !fires(measured, &plan.bounds, plan.kind, plan.needed) {
            return;
        }
        let evidence: Vec<P> = window.entries().rev().take(EVIDENCE).map(|e| e.payload.clone()).collect::<Vec<_>>().into_iter().rev().collect();
        let group: Vec<(String, Option<String>)> = plan.group_by.iter().cloned().zip(key).collect();
        let newest = evidence.last().cloned();
        fired.push(Fired { correlation: c, time, group: group.clone(), value: measured, evidence });
        let (Some(parents), Some(payload)) = (self.feeds.get(&Source::Correlation(c)).cloned(), newest) else { return };
        for (parent, input) in parents {
            let key = self.plans[parent].group_fields[input].iter().map(|name| group_value(&group, name)).collect();
            self.feed(parent, input, time, key, None, payload.clone(), fired);
        }
    }
}

impl<P: Clone + Serialize + DeserializeOwned> Correlator<P> {
    /// Writes the open windows as JSON.
    pub fn save(&self, out: impl Write) -> serde_json::Result<()> {
        let saved: Saved<&str, (&Key, &Window<P>)> =
            self.plans.iter().zip(&self.windows).map(|(plan, windows)| (plan.signature.as_str(), windows.iter().collect())).collect();
        serde_json::to_writer(out, &saved)
    }

    /// Reads back windows [`Correlator::save`] wrote, for the correlations that have not
    /// changed since; returns how many groups were read back.
    pub fn restore(&mut self, input: impl Read) -> serde_json::Result<usize> {
        let saved: Saved<String, (Key, Window<P>)> = serde_json::from_reader(input)?;
        let mut restored = 0;
        for (signature, groups) in saved {
            if let Some(c) = self.plans.iter().position(|p| p.signature == signature) {
                restored += groups.len();
                self.windows[c] = groups
                    .into_iter()
                    .map(|(key, mut window)| {
                        window.retally();
                        (key, window)
                    })
                    .collect();
            }
        }
        Ok(restored)
    }
}

/// The value a child correlation's group gives the name `name` (exact, else ignoring case).
fn group_value(group: &[(String, Option<String>)], name: &str) -> Option<String> {
    let found = group.iter().find(|(n, _)| n == name).or_else(|| group.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)));
    found.and_then(|(_, v)| v.clone())
}

/// Drops the groups whose windows have passed by `time`, and if that is not a tenth of
/// them, the stalest tenth; returns how many open groups were dropped.
fn make_room<P>(windows: &mut HashMap<Key, Window<P>>, time: i64, timespan_ms: i64) -> u64 {
    let before = windows.len();
    windows.retain(|_, w| w.newest().is_some_and(|n| n >= time.saturating_sub(timespan_ms)));
    if windows.len() > before - before / 10 {
        let mut newest: Vec<i64> = windows.values().filter_map(Window::newest).collect();
        let cut = windows.len() / 10;
        newest.select_nth_unstable(cut);
        let threshold = newest[cut];
        let open = windows.len();
        windows.retain(|_, w| w.newest().is_some_and(|n| n > threshold));
        return (open - windows.len()) as u64;
    }
    0
}
