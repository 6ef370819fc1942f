//! The quarantine: every rejected source file, with the error's code, where
//! in the file it is and its message, until a later ingest of the same path
//! stores the file (then it is marked resolved, never deleted).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::APP_ROLE;
use crate::ddl::{create_index, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn column(identifier: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(identifier))
}

fn quarantine() -> TableCreateStatement {
    Table::create()
        .table(Alias::new("quarantine"))
        .col(
            column("id")
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(
            column("quarantined_at")
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(column("actor").text().not_null())
        .col(column("source_path").text().not_null())
        .col(column("source_sha256").text().null())
        .col(column("code").text().not_null())
        .col(column("location").text().not_null())
        .col(column("message").text().not_null())
        .col(column("resolved_at").timestamp_with_time_zone().null())
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, "quarantine", quarantine(), vec![]).await?;
        create_index(
            manager,
            "ix_quarantine_source_path",
            Alias::new("quarantine"),
            vec![Alias::new("source_path"), Alias::new("resolved_at")],
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "GRANT SELECT, INSERT, UPDATE ON quarantine TO {APP_ROLE}; \
                     GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("quarantine")).to_owned())
            .await
    }
}
