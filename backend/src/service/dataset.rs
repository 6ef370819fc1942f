//! Datasets: named, tagged collections of items, curated by admins in
//! immutable versions. This module holds the dataset itself; versions, their
//! items and diffs live in the submodules.

pub mod diff;
pub mod items;
pub mod version;

use chrono::{DateTime, Utc};
use entity::dataset;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::{Value, json};

use crate::error::{ServiceError, ServiceResult};
use crate::service::audit::{self, Change, Subject};
use crate::service::page::{self, Page, PageRequest};

/// The longest name, description and tag accepted.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 10_000;
const MAX_TAGS: usize = 50;

/// What an admin gives when creating a dataset.
#[derive(Debug, Clone, Default)]
pub struct NewDataset {
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub key_field: Option<String>,
}

/// Changes to a dataset's descriptive fields; `None` leaves a field as is.
#[derive(Debug, Clone, Default)]
pub struct DatasetEdit {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
}

fn checked_name(name: &str) -> ServiceResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(ServiceError::invalid(
            "name",
            format!("must be at most {MAX_NAME} characters"),
        ));
    }
    if name.contains('/') || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "name",
            "must not contain `/` or control characters",
        ));
    }
    Ok(name.to_string())
}

fn checked_description(description: &str) -> ServiceResult<String> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ServiceError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(description.trim().to_string())
}

fn checked_tags(tags: &[String]) -> ServiceResult<Vec<String>> {
    let mut checked: Vec<String> = Vec::new();
    for tag in tags
        .iter()
        .map(|tag| tag.trim())
        .filter(|tag| !tag.is_empty())
    {
        if tag.chars().count() > MAX_NAME || tag.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                "tags",
                format!("tag `{tag}` is too long or holds control characters"),
            ));
        }
        if !checked.iter().any(|t| t == tag) {
            checked.push(tag.to_string());
        }
    }
    if checked.len() > MAX_TAGS {
        return Err(ServiceError::invalid(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    Ok(checked)
}

/// Returns a dataset's tags from their JSON column.
pub fn tags_of(dataset: &dataset::Model) -> Vec<String> {
    dataset
        .tags
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|tag| tag.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The descriptive fields of a dataset, as recorded in audit events.
pub fn dataset_json(dataset: &dataset::Model) -> Value {
    json!({
        "name": dataset.name,
        "description": dataset.description,
        "tags": dataset.tags,
        "keyField": dataset.key_field,
    })
}

/// Finds a dataset by its current name.
pub async fn find<C: ConnectionTrait>(db: &C, name: &str) -> ServiceResult<dataset::Model> {
    dataset::Entity::find()
        .filter(dataset::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("dataset", name))
}

async fn refuse_taken_name<C: ConnectionTrait>(db: &C, name: &str) -> ServiceResult<()> {
    let taken = dataset::Entity::find()
        .filter(dataset::Column::Name.eq(name))
        .one(db)
        .await?
        .is_some();
    if taken {
        return Err(ServiceError::Exists {
            entity: "dataset",
            key: name.to_string(),
        });
    }
    Ok(())
}

/// Creates a dataset with no versions yet.
pub async fn create(
    db: &DatabaseConnection,
    new: NewDataset,
    actor: &str,
) -> ServiceResult<dataset::Model> {
    let name = checked_name(&new.name)?;
    let description = checked_description(&new.description)?;
    let tags = checked_tags(&new.tags)?;
    let key_field = match new.key_field.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(field) => Some(field.to_string()),
    };
    let tx = db.begin().await?;
    refuse_taken_name(&tx, &name).await?;
    let created = dataset::ActiveModel {
        name: Set(name.clone()),
        description: Set(description),
        tags: Set(json!(tags)),
        key_field: Set(key_field),
        created_at: Set(Utc::now()),
        created_by: Set(actor.to_string()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        Change {
            actor,
            action: "dataset.create",
            subject: Subject::new("dataset", created.id.to_string()),
            before: None,
            after: Some(dataset_json(&created)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Changes a dataset's name, description or tags; its versions are untouched.
pub async fn edit(
    db: &DatabaseConnection,
    name: &str,
    edit: DatasetEdit,
    actor: &str,
) -> ServiceResult<dataset::Model> {
    let new_name = edit.name.as_deref().map(checked_name).transpose()?;
    let description = edit
        .description
        .as_deref()
        .map(checked_description)
        .transpose()?;
    let tags = edit.tags.as_deref().map(checked_tags).transpose()?;
    let tx = db.begin().await?;
    let current = find(&tx, name).await?;
    if let Some(new_name) = new_name.as_deref().filter(|new| *new != current.name) {
        refuse_taken_name(&tx, new_name).await?;
    }
    let before = dataset_json(&current);
    let mut active: dataset::ActiveModel = current.into();
    if let Some(new_name) = new_name {
        active.name = Set(new_name);
    }
    if let Some(description) = description {
        active.description = Set(description);
    }
    if let Some(tags) = tags {
        active.tags = Set(json!(tags));
    }
    let updated = active.update(&tx).await?;
    audit::record(
        &tx,
        Change {
            actor,
            action: "dataset.edit",
            subject: Subject::new("dataset", updated.id.to_string()),
            before: Some(before),
            after: Some(dataset_json(&updated)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// Lists datasets by name, optionally those whose name contains `search`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    search: Option<&str>,
    request: PageRequest,
) -> ServiceResult<Page<dataset::Model>> {
    let mut select = dataset::Entity::find().order_by_asc(dataset::Column::Name);
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let lower_name = Func::lower(Expr::col(dataset::Column::Name));
        let pattern = super::catalog::contains("search", search)?;
        select = select.filter(Expr::expr(lower_name).like(pattern));
    }
    page::fetch(db, select, request).await
}

/// A dataset's descriptive fields as they were at a moment, from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetAsOf {
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
}

/// Returns the dataset's name, description and tags as of `time`, or `None`
/// when it did not exist yet.
pub async fn as_of<C: ConnectionTrait>(
    db: &C,
    dataset: &dataset::Model,
    time: DateTime<Utc>,
) -> ServiceResult<Option<DatasetAsOf>> {
    let events = audit::about(db, &[Subject::new("dataset", dataset.id.to_string())]).await?;
    let last = events
        .iter()
        .filter(|event| event.occurred_at <= time)
        .filter_map(|event| event.after.as_ref())
        .next_back();
    Ok(last.map(|after| DatasetAsOf {
        name: after["name"].as_str().unwrap_or_default().to_string(),
        description: after["description"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        tags: after["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags_are_checked() {
        assert!(checked_name("  ").is_err());
        assert!(checked_name("a/b").is_err());
        assert_eq!(checked_name(" bbq ").ok().as_deref(), Some("bbq"));
        let tags = checked_tags(&[" a ".into(), "".into(), "a".into(), "b".into()]);
        assert_eq!(tags.ok(), Some(vec!["a".to_string(), "b".to_string()]));
    }
}
