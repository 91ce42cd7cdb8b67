//! Where the labelled ticks of an axis go.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

const SECOND: f64 = 1_000.0;
const MINUTE: f64 = 60.0 * SECOND;
const HOUR: f64 = 60.0 * MINUTE;
/// A day in milliseconds.
pub(crate) const DAY: f64 = 24.0 * HOUR;
const YEAR: f64 = 365.0 * DAY;

/// Tick spacings for time axes, in milliseconds, smallest first.
const TIME_STEPS: [f64; 33] = [
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    50.0,
    100.0,
    200.0,
    500.0,
    SECOND,
    2.0 * SECOND,
    5.0 * SECOND,
    10.0 * SECOND,
    15.0 * SECOND,
    30.0 * SECOND,
    MINUTE,
    2.0 * MINUTE,
    5.0 * MINUTE,
    10.0 * MINUTE,
    15.0 * MINUTE,
    30.0 * MINUTE,
    HOUR,
    2.0 * HOUR,
    3.0 * HOUR,
    6.0 * HOUR,
    12.0 * HOUR,
    DAY,
    2.0 * DAY,
    7.0 * DAY,
    14.0 * DAY,
    30.0 * DAY,
    91.0 * DAY,
    YEAR,
];

/// A linear f64 axis whose labelled ticks are given rather than computed.
/// (Plotters' own `with_key_points` loses the f64 label formatting.)
pub(crate) struct TickedAxis {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    /// An axis from `range.start` to `range.end` with ticks at `ticks`.
    pub fn new(range: Range<f64>, ticks: Vec<f64>) -> TickedAxis {
        TickedAxis {
            linear: range.into(),
            ticks,
        }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }
}

/// "Nice" ticks (1, 2 or 5 times a power of ten) between `lo` and `hi`, at most about `max`.
pub(crate) fn number_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    RangedCoordf64::from(lo..hi).key_points(max)
}

/// Every `step`-th of `n` evenly spaced positions 0, 1, ..., n - 1, so at most `max` are labelled.
pub(crate) fn index_ticks(n: usize, max: usize) -> Vec<f64> {
    let step = n.div_ceil(max.max(1)).max(1);
    (0..n).step_by(step).map(|i| i as f64).collect()
}

/// Ticks on whole seconds, minutes, hours or days between `lo` and `hi`
/// (milliseconds since the epoch), at most `max` and at least `min_step`
/// apart, and the chrono pattern that labels them without repeating what
/// they share.
pub(crate) fn time_ticks(lo: f64, hi: f64, max: usize, min_step: f64) -> (Vec<f64>, &'static str) {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return (Vec::new(), "%Y-%m-%d %H:%M:%S");
    }
    let fits = |step: f64| step >= min_step && span / step <= max as f64;
    let step = TIME_STEPS
        .into_iter()
        .find(|&step| fits(step))
        .unwrap_or_else(|| YEAR * (span / YEAR / max as f64).ceil());
    let pattern = if step < SECOND {
        "%H:%M:%S%.3f"
    } else if step < MINUTE {
        "%H:%M:%S"
    } else if step < DAY && span <= DAY {
        "%H:%M"
    } else if step < DAY {
        "%m-%d %H:%M"
    } else if step < YEAR {
        "%Y-%m-%d"
    } else {
        "%Y"
    };
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if last < first {
        return (Vec::new(), pattern);
    }
    let ticks = (0..=(last - first) as usize)
        .map(|i| (first + i as f64) * step)
        .collect();
    (ticks, pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_ticks_thin_out_long_axes() {
        assert_eq!(index_ticks(3, 12), vec![0.0, 1.0, 2.0]);
        assert_eq!(
            index_ticks(30, 12),
            (0..30).step_by(3).map(|i| i as f64).collect::<Vec<_>>()
        );
        assert!(index_ticks(0, 12).is_empty());
    }

    #[test]
    fn time_ticks_fall_on_round_times() {
        // 2023-11-14 22:13:20 to three hours later.
        let lo = 1_700_000_000_000.0;
        let (ticks, pattern) = time_ticks(lo, lo + 3.0 * HOUR, 10, 0.0);
        assert_eq!(pattern, "%H:%M");
        assert_eq!(ticks.len(), 6); // every 30 minutes from 22:30 to 01:00
        assert!(ticks.iter().all(|t| t % (30.0 * MINUTE) == 0.0));
        assert!(ticks[0] >= lo && ticks[5] <= lo + 3.0 * HOUR);

        let (days, pattern) = time_ticks(lo, lo + 20.0 * DAY, 10, 0.0);
        assert_eq!(pattern, "%Y-%m-%d");
        assert_eq!(days.len(), 10);

        // Dates are never split into hours.
        let (dates, pattern) = time_ticks(lo, lo + 2.0 * DAY, 10, DAY);
        assert_eq!(pattern, "%Y-%m-%d");
        assert_eq!(dates.len(), 2);

        let (years, pattern) = time_ticks(0.0, 200.0 * YEAR, 10, 0.0);
        assert_eq!(pattern, "%Y");
        assert!(years.len() <= 11 && years.len() >= 5, "{years:?}");
    }

    #[test]
    fn time_ticks_of_an_empty_span() {
        assert!(time_ticks(5.0, 5.0, 10, 0.0).0.is_empty());
        assert!(time_ticks(0.0, f64::INFINITY, 10, 0.0).0.is_empty());
    }

    #[test]
    fn ticked_axis_maps_linearly_and_keeps_its_ticks() {
        let axis = TickedAxis::new(0.0..10.0, vec![0.5, 9.5]);
        assert_eq!(axis.map(&5.0, (0, 100)), 50);
        assert_eq!(axis.key_points(3usize), vec![0.5, 9.5]);
        assert_eq!(axis.range(), 0.0..10.0);
    }

    #[test]
    fn number_ticks_are_round() {
        assert_eq!(
            number_ticks(0.0, 10.0, 6),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
    }
}
