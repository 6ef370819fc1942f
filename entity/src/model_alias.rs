//! A model alias: a normalised spelling that resolves to one model.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "model_alias")]
pub struct Model {
    /// The spelling exactly as a source wrote it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub spelling: String,
    /// The normalised key spellings match on (lower case; a path's last segment).
    pub alias_key: String,
    pub model_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
