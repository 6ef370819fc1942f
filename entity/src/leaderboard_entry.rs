//! A leaderboard read-model row: the run a board picks for one comparable
//! configuration × model × revision × metric, kept current by every writer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "leaderboard_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Every key column below in one text, the target of upserts.
    #[sea_orm(unique)]
    pub slot: String,
    pub task_name: String,
    pub task_version: String,
    pub n_shot: Option<i32>,
    pub filter: String,
    pub dataset_version_id: Option<i64>,
    pub metric_id: i64,
    pub model_id: i64,
    pub revision: Option<String>,
    pub revision_step: Option<i64>,
    /// The latest comparable run of the slot.
    pub run_id: Uuid,
    pub effective_at: DateTimeUtc,
    /// Null unless the value is finite.
    pub value: Option<f64>,
    pub stderr: Option<f64>,
    /// How many comparable runs the slot holds.
    pub runs: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
