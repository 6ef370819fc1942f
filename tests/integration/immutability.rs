//! Stored results never change: PostgreSQL refuses UPDATE and DELETE on fact
//! rows both by privileges (the application role) and by trigger (even the
//! owner); SQLite refuses by trigger.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, RuntimeErr, TransactionTrait,
};

use tests::pg;

use crate::support::{count, empty, ingest, options, real};

async fn with_results(backend: DbBackend) -> anyhow::Result<DatabaseConnection> {
    let db = empty(backend).await?;
    let file = real("lm-eval-harness-v0.3-results/bloom/bloom-560m/bloom-560m_xcopa_0-shot.json");
    let (summary, _) = ingest(&db, &[file], &options()).await?;
    assert_eq!(summary.stored, 1);
    Ok(db)
}

/// Runs `sql` in a transaction that is always rolled back; returns its error.
async fn refused(db: &DatabaseConnection, setup: &str, sql: &str) -> Option<DbErr> {
    let tx = db.begin().await.ok()?;
    if !setup.is_empty() {
        tx.execute_unprepared(setup).await.ok()?;
    }
    let outcome = tx.execute_unprepared(sql).await.err();
    tx.rollback().await.ok()?;
    outcome
}

/// Returns the SQLSTATE of a database error, when the database sent one.
fn sqlstate(error: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) =
        error
    else {
        return None;
    };
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|code| code.into_owned())
}

const CHANGES: [&str; 5] = [
    "UPDATE run_result SET value = 0",
    "DELETE FROM run_result",
    "UPDATE run SET n_shot = 5",
    "DELETE FROM run",
    "DELETE FROM ingest_event",
];

#[tokio::test]
async fn the_trigger_refuses_changes_even_from_the_owner() -> anyhow::Result<()> {
    let db = with_results(DbBackend::Postgres).await?;
    for sql in CHANGES {
        let error = refused(&db, "", sql).await;
        let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(
            message.contains("immutable"),
            "`{sql}` was not refused: {message}"
        );
        assert_eq!(
            error.as_ref().and_then(sqlstate).as_deref(),
            Some("YS001"),
            "`{sql}`"
        );
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM run_result WHERE value = 0").await,
        0
    );

    Ok(())
}

#[tokio::test]
async fn the_application_role_may_read_and_insert_but_not_change() -> anyhow::Result<()> {
    let db = with_results(DbBackend::Postgres).await?;
    let role = format!("SET LOCAL ROLE {}", migration::APP_ROLE);
    for sql in CHANGES {
        let error = refused(&db, &role, sql).await;
        let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(
            message.contains("permission denied"),
            "`{sql}` as app role: {message}"
        );
        assert_eq!(
            error.as_ref().and_then(sqlstate).as_deref(),
            Some("42501"),
            "`{sql}`"
        );
    }
    let read = refused(&db, &role, "SELECT count(*) FROM run_result").await;
    assert!(read.is_none(), "the application role cannot read: {read:?}");
    let insert = "INSERT INTO tag (name, created_at) VALUES ('fresh', now())";
    let inserted = refused(&db, &role, insert).await;
    assert!(
        inserted.is_none(),
        "the application role cannot insert: {inserted:?}"
    );

    Ok(())
}

#[tokio::test]
async fn sqlite_refuses_changes_by_trigger() -> anyhow::Result<()> {
    let db = with_results(DbBackend::Sqlite).await?;
    for sql in CHANGES {
        let message = refused(&db, "", sql)
            .await
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("immutable"),
            "`{sql}` was not refused: {message}"
        );
    }

    Ok(())
}

#[tokio::test]
async fn a_server_running_as_the_application_role_stores_but_cannot_change() -> anyhow::Result<()> {
    let database = pg::fresh_database().await?;
    backend::db::connect_and_migrate(&database.url)
        .await?
        .close()
        .await?;
    // What the README tells operators to do when connecting as the owner.
    let as_app = format!("{}?options=-crole%3D{}", database.url, migration::APP_ROLE);
    let db = backend::db::connect_and_migrate(&as_app).await?;
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_roles WHERE rolname = current_user"
        )
        .await,
        1
    );

    let file = real("lm-eval-harness-v0.4-pr2809/results/Qwen__Qwen2.5-3B");
    let (summary, _) = ingest(&db, &[file], &options()).await?;
    assert_eq!((summary.stored, summary.rejected), (1, 0));
    let error = refused(&db, "", "UPDATE run_result SET value = 0").await;
    assert_eq!(error.as_ref().and_then(sqlstate).as_deref(), Some("42501"));
    let role = "SELECT count(*) FROM pg_roles WHERE rolname = current_user AND NOT rolsuper";
    assert_eq!(
        count(&db, role).await,
        1,
        "the connection must not be a superuser"
    );

    Ok(())
}
