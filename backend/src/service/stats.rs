//! Uncertainty for scores: confidence intervals, paired tests and rank
//! intervals, as pure functions.
//!
//! Everything here is deterministic: the bootstrap takes its seed from the
//! caller and uses ChaCha8, whose output is fixed across platforms and crate
//! versions, so a stored interval can always be recomputed exactly.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use super::direction::Direction;

/// The two-sided 95% quantile of the standard normal distribution.
pub const Z_95: f64 = 1.959963984540054;

/// A closed interval `[low, high]` in the unit of the value it bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// Returns the normal-approximation 95% interval `value ± Z_95 · stderr`.
///
/// Returns `None` when either number is not finite or the stderr is negative.
pub fn ci95(value: f64, stderr: f64) -> Option<Interval> {
    if !value.is_finite() || !stderr.is_finite() || stderr < 0.0 {
        return None;
    }
    let half_width = Z_95 * stderr;
    Some(Interval {
        low: value - half_width,
        high: value + half_width,
    })
}

/// McNemar's test for two systems scored right or wrong on the same items.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Items the first system got right and the second wrong.
    pub only_first: u64,
    /// Items the second system got right and the first wrong.
    pub only_second: u64,
    /// Two-sided exact binomial p-value: twice the smaller tail of
    /// Binomial(`only_first + only_second`, ½), capped at 1.
    pub exact_p: f64,
    /// `(|b − c| − 1)² / (b + c)`, Edwards' continuity-corrected statistic;
    /// 0 when there are no discordant items.
    pub chi_square: f64,
    /// Its p-value under a chi-square distribution with one degree of freedom.
    pub chi_square_p: f64,
}

/// Runs McNemar's test on the discordant counts `b` and `c`.
///
/// Concordant items carry no information about the difference, so they are
/// not asked for. With no discordant items both p-values are 1.
pub fn mcnemar(b: u64, c: u64) -> McNemar {
    let discordant = b + c;
    let (chi_square, chi_square_p) = if discordant == 0 {
        (0.0, 1.0)
    } else {
        let excess = (b.abs_diff(c) as f64 - 1.0).max(0.0);
        let statistic = excess * excess / discordant as f64;
        (statistic, chi_square_1_sf(statistic))
    };
    McNemar {
        only_first: b,
        only_second: c,
        exact_p: (2.0 * binomial_half_cdf(discordant, b.min(c))).min(1.0),
        chi_square,
        chi_square_p,
    }
}

/// Returns P(X ≥ x) for a chi-square variable with one degree of freedom.
///
/// Such a variable is a squared standard normal, so the tail is
/// `erfc(√(x/2))` exactly.
fn chi_square_1_sf(x: f64) -> f64 {
    libm::erfc((x / 2.0).sqrt())
}

/// Returns P(X ≤ k) for X ~ Binomial(n, ½).
///
/// Terms are built in log space because 2⁻ⁿ underflows past n ≈ 1074.
fn binomial_half_cdf(n: u64, k: u64) -> f64 {
    let log_half_n = n as f64 * std::f64::consts::LN_2;
    let mut log_choose = 0.0_f64;
    let mut total = 0.0;
    for i in 0..=k.min(n) {
        if i > 0 {
            log_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total += (log_choose - log_half_n).exp();
    }
    total.min(1.0)
}

/// The paired bootstrap of a mean difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedBootstrap {
    /// Mean of `first − second` over the shared items.
    pub mean_difference: f64,
    /// The 2.5th and 97.5th percentiles of the resampled mean differences.
    pub ci95: Interval,
    pub resamples: usize,
}

/// Bootstraps the mean of `first[i] − second[i]` by resampling item indices.
///
/// Items are resampled as pairs, so the correlation between two systems on
/// the same item is kept. Percentiles interpolate linearly between order
/// statistics. Returns `None` when the vectors differ in length, are empty,
/// hold a non-finite score, or `resamples` is zero.
pub fn paired_bootstrap(
    first: &[f64],
    second: &[f64],
    resamples: usize,
    seed: u64,
) -> Option<PairedBootstrap> {
    if first.len() != second.len() || first.is_empty() || resamples == 0 {
        return None;
    }
    let differences: Vec<f64> = first.iter().zip(second).map(|(a, b)| a - b).collect();
    let resampled = bootstrap_mean(&differences, resamples, seed)?;
    Some(PairedBootstrap {
        mean_difference: resampled.mean,
        ci95: resampled.ci95,
        resamples,
    })
}

/// The bootstrap of one mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapMean {
    pub mean: f64,
    /// The 2.5th and 97.5th percentiles of the resampled means.
    pub ci95: Interval,
    pub resamples: usize,
}

/// Bootstraps the mean of `values` by resampling them with replacement:
/// the interval needs no normal approximation, so it stays inside the
/// scores' range (a 0/1 score's interval never passes 1). Returns `None`
/// when `values` is empty, holds a non-finite value, or `resamples` is zero.
pub fn bootstrap_mean(values: &[f64], resamples: usize, seed: u64) -> Option<BootstrapMean> {
    if values.is_empty() || resamples == 0 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| resampled_mean(values, &mut rng))
        .collect();
    means.sort_by(f64::total_cmp);
    Some(BootstrapMean {
        mean: mean(values),
        ci95: Interval {
            low: percentile(&means, 0.025),
            high: percentile(&means, 0.975),
        },
        resamples,
    })
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn resampled_mean(values: &[f64], rng: &mut ChaCha8Rng) -> f64 {
    let n = values.len() as u64;
    let total: f64 = (0..n).map(|_| values[index_below(n, rng) as usize]).sum();
    total / n as f64
}

/// Draws uniformly from `0..n` by Lemire's multiply-and-reject method.
///
/// Written out here rather than taken from `rand` so the mapping from the
/// random stream to indices, and so every bootstrap result, never changes.
fn index_below(n: u64, rng: &mut ChaCha8Rng) -> u64 {
    let threshold = n.wrapping_neg() % n;
    loop {
        let product = u128::from(rng.next_u64()) * u128::from(n);
        if product as u64 >= threshold {
            return (product >> 64) as u64;
        }
    }
}

/// Returns the `q` quantile of sorted `values`, interpolating linearly
/// between the closest ranks (Hyndman and Fan's type 7).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// The best and worst rank an entry could plausibly hold, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankInterval {
    pub best: usize,
    pub worst: usize,
}

/// Computes each entry's rank interval from its value and stderr.
///
/// Entry `j` is *entirely better* than entry `i` when their 95% intervals do
/// not overlap and `j`'s lies on the better side under `direction` (for an
/// ideal value, intervals are compared by their distance from it). Then
/// `best = 1 + #{j entirely better than i}` and `worst = #{ranked j not
/// entirely worse than i}`, which counts `i` itself. An entry without a
/// usable stderr is treated as exact (a zero-width interval), so with no
/// stderrs at all the intervals are the tied ranks; an entry without a
/// finite value, or any entry under an unknown direction, gets `None`.
pub fn rank_intervals(
    entries: &[(Option<f64>, Option<f64>)],
    direction: Direction,
) -> Vec<Option<RankInterval>> {
    let badness: Vec<Option<Interval>> = entries
        .iter()
        .map(|&(value, stderr)| {
            let stderr = stderr.filter(|s| s.is_finite() && *s >= 0.0);
            badness_interval(direction, value?, stderr.unwrap_or(0.0))
        })
        .collect();
    // Both counts are binary searches in the sorted bounds, so a board of
    // n entries costs n log n rather than comparing every pair: a composite
    // over a thousand boards of two thousand models each relies on it.
    let sorted = |bound: fn(&Interval) -> f64| {
        let mut bounds: Vec<f64> = badness.iter().flatten().map(bound).collect();
        bounds.sort_by(f64::total_cmp);
        bounds
    };
    let highs = sorted(|interval| interval.high);
    let lows = sorted(|interval| interval.low);
    badness
        .iter()
        .map(|mine| {
            let mine = (*mine)?;
            Some(RankInterval {
                best: 1 + highs.partition_point(|&high| high < mine.low),
                worst: lows.partition_point(|&low| low <= mine.high),
            })
        })
        .collect()
}

/// Maps an entry's 95% interval to "distance from best", where smaller is
/// better; `None` when it cannot be ranked.
fn badness_interval(direction: Direction, value: f64, stderr: f64) -> Option<Interval> {
    let ci = ci95(value, stderr)?;
    match direction {
        Direction::Higher => Some(Interval {
            low: -ci.high,
            high: -ci.low,
        }),
        Direction::Lower => Some(ci),
        Direction::Ideal(ideal) => {
            let (near, far) = ((ci.low - ideal).abs(), (ci.high - ideal).abs());
            let low = if ci.low <= ideal && ideal <= ci.high {
                0.0
            } else {
                near.min(far)
            };
            Some(Interval {
                low,
                high: near.max(far),
            })
        }
        Direction::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-9,
            "{actual} differs from {expected}"
        );
    }

    #[test]
    fn ci95_is_value_plus_minus_z_stderr() {
        // By hand: 0.75 ± 1.959963984540054 × 0.01 = 0.75 ± 0.01959963984540054.
        let interval = ci95(0.75, 0.01).unwrap_or(Interval {
            low: f64::NAN,
            high: f64::NAN,
        });
        close(interval.low, 0.7304003601545995);
        close(interval.high, 0.7695996398454005);
    }

    #[test]
    fn ci95_of_llama_30b_on_arc_easy() {
        // The real arc_easy acc of huggyllama/llama-30b: 0.7533670033670034 ±
        // 1.959963984540054 × 0.008844984581934908, computed by hand.
        let interval = ci95(0.7533670033670034, 0.008844984581934908);
        let bounds = interval.map(|i| (i.low, i.high));
        let (low, high) = bounds.unwrap_or((f64::NAN, f64::NAN));
        close(low, 0.7360311521425988);
        close(high, 0.7707028545914079);
    }

    #[test]
    fn ci95_needs_finite_numbers() {
        assert_eq!(ci95(f64::NAN, 0.1), None);
        assert_eq!(ci95(0.5, f64::INFINITY), None);
        assert_eq!(ci95(0.5, -0.1), None);
        assert_eq!(
            ci95(0.5, 0.0),
            Some(Interval {
                low: 0.5,
                high: 0.5
            })
        );
    }

    #[test]
    fn mcnemar_matches_the_r_documentation_example() {
        // R's `?mcnemar.test` example, Agresti (1990, p. 350), presidential
        // approval: discordant cells 150 and 86. R prints "McNemar's
        // chi-squared = 16.818, df = 1, p-value = 4.115e-05". By hand the
        // statistic is (|150 − 86| − 1)² / 236 = 3969/236; the p-value
        // erfc(√(3969/472)) = 4.1145622813459415e-05 (Python's `math.erfc`).
        // The exact p-value is 2 · Σ_{k≤86} C(236, k) / 2²³⁶, evaluated in
        // exact rational arithmetic: 3.715936139571442e-05.
        let test = mcnemar(150, 86);
        close(test.chi_square, 3969.0 / 236.0);
        close(test.chi_square, 16.81779661016949);
        close(test.chi_square_p, 4.1145622813459415e-05);
        assert!((test.chi_square_p - 4.115e-05).abs() < 5e-9);
        close(test.exact_p, 3.715936139571442e-05);
        assert_eq!(mcnemar(86, 150).exact_p, test.exact_p);
    }

    #[test]
    fn mcnemar_exact_p_by_hand() {
        // b = 1, c = 7: 2 · (C(8,0) + C(8,1)) / 2⁸ = 18/256 = 0.0703125,
        // and (|1 − 7| − 1)² / 8 = 25/8.
        let test = mcnemar(1, 7);
        close(test.exact_p, 0.0703125);
        close(test.chi_square, 3.125);
    }

    #[test]
    fn mcnemar_without_disagreement_finds_nothing() {
        let none = mcnemar(0, 0);
        assert_eq!((none.exact_p, none.chi_square_p), (1.0, 1.0));
        let even = mcnemar(5, 5);
        assert_eq!(even.exact_p, 1.0);
        close(even.chi_square_p, 1.0);
    }

    #[test]
    fn mcnemar_exact_p_survives_large_counts() {
        // 2⁻³⁰⁰⁰ underflows; the log-space sum must not. Equal counts: p = 1.
        assert_eq!(mcnemar(1500, 1500).exact_p, 1.0);
        let skewed = mcnemar(1400, 1600).exact_p;
        assert!(skewed > 0.0 && skewed < 0.001, "{skewed}");
    }

    /// Scores that differ between systems on a fraction of items, built
    /// without randomness so the test states its own data.
    fn paired_scores(items: usize) -> (Vec<f64>, Vec<f64>) {
        let first = (0..items).map(|i| f64::from(i % 3 != 0)).collect();
        let second = (0..items).map(|i| f64::from(i % 5 < 3)).collect();
        (first, second)
    }

    #[test]
    fn paired_bootstrap_is_fixed_by_its_seed() {
        let (first, second) = paired_scores(300);
        let run = |seed| paired_bootstrap(&first, &second, 2000, seed);
        let once = run(7);
        assert_eq!(once, run(7));
        assert_ne!(once, run(8));
        let once = once.map(|b| (b.mean_difference, b.ci95.low, b.ci95.high));
        assert_eq!(once, Some((BOOT_MEAN, BOOT_LOW, BOOT_HIGH)));
    }

    // Pinned output of `paired_bootstrap(paired_scores(300), 2000, seed 7)`;
    // the mean difference is exactly 200/300 − 180/300.
    const BOOT_MEAN: f64 = 0.06666666666666667;
    const BOOT_LOW: f64 = -0.01;
    const BOOT_HIGH: f64 = 0.14333333333333334;

    #[test]
    fn paired_bootstrap_agrees_with_the_normal_interval() {
        // The normal interval of a mean difference uses the population
        // standard deviation over √n, which is what the bootstrap estimates.
        let (first, second) = paired_scores(1200);
        let differences: Vec<f64> = first.iter().zip(&second).map(|(a, b)| a - b).collect();
        let n = differences.len() as f64;
        let centre = mean(&differences);
        let variance = differences
            .iter()
            .map(|d| (d - centre).powi(2))
            .sum::<f64>()
            / n;
        let normal = ci95(centre, (variance / n).sqrt());
        let boot = paired_bootstrap(&first, &second, 10_000, 2024);
        let (Some(normal), Some(boot)) = (normal, boot) else {
            panic!("both intervals exist");
        };
        close(boot.mean_difference, centre);
        within_sampling_error(boot.ci95, normal);
    }

    /// Checks a bootstrap interval against its analytic counterpart. The
    /// Monte Carlo error of a 2.5% quantile over 10 000 resamples is about
    /// 2% of the half-width; 5% is allowed.
    fn within_sampling_error(boot: Interval, analytic: Interval) {
        let tolerance = 0.05 * (analytic.high - analytic.low) / 2.0;
        assert!(
            (boot.low - analytic.low).abs() < tolerance
                && (boot.high - analytic.high).abs() < tolerance,
            "{boot:?} {analytic:?}"
        );
    }

    #[test]
    fn bootstrap_mean_agrees_with_the_wald_interval_of_a_proportion() {
        // 840 of 1200 right: the Wald interval is p ± z √(p(1 − p)/n), which
        // is the normal interval the bootstrap of a 0/1 mean estimates.
        let scores: Vec<f64> = (0..1200).map(|i| f64::from(i % 10 < 7)).collect();
        let p = 0.7;
        let wald = ci95(p, (p * (1.0 - p) / 1200.0).sqrt());
        let boot = bootstrap_mean(&scores, 10_000, 99);
        let (Some(wald), Some(boot)) = (wald, boot) else {
            panic!("both intervals exist");
        };
        close(boot.mean, p);
        within_sampling_error(boot.ci95, wald);
    }

    #[test]
    fn bootstrap_mean_stays_inside_the_scores_range() {
        // 49 of 50 right: the Wald interval passes 1, the bootstrap cannot.
        let scores: Vec<f64> = (0..50).map(|i| f64::from(i != 7)).collect();
        let boot = bootstrap_mean(&scores, 2000, 5).map(|b| b.ci95);
        assert!(
            boot.is_some_and(|ci| ci.high <= 1.0 && ci.low < 0.98),
            "{boot:?}"
        );
        assert_eq!(bootstrap_mean(&[], 10, 1), None);
        assert_eq!(bootstrap_mean(&[1.0, f64::INFINITY], 10, 1), None);
    }

    #[test]
    fn paired_bootstrap_refuses_mismatched_input() {
        assert_eq!(paired_bootstrap(&[1.0], &[1.0, 0.0], 10, 1), None);
        assert_eq!(paired_bootstrap(&[], &[], 10, 1), None);
        assert_eq!(paired_bootstrap(&[1.0], &[0.0], 0, 1), None);
        assert_eq!(paired_bootstrap(&[f64::NAN], &[0.0], 10, 1), None);
    }

    fn interval(best: usize, worst: usize) -> Option<RankInterval> {
        Some(RankInterval { best, worst })
    }

    #[test]
    fn rank_intervals_agree_with_comparing_every_pair() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut draw = |n: u64| index_below(n, &mut rng) as f64;
        for direction in [Direction::Higher, Direction::Lower, Direction::Ideal(0.5)] {
            // Values on a coarse grid, so ties and touching intervals occur.
            let entries: Vec<_> = (0..300)
                .map(|_| {
                    let value = (draw(5) > 0.0).then(|| draw(40) / 40.0);
                    let stderr = (draw(3) > 0.0).then(|| draw(4) / 100.0);
                    (value, stderr)
                })
                .collect();
            let bounds: Vec<Option<Interval>> = entries
                .iter()
                .map(|&(value, stderr)| badness_interval(direction, value?, stderr.unwrap_or(0.0)))
                .collect();
            let expected: Vec<_> = bounds
                .iter()
                .map(|mine| {
                    let mine = (*mine)?;
                    let ranked = bounds.iter().flatten();
                    Some(RankInterval {
                        best: 1 + ranked.clone().filter(|o| o.high < mine.low).count(),
                        worst: ranked.filter(|o| o.low <= mine.high).count(),
                    })
                })
                .collect();
            assert_eq!(rank_intervals(&entries, direction), expected);
        }
    }

    #[test]
    fn rank_intervals_widen_with_overlap() {
        // Intervals (±1.96·se): A [0.880, 0.920], B [0.861, 0.899],
        // C [0.790, 0.810], D has no value.
        let entries = [
            (Some(0.90), Some(0.0102)),
            (Some(0.88), Some(0.0097)),
            (Some(0.80), Some(0.0051)),
            (None, Some(0.01)),
        ];
        let intervals = rank_intervals(&entries, Direction::Higher);
        assert_eq!(
            intervals,
            vec![interval(1, 2), interval(1, 2), interval(3, 3), None]
        );
    }

    #[test]
    fn rank_intervals_without_stderr_are_the_tied_ranks() {
        let entries = [(Some(1.0), None), (Some(2.0), None), (Some(2.0), None)];
        let intervals = rank_intervals(&entries, Direction::Lower);
        assert_eq!(
            intervals,
            vec![interval(1, 1), interval(2, 3), interval(2, 3)]
        );
    }

    #[test]
    fn rank_intervals_measure_distance_from_an_ideal_value() {
        // 0.5 is ideal: [0.48, 0.56] straddles it; 0.25 and 0.75 are exact
        // and equally far, so they tie behind it.
        let entries = [
            (Some(0.52), Some(0.02)),
            (Some(0.25), None),
            (Some(0.75), None),
        ];
        let intervals = rank_intervals(&entries, Direction::Ideal(0.5));
        assert_eq!(
            intervals,
            vec![interval(1, 1), interval(2, 3), interval(2, 3)]
        );
        assert_eq!(rank_intervals(&entries, Direction::Unknown), vec![None; 3]);
    }
}
