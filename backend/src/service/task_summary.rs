//! Tasks by name across their versions: what the web app's task pages show.
//!
//! A `task` row is one version and configuration; a summary folds every row of
//! one name together with the metrics measured on it and the models evaluated.

use std::collections::{BTreeMap, BTreeSet};

use entity::{metric, ml_model, run, run_result, task};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};

use super::page::{Page, PageRequest};
use crate::error::ServiceResult;

/// One task name with everything recorded under it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSummary {
    pub name: String,
    /// Distinct versions, in order; empty strings stand for "no version".
    pub versions: Vec<String>,
    /// Distinct n-shot settings, `None` first.
    pub n_shots: Vec<Option<i32>>,
    /// Metrics with at least one result, by name.
    pub metrics: Vec<metric::Model>,
    /// Models with at least one run, by name.
    pub models: Vec<ml_model::Model>,
    pub runs: u64,
}

/// Lists task names (each once), with their summaries; `search` keeps names
/// containing it, ignoring case.
pub async fn list(
    db: &impl ConnectionTrait,
    search: Option<&str>,
    page: PageRequest,
) -> ServiceResult<Page<TaskSummary>> {
    let names = distinct_names(db, search).await?;
    let total = names.len() as u64;
    let start = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let slice: Vec<String> = names.into_iter().skip(start).take(limit).collect();

    Ok(Page {
        items: summarize(db, &slice).await?,
        offset: page.offset,
        total,
    })
}

/// Returns the summary of one task name, or `None` when no task has it.
pub async fn find(db: &impl ConnectionTrait, name: &str) -> ServiceResult<Option<TaskSummary>> {
    let mut found = summarize(db, &[name.to_string()]).await?;
    Ok(found.pop())
}

async fn distinct_names(
    db: &impl ConnectionTrait,
    search: Option<&str>,
) -> ServiceResult<Vec<String>> {
    let mut select = task::Entity::find()
        .select_only()
        .column(task::Column::Name)
        .distinct()
        .order_by_asc(task::Column::Name);
    if let Some(search) = search.filter(|s| !s.is_empty()) {
        let lower_name = Func::lower(Expr::col(task::Column::Name));
        let pattern = super::catalog::contains("search", search)?;
        select = select.filter(Expr::expr(lower_name).like(pattern));
    }
    Ok(select.into_tuple().all(db).await?)
}

/// Builds the summaries of `names` (in that order), leaving out unknown names.
async fn summarize(db: &impl ConnectionTrait, names: &[String]) -> ServiceResult<Vec<TaskSummary>> {
    let tasks = task::Entity::find()
        .filter(task::Column::Name.is_in(names.iter().cloned()))
        .all(db)
        .await?;
    let name_of: BTreeMap<i64, String> = tasks.iter().map(|t| (t.id, t.name.clone())).collect();
    let task_ids: Vec<i64> = name_of.keys().copied().collect();
    let runs: Vec<(i64, i64, Option<i32>)> = run::Entity::find()
        .select_only()
        .columns([
            run::Column::TaskId,
            run::Column::ModelId,
            run::Column::NShot,
        ])
        .filter(run::Column::TaskId.is_in(task_ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let measured: Vec<(i64, i64)> = run_result::Entity::find()
        .select_only()
        .column(run::Column::TaskId)
        .column(run_result::Column::MetricId)
        .join(JoinType::InnerJoin, run_result::Relation::Run.def())
        .filter(run::Column::TaskId.is_in(task_ids))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut summaries: BTreeMap<&str, Draft> = BTreeMap::new();
    for task in &tasks {
        let draft = summaries.entry(&task.name).or_default();
        draft.versions.insert(task.version.clone());
    }
    for (task_id, model_id, n_shot) in runs {
        let Some(draft) = name_of
            .get(&task_id)
            .and_then(|n| summaries.get_mut(n.as_str()))
        else {
            continue;
        };
        draft.runs += 1;
        draft.models.insert(model_id);
        draft.n_shots.insert(n_shot);
    }
    for (task_id, metric_id) in measured {
        if let Some(draft) = name_of
            .get(&task_id)
            .and_then(|n| summaries.get_mut(n.as_str()))
        {
            draft.metrics.insert(metric_id);
        }
    }
    let metrics: BTreeMap<i64, metric::Model> = metric::Entity::find()
        .filter(metric::Column::Id.is_in(mentioned(&summaries, |d| &d.metrics)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let models: BTreeMap<i64, ml_model::Model> = ml_model::Entity::find()
        .filter(ml_model::Column::Id.is_in(mentioned(&summaries, |d| &d.models)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();

    Ok(names
        .iter()
        .filter_map(|name| {
            let draft = summaries.get(name.as_str())?;
            Some(draft.finish(name, &metrics, &models))
        })
        .collect())
}

/// What is collected for one name before rows are looked up.
#[derive(Default)]
struct Draft {
    versions: BTreeSet<String>,
    n_shots: BTreeSet<Option<i32>>,
    metrics: BTreeSet<i64>,
    models: BTreeSet<i64>,
    runs: u64,
}

impl Draft {
    fn finish(
        &self,
        name: &str,
        metrics: &BTreeMap<i64, metric::Model>,
        models: &BTreeMap<i64, ml_model::Model>,
    ) -> TaskSummary {
        let mut metrics: Vec<_> = self
            .metrics
            .iter()
            .filter_map(|id| metrics.get(id))
            .cloned()
            .collect();
        metrics.sort_by(|a, b| a.name.cmp(&b.name));
        let mut models: Vec<_> = self
            .models
            .iter()
            .filter_map(|id| models.get(id))
            .cloned()
            .collect();
        models.sort_by(|a, b| a.name.cmp(&b.name));
        TaskSummary {
            name: name.to_string(),
            versions: self.versions.iter().cloned().collect(),
            n_shots: self.n_shots.iter().copied().collect(),
            metrics,
            models,
            runs: self.runs,
        }
    }
}

/// Collects the ids every draft mentions under `ids`.
fn mentioned(drafts: &BTreeMap<&str, Draft>, ids: impl Fn(&Draft) -> &BTreeSet<i64>) -> Vec<i64> {
    let all: BTreeSet<i64> = drafts
        .values()
        .flat_map(|d| ids(d).iter().copied())
        .collect();
    all.into_iter().collect()
}
