//! Per-sample results: one row per item a run evaluated, with its output and
//! per-sample scores.
//!
//! On PostgreSQL the table is range-partitioned by month on the run's ingest
//! time, copied into every row so a run's samples share one partition (the
//! key includes it, as PostgreSQL requires). `yardstick_add_sample_partitions`
//! creates the coming months' partitions; the migration calls it and so does
//! every start of `serve` and `ingest`, and a default partition catches rows
//! should a month be missing. A BRIN index serves time-window scans (rows
//! arrive in time order); B-tree keys serve per-run reads. SQLite gets one
//! plain table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::APP_ROLE;
use crate::placement::distribute;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Months of partitions the migration creates beyond the current one.
const MONTHS_AHEAD: i32 = 3;

const COLUMNS: &str = "
    run_id uuid NOT NULL,
    sample_no bigint NOT NULL,
    run_ingested_at timestamptz NOT NULL,
    doc_id bigint,
    filter text NOT NULL,
    item_sha256 text,
    input text,
    target text,
    output text,
    scores jsonb NOT NULL,
    score double precision,
    score_kind text NOT NULL,
    correct boolean,
    PRIMARY KEY (run_id, sample_no, run_ingested_at)";

const ADD_PARTITIONS: &str = "
CREATE OR REPLACE FUNCTION yardstick_add_sample_partitions(months_ahead integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    first_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
    low timestamp;
    high timestamp;
    part text;
    created integer := 0;
BEGIN
    FOR i IN 0..months_ahead LOOP
        low := first_month + make_interval(months => i);
        high := low + interval '1 month';
        part := 'sample_' || to_char(low, 'YYYY_MM');
        IF to_regclass(part) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF sample FOR VALUES FROM (%L) TO (%L)',
                part, low::text || '+00', high::text || '+00');
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;";

async fn up_postgres(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "CREATE TABLE sample ({COLUMNS}) PARTITION BY RANGE (run_ingested_at);"
    ))
    .await?;
    distribute(manager, "sample").await?;
    for statement in [
        "ALTER TABLE sample ADD CONSTRAINT fk_sample_run_id \
         FOREIGN KEY (run_id) REFERENCES run (id) ON DELETE RESTRICT;",
        "CREATE TABLE sample_default PARTITION OF sample DEFAULT;",
        "CREATE INDEX ix_sample_run_ingested_at ON sample USING brin (run_ingested_at);",
        "CREATE INDEX ix_sample_item ON sample (run_id, item_sha256);",
        "CREATE TRIGGER sample_immutable BEFORE UPDATE OR DELETE ON sample \
         FOR EACH ROW EXECUTE FUNCTION yardstick_refuse_change();",
        ADD_PARTITIONS,
        &format!("SELECT yardstick_add_sample_partitions({MONTHS_AHEAD});"),
        &format!("GRANT SELECT, INSERT ON sample TO {APP_ROLE};"),
    ] {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// The same columns through sea-query, so SQLite gets the column types every
/// other table of this migrator gets (and sea-orm decodes).
fn sqlite_table() -> TableCreateStatement {
    let column = |name: &str| ColumnDef::new(Alias::new(name));
    Table::create()
        .table(Alias::new("sample"))
        .col(column("run_id").uuid().not_null())
        .col(column("sample_no").big_integer().not_null())
        .col(
            column("run_ingested_at")
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(column("doc_id").big_integer().null())
        .col(column("filter").text().not_null())
        .col(column("item_sha256").text().null())
        .col(column("input").text().null())
        .col(column("target").text().null())
        .col(column("output").text().null())
        .col(column("scores").json_binary().not_null())
        .col(column("score").double().null())
        .col(column("score_kind").text().not_null())
        .col(column("correct").boolean().null())
        .primary_key(
            Index::create()
                .col(Alias::new("run_id"))
                .col(Alias::new("sample_no"))
                .col(Alias::new("run_ingested_at")),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_sample_run_id")
                .from(Alias::new("sample"), Alias::new("run_id"))
                .to(Alias::new("run"), Alias::new("id"))
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

async fn up_sqlite(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager.create_table(sqlite_table()).await?;
    let db = manager.get_connection();
    for statement in [
        "CREATE INDEX ix_sample_item ON sample (run_id, item_sha256);",
        "CREATE TRIGGER sample_immutable_update BEFORE UPDATE ON sample \
         BEGIN SELECT RAISE(ABORT, 'rows of sample are immutable: UPDATE refused'); END;",
        "CREATE TRIGGER sample_immutable_delete BEFORE DELETE ON sample \
         BEGIN SELECT RAISE(ABORT, 'rows of sample are immutable: DELETE refused'); END;",
    ] {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => up_postgres(manager).await,
            _ => up_sqlite(manager).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE sample;").await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION yardstick_add_sample_partitions(integer);")
                .await?;
        }
        Ok(())
    }
}
