//! The audit trail: one append-only event per change, written by the same
//! transaction as the change itself, so a change and its record commit or
//! roll back together.

use chrono::Utc;
use entity::audit_event;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::Value;

use crate::error::ServiceResult;
use crate::service::page::{self, Page, PageRequest};

/// What an event is about: the kind of entity and its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: &'static str,
    pub id: String,
}

impl Subject {
    pub fn new(kind: &'static str, id: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
        }
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// Who made it: an access token's name, or `cli:<user>` for the CLI.
    pub actor: &'a str,
    /// `<entity>.<verb>`, e.g. `dataset.create`.
    pub action: &'static str,
    pub subject: Subject,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Appends `change` through `conn`, which should be the change's transaction.
pub async fn record<C: ConnectionTrait>(conn: &C, change: Change<'_>) -> Result<(), DbErr> {
    let event = audit_event::ActiveModel {
        occurred_at: Set(Utc::now()),
        actor: Set(change.actor.to_string()),
        action: Set(change.action.to_string()),
        entity_kind: Set(change.subject.kind.to_string()),
        entity_id: Set(change.subject.id.clone()),
        before: Set(change.before),
        after: Set(change.after),
        ..Default::default()
    };
    audit_event::Entity::insert(event)
        .exec_without_returning(conn)
        .await?;
    tracing::info!(
        actor = change.actor,
        action = change.action,
        entity_kind = change.subject.kind,
        entity_id = %change.subject.id,
        "audit event"
    );
    Ok(())
}

/// Which events to list; unset fields do not narrow.
#[derive(Debug, Clone, Default)]
pub struct EventWhere {
    pub entity_kind: Option<String>,
    pub entity_id: Option<String>,
}

/// Lists events, newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &EventWhere,
    request: PageRequest,
) -> ServiceResult<Page<audit_event::Model>> {
    let mut select = audit_event::Entity::find();
    if let Some(kind) = &filter.entity_kind {
        select = select.filter(audit_event::Column::EntityKind.eq(kind.as_str()));
    }
    if let Some(id) = &filter.entity_id {
        select = select.filter(audit_event::Column::EntityId.eq(id.as_str()));
    }
    let select = select.order_by_desc(audit_event::Column::Id);
    page::fetch(conn, select, request).await
}

/// Returns every event about any of `subjects`, oldest first.
pub async fn about<C: ConnectionTrait>(
    conn: &C,
    subjects: &[Subject],
) -> ServiceResult<Vec<audit_event::Model>> {
    let mut condition = sea_orm::Condition::any();
    for subject in subjects {
        condition = condition.add(
            sea_orm::Condition::all()
                .add(audit_event::Column::EntityKind.eq(subject.kind))
                .add(audit_event::Column::EntityId.eq(subject.id.as_str())),
        );
    }
    Ok(audit_event::Entity::find()
        .filter(condition)
        .order_by_asc(audit_event::Column::Id)
        .all(conn)
        .await?)
}
