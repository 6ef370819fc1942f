//! Membership of a task in a task group (lm-eval `group_subtasks`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_group_member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_name: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_name: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
