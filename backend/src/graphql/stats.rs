//! GraphQL types for uncertainty: confidence intervals and rank intervals.
//!
//! They only carry numbers computed by `service::stats`.

use async_graphql::SimpleObject;

use crate::service::{sample_estimate, stats};

/// A closed interval, in the unit of the value it bounds.
#[derive(SimpleObject, Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The lower bound, included.
    pub low: f64,
    /// The upper bound, included.
    pub high: f64,
}

impl From<stats::Interval> for Interval {
    fn from(interval: stats::Interval) -> Self {
        Self {
            low: interval.low,
            high: interval.high,
        }
    }
}

/// The ranks a leaderboard entry could plausibly hold once the uncertainty of
/// every entry's value is taken into account; both ends are 1-based and
/// included.
#[derive(SimpleObject, Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankInterval {
    /// One more than the number of entries whose 95% interval lies entirely
    /// on the better side of this entry's.
    pub best: u64,
    /// The number of ranked entries whose 95% interval does not lie entirely
    /// on the worse side of this entry's, this entry included.
    pub worst: u64,
}

impl From<stats::RankInterval> for RankInterval {
    fn from(interval: stats::RankInterval) -> Self {
        Self {
            best: interval.best as u64,
            worst: interval.worst as u64,
        }
    }
}

/// Returns the 95% interval for a stored value and stderr, when both exist.
pub fn ci95(value: Option<f64>, stderr: Option<f64>) -> Option<Interval> {
    stats::ci95(value?, stderr?).map(Interval::from)
}

/// What a run's stored samples say about one of its results: their mean and
/// a bootstrap interval, computed when asked.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct SampleEstimate {
    /// Samples with a number (or true/false, read as 1/0) for the metric.
    pub n: u64,
    /// Samples of the result's filter without such a number (absent, text,
    /// NaN or ±Infinity), left out of `n` and of the mean.
    pub excluded: u64,
    /// Mean of the `n` scores; `null` when `n` is zero. Compare it with the
    /// result's `value` to see whether the samples add up to it.
    pub mean: Option<f64>,
    /// 95% percentile-bootstrap interval of the mean (2,000 resamples, a
    /// fixed seed, so repeatable); it never leaves the scores' range.
    pub ci95: Option<Interval>,
}

impl From<sample_estimate::SampleEstimate> for SampleEstimate {
    fn from(estimate: sample_estimate::SampleEstimate) -> Self {
        Self {
            n: estimate.n,
            excluded: estimate.excluded,
            mean: estimate.bootstrap.map(|b| b.mean),
            ci95: estimate.bootstrap.map(|b| b.ci95.into()),
        }
    }
}
