//! A dataset version: an immutable list of items with a lifecycle state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dataset_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dataset_id: i64,
    /// 1, 2, … within the dataset.
    pub number: i32,
    pub parent_id: Option<i64>,
    /// SHA-256 over the item hashes in order.
    pub content_sha256: String,
    pub item_count: i64,
    /// Each field seen in the items and its JSON type(s).
    pub item_schema: Json,
    pub note: String,
    /// `draft`, `published`, `deprecated`, `archived` or `discarded`.
    pub state: String,
    /// Why a version was deprecated.
    pub state_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub deprecated_at: Option<DateTimeUtc>,
    pub archived_at: Option<DateTimeUtc>,
    pub discarded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
