//! Makes stored results immutable: privileges first, a trigger as second layer.
//!
//! On PostgreSQL the application role `yardstick_app` may only SELECT and
//! INSERT fact tables, and a row-local `BEFORE UPDATE OR DELETE` trigger refuses
//! changes even from the owner. SQLite has no roles, so there only the trigger
//! exists. A re-run is a new run; nothing is updated in place.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The role a server runs as on PostgreSQL: read everything, insert, never change.
pub const APP_ROLE: &str = "yardstick_app";

/// Tables whose rows never change once written.
const IMMUTABLE: &[&str] = &[
    "run",
    "run_result",
    "run_tag",
    "run_project",
    "ingest_event",
];

/// Dimensions the application may extend but not rewrite.
const DIMENSIONS: &[&str] = &[
    "project",
    "tag",
    "ml_model",
    "model_alias",
    "model_tag",
    "task",
    "task_group_member",
    "metric",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFUSE_FUNCTION: &str = "
CREATE OR REPLACE FUNCTION yardstick_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are immutable: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'YS001';
END
$$;";

/// Creates the role once per cluster; concurrent migrations may race on it.
const CREATE_ROLE: &str = "
DO $$ BEGIN
    CREATE ROLE yardstick_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;";

async fn up_postgres(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    db.execute_unprepared(REFUSE_FUNCTION).await?;
    for table in IMMUTABLE {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION yardstick_refuse_change();"
        ))
        .await?;
    }
    db.execute_unprepared(CREATE_ROLE).await?;
    let all: Vec<&str> = IMMUTABLE.iter().chain(DIMENSIONS).copied().collect();
    db.execute_unprepared(&format!(
        "GRANT SELECT, INSERT ON {} TO {APP_ROLE};",
        all.join(", ")
    ))
    .await?;
    // `serve` and `ingest` check for pending migrations at start-up.
    db.execute_unprepared(&format!("GRANT SELECT ON seaql_migrations TO {APP_ROLE};"))
        .await?;
    // A metric first seen without a direction learns it from a later file.
    db.execute_unprepared(&format!("GRANT UPDATE ON metric TO {APP_ROLE};"))
        .await?;
    db.execute_unprepared(&format!(
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};"
    ))
    .await?;

    Ok(())
}

async fn up_sqlite(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    for table in IMMUTABLE {
        for operation in ["UPDATE", "DELETE"] {
            let suffix = operation.to_lowercase();
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_immutable_{suffix} BEFORE {operation} ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'rows of {table} are immutable: \
                 {operation} refused'); END;"
            ))
            .await?;
        }
    }

    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => up_postgres(db).await,
            _ => up_sqlite(db).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        for table in IMMUTABLE {
            if postgres {
                db.execute_unprepared(&format!("DROP TRIGGER {table}_immutable ON {table};"))
                    .await?;
                continue;
            }
            for suffix in ["update", "delete"] {
                db.execute_unprepared(&format!("DROP TRIGGER {table}_immutable_{suffix};"))
                    .await?;
            }
        }
        if postgres {
            let mut all: Vec<&str> = IMMUTABLE.iter().chain(DIMENSIONS).copied().collect();
            all.push("seaql_migrations");
            db.execute_unprepared(&format!(
                "REVOKE ALL ON {} FROM {APP_ROLE};",
                all.join(", ")
            ))
            .await?;
            db.execute_unprepared("DROP FUNCTION yardstick_refuse_change();")
                .await?;
        }

        Ok(())
    }
}
