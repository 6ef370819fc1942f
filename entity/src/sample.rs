//! A sample: one item's outcome in a run — its input, target, output and
//! per-sample scores. Append-only; partitioned by the run's ingest time.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sample")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: Uuid,
    /// 0-based position in the source log.
    #[sea_orm(primary_key, auto_increment = false)]
    pub sample_no: i64,
    /// The run's ingest time, copied so a run's samples share a partition.
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_ingested_at: DateTimeUtc,
    /// The harness's index of the item in its dataset.
    pub doc_id: Option<i64>,
    pub filter: String,
    /// SHA-256 of the item's canonical JSON, the same hash dataset items
    /// carry, so one item can be followed across runs and datasets.
    pub item_sha256: Option<String>,
    pub input: Option<String>,
    pub target: Option<String>,
    pub output: Option<String>,
    /// Every per-sample metric; non-finite numbers as their spelling.
    pub scores: Json,
    /// The first metric's value, when it is a finite number.
    pub score: Option<f64>,
    /// Why `score` is or is not present, as on results.
    pub score_kind: String,
    /// Whether a binary first metric (acc, exact_match, …) was 1.
    pub correct: Option<bool>,
    /// Which repetition of the item this is (Inspect's epochs); 1 for
    /// harnesses that run each item once.
    pub epoch: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
