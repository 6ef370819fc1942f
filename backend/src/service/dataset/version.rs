//! Dataset versions: storing an upload as a draft, previewing it, moving a
//! version through its lifecycle, and pinning runs to it.
//!
//! Items are inserted only when their content hash is new, so a version that
//! changes 3 of 10,000 items stores 3 items and 10,000 small position rows.
//! Every change runs in one transaction with its audit event.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    dataset, dataset_item, dataset_version, dataset_version_item, run, run_dataset_version,
    run_result, task,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::diff::{Diff, Member, diff};
use super::items::Items;
use crate::error::{ServiceError, ServiceResult};
use crate::service::audit::{self, Change, Subject};
use crate::service::leaderboard::read_model;
use crate::service::page::{self, Page, PageRequest};

/// Namespace of item ids: an item's id is the UUIDv5 of its content hash.
const ITEM_NAMESPACE: Uuid = Uuid::from_u128(0x5f1e_7a2c_4b1d_4e8f_9a3b_6c0d_2e4f_8a1b);
/// Rows per INSERT; keeps every statement well under both backends' limits
/// on bound parameters.
const INSERT_BATCH: usize = 1000;
/// Diff entries that carry the items' content, for previews and pages.
pub const ENTRIES_WITH_CONTENT: usize = 200;
/// Items shown in an upload's preview.
pub const PREVIEW_ROWS: usize = 10;

/// A version's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Draft,
    Published,
    Deprecated,
    Archived,
    Discarded,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Deprecated => "deprecated",
            Self::Archived => "archived",
            Self::Discarded => "discarded",
        }
    }

    /// Parses a stored state; an unknown one reads as archived (read-only).
    pub fn parse(text: &str) -> Self {
        match text {
            "draft" => Self::Draft,
            "published" => Self::Published,
            "deprecated" => Self::Deprecated,
            "discarded" => Self::Discarded,
            _ => Self::Archived,
        }
    }
}

/// Returns the id an item with this content hash has.
pub fn item_id(content_sha256: &str) -> Uuid {
    Uuid::new_v5(&ITEM_NAMESPACE, content_sha256.as_bytes())
}

/// Finds version `number` of a dataset.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    dataset: &dataset::Model,
    number: i32,
) -> ServiceResult<dataset_version::Model> {
    dataset_version::Entity::find()
        .filter(dataset_version::Column::DatasetId.eq(dataset.id))
        .filter(dataset_version::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or_else(|| {
            ServiceError::not_found("dataset version", format!("{}@{number}", dataset.name))
        })
}

/// Lists a dataset's versions, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    dataset_id: i64,
) -> ServiceResult<Vec<dataset_version::Model>> {
    Ok(dataset_version::Entity::find()
        .filter(dataset_version::Column::DatasetId.eq(dataset_id))
        .order_by_desc(dataset_version::Column::Number)
        .all(db)
        .await?)
}

/// The version a new upload descends from: the newest one not discarded.
async fn parent_of_next<C: ConnectionTrait>(
    db: &C,
    dataset_id: i64,
) -> ServiceResult<Option<dataset_version::Model>> {
    Ok(list(db, dataset_id)
        .await?
        .into_iter()
        .find(|version| State::parse(&version.state) != State::Discarded))
}

/// Returns a version's members in position order.
pub async fn members<C: ConnectionTrait>(db: &C, version_id: i64) -> ServiceResult<Vec<Member>> {
    let rows: Vec<(String, Uuid)> = dataset_version_item::Entity::find()
        .select_only()
        .column(dataset_version_item::Column::ItemKey)
        .column(dataset_version_item::Column::ItemId)
        .filter(dataset_version_item::Column::VersionId.eq(version_id))
        .order_by_asc(dataset_version_item::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(key, item_id)| Member { key, item_id })
        .collect())
}

/// Returns which of `ids` are stored already.
async fn stored_items<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> ServiceResult<HashSet<Uuid>> {
    let mut stored = HashSet::new();
    for chunk in ids.chunks(INSERT_BATCH) {
        let found: Vec<Uuid> = dataset_item::Entity::find()
            .select_only()
            .column(dataset_item::Column::Id)
            .filter(dataset_item::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        stored.extend(found);
    }
    Ok(stored)
}

/// Loads the content of stored items by id.
async fn contents<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> ServiceResult<HashMap<Uuid, Value>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(INSERT_BATCH) {
        let rows = dataset_item::Entity::find()
            .filter(dataset_item::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|row| (row.id, row.content)));
    }
    Ok(found)
}

/// Fills the content of the first diff entries, from `known` or the database.
async fn fill_contents<C: ConnectionTrait>(
    db: &C,
    diff: &mut Diff,
    known: &HashMap<Uuid, &Value>,
) -> ServiceResult<()> {
    let shown_count = diff.entries.len().min(ENTRIES_WITH_CONTENT);
    let shown = &mut diff.entries[..shown_count];
    let wanted: Vec<Uuid> = shown
        .iter()
        .flat_map(|entry| [entry.before, entry.after])
        .flatten()
        .filter(|id| !known.contains_key(id))
        .collect();
    let loaded = contents(db, &wanted).await?;
    let lookup = |id: Option<Uuid>| -> Option<Value> {
        let id = id?;
        known
            .get(&id)
            .map(|value| (*value).clone())
            .or_else(|| loaded.get(&id).cloned())
    };
    for entry in shown {
        entry.before_content = lookup(entry.before);
        entry.after_content = lookup(entry.after);
    }
    Ok(())
}

fn members_of(items: &Items) -> Vec<Member> {
    items
        .items
        .iter()
        .map(|item| Member {
            key: item.key.clone(),
            item_id: item_id(&item.sha256),
        })
        .collect()
}

/// Each field of the items and its JSON types, as stored with a version.
fn schema_json(items: &Items) -> Value {
    Value::Object(
        items
            .schema
            .iter()
            .map(|(field, types)| (field.clone(), json!(types)))
            .collect(),
    )
}

/// What an upload would become, computed without storing anything.
#[derive(Debug, Clone)]
pub struct Preview {
    pub item_count: u64,
    /// Items whose content is not stored yet.
    pub new_item_count: u64,
    pub key_field: Option<String>,
    pub schema: Value,
    pub first_rows: Vec<Value>,
    pub parent_number: Option<i32>,
    pub diff: Diff,
}

/// Previews `items` as the next version of `dataset`; stores nothing.
pub async fn preview<C: ConnectionTrait>(
    db: &C,
    dataset: &dataset::Model,
    items: &Items,
) -> ServiceResult<Preview> {
    let parent = parent_of_next(db, dataset.id).await?;
    let parent_members = match &parent {
        Some(parent) => members(db, parent.id).await?,
        None => Vec::new(),
    };
    let new_members = members_of(items);
    let ids: Vec<Uuid> = new_members.iter().map(|m| m.item_id).collect();
    let stored = stored_items(db, &ids).await?;
    let new_item_count = ids.iter().collect::<HashSet<_>>().len() - stored.len();
    let mut diff = diff(&parent_members, &new_members);
    let known: HashMap<Uuid, &Value> = new_members
        .iter()
        .zip(&items.items)
        .map(|(member, item)| (member.item_id, &item.content))
        .collect();
    fill_contents(db, &mut diff, &known).await?;
    Ok(Preview {
        item_count: items.items.len() as u64,
        new_item_count: new_item_count as u64,
        key_field: items.key_field.clone(),
        schema: schema_json(items),
        first_rows: items
            .items
            .iter()
            .take(PREVIEW_ROWS)
            .map(|item| item.content.clone())
            .collect(),
        parent_number: parent.map(|p| p.number),
        diff,
    })
}

/// The fields of a version recorded in audit events.
pub fn version_json(version: &dataset_version::Model) -> Value {
    json!({
        "number": version.number,
        "state": version.state,
        "stateReason": version.state_reason,
        "itemCount": version.item_count,
        "contentSha256": version.content_sha256,
        "note": version.note,
    })
}

/// Stores `items` as a new draft version of the dataset named `dataset_name`.
pub async fn create(
    db: &DatabaseConnection,
    dataset_name: &str,
    items: &Items,
    note: &str,
    actor: &str,
) -> ServiceResult<dataset_version::Model> {
    let tx = db.begin().await?;
    let dataset = super::find(&tx, dataset_name).await?;
    let parent = parent_of_next(&tx, dataset.id).await?;
    let number = dataset_version::Entity::find()
        .filter(dataset_version::Column::DatasetId.eq(dataset.id))
        .count(&tx)
        .await?;
    let number = i32::try_from(number + 1)
        .map_err(|_| ServiceError::invalid_state("the dataset has too many versions"))?;

    let members = members_of(items);
    let ids: Vec<Uuid> = members.iter().map(|m| m.item_id).collect();
    let stored = stored_items(&tx, &ids).await?;
    let now = Utc::now();
    let mut inserted: HashSet<Uuid> = HashSet::new();
    let new_items: Vec<dataset_item::ActiveModel> = items
        .items
        .iter()
        .zip(&members)
        .filter(|(_, member)| !stored.contains(&member.item_id))
        .filter(|(_, member)| inserted.insert(member.item_id))
        .map(|(item, member)| dataset_item::ActiveModel {
            id: Set(member.item_id),
            content_sha256: Set(item.sha256.clone()),
            content: Set(item.content.clone()),
            created_at: Set(now),
        })
        .collect();
    let new_item_count = new_items.len();
    for batch in new_items.chunks(INSERT_BATCH) {
        dataset_item::Entity::insert_many(batch.to_vec())
            .exec_without_returning(&tx)
            .await?;
    }

    let version = dataset_version::ActiveModel {
        dataset_id: Set(dataset.id),
        number: Set(number),
        parent_id: Set(parent.as_ref().map(|p| p.id)),
        content_sha256: Set(items.content_sha256()),
        item_count: Set(items.items.len() as i64),
        item_schema: Set(schema_json(items)),
        note: Set(note.trim().to_string()),
        state: Set(State::Draft.as_str().to_string()),
        state_reason: Set(None),
        created_by: Set(actor.to_string()),
        created_at: Set(now),
        published_at: Set(None),
        deprecated_at: Set(None),
        archived_at: Set(None),
        discarded_at: Set(None),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    let positions: Vec<dataset_version_item::ActiveModel> = members
        .iter()
        .enumerate()
        .map(|(position, member)| dataset_version_item::ActiveModel {
            version_id: Set(version.id),
            position: Set(position as i64),
            item_id: Set(member.item_id),
            item_key: Set(member.key.clone()),
        })
        .collect();
    for batch in positions.chunks(INSERT_BATCH) {
        dataset_version_item::Entity::insert_many(batch.to_vec())
            .exec_without_returning(&tx)
            .await?;
    }
    let mut after = version_json(&version);
    after["newItems"] = json!(new_item_count);
    after["parent"] = json!(parent.as_ref().map(|p| p.number));
    audit::record(
        &tx,
        Change {
            actor,
            action: "dataset_version.create",
            subject: Subject::new("dataset", dataset.id.to_string()),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        dataset = %dataset.name,
        number,
        items = items.items.len(),
        new_items = new_item_count,
        "dataset version stored"
    );
    Ok(version)
}

/// A step of a version's lifecycle, or an edit of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Publish,
    Deprecate { reason: String },
    Archive,
    Discard,
    EditNote { note: String },
}

impl Transition {
    fn action(&self) -> &'static str {
        match self {
            Self::Publish => "dataset_version.publish",
            Self::Deprecate { .. } => "dataset_version.deprecate",
            Self::Archive => "dataset_version.archive",
            Self::Discard => "dataset_version.discard",
            Self::EditNote { .. } => "dataset_version.edit_note",
        }
    }

    /// The state a version must be in for this step.
    fn required_state(&self) -> State {
        match self {
            Self::Publish | Self::Discard | Self::EditNote { .. } => State::Draft,
            Self::Deprecate { .. } => State::Published,
            Self::Archive => State::Deprecated,
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Self::Publish => "published",
            Self::Deprecate { .. } => "deprecated",
            Self::Archive => "archived",
            Self::Discard => "discarded",
            Self::EditNote { .. } => "have its note edited",
        }
    }
}

/// Moves version `number` of `dataset_name` one step, checking the rules.
pub async fn transition(
    db: &DatabaseConnection,
    dataset_name: &str,
    number: i32,
    step: Transition,
    actor: &str,
) -> ServiceResult<dataset_version::Model> {
    if let Transition::Deprecate { reason } = &step
        && reason.trim().is_empty()
    {
        return Err(ServiceError::invalid(
            "reason",
            "a deprecation needs a reason",
        ));
    }
    let tx = db.begin().await?;
    let dataset = super::find(&tx, dataset_name).await?;
    let version = find(&tx, &dataset, number).await?;
    let state = State::parse(&version.state);
    if state != step.required_state() {
        return Err(ServiceError::invalid_state(format!(
            "version {number} of `{dataset_name}` is {}; only a {} version can be {}",
            state.as_str(),
            step.required_state().as_str(),
            step.verb()
        )));
    }
    let before = version_json(&version);
    let now = Utc::now();
    let mut active: dataset_version::ActiveModel = version.into();
    match &step {
        Transition::Publish => {
            active.state = Set(State::Published.as_str().to_string());
            active.published_at = Set(Some(now));
        }
        Transition::Deprecate { reason } => {
            active.state = Set(State::Deprecated.as_str().to_string());
            active.state_reason = Set(Some(reason.trim().to_string()));
            active.deprecated_at = Set(Some(now));
        }
        Transition::Archive => {
            active.state = Set(State::Archived.as_str().to_string());
            active.archived_at = Set(Some(now));
        }
        Transition::Discard => {
            active.state = Set(State::Discarded.as_str().to_string());
            active.discarded_at = Set(Some(now));
        }
        Transition::EditNote { note } => active.note = Set(note.trim().to_string()),
    }
    let updated = active.update(&tx).await?;
    audit::record(
        &tx,
        Change {
            actor,
            action: step.action(),
            subject: Subject::new("dataset", dataset.id.to_string()),
            before: Some(before),
            after: Some(version_json(&updated)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// Returns the state a version was in at `time`, or `None` if it did not exist.
pub fn state_at(version: &dataset_version::Model, time: DateTime<Utc>) -> Option<State> {
    if version.created_at > time {
        return None;
    }
    let reached = |at: Option<DateTime<Utc>>| at.is_some_and(|at| at <= time);
    Some(if reached(version.discarded_at) {
        State::Discarded
    } else if reached(version.archived_at) {
        State::Archived
    } else if reached(version.deprecated_at) {
        State::Deprecated
    } else if reached(version.published_at) {
        State::Published
    } else {
        State::Draft
    })
}

/// Compares two stored versions of one dataset.
pub async fn diff_versions<C: ConnectionTrait>(
    db: &C,
    from: &dataset_version::Model,
    to: &dataset_version::Model,
) -> ServiceResult<Diff> {
    let old = members(db, from.id).await?;
    let new = members(db, to.id).await?;
    let mut result = diff(&old, &new);
    fill_contents(db, &mut result, &HashMap::new()).await?;
    Ok(result)
}

/// One position of a version with its item.
#[derive(Debug, Clone)]
pub struct PositionedItem {
    pub position: i64,
    pub key: String,
    pub item: dataset_item::Model,
}

/// Lists a version's items in position order.
pub async fn items<C: ConnectionTrait>(
    db: &C,
    version_id: i64,
    request: PageRequest,
) -> ServiceResult<Page<PositionedItem>> {
    let select = dataset_version_item::Entity::find()
        .filter(dataset_version_item::Column::VersionId.eq(version_id))
        .order_by_asc(dataset_version_item::Column::Position);
    let positions = page::fetch(db, select, request).await?;
    let ids: Vec<Uuid> = positions.items.iter().map(|p| p.item_id).collect();
    let mut rows: HashMap<Uuid, dataset_item::Model> = HashMap::new();
    for chunk in ids.chunks(INSERT_BATCH) {
        let found = dataset_item::Entity::find()
            .filter(dataset_item::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        rows.extend(found.into_iter().map(|row| (row.id, row)));
    }
    let items = positions
        .items
        .into_iter()
        .filter_map(|p| {
            rows.get(&p.item_id).map(|item| PositionedItem {
                position: p.position,
                key: p.item_key,
                item: item.clone(),
            })
        })
        .collect();
    Ok(Page {
        items,
        offset: positions.offset,
        total: positions.total,
    })
}

/// Counts the runs pinned to a version.
pub async fn run_count<C: ConnectionTrait>(db: &C, version_id: i64) -> ServiceResult<u64> {
    Ok(run_dataset_version::Entity::find()
        .filter(run_dataset_version::Column::DatasetVersionId.eq(version_id))
        .count(db)
        .await?)
}

/// Records that a run was computed on version `number` of `dataset_name`.
/// A pin is written once: a run already pinned keeps its version.
pub async fn pin_run(
    db: &DatabaseConnection,
    run_id: Uuid,
    dataset_name: &str,
    number: i32,
    actor: &str,
) -> ServiceResult<run_dataset_version::Model> {
    let tx = db.begin().await?;
    let Some(pinned_run) = run::Entity::find_by_id(run_id).one(&tx).await? else {
        return Err(ServiceError::not_found("run", run_id.to_string()));
    };
    let dataset = super::find(&tx, dataset_name).await?;
    let version = find(&tx, &dataset, number).await?;
    let state = State::parse(&version.state);
    if matches!(state, State::Draft | State::Discarded) {
        return Err(ServiceError::invalid_state(format!(
            "version {number} of `{dataset_name}` is {}; runs are pinned to published versions",
            state.as_str()
        )));
    }
    if let Some(pinned) = run_dataset_version::Entity::find_by_id(run_id)
        .one(&tx)
        .await?
    {
        return Err(ServiceError::invalid_state(format!(
            "run {run_id} is pinned already (to dataset version id {})",
            pinned.dataset_version_id
        )));
    }
    let pin = run_dataset_version::ActiveModel {
        run_id: Set(run_id),
        dataset_version_id: Set(version.id),
        pinned_at: Set(Utc::now()),
        pinned_by: Set(actor.to_string()),
    }
    .insert(&tx)
    .await?;
    move_on_boards(&tx, &pinned_run).await?;
    audit::record(
        &tx,
        Change {
            actor,
            action: "run.pin_dataset_version",
            subject: Subject::new("run", run_id.to_string()),
            before: None,
            after: Some(json!({"dataset": dataset.name, "number": number})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(pin)
}

/// Moves a just-pinned run to its pinned configuration on every leaderboard.
async fn move_on_boards<C: ConnectionTrait>(tx: &C, pinned: &run::Model) -> ServiceResult<()> {
    let Some(task) = task::Entity::find_by_id(pinned.task_id).one(tx).await? else {
        return Ok(());
    };
    let metric_ids: Vec<i64> = run_result::Entity::find()
        .select_only()
        .column(run_result::Column::MetricId)
        .filter(run_result::Column::RunId.eq(pinned.id))
        .into_tuple()
        .all(tx)
        .await?;
    read_model::repin(tx, &task.name, pinned.model_id, &metric_ids).await?;

    Ok(())
}

/// Returns the dataset name and version number a run is pinned to.
pub async fn pinned_version<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
) -> ServiceResult<Option<(String, i32)>> {
    let Some(pin) = run_dataset_version::Entity::find_by_id(run_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(version) = dataset_version::Entity::find_by_id(pin.dataset_version_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let dataset = dataset::Entity::find_by_id(version.dataset_id)
        .one(db)
        .await?;
    Ok(dataset.map(|d| (d.name, version.number)))
}
