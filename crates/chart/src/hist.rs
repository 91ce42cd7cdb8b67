//! Binning of values for histograms.

/// Integers up to this size are exact in an f64, so integer bins can be used.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

/// One histogram bin: the values `v` with `start <= v < end`; the last bin
/// also holds `end`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bin {
    /// Lower edge.
    pub start: f64,
    /// Upper edge.
    pub end: f64,
    /// How many values fell in the bin.
    pub count: usize,
}

/// Bins the finite values (NaN and infinities are left out) into equal-width
/// bins spanning them, as many as Sturges' rule says (`ceil(log2 n) + 1`:
/// 11 for a thousand values, 21 for a million).
/// When every value is a whole number the bin width is whole too and the
/// edges fall halfway between integers, so each bin holds the same number of
/// distinct integers. No values give no bins.
pub fn bin_values(values: &[f64]) -> Vec<Bin> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let Some((min, max)) = min_max(&finite) else {
        return Vec::new();
    };
    let wanted = sturges(finite.len());
    let integers = finite
        .iter()
        .all(|v| v.fract() == 0.0 && v.abs() < EXACT_INTEGER_LIMIT);

    let (start, width, bins) = if integers {
        let distinct = max - min + 1.0;
        let width = (distinct / wanted as f64).ceil();
        (min - 0.5, width, (distinct / width).ceil() as usize)
    } else if max > min {
        (min, (max - min) / wanted as f64, wanted)
    } else {
        (min - 0.5, 1.0, 1)
    };

    let mut counts = vec![0usize; bins];
    for v in &finite {
        // `as` saturates, and the index is clamped, so rounding at the top edge is harmless.
        let index = (((v - start) / width).floor() as usize).min(bins - 1);
        if let Some(count) = counts.get_mut(index) {
            *count += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bin {
            start: start + i as f64 * width,
            end: start + (i + 1) as f64 * width,
            count,
        })
        .collect()
}

/// The smallest and largest value, or None for no values.
fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let first = *values.first()?;
    Some(
        values
            .iter()
            .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v))),
    )
}

/// Sturges' bin count for `n` values: `ceil(log2 n) + 1`.
fn sturges(n: usize) -> usize {
    // ceil(log2 n) is the number of bits of n - 1 (0 for n = 1).
    let ceil_log2 = (usize::BITS - n.saturating_sub(1).leading_zeros()) as usize;
    ceil_log2 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(bins: &[Bin]) -> Vec<usize> {
        bins.iter().map(|b| b.count).collect()
    }

    #[test]
    fn sturges_rule() {
        assert_eq!(sturges(1), 1);
        assert_eq!(sturges(2), 2);
        assert_eq!(sturges(8), 4);
        assert_eq!(sturges(9), 5);
        assert_eq!(sturges(1000), 11);
    }

    #[test]
    fn bins_floats_over_their_range() {
        let values: Vec<f64> = (0..100).map(|i| i as f64 / 10.0 + 0.05).collect();
        let bins = bin_values(&values);
        assert_eq!(bins.len(), 8); // ceil(log2 100) + 1
        assert_eq!(bins[0].start, 0.05);
        assert!((bins[7].end - 9.95).abs() < 1e-9);
        assert_eq!(counts(&bins).iter().sum::<usize>(), 100);
        // The largest value lands in the last bin, not past it.
        assert!(bins[7].count > 0);
    }

    #[test]
    fn integer_values_get_whole_bins() {
        // Hours of the day, 0..=23, ten times each: 240 values, Sturges wants 9 bins.
        let values: Vec<f64> = (0..240).map(|i| (i % 24) as f64).collect();
        let bins = bin_values(&values);
        // Width ceil(24 / 9) = 3, so 8 bins of 3 hours, 30 values each.
        assert_eq!(bins.len(), 8);
        assert_eq!(counts(&bins), vec![30; 8]);
        assert_eq!((bins[0].start, bins[0].end), (-0.5, 2.5));
    }

    #[test]
    fn one_distinct_value_makes_one_bin() {
        let bins = bin_values(&[7.25, 7.25, 7.25]);
        assert_eq!(
            bins,
            vec![Bin {
                start: 6.75,
                end: 7.75,
                count: 3
            }]
        );
    }

    #[test]
    fn leaves_out_non_finite_values() {
        assert!(bin_values(&[f64::NAN, f64::INFINITY]).is_empty());
        let mut values: Vec<f64> = (0..1_000_000).map(|i| i as f64 * 0.5).collect();
        values.push(f64::NAN);
        let bins = bin_values(&values);
        assert_eq!(bins.len(), 21); // ceil(log2 1e6) + 1
        assert_eq!(counts(&bins).iter().sum::<usize>(), 1_000_000);
    }
}
