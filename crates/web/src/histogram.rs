//! The histogram's interval: a round length that cuts a time range into some sixty bars.

/// Round intervals, in seconds.
const INTERVALS: [u64; 24] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800, 1_209_600,
    2_592_000, 7_776_000, 31_536_000,
];
/// Bars aimed at.
const BARS: u64 = 60;

/// The smallest round interval (in milliseconds) that cuts `span_ms` into at most
/// [`BARS`] bars.
pub fn interval(span_ms: u64) -> u64 {
    let wanted = span_ms.div_ceil(BARS).div_ceil(1000);
    INTERVALS.iter().copied().find(|&s| s >= wanted).unwrap_or(*INTERVALS.last().expect("intervals")) * 1000
}

/// Milliseconds since the epoch of a time as the lake or Arrow writes it (RFC 3339, or
/// without an offset, taken as UTC).
pub fn millis(text: &str) -> Option<u64> {
    hela_hunt::event_time(text).and_then(|ms| u64::try_from(ms).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_round_and_give_at_most_sixty_bars() {
        assert_eq!(interval(0), 1000);
        assert_eq!(interval(60_000), 1000);
        assert_eq!(interval(3_600_000), 60_000);
        assert_eq!(interval(3_600_001), 120_000);
        assert_eq!(interval(86_400_000), 1_800_000);
        assert_eq!(interval(u64::MAX), 31_536_000_000);
        for span in [1u64, 999, 59_999, 7_000_000, 400_000_000_000] {
            assert!(span.div_ceil(interval(span)) <= BARS, "{span}");
        }
    }

    #[test]
    fn times_with_and_without_offsets() {
        assert_eq!(millis("1970-01-01T00:00:01.500Z"), Some(1500));
        assert_eq!(millis("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(millis("2020-09-21T01:00:00"), Some(1_600_650_000_000));
        assert_eq!(millis("2020-09-21T01:00:00.911"), Some(1_600_650_000_911));
        assert_eq!(millis("yesterday"), None);
    }
}
