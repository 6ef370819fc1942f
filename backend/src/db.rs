//! Opening the database named by the configuration and bringing its schema
//! up to date.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Connects to `url` without touching the schema.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    // Statement logging would print every parameter, including uploaded payloads.
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's rule; a single connection avoids
        // "database is locked" between our own transactions.
        options.max_connections(1);
    }
    Database::connect(options).await
}

/// Connects to `url` and applies every pending migration.
///
/// When nothing is pending the schema is only read, so a server connected as
/// the application role (which may not create tables) starts as well.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = connect(url).await?;
    let pending = Migrator::get_pending_migrations_read_only(&db).await;
    if pending.is_ok_and(|pending| pending.is_empty()) {
        tracing::info!(backend = ?db.get_database_backend(), "database ready, schema current");
        return Ok(db);
    }
    Migrator::up(&db, None).await?;
    tracing::info!(backend = ?db.get_database_backend(), "database ready, migrations applied");

    Ok(db)
}

/// Hides the password of a database URL, for logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/d"),
            "postgres://u:***@h:5432/d"
        );
        assert_eq!(
            redact("sqlite://yardstick.db?mode=rwc"),
            "sqlite://yardstick.db?mode=rwc"
        );
    }
}
