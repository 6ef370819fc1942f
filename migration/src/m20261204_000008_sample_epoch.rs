//! Samples get the epoch they were scored in.
//!
//! Inspect can run every item several times (epochs); without the epoch a
//! two-epoch log looked like one item stored twice. Logs without epochs
//! (lm-eval, HELM) are epoch 1, which the default gives rows already stored.
//! On PostgreSQL adding the column to the partitioned parent adds it to
//! every partition.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("sample"))
                    .add_column(
                        ColumnDef::new(Alias::new("epoch"))
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("sample"))
                    .drop_column(Alias::new("epoch"))
                    .to_owned(),
            )
            .await
    }
}
