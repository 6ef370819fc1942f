//! A run: one evaluation of one model on one task under one configuration.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "run")]
pub struct Model {
    /// UUIDv5 of the source file's content hash and the task key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub model_id: i64,
    pub revision: Option<String>,
    /// The number in a `stepN` revision, used to find a model's final checkpoint.
    pub revision_step: Option<i64>,
    pub task_id: i64,
    pub n_shot: Option<i32>,
    pub harness: String,
    pub harness_version: Option<String>,
    pub harness_commit: Option<String>,
    pub config: Json,
    pub config_hash: String,
    pub source_path: String,
    pub source_sha256: String,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub ingested_at: DateTimeUtc,
    /// When the evaluation ran, or when it was ingested if the source has no date.
    pub effective_at: DateTimeUtc,
    pub sample_limit: Option<f64>,
    pub samples_original: Option<i64>,
    pub samples_effective: Option<i64>,
    /// True when `--limit` cut the evaluation short; such runs are never ranked.
    pub truncated: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::ml_model::Entity",
        from = "Column::ModelId",
        to = "super::ml_model::Column::Id"
    )]
    Model,
    #[sea_orm(
        belongs_to = "super::task::Entity",
        from = "Column::TaskId",
        to = "super::task::Column::Id"
    )]
    Task,
}

impl Related<super::ml_model::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Model.def()
    }
}

impl Related<super::task::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Task.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
