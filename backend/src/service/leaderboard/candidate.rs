//! Reads a leaderboard's candidates: every result of one metric on a set of
//! tasks, with just what choosing and ranking need to know about its run.
//!
//! Only those few columns are read, as tuples, because a composite over
//! sixty tasks reads twelve thousand of them; whole rows (with each run's
//! configuration) are loaded only for the entries a client asks to see.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{dataset, dataset_version, run, run_dataset_version, run_result, task};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect,
    RelationDef,
};
use uuid::Uuid;

use super::Configuration;
use crate::error::ServiceResult;
use crate::service::run::{RunWhere, condition};

/// What picking one run per model needs to know about a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFacts {
    pub id: Uuid,
    pub model_id: i64,
    pub revision: Option<String>,
    pub revision_step: Option<i64>,
    pub effective_at: DateTime<Utc>,
}

/// A candidate: one run's result with what ranking needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The task's name: a board spans every row of the name.
    pub task_name: String,
    pub configuration: Configuration,
    pub run: RunFacts,
    /// `None` unless the value is finite.
    pub value: Option<f64>,
    pub stderr: Option<f64>,
    /// How many comparable runs the candidate stands for: 1 when read from
    /// the facts, a slot's count when read from the read model.
    pub runs: usize,
}

/// How many runs are read by id at most; more are joined.
const KEYS_PER_READ: usize = 1000;

/// A run's columns as read: id, model, task, revision, step, n-shot, time,
/// truncated, and the dataset version it was pinned to.
type RunRow = (
    Uuid,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<i32>,
    DateTime<Utc>,
    bool,
    Option<i64>,
);

/// Reads the candidates of `metric_id` on `tasks` (by id) within `scope`;
/// returns them and how many runs `--limit` truncated.
///
/// Runs are read first, then their results: for a few runs by run id (the
/// result table's key starts with it, so one index probe per run, where a
/// join let the planner scan every result of the metric), for many in a
/// join.
pub async fn read(
    db: &impl ConnectionTrait,
    scope: &RunWhere,
    metric_id: i64,
    tasks: &HashMap<i64, &task::Model>,
) -> ServiceResult<(Vec<Candidate>, usize)> {
    let scope = RunWhere {
        task: None,
        ..scope.clone()
    };
    let task_ids: Vec<i64> = tasks.keys().copied().collect();
    let in_scope = Condition::all()
        .add(run::Column::TaskId.is_in(task_ids.clone()))
        .add(condition(db, &scope).await?);
    let runs: Vec<RunRow> = run::Entity::find()
        .select_only()
        .columns([
            run::Column::Id,
            run::Column::ModelId,
            run::Column::TaskId,
            run::Column::Revision,
            run::Column::RevisionStep,
            run::Column::NShot,
            run::Column::EffectiveAt,
            run::Column::Truncated,
        ])
        .column(run_dataset_version::Column::DatasetVersionId)
        .join(JoinType::LeftJoin, pin_relation())
        .filter(in_scope.clone())
        .into_tuple()
        .all(db)
        .await?;
    let results = if runs.len() <= KEYS_PER_READ {
        results_by_id(db, &runs, metric_id).await?
    } else {
        results_by_join(db, in_scope, metric_id).await?
    };
    let pins = pin_labels(db, runs.iter().filter_map(|run| run.8).collect()).await?;
    let by_id: HashMap<Uuid, &RunRow> = runs.iter().map(|run| (run.0, run)).collect();
    let mut truncated = HashSet::new();
    let mut candidates = Vec::with_capacity(results.len());
    for (run_id, filter, value, stderr) in results {
        let Some(&&(id, model_id, task_id, ref revision, step, n_shot, effective_at, cut, pin)) =
            by_id.get(&run_id)
        else {
            continue;
        };
        if cut {
            truncated.insert(id);
            continue;
        }
        let Some(task) = tasks.get(&task_id) else {
            continue;
        };
        let configuration = Configuration {
            task_version: task.version.clone(),
            n_shot,
            filter,
            dataset_version: pin.and_then(|pin| pins.get(&pin).cloned()),
        };
        let run = RunFacts {
            id,
            model_id,
            revision: revision.clone(),
            revision_step: step,
            effective_at,
        };
        candidates.push(Candidate {
            task_name: task.name.clone(),
            configuration,
            run,
            value,
            stderr,
            runs: 1,
        });
    }

    Ok((candidates, truncated.len()))
}

/// A result's columns as read: run id, filter, value, stderr.
type ResultRow = (Uuid, String, Option<f64>, Option<f64>);

/// Reads the metric's results of a few runs by their ids.
async fn results_by_id(
    db: &impl ConnectionTrait,
    runs: &[RunRow],
    metric_id: i64,
) -> ServiceResult<Vec<ResultRow>> {
    let ids: Vec<Uuid> = runs.iter().map(|run| run.0).collect();
    Ok(result_columns()
        .filter(run_result::Column::RunId.is_in(ids))
        .filter(run_result::Column::MetricId.eq(metric_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// Reads the metric's results of many runs in one join, where probing each
/// run's results would cost more than reading them all.
async fn results_by_join(
    db: &impl ConnectionTrait,
    in_scope: Condition,
    metric_id: i64,
) -> ServiceResult<Vec<ResultRow>> {
    Ok(result_columns()
        .inner_join(run::Entity)
        .filter(run_result::Column::MetricId.eq(metric_id))
        .filter(in_scope)
        .into_tuple()
        .all(db)
        .await?)
}

fn result_columns() -> sea_orm::Select<run_result::Entity> {
    run_result::Entity::find().select_only().columns([
        run_result::Column::RunId,
        run_result::Column::Filter,
        run_result::Column::Value,
        run_result::Column::Stderr,
    ])
}

/// Joins a run to the dataset version it was pinned to, if any.
fn pin_relation() -> RelationDef {
    run::Entity::belongs_to(run_dataset_version::Entity)
        .from(run::Column::Id)
        .to(run_dataset_version::Column::RunId)
        .into()
}

/// Returns `name@number` of every dataset version in `version_ids`, by id;
/// reads nothing when no run is pinned.
pub async fn pin_labels(
    db: &impl ConnectionTrait,
    version_ids: HashSet<i64>,
) -> ServiceResult<HashMap<i64, String>> {
    if version_ids.is_empty() {
        return Ok(HashMap::new());
    }
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
    Ok(versions
        .iter()
        .filter_map(|v| {
            let name = names.get(&v.dataset_id)?;
            Some((v.id, format!("{name}@{}", v.number)))
        })
        .collect())
}
