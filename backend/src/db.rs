//! Opening the database named by the configuration and bringing its schema
//! up to date.

use migration::{Migrator, MigratorTrait};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr,
};

/// How long the first connection to PostgreSQL may take.
const FIRST_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` without touching the schema.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if !(url.starts_with("sqlite:") || url.starts_with("postgres")) {
        return Err(DbErr::Custom(format!(
            "`{}` is not a database URL: write sqlite://FILE for a SQLite file (created when \
             missing) or postgres://USER@HOST:PORT/DATABASE",
            redact(url)
        )));
    }
    if url.starts_with("postgres") {
        first_connection(url).await?;
    }
    let mut options = ConnectOptions::new(creating_sqlite_file(url));
    // Statement logging would print every parameter, including uploaded payloads.
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's rule; a single connection avoids
        // "database is locked" between our own transactions.
        options.max_connections(1);
    }
    Database::connect(options).await
}

/// Opens and closes one PostgreSQL connection. The pool retries a refused
/// connection until its acquire timeout (30 s) and then reports only "pool
/// timed out", which hides why; one plain attempt fails at once and says it
/// (connection refused, unknown database, authentication failed).
async fn first_connection(url: &str) -> Result<(), DbErr> {
    use sea_orm::sqlx::{Connection, PgConnection};
    let refused = |error: sea_orm::sqlx::Error| DbErr::Conn(RuntimeErr::SqlxError(error.into()));
    match tokio::time::timeout(FIRST_CONNECTION_TIMEOUT, PgConnection::connect(url)).await {
        Ok(Ok(connection)) => connection.close().await.map_err(refused),
        Ok(Err(error)) => Err(refused(error)),
        Err(_) => Err(DbErr::Conn(RuntimeErr::Internal(format!(
            "PostgreSQL did not answer within {} s",
            FIRST_CONNECTION_TIMEOUT.as_secs()
        )))),
    }
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
    } else {
        Migrator::up(&db, None).await?;
        tracing::info!(backend = ?db.get_database_backend(), "database ready, migrations applied");
    }
    add_sample_partitions(&db).await;

    Ok(db)
}

/// Months of sample partitions kept ready beyond the current one.
const SAMPLE_MONTHS_AHEAD: i32 = 3;

/// Creates the coming months' sample partitions on PostgreSQL. A role that
/// may not create tables (the application role) only logs a warning: rows
/// then land in the default partition, and nothing is lost.
async fn add_sample_partitions(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let sql = format!("SELECT yardstick_add_sample_partitions({SAMPLE_MONTHS_AHEAD})");
    match db.execute_unprepared(&sql).await {
        Ok(_) => tracing::debug!("sample partitions ready"),
        Err(error) => tracing::warn!(
            error = %error,
            "could not create the coming months' sample partitions; \
             samples go to the default partition until an owner starts the server"
        ),
    }
}

/// Lets a SQLite URL that names no `mode` create its file, as the default
/// database does: without `mode=rwc` a new file is refused with only
/// "unable to open database file". Other URLs are returned as they are.
fn creating_sqlite_file(url: &str) -> String {
    if !url.starts_with("sqlite:") || url.contains("mode=") {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=rwc")
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
    fn sqlite_urls_without_a_mode_create_their_file() {
        assert_eq!(
            creating_sqlite_file("sqlite:///tmp/a.db"),
            "sqlite:///tmp/a.db?mode=rwc"
        );
        assert_eq!(
            creating_sqlite_file("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            creating_sqlite_file("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(creating_sqlite_file("postgres://h/d"), "postgres://h/d");
    }

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
