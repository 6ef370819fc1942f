//! A task at one version and configuration; results of different rows are
//! not comparable unless the leaderboard says they are.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "task")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The task version as text; empty when the source records none.
    pub version: String,
    /// SHA-256 of the task's configuration block; empty when the source has none.
    pub config_hash: String,
    pub config: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
