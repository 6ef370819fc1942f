//! sea-orm entities for Yardstick's tables, one module per table.
//!
//! Entities describe rows only: they know nothing of GraphQL, actix or HTTP,
//! and carry no business rules. Relations are declared where queries join.

pub mod access_token;
pub mod audit_event;
pub mod dataset;
pub mod dataset_item;
pub mod dataset_version;
pub mod dataset_version_item;
pub mod ingest_event;
pub mod leaderboard_board;
pub mod leaderboard_entry;
pub mod leaderboard_ranked;
pub mod metric;
pub mod ml_model;
pub mod model_alias;
pub mod model_tag;
pub mod project;
pub mod quarantine;
pub mod run;
pub mod run_dataset_version;
pub mod run_project;
pub mod run_result;
pub mod run_tag;
pub mod sample;
pub mod tag;
pub mod task;
pub mod task_group_member;
pub mod web_session;
