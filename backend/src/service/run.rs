//! Runs: filtered listings, one run with its results, and batched look-ups
//! that the GraphQL data loaders use to avoid N+1 queries.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{model_tag, project, run, run_project, run_result, run_tag, tag, task};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::catalog;
use super::keyset::{self, KeyKind, KeyPart, KeysetPage, KeysetRequest, Sort};
use crate::error::{ServiceError, ServiceResult};

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
    /// A tag of the run's model, such as a family (`family:llama`).
    pub model_tag: Option<String>,
    /// Filters that must all match as well.
    pub all: Vec<RunWhere>,
    /// Filters of which at least one must match as well, unless empty.
    pub any: Vec<RunWhere>,
}

/// The most nested filters one filter may hold, counting every level: enough
/// for any hand-written filter, few enough to keep the SQL small.
pub const MAX_NESTED: usize = 32;
/// How deep nested filters may go.
pub const MAX_DEPTH: usize = 4;

impl RunWhere {
    /// Checks the filter before it is run: every `from` before its `to`,
    /// at most `MAX_NESTED` nested filters, at most `MAX_DEPTH` deep.
    ///
    /// Fails with `invalid_argument` on the `where` argument.
    pub fn check(&self) -> ServiceResult<()> {
        if self.nested() > MAX_NESTED {
            return Err(ServiceError::invalid(
                "where",
                format!("at most {MAX_NESTED} nested filters are allowed"),
            ));
        }
        if self.depth() > MAX_DEPTH {
            return Err(ServiceError::invalid(
                "where",
                format!("filters may nest at most {MAX_DEPTH} deep"),
            ));
        }
        self.check_ranges()
    }

    fn children(&self) -> impl Iterator<Item = &RunWhere> {
        self.all.iter().chain(&self.any)
    }

    fn nested(&self) -> usize {
        self.children().map(|child| 1 + child.nested()).sum()
    }

    fn depth(&self) -> usize {
        self.children()
            .map(|child| 1 + child.depth())
            .max()
            .unwrap_or(0)
    }

    fn check_ranges(&self) -> ServiceResult<()> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(ServiceError::invalid(
                "where",
                "`from` must be earlier than `to`",
            ));
        }
        self.children().try_for_each(RunWhere::check_ranges)
    }
}

/// A condition that no row satisfies, for filters naming something unknown.
fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// Turns a `RunWhere` into a condition on `run`, resolving names to ids
/// first: its own fields and every `all` filter must match, and one of the
/// `any` filters when there are some.
pub async fn condition(db: &impl ConnectionTrait, filter: &RunWhere) -> ServiceResult<Condition> {
    let mut matched = fields_condition(db, filter).await?;
    for nested in &filter.all {
        matched = matched.add(Box::pin(condition(db, nested)).await?);
    }
    if !filter.any.is_empty() {
        let mut one_of = Condition::any();
        for nested in &filter.any {
            one_of = one_of.add(Box::pin(condition(db, nested)).await?);
        }
        matched = matched.add(one_of);
    }

    Ok(matched)
}

/// The condition of a filter's own fields; an unknown name matches nothing.
async fn fields_condition(
    db: &impl ConnectionTrait,
    filter: &RunWhere,
) -> ServiceResult<Condition> {
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
        let Some(tag) = find_tag(db, name).await? else {
            return Ok(nothing());
        };
        let linked = linked(run_tag::Column::RunId, run_tag::Column::TagId, tag.id);
        condition = condition.add(run::Column::Id.in_subquery(linked));
    }
    if let Some(name) = &filter.project {
        let project = project::Entity::find()
            .filter(project::Column::Name.eq(name))
            .one(db)
            .await?;
        let Some(project) = project else {
            return Ok(nothing());
        };
        let linked = linked(
            run_project::Column::RunId,
            run_project::Column::ProjectId,
            project.id,
        );
        condition = condition.add(run::Column::Id.in_subquery(linked));
    }
    if let Some(name) = &filter.model_tag {
        let Some(tag) = find_tag(db, name).await? else {
            return Ok(nothing());
        };
        let linked = linked(model_tag::Column::ModelId, model_tag::Column::TagId, tag.id);
        condition = condition.add(run::Column::ModelId.in_subquery(linked));
    }
    if let Some(from) = filter.from {
        condition = condition.add(run::Column::EffectiveAt.gte(from));
    }
    if let Some(to) = filter.to {
        condition = condition.add(run::Column::EffectiveAt.lt(to));
    }

    Ok(condition)
}

/// Selects `column` of the link table's rows whose `by` is `id`: the runs
/// (or models) linked to one tag or project.
fn linked<C: ColumnTrait>(column: C, by: C, id: i64) -> SelectStatement {
    Query::select()
        .column(column)
        .from(column.entity_name())
        .and_where(by.eq(id))
        .to_owned()
}

async fn find_tag(db: &impl ConnectionTrait, name: &str) -> ServiceResult<Option<tag::Model>> {
    let found = tag::Entity::find()
        .filter(tag::Column::Name.eq(name))
        .one(db)
        .await?;
    Ok(found)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with(all: Vec<RunWhere>, any: Vec<RunWhere>) -> RunWhere {
        RunWhere {
            all,
            any,
            ..RunWhere::default()
        }
    }

    #[test]
    fn nested_filters_are_counted_at_every_level() {
        let leaf = RunWhere::default;
        let filter = with(vec![with(vec![leaf()], vec![leaf(), leaf()])], vec![leaf()]);
        assert_eq!((filter.nested(), filter.depth()), (5, 2));
        assert!(filter.check().is_ok());
        let deep = (0..=MAX_DEPTH).fold(leaf(), |inner, _| with(vec![inner], vec![]));
        assert_eq!(deep.check().map_err(|e| e.code()), Err("invalid_argument"));
    }
}
