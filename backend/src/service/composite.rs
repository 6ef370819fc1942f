//! Composite rankings: models ranked across a set of tasks on one metric,
//! by mean score, mean rank, normalised mean or mean head-to-head win rate.
//!
//! Each task contributes its default leaderboard (the configuration with the
//! most models, each model's latest run at its final revision), so a
//! composite never mixes results a leaderboard would not rank together. A
//! model that misses a task is listed with what it misses but not ranked:
//! its statistics average over another set of tasks.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use entity::{metric, ml_model};
use sea_orm::ConnectionTrait;

use super::direction::Direction;
use super::leaderboard::{self, ConfigurationSummary};
use super::run::RunWhere;
use crate::error::{ServiceError, ServiceResult};

/// The most tasks one composite may span.
pub const MAX_TASKS: usize = 1000;

/// Which statistic orders a composite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// The mean of the metric's values, best first by the metric's direction.
    #[default]
    MeanScore,
    /// The mean of the per-task ranks, smallest first.
    MeanRank,
    /// The mean of per-task values rescaled to 0 (worst) .. 1 (best).
    NormalizedMean,
    /// The mean over tasks of the share of other models beaten (ties half).
    WinRate,
}

/// What the caller asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompositeQuery {
    pub metric: String,
    pub tasks: Vec<String>,
    pub order: Order,
    /// Narrows the candidate runs; its `task` field is ignored.
    pub scope: RunWhere,
}

/// A finite value of one model on one task, with its rank there.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskScore {
    pub model_id: i64,
    pub model_name: String,
    pub value: f64,
    /// `None` when the metric has no direction.
    pub rank: Option<usize>,
}

/// One model's place in a composite.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub model_id: i64,
    pub model_name: String,
    /// 1-based, ties shared; `None` for a model that misses a task, or when
    /// the metric has no direction.
    pub rank: Option<usize>,
    pub tasks_covered: usize,
    /// The tasks without a finite value for this model, in request order.
    pub missing_tasks: Vec<String>,
    pub mean_score: Option<f64>,
    pub mean_rank: Option<f64>,
    pub normalized_mean: Option<f64>,
    pub win_rate: Option<f64>,
}

/// One task of a composite: the configuration its leaderboard shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositeTask {
    pub name: String,
    pub configuration: Option<ConfigurationSummary>,
}

/// A composite ranking and what it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite {
    pub metric: metric::Model,
    pub order: Order,
    pub tasks: Vec<CompositeTask>,
    pub unranked_reason: Option<String>,
    pub standings: Vec<Standing>,
    pub models: HashMap<i64, ml_model::Model>,
}

/// Builds the composite ranking for `query`.
///
/// Fails with `invalid_argument` on an empty or oversized task list, and with
/// `task_not_found` or `metric_not_found` on an unknown name.
pub async fn ranking(
    db: &impl ConnectionTrait,
    query: &CompositeQuery,
) -> ServiceResult<Composite> {
    let tasks = checked_tasks(&query.tasks)?;
    let (metric, boards) = leaderboard::boards(db, &tasks, &query.metric, &query.scope).await?;
    let direction = Direction::from_stored(&metric.direction, metric.ideal_value);
    let mut models = HashMap::new();
    let mut scores = Vec::with_capacity(boards.len());
    for board in &boards {
        let mut task_scores = Vec::new();
        for entry in &board.entries {
            let Some(value) = entry.value else {
                continue;
            };
            task_scores.push(TaskScore {
                model_id: entry.model.id,
                model_name: entry.model.name.clone(),
                value,
                rank: entry.rank,
            });
            models.insert(entry.model.id, entry.model.clone());
        }
        scores.push((board.task.clone(), task_scores));
    }
    let unranked_reason = (direction == Direction::Unknown).then(|| {
        format!(
            "metric `{}` has no known direction, so its means are listed but not ranked",
            metric.name
        )
    });

    Ok(Composite {
        standings: standings(&scores, direction, query.order),
        tasks: boards
            .into_iter()
            .map(|board| CompositeTask {
                name: board.task,
                configuration: board.configuration,
            })
            .collect(),
        metric,
        order: query.order,
        unranked_reason,
        models,
    })
}

/// Drops repeated task names, keeping the first; checks the list's size.
fn checked_tasks(tasks: &[String]) -> ServiceResult<Vec<String>> {
    let mut seen = HashSet::new();
    let tasks: Vec<String> = tasks
        .iter()
        .filter(|task| seen.insert(task.as_str()))
        .cloned()
        .collect();
    if tasks.is_empty() {
        return Err(ServiceError::invalid("tasks", "name at least one task"));
    }
    if tasks.len() > MAX_TASKS {
        return Err(ServiceError::invalid(
            "tasks",
            format!("at most {MAX_TASKS} tasks"),
        ));
    }
    Ok(tasks)
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

/// Accumulates one model's figures across tasks.
#[derive(Default)]
struct Tally {
    name: String,
    covered: HashSet<usize>,
    score_sum: f64,
    rank_sum: f64,
    ranks: usize,
    normalized_sum: f64,
    normalized: usize,
    win_sum: f64,
    wins: usize,
}

/// Computes every model's standing from per-task scores, `tasks` in request
/// order; models are ordered by `order`, complete ones first.
///
/// Means are summed in task order, so a model's mean score is exactly the
/// left-to-right sum of its values divided by how many there are.
pub fn standings(
    tasks: &[(String, Vec<TaskScore>)],
    direction: Direction,
    order: Order,
) -> Vec<Standing> {
    let mut tallies: HashMap<i64, Tally> = HashMap::new();
    for (index, (_, scores)) in tasks.iter().enumerate() {
        tally_task(&mut tallies, index, scores, direction);
    }
    let mut standings: Vec<Standing> = tallies
        .into_iter()
        .map(|(model_id, tally)| standing(model_id, tally, tasks))
        .collect();
    let key = |standing: &Standing| sort_key(standing, direction, order);
    standings.sort_by(|a, b| {
        let (key_a, key_b) = (key(a), key(b));
        b.missing_tasks
            .is_empty()
            .cmp(&a.missing_tasks.is_empty())
            .then_with(|| compare_keys(key_a, key_b))
            .then_with(|| a.model_name.cmp(&b.model_name))
    });
    assign_ranks(&mut standings, key);
    standings
}

fn tally_task(
    tallies: &mut HashMap<i64, Tally>,
    index: usize,
    scores: &[TaskScore],
    direction: Direction,
) {
    let badness_of: Vec<Option<f64>> = scores.iter().map(|s| badness(direction, s.value)).collect();
    // Sorted, so a model's wins and ties are two binary searches: a thousand
    // boards of two thousand models would otherwise compare every pair.
    let mut known: Vec<f64> = badness_of.iter().flatten().copied().collect();
    known.sort_by(f64::total_cmp);
    let (best, worst) = match (known.first(), known.last()) {
        (Some(&best), Some(&worst)) => (best, worst),
        _ => (f64::INFINITY, f64::NEG_INFINITY),
    };
    for (score, own) in scores.iter().zip(&badness_of) {
        let tally = tallies.entry(score.model_id).or_default();
        if !tally.covered.insert(index) {
            continue;
        }
        tally.name.clone_from(&score.model_name);
        tally.score_sum += score.value;
        if let Some(rank) = score.rank {
            tally.rank_sum += rank as f64;
            tally.ranks += 1;
        }
        let Some(own) = *own else { continue };
        tally.normalized_sum += if worst > best {
            (worst - own) / (worst - best)
        } else {
            1.0
        };
        tally.normalized += 1;
        if known.len() > 1 {
            let not_worse = known.partition_point(|&other| other <= own);
            let better = known.partition_point(|&other| other < own);
            let beaten = (known.len() - not_worse) as f64;
            let tied = (not_worse - better) as f64 - 1.0;
            tally.win_sum += (beaten + 0.5 * tied) / (known.len() - 1) as f64;
            tally.wins += 1;
        }
    }
}

fn standing(model_id: i64, tally: Tally, tasks: &[(String, Vec<TaskScore>)]) -> Standing {
    let mean = |sum: f64, count: usize| (count > 0).then(|| sum / count as f64);
    let missing_tasks = tasks
        .iter()
        .enumerate()
        .filter(|(index, _)| !tally.covered.contains(index))
        .map(|(_, (task, _))| task.clone())
        .collect();
    Standing {
        model_id,
        model_name: tally.name,
        rank: None,
        tasks_covered: tally.covered.len(),
        missing_tasks,
        mean_score: mean(tally.score_sum, tally.covered.len()),
        mean_rank: mean(tally.rank_sum, tally.ranks),
        normalized_mean: mean(tally.normalized_sum, tally.normalized),
        win_rate: mean(tally.win_sum, tally.wins),
    }
}

/// Returns the ordering statistic as "smaller is better", or `None` when the
/// standing has none (or the metric has no direction).
fn sort_key(standing: &Standing, direction: Direction, order: Order) -> Option<f64> {
    if direction == Direction::Unknown {
        return None;
    }
    match order {
        Order::MeanScore => standing.mean_score.and_then(|m| badness(direction, m)),
        Order::MeanRank => standing.mean_rank,
        Order::NormalizedMean => standing.normalized_mean.map(|m| -m),
        Order::WinRate => standing.win_rate.map(|m| -m),
    }
}

fn compare_keys(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Ranks the complete standings that have a key, in their sorted order;
/// equal keys share a rank (1, 1, 3).
fn assign_ranks(standings: &mut [Standing], key: impl Fn(&Standing) -> Option<f64>) {
    let mut previous: Option<(f64, usize)> = None;
    for (position, standing) in standings.iter_mut().enumerate() {
        if !standing.missing_tasks.is_empty() {
            break;
        }
        let Some(value) = key(standing) else { continue };
        let rank = match previous {
            Some((last, last_rank)) if last == value => last_rank,
            _ => position + 1,
        };
        standing.rank = Some(rank);
        previous = Some((value, rank));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(model_id: i64, value: f64, rank: usize) -> TaskScore {
        TaskScore {
            model_id,
            model_name: format!("m{model_id}"),
            value,
            rank: Some(rank),
        }
    }

    /// Three models on two tasks; model 3 misses the second task.
    fn two_tasks() -> Vec<(String, Vec<TaskScore>)> {
        vec![
            (
                "a".into(),
                vec![score(1, 0.9, 1), score(2, 0.5, 2), score(3, 0.1, 3)],
            ),
            ("b".into(), vec![score(2, 0.8, 1), score(1, 0.6, 2)]),
        ]
    }

    fn by_model(standings: &[Standing], model_id: i64) -> Standing {
        standings
            .iter()
            .find(|s| s.model_id == model_id)
            .cloned()
            .unwrap_or_else(|| panic!("model {model_id} has no standing"))
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn means_cover_only_the_tasks_a_model_has() {
        let standings = standings(&two_tasks(), Direction::Higher, Order::MeanScore);
        let one = by_model(&standings, 1);
        assert!(close(one.mean_score, 0.75));
        assert!(close(one.mean_rank, 1.5));
        assert_eq!((one.tasks_covered, one.missing_tasks.len()), (2, 0));
        let three = by_model(&standings, 3);
        assert!(close(three.mean_score, 0.1));
        assert_eq!(three.missing_tasks, ["b"]);
    }

    #[test]
    fn normalised_means_and_win_rates_follow_the_direction() {
        let standings = standings(&two_tasks(), Direction::Higher, Order::WinRate);
        let one = by_model(&standings, 1);
        // Task a: best of three (1.0), beats both; task b: worst of two (0.0), beats none.
        assert!(close(one.normalized_mean, 0.5));
        assert!(close(one.win_rate, 0.5));
        let two = by_model(&standings, 2);
        assert!(close(two.normalized_mean, (0.5 + 1.0) / 2.0));
        assert!(close(two.win_rate, (0.5 + 1.0) / 2.0));
        let lower = super::standings(&two_tasks(), Direction::Lower, Order::WinRate);
        assert!(close(by_model(&lower, 3).win_rate, 1.0));
        assert!(close(by_model(&lower, 3).normalized_mean, 1.0));
    }

    #[test]
    fn win_rates_count_ties_as_half_a_win() {
        // Higher is better: 0.7 beats all three; each 0.5 beats 0.1 and ties
        // the other 0.5; 0.1 beats nobody.
        let tasks = vec![(
            "a".into(),
            vec![
                score(1, 0.5, 2),
                score(2, 0.7, 1),
                score(3, 0.5, 2),
                score(4, 0.1, 4),
            ],
        )];
        let standings = standings(&tasks, Direction::Higher, Order::WinRate);
        let rates: Vec<_> = [1, 2, 3, 4]
            .iter()
            .map(|&id| by_model(&standings, id).win_rate)
            .collect();
        assert_eq!(rates, vec![Some(0.5), Some(1.0), Some(0.5), Some(0.0)]);
    }

    #[test]
    fn complete_models_are_ranked_first_and_incomplete_ones_not_at_all() {
        let standings = standings(&two_tasks(), Direction::Higher, Order::MeanScore);
        let order: Vec<(i64, Option<usize>)> =
            standings.iter().map(|s| (s.model_id, s.rank)).collect();
        // Model 3 has the lowest mean but covers one task only.
        assert_eq!(order, vec![(1, Some(1)), (2, Some(2)), (3, None)]);
    }

    #[test]
    fn ties_share_a_rank_and_mean_rank_orders_ascending() {
        let tasks = vec![(
            "a".into(),
            vec![score(1, 0.7, 1), score(2, 0.7, 1), score(3, 0.2, 3)],
        )];
        let standings = standings(&tasks, Direction::Higher, Order::MeanRank);
        let ranks: Vec<Option<usize>> = standings.iter().map(|s| s.rank).collect();
        assert_eq!(ranks, vec![Some(1), Some(1), Some(3)]);
        assert!(close(by_model(&standings, 1).win_rate, 0.75));
        assert!(close(by_model(&standings, 3).normalized_mean, 0.0));
    }

    #[test]
    fn a_metric_without_direction_gets_means_but_no_ranks() {
        let mut tasks = two_tasks();
        for (_, scores) in &mut tasks {
            for score in scores {
                score.rank = None;
            }
        }
        let standings = standings(&tasks, Direction::Unknown, Order::MeanScore);
        assert!(standings.iter().all(|s| s.rank.is_none()));
        assert!(standings.iter().all(|s| s.win_rate.is_none()));
        assert!(close(by_model(&standings, 2).mean_score, 0.65));
    }

    #[test]
    fn the_mean_score_is_the_left_to_right_sum_over_tasks() {
        let values = [0.1, 0.2, 0.3, 0.7, 1e-17];
        let tasks: Vec<(String, Vec<TaskScore>)> = values
            .iter()
            .enumerate()
            .map(|(t, &v)| (format!("t{t}"), vec![score(1, v, 1)]))
            .collect();
        let mut sum = 0.0;
        for value in values {
            sum += value;
        }
        let standings = standings(&tasks, Direction::Higher, Order::MeanScore);
        assert_eq!(standings[0].mean_score, Some(sum / 5.0));
    }

    #[test]
    fn task_lists_are_deduplicated_and_bounded() {
        let tasks = vec!["a".to_string(), "b".into(), "a".into()];
        assert_eq!(
            checked_tasks(&tasks).ok(),
            Some(vec!["a".into(), "b".into()])
        );
        assert!(checked_tasks(&[]).is_err());
        let many: Vec<String> = (0..=MAX_TASKS).map(|i| format!("t{i}")).collect();
        assert!(checked_tasks(&many).is_err());
    }
}
