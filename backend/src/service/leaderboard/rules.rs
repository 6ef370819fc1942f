//! The rules of a leaderboard, as plain functions: which configuration is
//! shown, which run of each model counts, and how entries are ranked.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::ml_model;
use uuid::Uuid;

use super::candidate::{Candidate, RunFacts};
use super::{Configuration, ConfigurationSummary, LeaderboardQuery};
use crate::service::direction::Direction;
use crate::service::stats::{self, RankInterval};

/// A picked run in its place on a board, before its rows are loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// 1-based, shared by ties; `None` when the entry cannot be ranked.
    pub rank: Option<usize>,
    /// `None` exactly when `rank` is.
    pub rank_interval: Option<RankInterval>,
    pub model: ml_model::Model,
    pub run_id: Uuid,
    pub revision: Option<String>,
    /// `None` unless the value is finite.
    pub value: Option<f64>,
    /// `None` unless the standard error is finite.
    pub stderr: Option<f64>,
}

/// Counts models and runs per configuration, most models first.
///
/// A candidate counts for as many runs as it stands for.
pub fn summarize(candidates: &[Candidate]) -> Vec<ConfigurationSummary> {
    let mut by_configuration: BTreeMap<&Configuration, (HashSet<i64>, usize)> = BTreeMap::new();
    for candidate in candidates {
        let entry = by_configuration
            .entry(&candidate.configuration)
            .or_default();
        entry.0.insert(candidate.run.model_id);
        entry.1 += candidate.runs;
    }
    let mut summaries: Vec<_> = by_configuration
        .into_iter()
        .map(|(configuration, (models, runs))| ConfigurationSummary {
            configuration: configuration.clone(),
            models: models.len(),
            runs,
        })
        .collect();
    summaries.sort_by(|a, b| {
        b.models
            .cmp(&a.models)
            .then(b.runs.cmp(&a.runs))
            .then_with(|| a.configuration.cmp(&b.configuration))
    });
    summaries
}

/// Picks the requested configuration, or the one with the most models.
pub fn choose_configuration(
    summaries: &[ConfigurationSummary],
    query: &LeaderboardQuery,
) -> Option<ConfigurationSummary> {
    summaries
        .iter()
        .find(|summary| {
            let configuration = &summary.configuration;
            query.n_shot.is_none_or(|n| configuration.n_shot == Some(n))
                && query
                    .task_version
                    .as_ref()
                    .is_none_or(|v| &configuration.task_version == v)
                && query
                    .filter
                    .as_ref()
                    .is_none_or(|f| &configuration.filter == f)
                && query
                    .dataset_version
                    .as_ref()
                    .is_none_or(|d| configuration.dataset_version.as_ref() == Some(d))
        })
        .cloned()
}

/// What orders a model's runs: its revision, when it ran, and its id.
#[derive(Debug, Clone, Copy)]
pub struct Recency<'a> {
    pub revision: Option<&'a str>,
    pub revision_step: Option<i64>,
    pub effective_at: DateTime<Utc>,
    pub id: Uuid,
}

impl<'a> From<&'a RunFacts> for Recency<'a> {
    fn from(run: &'a RunFacts) -> Self {
        Self {
            revision: run.revision.as_deref(),
            revision_step: run.revision_step,
            effective_at: run.effective_at,
            id: run.id,
        }
    }
}

/// Orders a model's runs: final revision first, then the latest evaluation.
///
/// A run without a revision is the model's main weights and counts as final;
/// among `stepN` checkpoints the highest step is final.
pub fn newer_first(a: Recency<'_>, b: Recency<'_>) -> Ordering {
    let revision_rank = |run: &Recency<'_>| match (run.revision, run.revision_step) {
        (None, _) => i64::MAX,
        (Some(_), Some(step)) => step,
        (Some(_), None) => -1,
    };
    revision_rank(&b)
        .cmp(&revision_rank(&a))
        .then(b.effective_at.cmp(&a.effective_at))
        .then(a.id.cmp(&b.id))
}

/// Keeps one run per model (or per model and revision) in `configuration`.
pub fn pick_runs(
    candidates: &[Candidate],
    configuration: &Configuration,
    all_revisions: bool,
) -> Vec<Candidate> {
    let mut best: HashMap<(i64, Option<&str>), &Candidate> = HashMap::new();
    for candidate in candidates
        .iter()
        .filter(|c| &c.configuration == configuration)
    {
        let revision = if all_revisions {
            candidate.run.revision.as_deref()
        } else {
            None
        };
        let key = (candidate.run.model_id, revision);
        let keep = match best.get(&key) {
            Some(current) => {
                newer_first((&candidate.run).into(), (&current.run).into()) == Ordering::Less
            }
            None => true,
        };
        if keep {
            best.insert(key, candidate);
        }
    }
    best.into_values().cloned().collect()
}

/// Returns how far `value` is from best under `direction`: smaller is better.
fn badness(direction: Direction, value: f64) -> Option<f64> {
    match direction {
        Direction::Higher => Some(-value),
        Direction::Lower => Some(value),
        Direction::Ideal(ideal) => Some((value - ideal).abs()),
        Direction::Unknown => None,
    }
}

/// Sorts entries best first and gives ties the same rank (1, 1, 3).
///
/// Entries without a finite value, or under a metric without direction, get
/// no rank and follow the ranked ones in model-name order.
pub fn rank(
    direction: Direction,
    picked: Vec<Candidate>,
    models: &HashMap<i64, ml_model::Model>,
) -> Vec<Ranked> {
    let mut scored: Vec<(Option<f64>, Ranked)> = picked
        .into_iter()
        .filter_map(|candidate| {
            let model = models.get(&candidate.run.model_id)?.clone();
            let score = candidate.value.and_then(|value| badness(direction, value));
            let ranked = Ranked {
                rank: None,
                rank_interval: None,
                model,
                run_id: candidate.run.id,
                revision: candidate.run.revision,
                value: candidate.value,
                stderr: candidate.stderr,
            };
            Some((score, ranked))
        })
        .collect();
    scored.sort_by(|(a, left), (b, right)| {
        let by_score = match (a, b) {
            (Some(a), Some(b)) => a.total_cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_score
            .then_with(|| left.model.name.cmp(&right.model.name))
            .then_with(|| left.revision.cmp(&right.revision))
    });
    let mut previous: Option<(f64, usize)> = None;
    for (position, (score, entry)) in scored.iter_mut().enumerate() {
        let Some(score) = *score else { continue };
        let rank = match previous {
            Some((last, last_rank)) if last == score => last_rank,
            _ => position + 1,
        };
        entry.rank = Some(rank);
        previous = Some((score, rank));
    }
    let numbers: Vec<_> = scored
        .iter()
        .map(|(_, entry)| (entry.value, entry.stderr))
        .collect();
    let intervals = stats::rank_intervals(&numbers, direction);
    scored
        .into_iter()
        .zip(intervals)
        .map(|((_, mut entry), interval)| {
            entry.rank_interval = interval;
            entry
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn candidate(model_id: i64, value: Option<f64>, revision: Option<&str>, day: u32) -> Candidate {
        let at = Utc
            .with_ymd_and_hms(2025, 1, day, 0, 0, 0)
            .single()
            .unwrap_or_default();
        Candidate {
            task_name: "task".into(),
            configuration: Configuration {
                task_version: "1".into(),
                n_shot: Some(0),
                filter: "none".into(),
                dataset_version: None,
            },
            run: RunFacts {
                id: Uuid::from_u128(u128::from(day) << 8 | model_id as u128),
                model_id,
                revision: revision.map(str::to_string),
                revision_step: revision.and_then(crate::service::identity::revision_step),
                effective_at: at,
            },
            value,
            stderr: None,
            runs: 1,
        }
    }

    fn models(ids: &[i64]) -> HashMap<i64, ml_model::Model> {
        ids.iter()
            .map(|&id| {
                let model = ml_model::Model {
                    id,
                    name: format!("model-{id}"),
                    is_local_path: false,
                    created_at: Utc::now(),
                };
                (id, model)
            })
            .collect()
    }

    fn ranks(entries: &[Ranked]) -> Vec<(i64, Option<usize>)> {
        entries.iter().map(|e| (e.model.id, e.rank)).collect()
    }

    #[test]
    fn lower_is_better_ranks_ascending_and_ties_share_a_rank() {
        let picked = vec![
            candidate(1, Some(9.0), None, 1),
            candidate(2, Some(4.5), None, 1),
            candidate(3, Some(4.5), None, 1),
            candidate(4, None, None, 1),
        ];
        let entries = rank(Direction::Lower, picked, &models(&[1, 2, 3, 4]));
        assert_eq!(
            ranks(&entries),
            vec![(2, Some(1)), (3, Some(1)), (1, Some(3)), (4, None)]
        );
    }

    #[test]
    fn ideal_values_rank_by_distance() {
        let picked = vec![
            candidate(1, Some(0.9), None, 1),
            candidate(2, Some(0.45), None, 1),
        ];
        let entries = rank(Direction::Ideal(0.5), picked, &models(&[1, 2]));
        assert_eq!(ranks(&entries), vec![(2, Some(1)), (1, Some(2))]);
    }

    #[test]
    fn unknown_direction_lists_without_ranks() {
        let picked = vec![candidate(1, Some(0.9), None, 1)];
        let entries = rank(Direction::Unknown, picked, &models(&[1]));
        assert_eq!(ranks(&entries), vec![(1, None)]);
    }

    #[test]
    fn the_final_checkpoint_wins_over_a_later_earlier_step() {
        let candidates = vec![
            candidate(1, Some(0.3), Some("step143000"), 1),
            candidate(1, Some(0.2), Some("step1000"), 2),
        ];
        let configuration = candidates[0].configuration.clone();
        let picked = pick_runs(&candidates, &configuration, false);
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].run.revision.as_deref(), Some("step143000"));
        assert_eq!(pick_runs(&candidates, &configuration, true).len(), 2);
    }

    #[test]
    fn the_latest_rerun_wins() {
        let candidates = vec![
            candidate(1, Some(0.3), None, 1),
            candidate(1, Some(0.4), None, 3),
        ];
        let configuration = candidates[0].configuration.clone();
        let picked = pick_runs(&candidates, &configuration, false);
        assert_eq!(picked[0].value, Some(0.4));
    }

    #[test]
    fn the_configuration_with_most_models_is_chosen_unless_asked() {
        let mut five_shot = candidate(3, Some(0.1), None, 1);
        five_shot.configuration.n_shot = Some(5);
        let candidates = vec![
            candidate(1, Some(0.3), None, 1),
            candidate(2, Some(0.4), None, 1),
            five_shot,
        ];
        let summaries = summarize(&candidates);
        let default = choose_configuration(&summaries, &LeaderboardQuery::default());
        assert_eq!(
            default.map(|s| (s.configuration.n_shot, s.models)),
            Some((Some(0), 2))
        );
        let asked = LeaderboardQuery {
            n_shot: Some(5),
            ..Default::default()
        };
        let chosen = choose_configuration(&summaries, &asked);
        assert_eq!(chosen.map(|s| s.configuration.n_shot), Some(Some(5)));
    }
}
