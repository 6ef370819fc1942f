//! A result: one metric value of a run under one filter; immutable.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "run_result")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub metric_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub filter: String,
    /// Null unless `value_kind` is `finite`.
    pub value: Option<f64>,
    /// `finite`, `nan`, `positive_infinity`, `negative_infinity`, `not_available`
    /// or `missing`.
    pub value_kind: String,
    pub stderr: Option<f64>,
    pub stderr_kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::run::Entity",
        from = "Column::RunId",
        to = "super::run::Column::Id"
    )]
    Run,
    #[sea_orm(
        belongs_to = "super::metric::Entity",
        from = "Column::MetricId",
        to = "super::metric::Column::Id"
    )]
    Metric,
}

impl Related<super::run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Run.def()
    }
}

impl Related<super::metric::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Metric.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
