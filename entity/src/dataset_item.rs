//! A dataset item, stored once per content and shared by every version holding it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dataset_item")]
pub struct Model {
    /// UUIDv5 of the content hash, so storing the same item twice is a no-op.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 of the item's canonical JSON (keys sorted, no whitespace).
    pub content_sha256: String,
    pub content: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
