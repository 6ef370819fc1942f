//! Fact tables: runs, their results, their tags and projects, and the ingest log.
//!
//! Every fact table starts its key with `run_id` (a UUIDv5 of the source file's
//! content hash and the task), so the key is also the idempotency guard and the
//! future distribution column. Foreign keys go fact → dimension, or fact → fact
//! on `run_id` only. Indexes are named after the query they serve; see
//! docs/SCHEMA.md.

use sea_orm_migration::prelude::*;

use crate::ddl::{column, create_index, create_table, name, reference};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn run() -> TableCreateStatement {
    Table::create()
        .table(name("run"))
        .col(column("id").uuid().not_null().primary_key())
        .col(column("model_id").big_integer().not_null())
        .col(column("revision").text().null())
        .col(column("revision_step").big_integer().null())
        .col(column("task_id").big_integer().not_null())
        .col(column("n_shot").integer().null())
        .col(column("harness").text().not_null())
        .col(column("harness_version").text().null())
        .col(column("harness_commit").text().null())
        .col(column("config").json_binary().not_null())
        .col(column("config_hash").text().not_null())
        .col(column("source_path").text().not_null())
        .col(column("source_sha256").text().not_null())
        .col(column("started_at").timestamp_with_time_zone().null())
        .col(column("finished_at").timestamp_with_time_zone().null())
        .col(column("ingested_at").timestamp_with_time_zone().not_null())
        .col(column("effective_at").timestamp_with_time_zone().not_null())
        .col(column("sample_limit").double().null())
        .col(column("samples_original").big_integer().null())
        .col(column("samples_effective").big_integer().null())
        .col(column("truncated").boolean().not_null())
        .to_owned()
}

fn run_result() -> TableCreateStatement {
    Table::create()
        .table(name("run_result"))
        .col(column("run_id").uuid().not_null())
        .col(column("metric_id").big_integer().not_null())
        .col(column("filter").text().not_null())
        .col(column("value").double().null())
        .col(column("value_kind").text().not_null())
        .col(column("stderr").double().null())
        .col(column("stderr_kind").text().not_null())
        .primary_key(
            Index::create()
                .col(name("run_id"))
                .col(name("metric_id"))
                .col(name("filter")),
        )
        .to_owned()
}

fn run_link(table: &str, dimension_column: &str) -> TableCreateStatement {
    Table::create()
        .table(name(table))
        .col(column("run_id").uuid().not_null())
        .col(column(dimension_column).big_integer().not_null())
        .primary_key(
            Index::create()
                .col(name("run_id"))
                .col(name(dimension_column)),
        )
        .to_owned()
}

fn ingest_event() -> TableCreateStatement {
    Table::create()
        .table(name("ingest_event"))
        .col(
            column("id")
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(column("occurred_at").timestamp_with_time_zone().not_null())
        .col(column("actor").text().not_null())
        .col(column("outcome").text().not_null())
        .col(column("source_path").text().not_null())
        .col(column("source_sha256").text().null())
        .col(column("runs").integer().not_null())
        .col(column("results").integer().not_null())
        .col(column("detail").text().null())
        .to_owned()
}

async fn create_run_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let indexes: [(&str, &str, &[&str]); 7] = [
        (
            "ix_run_leaderboard",
            "run",
            &["task_id", "n_shot", "model_id", "effective_at"],
        ),
        ("ix_run_model", "run", &["model_id", "effective_at"]),
        ("ix_run_effective_at", "run", &["effective_at"]),
        ("ix_run_source_sha256", "run", &["source_sha256"]),
        (
            "ix_run_result_metric",
            "run_result",
            &["metric_id", "filter", "run_id"],
        ),
        ("ix_run_tag_tag", "run_tag", &["tag_id", "run_id"]),
        (
            "ix_run_project_project",
            "run_project",
            &["project_id", "run_id"],
        ),
    ];
    for (index, table, columns) in indexes {
        let columns = columns.iter().map(|c| name(c)).collect();
        create_index(manager, index, name(table), columns).await?;
    }

    create_index(
        manager,
        "ix_ingest_event_sha256",
        name("ingest_event"),
        vec![name("source_sha256")],
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let run_fks = vec![
            reference(name("run"), name("model_id"), name("ml_model")),
            reference(name("run"), name("task_id"), name("task")),
        ];
        create_table(manager, "run", run(), run_fks).await?;
        let result_fks = vec![
            reference(name("run_result"), name("run_id"), name("run")),
            reference(name("run_result"), name("metric_id"), name("metric")),
        ];
        create_table(manager, "run_result", run_result(), result_fks).await?;
        for (table, dimension_column, dimension) in [
            ("run_tag", "tag_id", "tag"),
            ("run_project", "project_id", "project"),
        ] {
            let fks = vec![
                reference(name(table), name("run_id"), name("run")),
                reference(name(table), name(dimension_column), name(dimension)),
            ];
            create_table(manager, table, run_link(table, dimension_column), fks).await?;
        }
        create_table(manager, "ingest_event", ingest_event(), vec![]).await?;
        create_run_indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "ingest_event",
            "run_project",
            "run_tag",
            "run_result",
            "run",
        ] {
            manager
                .drop_table(Table::drop().table(name(table)).to_owned())
                .await?;
        }

        Ok(())
    }
}
