//! The one migrator for PostgreSQL and SQLite.
//!
//! Migrations describe tables with sea-query so both backends share one
//! definition; they branch per backend only where SQLite lacks a feature
//! (adding foreign keys after the fact, roles and grants). This crate never
//! imports `entity`: an old migration must keep its meaning when entities change.

pub use sea_orm_migration::prelude::*;

mod ddl;
mod m20261204_000001_dimensions;
mod m20261204_000002_facts;
mod m20261204_000003_immutability;
mod m20261204_000004_datasets_and_access;
mod m20261204_000005_samples;
mod m20261204_000006_quarantine;
mod m20261204_000007_leaderboard_read_model;
mod m20261204_000008_sample_epoch;
mod m20261205_000009_covering_board_index;
mod m20261205_000010_ranked_boards;
pub mod placement;

pub use m20261204_000003_immutability::APP_ROLE;
pub use m20261204_000007_leaderboard_read_model::{
    Rebuild, backfill as rebuild_leaderboard_read_model,
};

/// Lists every migration in the order it must be applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261204_000001_dimensions::Migration),
            Box::new(m20261204_000002_facts::Migration),
            Box::new(m20261204_000003_immutability::Migration),
            Box::new(m20261204_000004_datasets_and_access::Migration),
            Box::new(m20261204_000005_samples::Migration),
            Box::new(m20261204_000006_quarantine::Migration),
            Box::new(m20261204_000007_leaderboard_read_model::Migration),
            Box::new(m20261204_000008_sample_epoch::Migration),
            Box::new(m20261205_000009_covering_board_index::Migration),
            Box::new(m20261205_000010_ranked_boards::Migration),
        ]
    }
}
