//! Dimension tables: projects, tags, models and their aliases, tasks, metrics.
//!
//! Dimensions are small, shared by every run and keyed by `bigint` identities.
//! Natural keys (a model's alias, a task's name + version + config hash) are
//! unique here; facts refer to dimensions, never the other way round.

use sea_orm_migration::prelude::*;

use crate::ddl::{create_index, create_table, reference};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(identifier: &str) -> Alias {
    Alias::new(identifier)
}

fn id_column() -> ColumnDef {
    ColumnDef::new(name("id"))
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn created_at() -> ColumnDef {
    ColumnDef::new(name("created_at"))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn named_dimension(table: &str) -> TableCreateStatement {
    Table::create()
        .table(name(table))
        .col(id_column())
        .col(ColumnDef::new(name("name")).text().not_null().unique_key())
        .col(created_at())
        .to_owned()
}

fn ml_model() -> TableCreateStatement {
    Table::create()
        .table(name("ml_model"))
        .col(id_column())
        .col(ColumnDef::new(name("name")).text().not_null().unique_key())
        .col(ColumnDef::new(name("is_local_path")).boolean().not_null())
        .col(created_at())
        .to_owned()
}

fn model_alias() -> TableCreateStatement {
    Table::create()
        .table(name("model_alias"))
        .col(
            ColumnDef::new(name("spelling"))
                .text()
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new(name("alias_key")).text().not_null())
        .col(ColumnDef::new(name("model_id")).big_integer().not_null())
        .col(created_at())
        .to_owned()
}

fn model_tag() -> TableCreateStatement {
    Table::create()
        .table(name("model_tag"))
        .col(ColumnDef::new(name("model_id")).big_integer().not_null())
        .col(ColumnDef::new(name("tag_id")).big_integer().not_null())
        .primary_key(Index::create().col(name("model_id")).col(name("tag_id")))
        .to_owned()
}

fn task() -> TableCreateStatement {
    Table::create()
        .table(name("task"))
        .col(id_column())
        .col(ColumnDef::new(name("name")).text().not_null())
        .col(ColumnDef::new(name("version")).text().not_null())
        .col(ColumnDef::new(name("config_hash")).text().not_null())
        .col(ColumnDef::new(name("config")).json_binary().null())
        .col(created_at())
        .index(
            Index::create()
                .name("uq_task_name_version_config")
                .unique()
                .col(name("name"))
                .col(name("version"))
                .col(name("config_hash")),
        )
        .to_owned()
}

fn task_group_member() -> TableCreateStatement {
    Table::create()
        .table(name("task_group_member"))
        .col(ColumnDef::new(name("group_name")).text().not_null())
        .col(ColumnDef::new(name("member_name")).text().not_null())
        .primary_key(
            Index::create()
                .col(name("group_name"))
                .col(name("member_name")),
        )
        .to_owned()
}

fn metric() -> TableCreateStatement {
    Table::create()
        .table(name("metric"))
        .col(id_column())
        .col(ColumnDef::new(name("name")).text().not_null().unique_key())
        .col(ColumnDef::new(name("direction")).text().not_null())
        .col(ColumnDef::new(name("direction_source")).text().not_null())
        .col(ColumnDef::new(name("ideal_value")).double().null())
        .col(ColumnDef::new(name("range_min")).double().null())
        .col(ColumnDef::new(name("range_max")).double().null())
        .col(created_at())
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, "project", named_dimension("project"), vec![]).await?;
        create_table(manager, "tag", named_dimension("tag"), vec![]).await?;
        create_table(manager, "ml_model", ml_model(), vec![]).await?;
        let alias_fk = reference(name("model_alias"), name("model_id"), name("ml_model"));
        create_table(manager, "model_alias", model_alias(), vec![alias_fk]).await?;
        let alias_columns = vec![name("alias_key"), name("model_id")];
        create_index(
            manager,
            "ix_model_alias_key",
            name("model_alias"),
            alias_columns,
        )
        .await?;
        let model_tag_fks = vec![
            reference(name("model_tag"), name("model_id"), name("ml_model")),
            reference(name("model_tag"), name("tag_id"), name("tag")),
        ];
        create_table(manager, "model_tag", model_tag(), model_tag_fks).await?;
        create_table(manager, "task", task(), vec![]).await?;
        create_table(manager, "task_group_member", task_group_member(), vec![]).await?;
        create_table(manager, "metric", metric(), vec![]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            "metric",
            "task_group_member",
            "task",
            "model_tag",
            "model_alias",
            "ml_model",
            "tag",
            "project",
        ];
        for table in tables {
            manager
                .drop_table(Table::drop().table(name(table)).to_owned())
                .await?;
        }

        Ok(())
    }
}
