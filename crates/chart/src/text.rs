//! Text shown on charts: labels cut to a readable length, numbers and times.

use arrow::temporal_conversions::timestamp_ms_to_datetime;

/// Characters kept at the start of a shortened label; the rest of the room
/// goes to its end, which for paths holds the file name.
const KEEP_START: usize = 20;

/// `text` with control characters (which SVG cannot hold) made spaces, and,
/// past `max` characters, its middle replaced by an ellipsis so it is `max`
/// characters long: `C:\Program Files\Mi…\Application\msedge.exe`.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if chars.len() <= max {
        return chars.into_iter().collect();
    }
    let start = KEEP_START.min(max.saturating_sub(1) / 2);
    let end = max.saturating_sub(start + 1);
    let mut short: String = chars[..start].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - end..]);
    short
}

/// A number for an axis or a bar: whole numbers without a fraction, others
/// with at most three decimals, very large or small ones in scientific notation.
pub(crate) fn number(v: f64) -> String {
    let magnitude = v.abs();
    if v == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e15).contains(&magnitude) {
        format!("{v:.2e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let fixed = format!("{v:.3}");
        fixed
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// A time (milliseconds since the Unix epoch, shown as UTC) formatted with a
/// chrono `pattern`; the raw number when it is out of range.
pub(crate) fn time(ms: f64, pattern: &str) -> String {
    // `as` saturates, and timestamp_ms_to_datetime rejects what chrono cannot hold.
    match timestamp_ms_to_datetime(ms.round() as i64) {
        Some(t) => t.format(pattern).to_string(),
        None => number(ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_labels_are_kept() {
        assert_eq!(
            shorten(r"C:\Windows\System32\wbem\WmiPrvSE.exe", 60),
            r"C:\Windows\System32\wbem\WmiPrvSE.exe"
        );
        assert_eq!(shorten("a\tb\nc", 60), "a b c");
    }

    #[test]
    fn long_labels_keep_their_start_and_end() {
        let path = r"C:\Program Files (x86)\Microsoft\Edge\Application\126.0.2592.87\msedge.exe";
        let short = shorten(path, 60);
        assert_eq!(short.chars().count(), 60);
        assert!(short.starts_with(r"C:\Program Files (x8…"), "{short}");
        assert!(short.ends_with(r"\msedge.exe"), "{short}");
        // Multi-byte characters are cut on character boundaries.
        assert_eq!(shorten("ääääää", 5), "ää…ää");
        assert_eq!(shorten("abc", 1), "…");
    }

    #[test]
    fn numbers() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1234.0), "1234");
        assert_eq!(number(-2.5), "-2.5");
        assert_eq!(number(0.12345), "0.123");
        assert_eq!(number(3e20), "3.00e20");
        assert_eq!(number(2e-5), "2.00e-5");
    }

    #[test]
    fn times() {
        assert_eq!(
            time(1_700_000_000_000.0, "%Y-%m-%d %H:%M"),
            "2023-11-14 22:13"
        );
        assert_eq!(time(1e300, "%Y"), "1.00e300");
    }
}
