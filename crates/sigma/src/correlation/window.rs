//! One group's sliding window: the detections of the last `timespan` (by event time, the
//! newest included and one exactly `timespan` older too), kept in time order with what the
//! correlation measures over them maintained as they come and go.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::{Bounds, Kind};

/// The most detections one group's window holds; beyond it the oldest are dropped (the
/// window then counts fewer than happened, and says so through [`Window::insert`]).
pub const MAX_ENTRIES: usize = 10_000;

/// A detection in a window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry<P> {
    /// Event time, milliseconds since 1970.
    pub time: i64,
    /// Which of the correlation's distinct references it came from.
    pub slot: u32,
    /// The measured value: the field's text (fields joined by U+001F for a tuple).
    pub value: Option<String>,
    pub payload: P,
}

/// What inserting a detection did.
#[derive(Debug, PartialEq, Eq)]
pub enum Inserted {
    /// In the window.
    Kept,
    /// In the window, and the oldest detection dropped to keep the window's size bound.
    KeptDroppingOldest,
    /// Older than the window: not counted.
    Late,
}

/// One group's detections within the timespan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "P: Serialize + serde::de::DeserializeOwned")]
pub struct Window<P> {
    entries: VecDeque<Entry<P>>,
    #[serde(skip)]
    tally: Tally,
}

/// What the window measures, kept up to date as detections come and go.
#[derive(Debug, Clone, Default)]
struct Tally {
    distinct: HashMap<String, u32>,
    sum: f64,
    numbers: u32,
    per_slot: Vec<u32>,
}

impl<P> Default for Window<P> {
    fn default() -> Self {
        Window { entries: VecDeque::new(), tally: Tally::default() }
    }
}

impl<P> Window<P> {
    /// The newest detection's time.
    pub fn newest(&self) -> Option<i64> {
        self.entries.back().map(|e| e.time)
    }

    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry<P>> {
        self.entries.iter()
    }

    /// Rebuilds what is measured from the entries (after the window was read back).
    pub fn retally(&mut self) {
        self.tally = Tally::default();
        for i in 0..self.entries.len() {
            let entry = &self.entries[i];
            self.tally.add(entry.slot, entry.value.as_deref());
        }
    }

    /// Adds a detection, dropping those that fall out of the window.
    pub fn insert(&mut self, entry: Entry<P>, timespan_ms: i64) -> Inserted {
        let newest = self.newest().map_or(entry.time, |n| n.max(entry.time));
        if entry.time < newest.saturating_sub(timespan_ms) {
            return Inserted::Late;
        }
        self.tally.add(entry.slot, entry.value.as_deref());
        let at = self.entries.partition_point(|e| e.time <= entry.time);
        self.entries.insert(at, entry);
        while self.entries.front().is_some_and(|e| e.time < newest.saturating_sub(timespan_ms)) {
            self.pop_oldest();
        }
        if self.entries.len() > MAX_ENTRIES {
            self.pop_oldest();
            return Inserted::KeptDroppingOldest;
        }
        Inserted::Kept
    }

    fn pop_oldest(&mut self) {
        if let Some(old) = self.entries.pop_front() {
            self.tally.remove(old.slot, old.value.as_deref());
        }
    }

    /// What `kind` measures over the window; none when there is nothing to measure (a
    /// percentile or median of no numbers). `order` lists the slots of a
    /// `temporal_ordered` correlation's rules in order.
    pub fn measure(&self, kind: Kind, order: &[u32]) -> Option<f64> {
        let tally = &self.tally;
        Some(match kind {
            Kind::EventCount => self.entries.len() as f64,
            Kind::ValueCount => tally.distinct.len() as f64,
            Kind::Temporal => tally.per_slot.iter().filter(|&&n| n > 0).count() as f64,
            Kind::TemporalOrdered => {
                if self.in_order(order) {
                    order.len() as f64
                } else {
                    0.0
                }
            }
            Kind::ValueSum => tally.sum,
            Kind::ValueAvg if tally.numbers == 0 => 0.0,
            Kind::ValueAvg => tally.sum / tally.numbers as f64,
            Kind::ValuePercentile(p) => percentile(self.numbers(), p)?,
            Kind::ValueMedian => percentile(self.numbers(), 50.0)?,
        })
    }

    /// Whether one detection of each slot in `order` can be chosen with times that never
    /// go back (equal times count as in order; one detection may serve a rule listed
    /// twice).
    fn in_order(&self, order: &[u32]) -> bool {
        let mut since = i64::MIN;
        for &slot in order {
            match self.entries.iter().find(|e| e.time >= since && e.slot == slot) {
                Some(chosen) => since = chosen.time,
                None => return false,
            }
        }
        true
    }

    fn numbers(&self) -> Vec<f64> {
        self.entries.iter().filter_map(|e| number(e.value.as_deref()?)).collect()
    }
}

impl Tally {
    fn add(&mut self, slot: u32, value: Option<&str>) {
        let slot = slot as usize;
        if self.per_slot.len() <= slot {
            self.per_slot.resize(slot + 1, 0);
        }
        self.per_slot[slot] += 1;
        if let Some(value) = value {
            *self.distinct.entry(value.to_string()).or_default() += 1;
            if let Some(n) = number(value) {
                self.sum += n;
                self.numbers += 1;
            }
        }
    }

    fn remove(&mut self, slot: u32, value: Option<&str>) {
        self.per_slot[slot as usize] -= 1;
        if let Some(value) = value {
            if let Some(count) = self.distinct.get_mut(value) {
                *count -= 1;
                if *count == 0 {
                    self.distinct.remove(value);
                }
            }
            if let Some(n) = number(value) {
                self.numbers -= 1;
                self.sum = if self.numbers == 0 { 0.0 } else { self.sum - n };
            }
        }
    }
}

/// A measured value as a number: decimal text, finite.
fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The `p`th percentile of `values`, interpolated linearly between the two nearest ranks.
fn percentile(mut values: Vec<f64>, p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (values.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    Some(values[low] + (rank - low as f64) * (values[high] - values[low]))
}

/// Whether the measured `value` fires a correlation with `bounds`; with none, a temporal
/// correlation fires when all `needed` rules fired.
pub fn fires(value: f64, bounds: &Bounds, kind: Kind, needed: usize) -> bool {
    match kind {
        Kind::Temporal | Kind::TemporalOrdered if bounds.is_empty() => value >= needed as f64,
        _ => bounds.holds(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(time: i64, slot: u32, value: Option<&str>) -> Entry<()> {
        Entry { time, slot, value: value.map(str::to_string), payload: () }
    }

    #[test]
    fn the_window_holds_the_newest_and_one_exactly_a_timespan_older() {
        let mut w = Window::default();
        for t in [0, 5_000, 10_000] {
            assert_eq!(w.insert(entry(t, 0, None), 10_000), Inserted::Kept);
        }
        assert_eq!(w.measure(Kind::EventCount, &[]), Some(3.0));
        w.insert(entry(10_001, 0, None), 10_000);
        assert_eq!(w.measure(Kind::EventCount, &[]), Some(3.0), "the detection at 0 fell out");
        assert_eq!(w.insert(entry(0, 0, None), 10_000), Inserted::Late);
        assert_eq!(w.insert(entry(4_000, 0, None), 10_000), Inserted::Kept, "late but within the window");
        assert_eq!(w.entries().map(|e| e.time).collect::<Vec<_>>(), [4_000, 5_000, 10_000, 10_001]);
    }

    #[test]
    fn values_sums_averages_and_percentiles() {
        let mut w = Window::default();
        for v in ["10", "20", "abc", "30.0", "40"] {
            w.insert(entry(0, 0, Some(v)), 1_000);
        }
        assert_eq!(w.measure(Kind::ValueCount, &[]), Some(5.0));
        assert_eq!(w.measure(Kind::ValueSum, &[]), Some(100.0));
        assert_eq!(w.measure(Kind::ValueAvg, &[]), Some(25.0));
        assert_eq!(w.measure(Kind::ValuePercentile(90.0), &[]), Some(37.0));
        assert_eq!(w.measure(Kind::ValueMedian, &[]), Some(25.0));
        w.insert(entry(2_000, 0, None), 1_000);
        assert_eq!(w.measure(Kind::ValueSum, &[]), Some(0.0));
        assert_eq!(w.measure(Kind::ValueMedian, &[]), None);
    }

    #[test]
    fn order_is_by_event_time_and_a_detection_may_serve_twice() {
        let mut w = Window::default();
        w.insert(entry(5, 1, None), 100);
        w.insert(entry(3, 0, None), 100);
        assert_eq!(w.measure(Kind::TemporalOrdered, &[0, 1]), Some(2.0));
        assert_eq!(w.measure(Kind::TemporalOrdered, &[1, 0]), Some(0.0));
        assert_eq!(w.measure(Kind::TemporalOrdered, &[0, 1, 1]), Some(3.0));
        assert_eq!(w.measure(Kind::Temporal, &[]), Some(2.0));
        w.insert(entry(3, 2, None), 100);
        assert_eq!(w.measure(Kind::TemporalOrdered, &[2, 0]), Some(2.0), "equal times are in order either way");
    }
}
