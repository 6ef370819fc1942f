//! An audit event: who changed what, from what to what, and when. Append-only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    /// `token:<name>` for API and web changes, `cli:<user>` for the CLI.
    pub actor: String,
    /// What happened, `<entity>.<verb>`: `dataset.create`, `run.ingest`, …
    pub action: String,
    /// `dataset`, `dataset_version`, `run`, `source_file` or `access_token`.
    pub entity_kind: String,
    pub entity_id: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
