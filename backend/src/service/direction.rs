//! Metric directions and known ranges for metrics whose source says nothing.
//!
//! lm-eval v0.4 files state `higher_is_better` per metric; v0.3 files and
//! HELM's `stats.json` and Inspect logs do not, so this checked-in table
//! supplies the direction for the metrics they use where it is certain.
//! HELM's bookkeeping stats (token counts, runtimes, finish reasons, costs)
//! have none. A metric absent from both is stored with direction `unknown`
//! and is listed but never ranked.

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Direction {
    Higher,
    Lower,
    /// Best at a given value (`pct_stereotype` is ideal at 0.5).
    Ideal(f64),
    Unknown,
}

impl Direction {
    /// Returns the text stored in `metric.direction`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Higher => "higher",
            Self::Lower => "lower",
            Self::Ideal(_) => "ideal",
            Self::Unknown => "unknown",
        }
    }

    /// Rebuilds a direction from its stored text and ideal value.
    pub fn from_stored(direction: &str, ideal_value: Option<f64>) -> Self {
        match (direction, ideal_value) {
            ("higher", _) => Self::Higher,
            ("lower", _) => Self::Lower,
            ("ideal", Some(ideal)) => Self::Ideal(ideal),
            _ => Self::Unknown,
        }
    }
}

/// What Yardstick knows about a metric before any file speaks of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricFacts {
    pub direction: Direction,
    pub range: Option<(f64, f64)>,
}

const UNIT: Option<(f64, f64)> = Some((0.0, 1.0));
const NON_NEGATIVE: Option<(f64, f64)> = Some((0.0, f64::INFINITY));
const SIGNED_UNIT: Option<(f64, f64)> = Some((-1.0, 1.0));

/// HELM's exact-match family, also written with `@k` (the best of k completions).
const HELM_EXACT_MATCH: [&str; 4] = [
    "exact_match",
    "quasi_exact_match",
    "prefix_exact_match",
    "quasi_prefix_exact_match",
];

/// Returns the built-in facts for `metric`, or `None` when the table has none.
pub fn builtin(metric: &str) -> Option<MetricFacts> {
    let facts = |direction, range| Some(MetricFacts { direction, range });
    if let Some(base) = best_of_k(metric) {
        return builtin(base);
    }
    match metric {
        // `accuracy` is Inspect's (and MTEB's) name for the same fraction.
        "acc"
        | "accuracy"
        | "acc_norm"
        | "mc1"
        | "mc2"
        | "multiple_choice_grade"
        | "exact_match"
        | "exact_match_original"
        | "exact_str_match"
        | "em"
        | "prompt_level_strict_acc"
        | "inst_level_strict_acc"
        | "prompt_level_loose_acc"
        | "inst_level_loose_acc"
        | "quasi_exact_match"
        | "prefix_exact_match"
        | "quasi_prefix_exact_match"
        | "bbq_accuracy"
        | "selective_cov_acc_area"
        | "selective_acc@10" => facts(Direction::Higher, UNIT),
        // SQuAD-style scores are percentages in v0.3 files but fractions
        // elsewhere, so no range is claimed for them.
        "f1" | "exact" | "best_exact" | "best_f1" | "HasAns_exact" | "HasAns_f1"
        | "NoAns_exact" | "NoAns_f1" | "bleu" | "chrf" | "ter_inverse" => {
            facts(Direction::Higher, None)
        }
        "mcc" => facts(Direction::Higher, Some((-1.0, 1.0))),
        "ppl" | "perplexity" | "word_perplexity" | "byte_perplexity" | "bits_per_byte" | "mae"
        | "mse" | "ter" => facts(Direction::Lower, NON_NEGATIVE),
        "likelihood_difference" => facts(Direction::Lower, None),
        // Expected calibration errors, HELM's and after Platt scaling.
        "ece_10_bin" | "ece_1_bin" | "platt_ece_10_bin" | "platt_ece_1_bin" => {
            facts(Direction::Lower, UNIT)
        }
        "pct_stereotype" => facts(Direction::Ideal(0.5), UNIT),
        // BBQ's bias scores: 0 is unbiased, -1 and 1 fully biased against or
        // towards the stereotype.
        "bbq_metric_ambiguous_bias" | "bbq_metric_unambiguous_bias" => {
            facts(Direction::Ideal(0.0), SIGNED_UNIT)
        }
        _ => None,
    }
}

/// Returns the base of HELM's `exact_match@5` and its kin, whose best of k
/// completions improves the same way as one.
fn best_of_k(metric: &str) -> Option<&'static str> {
    let (base, k) = metric.split_once('@')?;
    let is_count = !k.is_empty() && k.bytes().all(|byte| byte.is_ascii_digit());
    let base = HELM_EXACT_MATCH.iter().find(|known| **known == base)?;
    is_count.then_some(*base)
}

/// Decides a metric's facts from the file's own statement and the built-in table.
///
/// The file wins on direction because it describes the metric as that harness
/// computed it; the table still supplies the range.
pub fn resolve(metric: &str, higher_is_better: Option<bool>) -> (MetricFacts, &'static str) {
    let table = builtin(metric);
    let range = table.and_then(|facts| facts.range);
    match (higher_is_better, table) {
        (Some(true), _) => (
            MetricFacts {
                direction: Direction::Higher,
                range,
            },
            "file",
        ),
        (Some(false), _) => (
            MetricFacts {
                direction: Direction::Lower,
                range,
            },
            "file",
        ),
        (None, Some(facts)) => (facts, "builtin"),
        (None, None) => (
            MetricFacts {
                direction: Direction::Unknown,
                range: None,
            },
            "unknown",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v03_metrics_get_directions_from_the_table() {
        assert_eq!(resolve("ppl", None).0.direction, Direction::Lower);
        assert_eq!(resolve("acc", None).0.direction, Direction::Higher);
        assert_eq!(
            resolve("pct_stereotype", None).0.direction,
            Direction::Ideal(0.5)
        );
    }

    #[test]
    fn helm_metrics_get_directions_only_where_certain() {
        let direction = |metric| resolve(metric, None).0.direction;
        assert_eq!(direction("exact_match@5"), Direction::Higher);
        assert_eq!(direction("quasi_prefix_exact_match"), Direction::Higher);
        assert_eq!(direction("bbq_accuracy"), Direction::Higher);
        assert_eq!(direction("ece_10_bin"), Direction::Lower);
        let bias = resolve("bbq_metric_ambiguous_bias", None).0;
        assert_eq!(bias.direction, Direction::Ideal(0.0));
        assert_eq!(bias.range, Some((-1.0, 1.0)));
        for bookkeeping in [
            "num_prompt_tokens",
            "inference_runtime",
            "logprob",
            "max_prob",
        ] {
            assert_eq!(direction(bookkeeping), Direction::Unknown, "{bookkeeping}");
        }
        assert_eq!(direction("exact_match@"), Direction::Unknown);
        assert_eq!(direction("f1_score@5"), Direction::Unknown);
    }

    #[test]
    fn inspect_accuracy_is_a_higher_fraction() {
        let (facts, source) = resolve("accuracy", None);
        assert_eq!(
            (facts.direction, facts.range, source),
            (Direction::Higher, Some((0.0, 1.0)), "builtin")
        );
    }

    #[test]
    fn the_file_overrides_the_table() {
        let (facts, source) = resolve("acc", Some(false));
        assert_eq!((facts.direction, source), (Direction::Lower, "file"));
        assert_eq!(facts.range, UNIT);
    }

    #[test]
    fn unknown_metrics_stay_unknown() {
        let (facts, source) = resolve("bits_of_magic", None);
        assert_eq!((facts.direction, source), (Direction::Unknown, "unknown"));
    }

    #[test]
    fn stored_text_round_trips() {
        for direction in [Direction::Higher, Direction::Lower, Direction::Ideal(0.5)] {
            let ideal = match direction {
                Direction::Ideal(value) => Some(value),
                _ => None,
            };
            assert_eq!(Direction::from_stored(direction.as_str(), ideal), direction);
        }
    }
}
