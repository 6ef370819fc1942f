//! The one migrator works both ways on both backends.

use migration::{Migrator, MigratorTrait};
use sea_orm::DbBackend;

use crate::support::{count, empty};

async fn round_trip(backend: DbBackend) -> anyhow::Result<()> {
    let db = empty(backend).await?;
    let applied = Migrator::get_applied_migrations(&db).await?.len();
    assert_eq!(applied, Migrator::migrations().len());

    Migrator::down(&db, None).await?;
    assert!(Migrator::get_applied_migrations(&db).await?.is_empty());
    Migrator::up(&db, None).await?;
    assert_eq!(Migrator::get_applied_migrations(&db).await?.len(), applied);
    assert_eq!(count(&db, "SELECT count(*) FROM run").await, 0);

    Ok(())
}

#[tokio::test]
async fn migrations_go_down_and_up_again_on_postgres() -> anyhow::Result<()> {
    round_trip(DbBackend::Postgres).await
}

#[tokio::test]
async fn migrations_go_down_and_up_again_on_sqlite() -> anyhow::Result<()> {
    round_trip(DbBackend::Sqlite).await
}
