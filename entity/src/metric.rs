//! A metric: a named measure with a direction and, when known, a range.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metric")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// `higher`, `lower`, `ideal` or `unknown`.
    pub direction: String,
    /// `file` (the source said so), `builtin` (Yardstick's table) or `unknown`.
    pub direction_source: String,
    pub ideal_value: Option<f64>,
    pub range_min: Option<f64>,
    pub range_max: Option<f64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
