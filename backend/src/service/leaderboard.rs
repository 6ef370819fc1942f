//! Leaderboards: one entry per model on one task × metric × configuration.
//!
//! Only comparable runs are ranked together: same task, task version, n-shot,
//! filter and pinned dataset version (an unpinned run never shares a board
//! with a pinned one), and never a run truncated by `--limit`. Each model contributes
//! its latest run at its final revision (all revisions on request). Ranking
//! follows the metric's direction; a metric without one is listed unranked.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use entity::{
    dataset, dataset_version, metric, ml_model, run, run_dataset_version, run_result, task,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::direction::Direction;
use super::run::{RunWhere, condition};
use super::stats::{self, RankInterval};
use crate::error::{ServiceError, ServiceResult};

/// What the caller asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeaderboardQuery {
    pub task: String,
    pub metric: String,
    pub n_shot: Option<i32>,
    pub task_version: Option<String>,
    pub filter: Option<String>,
    pub all_revisions: bool,
    /// `name@number`: only runs pinned to that dataset version.
    pub dataset_version: Option<String>,
    /// Narrows the candidate runs; its `task` field is ignored.
    pub scope: RunWhere,
}

/// Everything that must match for two results to be ranked together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Configuration {
    pub task_version: String,
    pub n_shot: Option<i32>,
    pub filter: String,
    /// `name@number` of the dataset version the runs were pinned to.
    pub dataset_version: Option<String>,
}

/// A configuration and how much data it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigurationSummary {
    pub configuration: Configuration,
    pub models: usize,
    pub runs: usize,
}

/// One row of a leaderboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// 1-based, shared by ties; `None` when the entry cannot be ranked.
    pub rank: Option<usize>,
    /// The ranks the entry could hold given the 95% intervals of all entries
    /// (see [`stats::rank_intervals`]); `None` exactly when `rank` is.
    pub rank_interval: Option<RankInterval>,
    pub model: ml_model::Model,
    pub run: run::Model,
    pub result: run_result::Model,
}

/// A leaderboard and the configurations that were not shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaderboard {
    pub task: String,
    pub metric: metric::Model,
    /// `None` when no comparable run exists for the request.
    pub configuration: Option<ConfigurationSummary>,
    pub other_configurations: Vec<ConfigurationSummary>,
    /// Why entries carry no rank, when they do not.
    pub unranked_reason: Option<String>,
    /// Runs left out because `--limit` truncated them.
    pub truncated_runs: usize,
    pub entries: Vec<Entry>,
}

/// A candidate: one run's result with what ranking needs to know about it.
#[derive(Debug, Clone)]
struct Candidate {
    configuration: Configuration,
    run: run::Model,
    result: run_result::Model,
}

/// Builds the leaderboard for `query`.
pub async fn leaderboard(
    db: &impl ConnectionTrait,
    query: &LeaderboardQuery,
) -> ServiceResult<Leaderboard> {
    let tasks = task::Entity::find()
        .filter(task::Column::Name.eq(&query.task))
        .all(db)
        .await?;
    if tasks.is_empty() {
        return Err(ServiceError::not_found("task", &query.task));
    }
    let metric = metric::Entity::find()
        .filter(metric::Column::Name.eq(&query.metric))
        .one(db)
        .await?;
    let Some(metric) = metric else {
        return Err(ServiceError::not_found("metric", &query.metric));
    };
    let versions: HashMap<i64, String> = tasks.iter().map(|t| (t.id, t.version.clone())).collect();
    let (candidates, truncated_runs) = candidates(db, query, &metric, &versions).await?;

    let summaries = summarize(&candidates);
    let chosen = choose_configuration(&summaries, query);
    let others = summaries
        .into_iter()
        .filter(|s| Some(s) != chosen.as_ref())
        .collect();
    let picked = match &chosen {
        Some(summary) => pick_runs(&candidates, &summary.configuration, query.all_revisions),
        None => Vec::new(),
    };
    let direction = Direction::from_stored(&metric.direction, metric.ideal_value);
    let models = load_models(db, picked.iter().map(|c| c.run.model_id).collect()).await?;
    let entries = rank(direction, picked, &models);
    let unranked_reason = match direction {
        Direction::Unknown => Some(format!(
            "metric `{}` has no known direction, so its values are listed but not ranked",
            metric.name
        )),
        _ => None,
    };

    Ok(Leaderboard {
        task: query.task.clone(),
        metric,
        configuration: chosen,
        other_configurations: others,
        unranked_reason,
        truncated_runs,
        entries,
    })
}

/// One task's default leaderboard within a set of tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskBoard {
    pub task: String,
    /// `None` when no comparable run exists for the task.
    pub configuration: Option<ConfigurationSummary>,
    pub entries: Vec<Entry>,
}

/// Builds the default leaderboard (the configuration with the most models,
/// final revisions) of every task in `tasks` on `metric`, in `tasks` order.
///
/// Reads the candidates of all tasks at once, so a set of sixty tasks costs
/// the same few statements as one. Fails with `task_not_found` or
/// `metric_not_found` when a name is unknown.
pub async fn boards(
    db: &impl ConnectionTrait,
    tasks: &[String],
    metric: &str,
    scope: &RunWhere,
) -> ServiceResult<(metric::Model, Vec<TaskBoard>)> {
    let rows = task::Entity::find()
        .filter(task::Column::Name.is_in(tasks.to_vec()))
        .all(db)
        .await?;
    let names: HashMap<i64, &str> = rows.iter().map(|t| (t.id, t.name.as_str())).collect();
    if let Some(unknown) = tasks.iter().find(|t| !names.values().any(|n| n == t)) {
        return Err(ServiceError::not_found("task", unknown.as_str()));
    }
    let found = metric::Entity::find()
        .filter(metric::Column::Name.eq(metric))
        .one(db)
        .await?;
    let Some(metric) = found else {
        return Err(ServiceError::not_found("metric", metric));
    };
    let versions: HashMap<i64, String> = rows.iter().map(|t| (t.id, t.version.clone())).collect();
    let query = LeaderboardQuery {
        scope: scope.clone(),
        ..LeaderboardQuery::default()
    };
    let (candidates, _) = candidates(db, &query, &metric, &versions).await?;
    let mut by_task: HashMap<&str, Vec<Candidate>> = HashMap::new();
    for candidate in candidates {
        let name = names
            .get(&candidate.run.task_id)
            .copied()
            .unwrap_or_default();
        by_task.entry(name).or_default().push(candidate);
    }
    let chosen: Vec<_> = tasks
        .iter()
        .map(|task| {
            let group = by_task.remove(task.as_str()).unwrap_or_default();
            let configuration = choose_configuration(&summarize(&group), &query);
            let picked = match &configuration {
                Some(summary) => pick_runs(&group, &summary.configuration, false),
                None => Vec::new(),
            };
            (task, configuration, picked)
        })
        .collect();
    let model_ids = chosen.iter().flat_map(|c| &c.2).map(|c| c.run.model_id);
    let models = load_models(db, model_ids.collect()).await?;
    let direction = Direction::from_stored(&metric.direction, metric.ideal_value);
    let boards = chosen
        .into_iter()
        .map(|(task, configuration, picked)| TaskBoard {
            task: task.clone(),
            configuration,
            entries: rank(direction, picked, &models),
        })
        .collect();

    Ok((metric, boards))
}

async fn candidates(
    db: &impl ConnectionTrait,
    query: &LeaderboardQuery,
    metric: &metric::Model,
    versions: &HashMap<i64, String>,
) -> ServiceResult<(Vec<Candidate>, usize)> {
    let scope = RunWhere {
        task: None,
        ..query.scope.clone()
    };
    let task_ids: Vec<i64> = versions.keys().copied().collect();
    // One join rather than a list of run ids, which could outgrow SQLite's
    // limit on bound parameters.
    let rows = run_result::Entity::find()
        .find_also_related(run::Entity)
        .filter(run_result::Column::MetricId.eq(metric.id))
        .filter(run::Column::TaskId.is_in(task_ids))
        .filter(condition(db, &scope).await?)
        .all(db)
        .await?;
    let run_ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|(_, run)| run.as_ref().map(|r| r.id))
        .collect();
    let pins = pinned_versions(db, &run_ids).await?;
    let mut truncated = HashSet::new();
    let mut candidates = Vec::new();
    for (result, run) in rows {
        let Some(run) = run else { continue };
        if run.truncated {
            truncated.insert(run.id);
            continue;
        }
        let configuration = Configuration {
            task_version: versions.get(&run.task_id).cloned().unwrap_or_default(),
            n_shot: run.n_shot,
            filter: result.filter.clone(),
            dataset_version: pins.get(&run.id).cloned(),
        };
        candidates.push(Candidate {
            configuration,
            run,
            result,
        });
    }

    Ok((candidates, truncated.len()))
}

/// Returns `name@number` of the dataset version each pinned run was pinned to.
async fn pinned_versions(
    db: &impl ConnectionTrait,
    run_ids: &[Uuid],
) -> ServiceResult<HashMap<Uuid, String>> {
    // Chunked: a leaderboard's runs could outgrow SQLite's bound-parameter limit.
    let mut pins = Vec::new();
    for chunk in run_ids.chunks(1000) {
        let found = run_dataset_version::Entity::find()
            .filter(run_dataset_version::Column::RunId.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        pins.extend(found);
    }
    if pins.is_empty() {
        return Ok(HashMap::new());
    }
    let version_ids: HashSet<i64> = pins.iter().map(|p| p.dataset_version_id).collect();
    let versions = dataset_version::Entity::find()
        .filter(dataset_version::Column::Id.is_in(version_ids))
        .all(db)
        .await?;
    let dataset_ids: HashSet<i64> = versions.iter().map(|v| v.dataset_id).collect();
    let names: HashMap<i64, String> = dataset::Entity::find()
        .filter(dataset::Column::Id.is_in(dataset_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let labels: HashMap<i64, String> = versions
        .iter()
        .filter_map(|v| {
            let name = names.get(&v.dataset_id)?;
            Some((v.id, format!("{name}@{}", v.number)))
        })
        .collect();
    Ok(pins
        .into_iter()
        .filter_map(|p| {
            labels
                .get(&p.dataset_version_id)
                .map(|l| (p.run_id, l.clone()))
        })
        .collect())
}

/// Counts models and runs per configuration, most models first.
fn summarize(candidates: &[Candidate]) -> Vec<ConfigurationSummary> {
    let mut by_configuration: BTreeMap<&Configuration, (HashSet<i64>, usize)> = BTreeMap::new();
    for candidate in candidates {
        let entry = by_configuration
            .entry(&candidate.configuration)
            .or_default();
        entry.0.insert(candidate.run.model_id);
        entry.1 += 1;
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
fn choose_configuration(
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

/// Orders a model's runs: final revision first, then the latest evaluation.
///
/// A run without a revision is the model's main weights and counts as final;
/// among `stepN` checkpoints the highest step is final.
pub(crate) fn newer_first(a: &run::Model, b: &run::Model) -> Ordering {
    let revision_rank = |run: &run::Model| match (&run.revision, run.revision_step) {
        (None, _) => i64::MAX,
        (Some(_), Some(step)) => step,
        (Some(_), None) => -1,
    };
    revision_rank(b)
        .cmp(&revision_rank(a))
        .then(b.effective_at.cmp(&a.effective_at))
        .then(a.id.cmp(&b.id))
}

/// Keeps one run per model (or per model and revision) in `configuration`.
fn pick_runs(
    candidates: &[Candidate],
    configuration: &Configuration,
    all_revisions: bool,
) -> Vec<Candidate> {
    let mut best: HashMap<(i64, Option<String>), &Candidate> = HashMap::new();
    for candidate in candidates
        .iter()
        .filter(|c| &c.configuration == configuration)
    {
        let revision = if all_revisions {
            candidate.run.revision.clone()
        } else {
            None
        };
        let key = (candidate.run.model_id, revision);
        let keep = match best.get(&key) {
            Some(current) => newer_first(&candidate.run, &current.run) == Ordering::Less,
            None => true,
        };
        if keep {
            best.insert(key, candidate);
        }
    }
    best.into_values().cloned().collect()
}

async fn load_models(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> ServiceResult<HashMap<i64, ml_model::Model>> {
    let ids: Vec<i64> = ids
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut models = HashMap::new();
    // Chunked: a set of tasks can hold more models than SQLite binds at once.
    for chunk in ids.chunks(1000) {
        let rows = ml_model::Entity::find()
            .filter(ml_model::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        models.extend(rows.into_iter().map(|m| (m.id, m)));
    }

    Ok(models)
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
fn rank(
    direction: Direction,
    picked: Vec<Candidate>,
    models: &HashMap<i64, ml_model::Model>,
) -> Vec<Entry> {
    let mut scored: Vec<(Option<f64>, Entry)> = picked
        .into_iter()
        .filter_map(|candidate| {
            let model = models.get(&candidate.run.model_id)?.clone();
            let score = candidate
                .result
                .value
                .and_then(|value| badness(direction, value));
            let entry = Entry {
                rank: None,
                rank_interval: None,
                model,
                run: candidate.run,
                result: candidate.result,
            };
            Some((score, entry))
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
            .then_with(|| left.run.revision.cmp(&right.run.revision))
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
    let mut entries: Vec<Entry> = scored.into_iter().map(|(_, entry)| entry).collect();
    let numbers: Vec<_> = entries
        .iter()
        .map(|entry| (entry.result.value, entry.result.stderr))
        .collect();
    let intervals = stats::rank_intervals(&numbers, direction);
    for (entry, interval) in entries.iter_mut().zip(intervals) {
        entry.rank_interval = interval;
    }
    entries
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;

    fn candidate(model_id: i64, value: Option<f64>, revision: Option<&str>, day: u32) -> Candidate {
        let at = Utc
            .with_ymd_and_hms(2025, 1, day, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let id = Uuid::from_u128(u128::from(day) << 8 | model_id as u128);
        Candidate {
            configuration: Configuration {
                task_version: "1".into(),
                n_shot: Some(0),
                filter: "none".into(),
                dataset_version: None,
            },
            run: run::Model {
                id,
                model_id,
                revision: revision.map(str::to_string),
                revision_step: revision.and_then(crate::service::identity::revision_step),
                task_id: 1,
                n_shot: Some(0),
                harness: "lm-evaluation-harness".into(),
                harness_version: None,
                harness_commit: None,
                config: serde_json::json!({}),
                config_hash: String::new(),
                source_path: String::new(),
                source_sha256: String::new(),
                started_at: None,
                finished_at: None,
                ingested_at: at,
                effective_at: at,
                sample_limit: None,
                samples_original: None,
                samples_effective: None,
                truncated: false,
            },
            result: run_result::Model {
                run_id: id,
                metric_id: 1,
                filter: "none".into(),
                value,
                value_kind: if value.is_some() { "finite" } else { "nan" }.into(),
                stderr: None,
                stderr_kind: "missing".into(),
            },
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

    fn ranks(entries: &[Entry]) -> Vec<(i64, Option<usize>)> {
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
        assert_eq!(picked[0].result.value, Some(0.4));
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
