//! The leaderboard read model: each board's current entries, kept by every
//! writer in the transaction that stores the results, so a leaderboard is
//! one indexed read instead of a scan of every run of the task.
//!
//! `leaderboard_entry` holds, per comparable configuration × model ×
//! revision × metric, the run a leaderboard would pick (the latest) and how
//! many comparable runs there are; `leaderboard_board` holds, per task name
//! × metric, the runs left out as truncated and when the board last changed.
//! Both are derived data: rebuildable from the facts by `backfill`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement};

use crate::APP_ROLE;
use crate::ddl::{column, create_index, create_table, identity, name};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn leaderboard_entry() -> TableCreateStatement {
    Table::create()
        .table(name("leaderboard_entry"))
        .col(identity())
        .col(column("slot").text().not_null().unique_key())
        .col(column("task_name").text().not_null())
        .col(column("task_version").text().not_null())
        .col(column("n_shot").integer().null())
        .col(column("filter").text().not_null())
        .col(column("dataset_version_id").big_integer().null())
        .col(column("metric_id").big_integer().not_null())
        .col(column("model_id").big_integer().not_null())
        .col(column("revision").text().null())
        .col(column("revision_step").big_integer().null())
        .col(column("run_id").uuid().not_null())
        .col(column("effective_at").timestamp_with_time_zone().not_null())
        .col(column("value").double().null())
        .col(column("stderr").double().null())
        .col(column("runs").big_integer().not_null())
        .to_owned()
}

fn leaderboard_board() -> TableCreateStatement {
    Table::create()
        .table(name("leaderboard_board"))
        .col(identity())
        .col(column("task_name").text().not_null())
        .col(column("metric_id").big_integer().not_null())
        .col(column("truncated_runs").big_integer().not_null())
        .col(column("refreshed_at").timestamp_with_time_zone().not_null())
        .index(
            Index::create()
                .name("uq_leaderboard_board_task_metric")
                .unique()
                .col(name("task_name"))
                .col(name("metric_id")),
        )
        .to_owned()
}

/// The SQL expression that computes an entry's `slot` from its columns
/// (qualified by `source`): every key column, `NULL` spelled `~` and a
/// present value `=` followed by the value with `\` and `|` escaped, joined
/// by `|`, so distinct keys never share a slot. The backend builds the same
/// text in Rust; a test compares the two.
fn slot_sql(source: &str) -> String {
    let part = |expression: String| {
        format!("COALESCE('=' || REPLACE(REPLACE({expression}, '\\', '\\\\'), '|', '\\|'), '~')")
    };
    let text = |name: &str| part(format!("{source}.{name}"));
    let number = |name: &str| part(format!("CAST({source}.{name} AS TEXT)"));
    [
        text("task_name"),
        text("task_version"),
        number("n_shot"),
        text("filter"),
        number("dataset_version_id"),
        number("metric_id"),
        number("model_id"),
        text("revision"),
    ]
    .join(" || '|' || ")
}

/// The columns an entry is keyed by, in `slot` order.
const KEY: &str = "task_name, task_version, n_shot, filter, dataset_version_id, metric_id, \
                   model_id, revision";

/// Which part of the read model a rebuild covers.
#[derive(Debug, Clone, Copy)]
pub enum Rebuild<'a> {
    /// Everything: the tables must be empty.
    All,
    /// One model's entries on one task name: the caller deleted them first
    /// (a run of theirs changed configuration when it was pinned).
    ModelOnTask { task_name: &'a str, model_id: i64 },
}

/// Rebuilds entries from the facts: per slot the latest comparable run (ties
/// to the smaller run id, as leaderboards order them) and the slot's run
/// count; for `Rebuild::All` also every board's truncated runs. Runs the same
/// on PostgreSQL and SQLite.
pub async fn backfill<C: ConnectionTrait>(db: &C, scope: Rebuild<'_>) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let (task_bind, model_bind) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?1", "?2"),
    };
    let (narrow, values) = match scope {
        Rebuild::All => (String::new(), vec![]),
        Rebuild::ModelOnTask {
            task_name,
            model_id,
        } => (
            format!(" AND t.name = {task_bind} AND r.model_id = {model_bind}"),
            vec![task_name.into(), model_id.into()],
        ),
    };
    let candidates = format!(
        "SELECT t.name AS task_name, t.version AS task_version, r.n_shot, \
            rr.filter, p.dataset_version_id, rr.metric_id, r.model_id, r.revision, \
            r.revision_step, r.id AS run_id, r.effective_at, rr.value, rr.stderr \
        FROM run r \
        JOIN task t ON t.id = r.task_id \
        JOIN run_result rr ON rr.run_id = r.id \
        LEFT JOIN run_dataset_version p ON p.run_id = r.id \
        WHERE NOT r.truncated{narrow}"
    );
    let entries = format!(
        "INSERT INTO leaderboard_entry (slot, {KEY}, revision_step, run_id, effective_at, \
             value, stderr, runs) \
         SELECT {slot}, {KEY}, revision_step, run_id, effective_at, value, stderr, runs \
         FROM (SELECT c.*, \
                 ROW_NUMBER() OVER (PARTITION BY {KEY} \
                     ORDER BY effective_at DESC, run_id ASC) AS position, \
                 COUNT(*) OVER (PARTITION BY {KEY}) AS runs \
               FROM ({candidates}) c) ranked \
         WHERE position = 1",
        slot = slot_sql("ranked"),
    );
    db.execute_raw(Statement::from_sql_and_values(backend, entries, values))
        .await?;
    if matches!(scope, Rebuild::All) {
        db.execute_unprepared(BOARDS).await?;
    }

    Ok(())
}

/// Every board with a result, and its distinct truncated runs.
const BOARDS: &str = "INSERT INTO leaderboard_board \
        (task_name, metric_id, truncated_runs, refreshed_at) \
    SELECT t.name, rr.metric_id, COUNT(DISTINCT CASE WHEN r.truncated THEN r.id END), \
        CURRENT_TIMESTAMP \
    FROM run r \
    JOIN task t ON t.id = r.task_id \
    JOIN run_result rr ON rr.run_id = r.id \
    GROUP BY t.name, rr.metric_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, "leaderboard_entry", leaderboard_entry(), vec![]).await?;
        create_index(
            manager,
            "ix_leaderboard_entry_board",
            name("leaderboard_entry"),
            vec![name("task_name"), name("metric_id")],
        )
        .await?;
        create_table(manager, "leaderboard_board", leaderboard_board(), vec![]).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON leaderboard_entry, \
                     leaderboard_board TO {APP_ROLE}; \
                     GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};"
                ))
                .await?;
        }
        backfill(manager.get_connection(), Rebuild::All).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["leaderboard_board", "leaderboard_entry"] {
            manager
                .drop_table(Table::drop().table(name(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
