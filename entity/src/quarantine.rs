//! A rejected source file, kept with its error until a fixed copy is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quarantine")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub quarantined_at: DateTimeUtc,
    pub actor: String,
    pub source_path: String,
    pub source_sha256: Option<String>,
    /// The error's stable code (`invalid_json`, `invalid_field`, …).
    pub code: String,
    /// Where in the file: a JSON path (`$.results.arc_easy`) or `line N`.
    pub location: String,
    pub message: String,
    /// When a later ingest of the same path stored it.
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
