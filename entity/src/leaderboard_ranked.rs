//! A board's default leaderboard, ranked ahead of requests, with the stamp
//! of the board it was ranked from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "leaderboard_ranked")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_name: String,
    pub metric_id: i64,
    /// The board's `version` and `refreshed_at` when its entries were read:
    /// the ranking is current while both still match.
    pub board_version: i64,
    pub board_refreshed_at: DateTimeUtc,
    /// The metric's direction the entries were ranked by.
    pub direction: String,
    pub ideal_value: Option<f64>,
    /// The ranked leaderboard, encoded by the backend.
    pub body: Vec<u8>,
    pub ranked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
