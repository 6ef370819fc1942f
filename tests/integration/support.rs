//! Shared fixtures: ingesting, running GraphQL in process, and a PostgreSQL
//! template database holding the whole real sample folder.
//!
//! Ingesting the real folder takes seconds, so it happens once per test
//! process into a template database; tests that only read get a copy.

pub mod browser;

use std::path::{Path, PathBuf};

use async_graphql::Request;
use backend::graphql::{build_schema, loader::loaders};
use backend::ingest::batch::{IngestOptions, Outcome, Progress, Summary, ingest_paths};
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, SqlxPostgresConnector, Statement};
use serde_json::Value;
use tests::pg;
use tokio::sync::OnceCell;

/// Collects outcomes instead of drawing a progress bar.
#[derive(Default)]
pub struct Recorder {
    pub outcomes: std::sync::Mutex<Vec<(String, Outcome)>>,
}

impl Progress for Recorder {
    fn start(&self, _files: usize) {}

    fn finished(&self, path: &str, outcome: &Outcome) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            outcomes.push((path.to_string(), outcome.clone()));
        }
    }
}

impl Recorder {
    /// Returns the outcome recorded for the file whose path ends with `suffix`.
    pub fn outcome_of(&self, suffix: &str) -> Option<Outcome> {
        let outcomes = self.outcomes.lock().ok()?;
        outcomes
            .iter()
            .find(|(path, _)| path.ends_with(suffix))
            .map(|(_, o)| o.clone())
    }
}

/// Default ingest options, as the CLI would build them.
pub fn options() -> IngestOptions {
    IngestOptions {
        actor: "test".into(),
        ..IngestOptions::default()
    }
}

/// Ingests `paths` and returns the summary with every file's outcome.
pub async fn ingest(
    db: &DatabaseConnection,
    paths: &[PathBuf],
    options: &IngestOptions,
) -> anyhow::Result<(Summary, Recorder)> {
    let recorder = Recorder::default();
    let summary = ingest_paths(db, paths, options, &recorder).await?;
    Ok((summary, recorder))
}

/// Runs a GraphQL query in process and returns the whole response as JSON.
pub async fn graphql(db: &DatabaseConnection, query: &str) -> Value {
    let schema = build_schema(db.clone());
    let response = schema
        .execute(Request::new(query).data(loaders(db.clone())))
        .await;
    serde_json::to_value(&response).unwrap_or(Value::Null)
}

/// Runs a GraphQL query that must succeed and returns its `data`.
pub async fn data(db: &DatabaseConnection, query: &str) -> Value {
    let response = graphql(db, query).await;
    assert!(response.get("errors").is_none(), "query failed: {response}");
    response["data"].clone()
}

/// Returns one integer from a SQL query.
pub async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let row = db.query_one_raw(statement).await.ok().flatten();
    row.and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(-1)
}

/// Ingests the real folder the way `scripts/run.sh` does: the LLaMA-1 folders
/// first, named with `--model` (their files know the model only by a cluster
/// path), then everything.
pub async fn ingest_real_folder(db: &DatabaseConnection) -> anyhow::Result<Summary> {
    let data = pg::data_dir();
    for size in ["7B", "13B", "30B"] {
        let folder = data.join(format!("lm-eval-harness-v0.3-results/llama/llama-{size}"));
        let named = IngestOptions {
            model: Some(format!("huggyllama/llama-{}", size.to_lowercase())),
            ..options()
        };
        ingest(db, &[folder], &named).await?;
    }
    let (summary, _) = ingest(db, &[data], &options()).await?;
    Ok(summary)
}

/// The template database with the real folder ingested, and that ingest's summary.
struct RealTemplate {
    name: String,
    summary: Summary,
}

static REAL: OnceCell<Result<RealTemplate, String>> = OnceCell::const_new();

async fn build_real_template() -> anyhow::Result<RealTemplate> {
    let template = pg::fresh_database().await?;
    let db = backend::db::connect_and_migrate(&template.url).await?;
    let summary = ingest_real_folder(&db).await?;
    db.close().await?;
    Ok(RealTemplate {
        name: template.name,
        summary,
    })
}

/// Returns a fresh PostgreSQL database holding the real folder, and the
/// summary of the ingest that filled it.
pub async fn real_postgres() -> anyhow::Result<(DatabaseConnection, Summary)> {
    show_server_logs();
    let init = || async { build_real_template().await.map_err(|e| format!("{e:#}")) };
    let template = match REAL.get_or_init(init).await {
        Ok(template) => template,
        Err(message) => anyhow::bail!("building the real-data template failed: {message}"),
    };
    let copy = pg::fresh_database_from_template(&template.name).await?;
    let db = copy.connect().await?;
    Ok((db, template.summary.clone()))
}

/// Ingests `paths` again and checks that it stores nothing: each of the
/// `stored_files` is already stored, and no run or result is added.
pub async fn assert_reingest_stores_nothing(
    db: &DatabaseConnection,
    paths: &[PathBuf],
    stored_files: usize,
) -> anyhow::Result<()> {
    let runs = count(db, "SELECT count(*) FROM run").await;
    let results = count(db, "SELECT count(*) FROM run_result").await;
    let (again, _) = ingest(db, paths, &options()).await?;
    assert_eq!(
        (
            again.stored,
            again.already_stored,
            again.runs,
            again.results
        ),
        (0, stored_files, 0, 0)
    );
    assert_eq!(count(db, "SELECT count(*) FROM run").await, runs);
    assert_eq!(count(db, "SELECT count(*) FROM run_result").await, results);
    Ok(())
}

/// Sends the server's warnings and errors to the test's output, so a test
/// that sees an `internal` error also shows its cause when it fails.
pub fn show_server_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_test_writer()
        .try_init();
}

/// Opens a second pool on `db`'s PostgreSQL database, for a server the test
/// runs in process and stops before it is done.
///
/// The server's worker threads run runtimes of their own, and a connection
/// opened on one of them dies with it: a test that shared the server's pool
/// and read after stopping it failed now and then with "A Tokio 1.x context
/// was found, but it is being shutdown". Other backends share `db`.
pub fn pool_for_server(db: &DatabaseConnection) -> DatabaseConnection {
    if db.get_database_backend() != DbBackend::Postgres {
        return db.clone();
    }
    let options = db.get_postgres_connection_pool().connect_options();
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_lazy_with((*options).clone());
    SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
}

/// Returns a migrated, empty database of the given backend.
pub async fn empty(backend: DbBackend) -> anyhow::Result<DatabaseConnection> {
    show_server_logs();
    let url = match backend {
        DbBackend::Postgres => pg::fresh_database().await?.url,
        _ => pg::sqlite_url()?,
    };
    Ok(backend::db::connect_and_migrate(&url).await?)
}

/// Returns a path inside the real data folder.
pub fn real(relative: &str) -> PathBuf {
    pg::data_dir().join(relative)
}

/// Writes `content` to `name` inside a fresh scratch folder and returns the folder.
pub fn scratch_files(files: &[(&str, &[u8])]) -> anyhow::Result<PathBuf> {
    let dir = Path::new(
        &pg::sqlite_url()?
            .replace("sqlite://", "")
            .replace("?mode=rwc", ""),
    )
    .parent()
    .map(Path::to_path_buf)
    .ok_or_else(|| anyhow::anyhow!("no scratch folder"))?;
    for (name, content) in files {
        std::fs::write(dir.join(name), content)?;
    }
    Ok(dir)
}
