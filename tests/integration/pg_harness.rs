//! Smoke tests of the throwaway-database harness in `tests::pg`.
//!
//! That the private cluster stops when the test process exits cannot be
//! checked from inside that process. It rests on the watchdog described in
//! `tests/src/pg.rs`; to check it by hand, run the tests and then look for
//! leftover `postgres -D …/yardstick-pg_…` processes and directories in the
//! temp folder, of which there should be none a second after the run.

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use tests::pg;

async fn current_database(db: &impl ConnectionTrait) -> anyhow::Result<String> {
    let statement = Statement::from_string(DbBackend::Postgres, "SELECT current_database()");
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row from current_database()"))?;
    Ok(row.try_get_by_index(0)?)
}

#[tokio::test]
async fn fresh_databases_are_distinct_and_usable() -> anyhow::Result<()> {
    let first = pg::fresh_database().await?;
    let second = pg::fresh_database().await?;
    assert_ne!(first.name, second.name);
    assert_ne!(first.url, second.url);

    let first_db = first.connect().await?;
    let second_db = second.connect().await?;
    first_db.execute_unprepared("SELECT 1").await?;
    first_db
        .execute_unprepared("CREATE TABLE only_here (id int)")
        .await?;
    assert_eq!(current_database(&first_db).await?, first.name);
    assert_eq!(current_database(&second_db).await?, second.name);
    let missing = second_db
        .execute_unprepared("SELECT * FROM only_here")
        .await;
    assert!(missing.is_err(), "a table leaked between fresh databases");

    first_db.close().await?;
    second_db.close().await?;
    first.drop_database().await?;
    second.drop_database().await
}

#[tokio::test]
async fn sqlite_urls_are_fresh_files() -> anyhow::Result<()> {
    let first = pg::sqlite_url()?;
    let second = pg::sqlite_url()?;
    assert_ne!(first, second);
    assert!(first.starts_with("sqlite://") && first.ends_with("?mode=rwc"));

    let db = Database::connect(&first).await?;
    db.execute_unprepared("CREATE TABLE t (id integer)").await?;
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

#[test]
fn data_dir_holds_the_real_samples() {
    let dir = pg::data_dir();
    assert!(
        dir.join("lm-eval-harness-v0.3-results").is_dir(),
        "{}",
        dir.display()
    );
}
