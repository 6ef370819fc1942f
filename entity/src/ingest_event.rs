//! An ingest event: the append-only record of every file an ingest looked at.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ingest_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    /// Who ingested: the operating-system user of the CLI.
    pub actor: String,
    /// `stored`, `already_stored`, `duplicate`, `skipped` or `rejected`.
    pub outcome: String,
    pub source_path: String,
    pub source_sha256: Option<String>,
    pub runs: i32,
    pub results: i32,
    /// The skip reason or error code and message, when there is one.
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
