//! Dimension listings and look-ups: models, tasks, metrics, projects, tags.

use std::collections::HashMap;

use entity::{metric, ml_model, model_alias, model_tag, project, tag, task, task_group_member};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::identity;
use super::keyset::{self, KeyKind, KeyPart, KeysetPage, KeysetRequest, Sort};
use super::page::{Page, PageRequest, fetch};
use crate::error::{ServiceError, ServiceResult};

/// The longest search text accepted, in characters: far beyond any name or
/// phrase, and well under the pattern length databases refuse (SQLite's is
/// 50,000 bytes), which would otherwise surface as an internal error.
pub const MAX_SEARCH_CHARS: usize = 1000;

/// Builds a case-insensitive "contains" pattern that matches `search` literally:
/// `%`, `_` and the escape character itself lose their wildcard meaning.
/// `field` names the argument in the error for a search over
/// [`MAX_SEARCH_CHARS`].
pub fn contains(field: &'static str, search: &str) -> ServiceResult<LikeExpr> {
    if search.chars().count() > MAX_SEARCH_CHARS {
        return Err(ServiceError::invalid(
            field,
            format!("must be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    let mut escaped = String::with_capacity(search.len() + 2);
    for character in search.to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    Ok(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Models by name, which is unique.
const BY_NAME: [Sort<ml_model::Column>; 1] =
    [Sort::ascending(ml_model::Column::Name, KeyKind::Text)];

/// Lists models by name, after the key in `request`; `search` keeps names
/// containing it, ignoring case.
pub async fn list_models(
    db: &impl ConnectionTrait,
    search: Option<&str>,
    request: &KeysetRequest,
) -> ServiceResult<KeysetPage<ml_model::Model>> {
    let mut select = ml_model::Entity::find();
    if let Some(search) = search.filter(|s| !s.is_empty()) {
        let lower_name = Func::lower(Expr::col(ml_model::Column::Name));
        select = select.filter(Expr::expr(lower_name).like(contains("search", search)?));
    }
    keyset::fetch(db, select, &BY_NAME, request, |model| {
        vec![KeyPart::Text(model.name.clone())]
    })
    .await
}

/// Finds a model by any of its spellings (aliases match ignoring case).
pub async fn find_model(
    db: &impl ConnectionTrait,
    name: &str,
) -> ServiceResult<Option<ml_model::Model>> {
    let alias = model_alias::Entity::find()
        .filter(model_alias::Column::AliasKey.eq(identity::alias_key(name)))
        .one(db)
        .await?;
    let Some(alias) = alias else {
        return Ok(None);
    };

    Ok(ml_model::Entity::find_by_id(alias.model_id).one(db).await?)
}

/// Tasks by name and version; the id tells configurations apart.
const BY_NAME_AND_VERSION: [Sort<task::Column>; 3] = [
    Sort::ascending(task::Column::Name, KeyKind::Text),
    Sort::ascending(task::Column::Version, KeyKind::Text),
    Sort::ascending(task::Column::Id, KeyKind::Number),
];

/// Lists tasks by name, version and configuration, after the key in
/// `request`; `name` keeps one task's rows.
pub async fn list_tasks(
    db: &impl ConnectionTrait,
    name: Option<&str>,
    request: &KeysetRequest,
) -> ServiceResult<KeysetPage<task::Model>> {
    let mut select = task::Entity::find();
    if let Some(name) = name {
        select = select.filter(task::Column::Name.eq(name));
    }
    keyset::fetch(db, select, &BY_NAME_AND_VERSION, request, |task| {
        vec![
            KeyPart::Text(task.name.clone()),
            KeyPart::Text(task.version.clone()),
            KeyPart::Number(task.id),
        ]
    })
    .await
}

/// Lists metrics by name.
pub async fn list_metrics(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> ServiceResult<Page<metric::Model>> {
    fetch(
        db,
        metric::Entity::find().order_by_asc(metric::Column::Name),
        page,
    )
    .await
}

/// Every metric by id: metrics are few, and rules that judge values by
/// their metric's direction need them all at hand.
pub async fn metrics_by_id(
    db: &impl ConnectionTrait,
) -> ServiceResult<HashMap<i64, metric::Model>> {
    let metrics = metric::Entity::find().all(db).await?;
    Ok(metrics.into_iter().map(|m| (m.id, m)).collect())
}

/// Lists projects by name.
pub async fn list_projects(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> ServiceResult<Page<project::Model>> {
    fetch(
        db,
        project::Entity::find().order_by_asc(project::Column::Name),
        page,
    )
    .await
}

/// Lists tags by name.
pub async fn list_tags(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> ServiceResult<Page<tag::Model>> {
    fetch(
        db,
        tag::Entity::find().order_by_asc(tag::Column::Name),
        page,
    )
    .await
}

/// Returns the subtasks of a task group, in name order; empty for a plain task.
pub async fn subtasks(db: &impl ConnectionTrait, group: &str) -> ServiceResult<Vec<String>> {
    Ok(task_group_member::Entity::find()
        .select_only()
        .column(task_group_member::Column::MemberName)
        .filter(task_group_member::Column::GroupName.eq(group))
        .order_by_asc(task_group_member::Column::MemberName)
        .into_tuple()
        .all(db)
        .await?)
}

/// Returns the groups a task belongs to, in name order.
pub async fn groups_of(db: &impl ConnectionTrait, member: &str) -> ServiceResult<Vec<String>> {
    Ok(task_group_member::Entity::find()
        .select_only()
        .column(task_group_member::Column::GroupName)
        .filter(task_group_member::Column::MemberName.eq(member))
        .order_by_asc(task_group_member::Column::GroupName)
        .into_tuple()
        .all(db)
        .await?)
}

/// Returns every spelling that resolves to a model.
pub async fn aliases(db: &impl ConnectionTrait, model_id: i64) -> ServiceResult<Vec<String>> {
    Ok(model_alias::Entity::find()
        .select_only()
        .column(model_alias::Column::Spelling)
        .filter(model_alias::Column::ModelId.eq(model_id))
        .order_by_asc(model_alias::Column::Spelling)
        .into_tuple()
        .all(db)
        .await?)
}

/// Returns the names of the tags attached to a model.
pub async fn model_tags(db: &impl ConnectionTrait, model_id: i64) -> ServiceResult<Vec<String>> {
    let tag_ids = sea_orm::sea_query::Query::select()
        .column(model_tag::Column::TagId)
        .from(model_tag::Entity)
        .and_where(model_tag::Column::ModelId.eq(model_id))
        .to_owned();
    Ok(tag::Entity::find()
        .select_only()
        .column(tag::Column::Name)
        .filter(tag::Column::Id.in_subquery(tag_ids))
        .order_by_asc(tag::Column::Name)
        .into_tuple()
        .all(db)
        .await?)
}
