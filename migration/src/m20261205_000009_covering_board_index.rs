//! A board's read-model entries are read from their index alone.
//!
//! Entries arrive one model at a time (an ingest stores one model's runs on
//! many tasks), so the rows of one board lie on as many heap pages as it has
//! models: at two thousand models a leaderboard read touched two thousand
//! pages. The board index now carries every column a leaderboard reads
//! (PostgreSQL `INCLUDE`; on SQLite as trailing key columns, which SQLite
//! reads as a covering index), so a board is a range of a few dozen index
//! pages, read without visiting the table once vacuum has marked its pages
//! all-visible.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::ddl::{create_index, name};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_leaderboard_entry_board";

/// What a leaderboard reads of an entry besides its board key.
const CARRIED: &str = "task_version, n_shot, filter, dataset_version_id, model_id, revision, \
    revision_step, run_id, effective_at, value, stderr, runs";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_board_index(manager).await?;
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => format!(
                "CREATE INDEX {INDEX} ON leaderboard_entry (task_name, metric_id) \
                 INCLUDE ({CARRIED})"
            ),
            _ => format!(
                "CREATE INDEX {INDEX} ON leaderboard_entry (task_name, metric_id, {CARRIED})"
            ),
        };
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_board_index(manager).await?;
        create_index(
            manager,
            INDEX,
            name("leaderboard_entry"),
            vec![name("task_name"), name("metric_id")],
        )
        .await
    }
}

async fn drop_board_index(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(INDEX)
                .table(name("leaderboard_entry"))
                .to_owned(),
        )
        .await
}
