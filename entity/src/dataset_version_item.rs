//! One position of a dataset version: which item sits there, under which key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dataset_version_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub version_id: i64,
    /// 0-based order of the item in the uploaded file.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i64,
    pub item_id: Uuid,
    /// The item's key-field value, or its content hash when the dataset has none.
    pub item_key: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
