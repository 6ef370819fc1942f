//! A model's profile: its scores across tasks and the revisions it was run at.

use std::cmp::Ordering;
use std::collections::HashMap;

use entity::{run, run_result, task};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::leaderboard::newer_first;
use crate::error::ServiceResult;

/// One score of a model: a result of its representative run for that task.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub task: task::Model,
    pub run: run::Model,
    pub result: run_result::Model,
}

/// Returns the model's scores, one per task × version × n-shot × filter × metric.
///
/// Each comes from the model's final revision and latest run unless
/// `all_revisions` asks for one per revision. Truncated runs are included and
/// marked by their run, since a profile ranks nothing.
pub async fn scores(
    db: &impl ConnectionTrait,
    model_id: i64,
    all_revisions: bool,
) -> ServiceResult<Vec<Score>> {
    let runs = run::Entity::find()
        .filter(run::Column::ModelId.eq(model_id))
        .all(db)
        .await?;
    // Subqueries rather than id lists, which could outgrow SQLite's limit on
    // bound parameters for a model with many runs.
    let runs_of_model = Query::select()
        .column(run::Column::Id)
        .from(run::Entity)
        .and_where(run::Column::ModelId.eq(model_id))
        .to_owned();
    let task_ids = Query::select()
        .column(run::Column::TaskId)
        .from(run::Entity)
        .and_where(run::Column::ModelId.eq(model_id))
        .to_owned();
    let tasks: HashMap<i64, task::Model> = task::Entity::find()
        .filter(task::Column::Id.in_subquery(task_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut runs_by_key: HashMap<_, Vec<&run::Model>> = HashMap::new();
    for run in &runs {
        let Some(task) = tasks.get(&run.task_id) else {
            continue;
        };
        let revision = if all_revisions {
            run.revision.clone()
        } else {
            None
        };
        let key = (
            task.name.clone(),
            task.version.clone(),
            run.n_shot,
            revision,
        );
        runs_by_key.entry(key).or_default().push(run);
    }
    let chosen: Vec<run::Model> = runs_by_key
        .into_values()
        .filter_map(|mut group| {
            group.sort_by(|a, b| newer_first(a, b));
            group.first().map(|run| (*run).clone())
        })
        .collect();
    let results = run_result::Entity::find()
        .filter(run_result::Column::RunId.in_subquery(runs_of_model))
        .all(db)
        .await?;
    let chosen: HashMap<_, _> = chosen.into_iter().map(|r| (r.id, r)).collect();
    let mut scores: Vec<Score> = results
        .into_iter()
        .filter_map(|result| {
            let run = chosen.get(&result.run_id)?.clone();
            let task = tasks.get(&run.task_id)?.clone();
            Some(Score { task, run, result })
        })
        .collect();
    scores.sort_by(score_order);

    Ok(scores)
}

fn score_order(a: &Score, b: &Score) -> Ordering {
    a.task
        .name
        .cmp(&b.task.name)
        .then(a.run.n_shot.cmp(&b.run.n_shot))
        .then(a.run.revision_step.cmp(&b.run.revision_step))
        .then(a.result.metric_id.cmp(&b.result.metric_id))
        .then(a.result.filter.cmp(&b.result.filter))
}

/// A revision a model was evaluated at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub name: String,
    pub step: Option<i64>,
    pub runs: usize,
}

/// Returns the model's revisions, training checkpoints in step order.
pub async fn revisions(db: &impl ConnectionTrait, model_id: i64) -> ServiceResult<Vec<Revision>> {
    let rows: Vec<(Option<String>, Option<i64>)> = run::Entity::find()
        .select_only()
        .column(run::Column::Revision)
        .column(run::Column::RevisionStep)
        .filter(run::Column::ModelId.eq(model_id))
        .filter(run::Column::Revision.is_not_null())
        .order_by_asc(run::Column::RevisionStep)
        .into_tuple()
        .all(db)
        .await?;
    let mut revisions: Vec<Revision> = Vec::new();
    for (name, step) in rows {
        let Some(name) = name else { continue };
        match revisions.iter_mut().find(|r| r.name == name) {
            Some(revision) => revision.runs += 1,
            None => revisions.push(Revision {
                name,
                step,
                runs: 1,
            }),
        }
    }
    revisions.sort_by(|a, b| a.step.cmp(&b.step).then(a.name.cmp(&b.name)));

    Ok(revisions)
}
