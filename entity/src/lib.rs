//! sea-orm entities for Yardstick's tables, one module per table.
//!
//! Entities describe rows only: they know nothing of GraphQL, actix or HTTP,
//! and carry no business rules. Relations are declared where queries join.

pub mod ingest_event;
pub mod metric;
pub mod ml_model;
pub mod model_alias;
pub mod model_tag;
pub mod project;
pub mod run;
pub mod run_project;
pub mod run_result;
pub mod run_tag;
pub mod tag;
pub mod task;
pub mod task_group_member;
