//! A leaderboard read-model board: one task name × metric, with the runs
//! left out as truncated and when and how often its entries changed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leaderboard_board")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_name: String,
    pub metric_id: i64,
    pub truncated_runs: i64,
    pub refreshed_at: DateTimeUtc,
    /// Counts the changes to the board's entries: every writer adds one.
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
