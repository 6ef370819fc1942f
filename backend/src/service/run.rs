//! Runs: filtered listings, one run with its results, and batched look-ups
//! that the GraphQL data loaders use to avoid N+1 queries.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{project, run, run_project, run_result, run_tag, tag, task};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::catalog;
use super::keyset::{self, KeyKind, KeyPart, KeysetPage, KeysetRequest, Sort};
use crate::error::ServiceResult;

/// Which runs to keep; every field narrows the set, absent fields do not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunWhere {
    /// Any spelling of the model's name.
    pub model: Option<String>,
    /// The task's name (all its versions).
    pub task: Option<String>,
    pub tag: Option<String>,
    pub project: Option<String>,
    /// Inclusive lower bound on when the evaluation ran (else when it was ingested).
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on the same time.
    pub to: Option<DateTime<Utc>>,
}

/// A condition that no row satisfies, for filters naming something unknown.
fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// Turns a `RunWhere` into a condition on `run`, resolving names to ids first.
pub async fn condition(db: &impl ConnectionTrait, filter: &RunWhere) -> ServiceResult<Condition> {
    let mut condition = Condition::all();
    if let Some(name) = &filter.model {
        let Some(model) = catalog::find_model(db, name).await? else {
            return Ok(nothing());
        };
        condition = condition.add(run::Column::ModelId.eq(model.id));
    }
    if let Some(name) = &filter.task {
        let task_ids = Query::select()
            .column(task::Column::Id)
            .from(task::Entity)
            .and_where(task::Column::Name.eq(name.as_str()))
            .to_owned();
        condition = condition.add(run::Column::TaskId.in_subquery(task_ids));
    }
    if let Some(name) = &filter.tag {
        let Some(tag) = tag::Entity::find()
            .filter(tag::Column::Name.eq(name))
            .one(db)
            .await?
        else {
            return Ok(nothing());
        };
        let run_ids = Query::select()
            .column(run_tag::Column::RunId)
            .from(run_tag::Entity)
            .and_where(run_tag::Column::TagId.eq(tag.id))
            .to_owned();
        condition = condition.add(run::Column::Id.in_subquery(run_ids));
    }
    if let Some(name) = &filter.project {
        let project = project::Entity::find()
            .filter(project::Column::Name.eq(name))
            .one(db)
            .await?;
        let Some(project) = project else {
            return Ok(nothing());
        };
        let run_ids = Query::select()
            .column(run_project::Column::RunId)
            .from(run_project::Entity)
            .and_where(run_project::Column::ProjectId.eq(project.id))
            .to_owned();
        condition = condition.add(run::Column::Id.in_subquery(run_ids));
    }
    if let Some(from) = filter.from {
        condition = condition.add(run::Column::EffectiveAt.gte(from));
    }
    if let Some(to) = filter.to {
        condition = condition.add(run::Column::EffectiveAt.lt(to));
    }

    Ok(condition)
}

/// How runs are listed: newest first, ties by id.
const NEWEST_FIRST: [Sort<run::Column>; 2] = [
    Sort::descending(run::Column::EffectiveAt, KeyKind::Time),
    Sort::ascending(run::Column::Id, KeyKind::Id),
];

/// Lists runs matching `filter`, newest first, after the key in `request`.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &RunWhere,
    request: &KeysetRequest,
) -> ServiceResult<KeysetPage<run::Model>> {
    let select = run::Entity::find().filter(condition(db, filter).await?);
    keyset::fetch(db, select, &NEWEST_FIRST, request, |run| {
        vec![KeyPart::Time(run.effective_at), KeyPart::Id(run.id)]
    })
    .await
}

/// Returns one run, or `None` when no run has that id.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> ServiceResult<Option<run::Model>> {
    Ok(run::Entity::find_by_id(id).one(db).await?)
}

/// Returns the runs with the given ids, keyed by id.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ServiceResult<HashMap<Uuid, run::Model>> {
    let rows = run::Entity::find()
        .filter(run::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;

    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

/// Returns every result of the given runs, grouped by run, in metric order.
pub async fn results_of(
    db: &impl ConnectionTrait,
    run_ids: &[Uuid],
) -> ServiceResult<HashMap<Uuid, Vec<run_result::Model>>> {
    let rows = run_result::Entity::find()
        .filter(run_result::Column::RunId.is_in(run_ids.to_vec()))
        .order_by_asc(run_result::Column::MetricId)
        .order_by_asc(run_result::Column::Filter)
        .all(db)
        .await?;
    let mut grouped: HashMap<Uuid, Vec<run_result::Model>> = HashMap::new();
    for row in rows {
        grouped.entry(row.run_id).or_default().push(row);
    }

    Ok(grouped)
}

/// Returns the tag names of the given runs, grouped by run.
pub async fn tags_of(
    db: &impl ConnectionTrait,
    run_ids: &[Uuid],
) -> ServiceResult<HashMap<Uuid, Vec<String>>> {
    let rows: Vec<(Uuid, String)> = run_tag::Entity::find()
        .select_only()
        .column(run_tag::Column::RunId)
        .column(tag::Column::Name)
        .inner_join(tag::Entity)
        .filter(run_tag::Column::RunId.is_in(run_ids.to_vec()))
        .order_by_asc(tag::Column::Name)
        .into_tuple()
        .all(db)
        .await?;

    Ok(group_pairs(rows))
}

/// Returns the project names of the given runs, grouped by run.
pub async fn projects_of(
    db: &impl ConnectionTrait,
    run_ids: &[Uuid],
) -> ServiceResult<HashMap<Uuid, Vec<String>>> {
    let rows: Vec<(Uuid, String)> = run_project::Entity::find()
        .select_only()
        .column(run_project::Column::RunId)
        .column(project::Column::Name)
        .inner_join(project::Entity)
        .filter(run_project::Column::RunId.is_in(run_ids.to_vec()))
        .order_by_asc(project::Column::Name)
        .into_tuple()
        .all(db)
        .await?;

    Ok(group_pairs(rows))
}

fn group_pairs(rows: Vec<(Uuid, String)>) -> HashMap<Uuid, Vec<String>> {
    let mut grouped: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (run_id, name) in rows {
        grouped.entry(run_id).or_default().push(name);
    }
    grouped
}
