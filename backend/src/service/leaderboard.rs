//! Leaderboards: one entry per model on one task × metric × configuration.
//!
//! Only comparable runs are ranked together: same task, task version, n-shot,
//! filter and pinned dataset version (an unpinned run never shares a board
//! with a pinned one), and never a run truncated by `--limit`. Each model contributes
//! its latest run at its final revision (all revisions on request). Ranking
//! follows the metric's direction; a metric without one is listed unranked.
//!
//! Unscoped boards are read from the read model (`read_model` keeps it,
//! `stored` reads it), and the default board of each task × metric from its
//! ranking while that is current (`ranked`); a board narrowed by `where` is
//! computed from the facts on request, by the same rules.

mod candidate;
pub mod ranked;
pub mod read_model;
mod rules;
mod stored;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{metric, ml_model, run, task};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

pub use self::rules::Ranked;
use self::rules::{Recency, choose_configuration, pick_runs, rank, summarize};
use super::direction::Direction;
use super::run::RunWhere;
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Configuration {
    pub task_version: String,
    pub n_shot: Option<i32>,
    pub filter: String,
    /// `name@number` of the dataset version the runs were pinned to.
    pub dataset_version: Option<String>,
}

/// A configuration and how much data it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigurationSummary {
    pub configuration: Configuration,
    pub models: usize,
    pub runs: usize,
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
    /// Best first. Only what ranking needs is read; the rows of the runs and
    /// results are loaded for the entries a client shows.
    pub entries: Vec<Ranked>,
    /// When the stored board last changed; `None` for a board computed on
    /// request, or one no result has reached.
    pub refreshed_at: Option<DateTime<Utc>>,
}

/// Builds the leaderboard for `query`: the default one from its ranked
/// board while that is current, others from the read model, and any whose
/// `where` narrows the runs from the facts, which alone can answer it.
pub async fn leaderboard(
    db: &impl ConnectionTrait,
    query: &LeaderboardQuery,
) -> ServiceResult<Leaderboard> {
    if !is_unscoped(&query.scope) {
        return on_request(db, query).await;
    }
    find_tasks(db, &query.task).await?;
    let metric = find_metric(db, &query.metric).await?;
    let names = std::slice::from_ref(&query.task);
    if is_default(query)
        && let Some(board) = ranked::read(db, names, &metric).await?.remove(&query.task)
    {
        return Ok(Leaderboard {
            task: query.task.clone(),
            unranked_reason: unranked_reason(direction_of(&metric), &metric),
            metric,
            configuration: board.configuration,
            other_configurations: board.other_configurations,
            truncated_runs: board.truncated_runs,
            entries: board.entries,
            refreshed_at: Some(board.refreshed_at),
        });
    }
    let (mut boards, models) = stored::read(db, names, metric.id).await?;
    let board = boards.remove(&query.task).unwrap_or_default();
    let mut leaderboard = assemble(db, query, metric, board.candidates, Some(models)).await?;
    leaderboard.truncated_runs = board.truncated_runs;
    leaderboard.refreshed_at = board.refreshed_at;

    Ok(leaderboard)
}

/// Whether `query` asks for the default leaderboard, which ranked boards hold.
fn is_default(query: &LeaderboardQuery) -> bool {
    query.n_shot.is_none()
        && query.task_version.is_none()
        && query.filter.is_none()
        && query.dataset_version.is_none()
        && !query.all_revisions
}

fn direction_of(metric: &metric::Model) -> Direction {
    Direction::from_stored(&metric.direction, metric.ideal_value)
}

/// Whether `scope` narrows nothing a leaderboard reads (its `task` is
/// ignored), so the read model can answer.
fn is_unscoped(scope: &RunWhere) -> bool {
    let ignoring_task = RunWhere {
        task: None,
        ..scope.clone()
    };
    ignoring_task == RunWhere::default()
}

/// Builds the leaderboard for `query` from the facts, reading every
/// candidate run: the reference the read model must agree with.
pub async fn on_request(
    db: &impl ConnectionTrait,
    query: &LeaderboardQuery,
) -> ServiceResult<Leaderboard> {
    let tasks = find_tasks(db, &query.task).await?;
    let metric = find_metric(db, &query.metric).await?;
    let by_id: HashMap<i64, &task::Model> = tasks.iter().map(|t| (t.id, t)).collect();
    let (candidates, truncated_runs) = candidate::read(db, &query.scope, metric.id, &by_id).await?;
    let mut leaderboard = assemble(db, query, metric, candidates, None).await?;
    leaderboard.truncated_runs = truncated_runs;

    Ok(leaderboard)
}

/// Returns every row of the task name; fails with `task_not_found`.
async fn find_tasks(db: &impl ConnectionTrait, name: &str) -> ServiceResult<Vec<task::Model>> {
    let tasks = task::Entity::find()
        .filter(task::Column::Name.eq(name))
        .all(db)
        .await?;
    if tasks.is_empty() {
        return Err(ServiceError::not_found("task", name));
    }
    Ok(tasks)
}

/// Chooses the configuration, picks and ranks: the rules shared by both
/// sources of candidates. `models` holds the candidates' models when they
/// were read with them; otherwise the picked ones are loaded.
async fn assemble(
    db: &impl ConnectionTrait,
    query: &LeaderboardQuery,
    metric: metric::Model,
    candidates: Vec<candidate::Candidate>,
    models: Option<HashMap<i64, ml_model::Model>>,
) -> ServiceResult<Leaderboard> {
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
    let direction = direction_of(&metric);
    let models = known_or_loaded(db, models, picked.iter().map(|c| c.run.model_id)).await?;
    let entries = rank(direction, picked, &models);

    Ok(Leaderboard {
        task: query.task.clone(),
        unranked_reason: unranked_reason(direction, &metric),
        metric,
        configuration: chosen,
        other_configurations: others,
        truncated_runs: 0,
        entries,
        refreshed_at: None,
    })
}

async fn find_metric(db: &impl ConnectionTrait, name: &str) -> ServiceResult<metric::Model> {
    let found = metric::Entity::find()
        .filter(metric::Column::Name.eq(name))
        .one(db)
        .await?;
    found.ok_or_else(|| ServiceError::not_found("metric", name))
}

fn unranked_reason(direction: Direction, metric: &metric::Model) -> Option<String> {
    (direction == Direction::Unknown).then(|| {
        format!(
            "metric `{}` has no known direction, so its values are listed but not ranked",
            metric.name
        )
    })
}

/// One task's default leaderboard within a set of tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskBoard {
    pub task: String,
    /// `None` when no comparable run exists for the task.
    pub configuration: Option<ConfigurationSummary>,
    /// Best first, as on the task's leaderboard; the runs' rows are not loaded.
    pub entries: Vec<Ranked>,
}

/// Builds the default leaderboard (the configuration with the most models,
/// final revisions) of every task in `tasks` on `metric`, in `tasks` order.
///
/// Reads all tasks at once (their ranked boards where current, then the
/// read model, unless `scope` narrows the runs), so a set of sixty tasks
/// costs the same few statements as one. `tasks` are distinct. Fails with
/// `task_not_found` or `metric_not_found` when a name is unknown.
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
    let known: HashSet<&str> = rows.iter().map(|t| t.name.as_str()).collect();
    if let Some(unknown) = tasks.iter().find(|t| !known.contains(t.as_str())) {
        return Err(ServiceError::not_found("task", unknown.as_str()));
    }
    let metric = find_metric(db, metric).await?;
    let mut ready = HashMap::new();
    let mut stored_models = None;
    let mut by_task = if is_unscoped(scope) {
        ready = ranked::read(db, tasks, &metric).await?;
        let unranked: Vec<String> = tasks
            .iter()
            .filter(|task| !ready.contains_key(task.as_str()))
            .cloned()
            .collect();
        if unranked.is_empty() {
            stored_models = Some(HashMap::new());
            HashMap::new()
        } else {
            let (stored, models) = stored::read(db, &unranked, metric.id).await?;
            stored_models = Some(models);
            stored
                .into_iter()
                .map(|(task, board)| (task, board.candidates))
                .collect()
        }
    } else {
        let by_id: HashMap<i64, &task::Model> = rows.iter().map(|t| (t.id, t)).collect();
        let (candidates, _) = candidate::read(db, scope, metric.id, &by_id).await?;
        let mut by_task: HashMap<String, Vec<candidate::Candidate>> = HashMap::new();
        for candidate in candidates {
            by_task
                .entry(candidate.task_name.clone())
                .or_default()
                .push(candidate);
        }
        by_task
    };
    let default = LeaderboardQuery::default();
    let chosen: Vec<_> = tasks
        .iter()
        .filter(|task| !ready.contains_key(task.as_str()))
        .map(|task| {
            let group = by_task.remove(task.as_str()).unwrap_or_default();
            let configuration = choose_configuration(&summarize(&group), &default);
            let picked = match &configuration {
                Some(summary) => pick_runs(&group, &summary.configuration, false),
                None => Vec::new(),
            };
            (task, configuration, picked)
        })
        .collect();
    let model_ids = chosen.iter().flat_map(|c| &c.2).map(|c| c.run.model_id);
    let models = known_or_loaded(db, stored_models, model_ids).await?;
    let direction = direction_of(&metric);
    let mut ranked_here: HashMap<&String, TaskBoard> = chosen
        .into_iter()
        .map(|(task, configuration, picked)| {
            let board = TaskBoard {
                task: task.clone(),
                configuration,
                entries: rank(direction, picked, &models),
            };
            (task, board)
        })
        .collect();
    let boards = tasks
        .iter()
        .map(|task| match ready.remove(task.as_str()) {
            Some(board) => TaskBoard {
                task: task.clone(),
                configuration: board.configuration,
                entries: board.entries,
            },
            None => ranked_here.remove(task).unwrap_or_else(|| TaskBoard {
                task: task.clone(),
                configuration: None,
                entries: Vec::new(),
            }),
        })
        .collect();

    Ok((metric, boards))
}

/// Orders a model's runs: final revision first, then the latest evaluation.
///
/// A run without a revision is the model's main weights and counts as final;
/// among `stepN` checkpoints the highest step is final.
pub(crate) fn newer_first(a: &run::Model, b: &run::Model) -> Ordering {
    rules::newer_first(recency(a), recency(b))
}

fn recency(run: &run::Model) -> Recency<'_> {
    Recency {
        revision: run.revision.as_deref(),
        revision_step: run.revision_step,
        effective_at: run.effective_at,
        id: run.id,
    }
}

/// Returns `known` (the models read with a stored board), or else loads
/// the models of `ids`.
async fn known_or_loaded(
    db: &impl ConnectionTrait,
    known: Option<HashMap<i64, ml_model::Model>>,
    ids: impl Iterator<Item = i64>,
) -> ServiceResult<HashMap<i64, ml_model::Model>> {
    match known {
        Some(models) => Ok(models),
        None => load_models(db, ids.collect()).await,
    }
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
