//! Ranked boards: each board's default leaderboard, ranked ahead of requests.
//!
//! At two thousand models a board's entries take about ten milliseconds to
//! read and rank on every request. `leaderboard_ranked` keeps, per task name
//! × metric, the default leaderboard (the configuration with the most models,
//! final revisions) already chosen, picked and ranked, encoded in `body`. It
//! is derived data, written outside the ingest transaction by the server's
//! ranker, and trusted only while the stamp it was ranked from still matches
//! the board: `leaderboard_board.version` (which every writer now increments)
//! and `refreshed_at`, and the metric's direction. A stale row is never
//! served; the board is then ranked on request as before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::APP_ROLE;
use crate::ddl::{column, create_table, identity, name};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn leaderboard_ranked() -> TableCreateStatement {
    Table::create()
        .table(name("leaderboard_ranked"))
        .col(identity())
        .col(column("task_name").text().not_null())
        .col(column("metric_id").big_integer().not_null())
        .col(column("board_version").big_integer().not_null())
        .col(
            column("board_refreshed_at")
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(column("direction").text().not_null())
        .col(column("ideal_value").double().null())
        .col(column("body").blob().not_null())
        .col(column("ranked_at").timestamp_with_time_zone().not_null())
        .index(
            Index::create()
                .name("uq_leaderboard_ranked_task_metric")
                .unique()
                .col(name("task_name"))
                .col(name("metric_id")),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(name("leaderboard_board"))
                    .add_column(column("version").big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        create_table(manager, "leaderboard_ranked", leaderboard_ranked(), vec![]).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON leaderboard_ranked TO {APP_ROLE}; \
                     GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(name("leaderboard_ranked")).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(name("leaderboard_board"))
                    .drop_column(name("version"))
                    .to_owned(),
            )
            .await
    }
}
