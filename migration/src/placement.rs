//! Where each table lives once the database is distributed (Citus), as data.
//!
//! On plain PostgreSQL and SQLite placement changes nothing. It exists now so
//! that the schema rules that keep a later move to Citus cheap can be checked
//! by a test against the catalog, and so that `distribute` is the single place
//! that would emit `create_reference_table` / `create_distributed_table`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// How a table is placed in a distributed database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A small dimension copied to every node.
    Reference,
    /// A fact table sharded by `run_id`, co-located with `run`.
    DistributedByRun,
    /// Kept on the coordinator only (bookkeeping, append-only logs).
    Local,
}

/// Every table of the schema and its placement; a test fails on any table missing here.
pub const TABLES: &[(&str, Placement)] = &[
    ("project", Placement::Reference),
    ("tag", Placement::Reference),
    ("ml_model", Placement::Reference),
    ("model_alias", Placement::Reference),
    ("model_tag", Placement::Reference),
    ("task", Placement::Reference),
    ("task_group_member", Placement::Reference),
    ("metric", Placement::Reference),
    ("run", Placement::DistributedByRun),
    ("run_result", Placement::DistributedByRun),
    ("run_tag", Placement::DistributedByRun),
    ("run_project", Placement::DistributedByRun),
    ("dataset", Placement::Reference),
    ("dataset_version", Placement::Reference),
    ("dataset_item", Placement::Reference),
    ("dataset_version_item", Placement::Reference),
    ("run_dataset_version", Placement::DistributedByRun),
    ("sample", Placement::DistributedByRun),
    ("ingest_event", Placement::Local),
    ("access_token", Placement::Local),
    ("web_session", Placement::Local),
    ("audit_event", Placement::Local),
    ("quarantine", Placement::Local),
    // The leaderboard read model: derived, rebuildable, read whole per board.
    ("leaderboard_entry", Placement::Local),
    ("leaderboard_board", Placement::Local),
    ("leaderboard_ranked", Placement::Local),
    ("seaql_migrations", Placement::Local),
];

/// Returns the placement of `table`, or `None` for a table the map does not know.
pub fn placement_of(table: &str) -> Option<Placement> {
    TABLES
        .iter()
        .find(|(name, _)| *name == table)
        .map(|(_, placement)| *placement)
}

/// Distributes `table` when the `citus` extension is installed; a no-op otherwise.
///
/// Called between creating a table and adding its foreign keys, which is the
/// order Citus requires.
pub async fn distribute(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let Some(placement) = placement_of(table) else {
        return Err(DbErr::Migration(format!(
            "table `{table}` has no placement"
        )));
    };
    let call = match placement {
        Placement::Reference => format!("PERFORM create_reference_table('{table}');"),
        Placement::DistributedByRun if table == "run" => {
            format!("PERFORM create_distributed_table('{table}', 'id');")
        }
        Placement::DistributedByRun => format!(
            "PERFORM create_distributed_table('{table}', 'run_id', colocate_with => 'run');"
        ),
        Placement::Local => return Ok(()),
    };
    let sql = format!(
        "DO $$ BEGIN \
           IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN \
             SET LOCAL citus.multi_shard_modify_mode TO 'sequential'; {call} \
           END IF; \
         END $$;"
    );
    manager
        .get_connection()
        .execute_unprepared(&sql)
        .await
        .map(|_| ())
}
