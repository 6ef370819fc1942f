//! GraphQL types of datasets, their versions, items, diffs and upload previews.

use async_graphql::{Context, Enum, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{dataset, dataset_version};
use serde_json::Value;

use super::audit::AuditEvent;
use super::connection::{PageConnection, connection, page_complexity, page_request};
use super::types::db;
use crate::service::audit::{self, EventWhere};
use crate::service::dataset::{self as datasets, diff, version};

/// Where a dataset version is in its life.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetVersionState {
    /// Uploaded, not yet in use; may be published or discarded.
    Draft,
    /// In use; its items never change again.
    Published,
    /// Still readable, with a reason not to use it.
    Deprecated,
    /// Retired.
    Archived,
    /// A draft that was never published.
    Discarded,
}

impl From<version::State> for DatasetVersionState {
    fn from(state: version::State) -> Self {
        match state {
            version::State::Draft => Self::Draft,
            version::State::Published => Self::Published,
            version::State::Deprecated => Self::Deprecated,
            version::State::Archived => Self::Archived,
            version::State::Discarded => Self::Discarded,
        }
    }
}

/// How an item differs between two versions.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemChange {
    Added,
    Removed,
    /// Same key, different content.
    Changed,
}

impl From<diff::ItemChange> for ItemChange {
    fn from(change: diff::ItemChange) -> Self {
        match change {
            diff::ItemChange::Added => Self::Added,
            diff::ItemChange::Removed => Self::Removed,
            diff::ItemChange::Changed => Self::Changed,
        }
    }
}

/// A field of a version's items and the JSON types it takes.
#[derive(SimpleObject, Debug, Clone)]
pub struct ItemField {
    pub name: String,
    /// `string`, `number`, `boolean`, `null`, `object` or `array`.
    pub types: Vec<String>,
}

fn item_fields(schema: &Value) -> Vec<ItemField> {
    schema
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(name, types)| ItemField {
                    name: name.clone(),
                    types: types
                        .as_array()
                        .map(|t| {
                            t.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A named collection of items, curated in versions.
pub struct Dataset(pub dataset::Model);

#[Object]
impl Dataset {
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    async fn tags(&self) -> Vec<String> {
        datasets::tags_of(&self.0)
    }

    /// The item field that identifies an item across versions; when `null`,
    /// each upload's first item decides among `id`, `instance_id`, … and
    /// items without one are matched by content only.
    async fn key_field(&self) -> Option<&str> {
        self.0.key_field.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn created_by(&self) -> &str {
        &self.0.created_by
    }

    /// Every version, newest first.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<DatasetVersion>> {
        let rows = version::list(db(ctx)?, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|row| DatasetVersion::new(row, &self.0))
            .collect())
    }

    async fn version(&self, ctx: &Context<'_>, number: i32) -> Result<Option<DatasetVersion>> {
        let rows = version::list(db(ctx)?, self.0.id).await?;
        Ok(rows
            .into_iter()
            .find(|row| row.number == number)
            .map(|row| DatasetVersion::new(row, &self.0)))
    }

    /// The newest published version: what an evaluation should use today.
    async fn latest_published(&self, ctx: &Context<'_>) -> Result<Option<DatasetVersion>> {
        let rows = version::list(db(ctx)?, self.0.id).await?;
        Ok(rows
            .into_iter()
            .find(|row| version::State::parse(&row.state) == version::State::Published)
            .map(|row| DatasetVersion::new(row, &self.0)))
    }

    /// The dataset as it was at `time`: its name, description, tags and the
    /// versions that existed then, each in the state it had then. `null` when
    /// the dataset did not exist yet.
    async fn as_of(&self, ctx: &Context<'_>, time: DateTime<Utc>) -> Result<Option<DatasetAsOf>> {
        let db = db(ctx)?;
        let Some(fields) = datasets::as_of(db, &self.0, time).await? else {
            return Ok(None);
        };
        let versions = version::list(db, self.0.id)
            .await?
            .into_iter()
            .filter_map(|row| {
                version::state_at(&row, time).map(|state| DatasetVersionAsOf {
                    number: row.number,
                    state: state.into(),
                    item_count: row.item_count,
                    content_sha256: row.content_sha256,
                })
            })
            .collect();
        Ok(Some(DatasetAsOf {
            time,
            name: fields.name,
            description: fields.description,
            tags: fields.tags,
            versions,
        }))
    }

    /// Every change to the dataset and its versions, newest first.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PageConnection<AuditEvent>> {
        let filter = EventWhere {
            entity_kind: Some("dataset".to_string()),
            entity_id: Some(self.0.id.to_string()),
        };
        let request = page_request(first, after.as_deref())?;
        let page = audit::list(db(ctx)?, &filter, request).await?;
        Ok(connection(page, AuditEvent))
    }
}

/// A dataset as it was at a past moment.
#[derive(SimpleObject)]
pub struct DatasetAsOf {
    pub time: DateTime<Utc>,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    /// Versions that existed at `time`, newest first.
    pub versions: Vec<DatasetVersionAsOf>,
}

/// A version's state at a past moment.
#[derive(SimpleObject)]
pub struct DatasetVersionAsOf {
    pub number: i32,
    pub state: DatasetVersionState,
    pub item_count: i64,
    pub content_sha256: String,
}

/// An immutable snapshot of a dataset's items.
pub struct DatasetVersion {
    row: dataset_version::Model,
    dataset: dataset::Model,
}

impl DatasetVersion {
    pub fn new(row: dataset_version::Model, dataset: &dataset::Model) -> Self {
        Self {
            row,
            dataset: dataset.clone(),
        }
    }
}

#[Object]
impl DatasetVersion {
    /// The dataset's name.
    async fn dataset(&self) -> &str {
        &self.dataset.name
    }

    /// 1, 2, … in upload order.
    async fn number(&self) -> i32 {
        self.row.number
    }

    async fn state(&self) -> DatasetVersionState {
        version::State::parse(&self.row.state).into()
    }

    /// Why the version was deprecated.
    async fn state_reason(&self) -> Option<&str> {
        self.row.state_reason.as_deref()
    }

    /// SHA-256 over the items' content hashes in order.
    async fn content_sha256(&self) -> &str {
        &self.row.content_sha256
    }

    async fn item_count(&self) -> i64 {
        self.row.item_count
    }

    /// Each field of the items and the JSON types it takes.
    async fn item_schema(&self) -> Vec<ItemField> {
        item_fields(&self.row.item_schema)
    }

    /// The changelog note given at upload.
    async fn note(&self) -> &str {
        &self.row.note
    }

    async fn created_by(&self) -> &str {
        &self.row.created_by
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.row.published_at
    }

    async fn deprecated_at(&self) -> Option<DateTime<Utc>> {
        self.row.deprecated_at
    }

    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.row.archived_at
    }

    /// The version this one was uploaded as a successor of.
    async fn parent_number(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        let Some(parent_id) = self.row.parent_id else {
            return Ok(None);
        };
        let rows = version::list(db(ctx)?, self.dataset.id).await?;
        Ok(rows.iter().find(|r| r.id == parent_id).map(|r| r.number))
    }

    /// How many runs were computed on this version.
    async fn run_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(version::run_count(db(ctx)?, self.row.id).await?)
    }

    /// The items in upload order.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PageConnection<DatasetItem>> {
        let request = page_request(first, after.as_deref())?;
        let page = version::items(db(ctx)?, self.row.id, request).await?;
        Ok(connection(page, |item| DatasetItem {
            position: item.position,
            key: item.key,
            content_sha256: item.item.content_sha256,
            content: Json(item.item.content),
        }))
    }

    /// What changed from version `against` (default: the parent) to this one;
    /// `null` when there is nothing to compare with.
    async fn diff(&self, ctx: &Context<'_>, against: Option<i32>) -> Result<Option<DatasetDiff>> {
        let db = db(ctx)?;
        let rows = version::list(db, self.dataset.id).await?;
        let base = match against {
            Some(number) => Some(version::find(db, &self.dataset, number).await?),
            None => self
                .row
                .parent_id
                .and_then(|id| rows.into_iter().find(|r| r.id == id)),
        };
        let Some(base) = base else {
            return Ok(None);
        };
        let diff = version::diff_versions(db, &base, &self.row).await?;
        Ok(Some(DatasetDiff {
            from_number: Some(base.number),
            to_number: Some(self.row.number),
            diff,
        }))
    }
}

/// One item at its position in a version.
#[derive(SimpleObject)]
pub struct DatasetItem {
    /// 0-based position in the uploaded file.
    pub position: i64,
    /// The key-field value, or the content hash when the dataset has no key.
    pub key: String,
    pub content_sha256: String,
    /// The item with its keys sorted.
    pub content: Json<Value>,
}

/// What changed between two versions, matched by item key.
pub struct DatasetDiff {
    pub from_number: Option<i32>,
    pub to_number: Option<i32>,
    pub diff: diff::Diff,
}

#[Object]
impl DatasetDiff {
    /// The older version; `null` in a preview of a first version.
    async fn from_number(&self) -> Option<i32> {
        self.from_number
    }

    /// The newer version; `null` in a preview.
    async fn to_number(&self) -> Option<i32> {
        self.to_number
    }

    async fn added(&self) -> u64 {
        self.diff.added
    }

    async fn removed(&self) -> u64 {
        self.diff.removed
    }

    async fn changed(&self) -> u64 {
        self.diff.changed
    }

    async fn unchanged(&self) -> u64 {
        self.diff.unchanged
    }

    /// The changes: changed and added items in the newer version's order,
    /// then removed ones. Content is included for the first 200.
    async fn entries(
        &self,
        #[graphql(default = 50, validator(minimum = 0, maximum = 200))] first: i32,
    ) -> Vec<DatasetDiffEntry> {
        let first = usize::try_from(first).unwrap_or(0);
        self.diff
            .entries
            .iter()
            .take(first)
            .map(|entry| DatasetDiffEntry {
                key: entry.key.clone(),
                change: entry.change.into(),
                before: entry.before_content.clone().map(Json),
                after: entry.after_content.clone().map(Json),
            })
            .collect()
    }
}

/// One changed item.
#[derive(SimpleObject)]
pub struct DatasetDiffEntry {
    pub key: String,
    pub change: ItemChange,
    /// The item in the older version; `null` when added.
    pub before: Option<Json<Value>>,
    /// The item in the newer version; `null` when removed.
    pub after: Option<Json<Value>>,
}

/// What an upload would store, computed without storing anything.
pub struct DatasetVersionPreview(pub version::Preview);

#[Object]
impl DatasetVersionPreview {
    async fn item_count(&self) -> u64 {
        self.0.item_count
    }

    /// Items whose content is not stored yet; the rest are shared with
    /// stored versions and cost nothing new.
    async fn new_item_count(&self) -> u64 {
        self.0.new_item_count
    }

    /// The field used as item key, if any.
    async fn key_field(&self) -> Option<&str> {
        self.0.key_field.as_deref()
    }

    async fn item_schema(&self) -> Vec<ItemField> {
        item_fields(&self.0.schema)
    }

    /// The first 10 items, keys sorted.
    async fn first_rows(&self) -> Vec<Json<Value>> {
        self.0.first_rows.iter().cloned().map(Json).collect()
    }

    /// The version the upload would descend from.
    async fn parent_number(&self) -> Option<i32> {
        self.0.parent_number
    }

    /// The change against the parent (every item added when there is none).
    async fn diff(&self) -> DatasetDiff {
        DatasetDiff {
            from_number: self.0.parent_number,
            to_number: None,
            diff: self.0.diff.clone(),
        }
    }
}
