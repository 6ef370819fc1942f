//! Ingests files and folders: walks them, skips duplicates, stores each file
//! in its own transaction and reports one outcome per file.
//!
//! A rejected file never stops the batch; the caller turns the summary into
//! an exit code (non-zero only when something was rejected).

mod table;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use entity::run;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, RuntimeErr,
    TransactionTrait,
};

use super::file_error::FileError;
use super::parsed::ParsedFile;
use super::sample_store::{self, RunLookup, SamplesSource};
use super::source::{Classified, classify};
use super::store::{self, Attachments, SourceFile, Stored};
use crate::service::{identity, quarantine};

/// Settings of one ingest, from the command line.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Names the model of files that identify it only by a local path (or not at all).
    pub model: Option<String>,
    pub attachments: Attachments,
    /// Who ingests, recorded on every event.
    pub actor: String,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stored(Stored),
    /// The same bytes were stored before under this very path.
    AlreadyStored,
    /// Byte-identical to a file stored earlier, in this batch or before, under
    /// another path (for a HELM run, its whole run folder).
    Duplicate {
        of: String,
    },
    /// Not something this version of Yardstick imports; not an error.
    Skipped {
        reason: String,
    },
    Rejected(FileError),
}

impl Outcome {
    fn event_name(&self) -> &'static str {
        match self {
            Self::Stored(_) => "stored",
            Self::AlreadyStored => "already_stored",
            Self::Duplicate { .. } => "duplicate",
            Self::Skipped { .. } => "skipped",
            Self::Rejected(_) => "rejected",
        }
    }
}

/// Counts over a whole ingest, printed at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub files: usize,
    pub stored: usize,
    pub already_stored: usize,
    pub duplicates: usize,
    pub skipped: usize,
    pub rejected: usize,
    pub runs: usize,
    pub results: usize,
    pub samples: usize,
    /// Leaderboard rows dropped as repeats of a model listed before.
    pub dropped_rows: usize,
    pub elapsed: Duration,
}

impl Summary {
    fn add(&mut self, outcome: &Outcome) {
        self.files += 1;
        match outcome {
            Outcome::Stored(stored) => {
                self.stored += 1;
                self.runs += stored.runs;
                self.results += stored.results;
                self.samples += stored.samples;
                self.dropped_rows += stored.dropped_rows;
            }
            Outcome::AlreadyStored => self.already_stored += 1,
            Outcome::Duplicate { .. } => self.duplicates += 1,
            Outcome::Skipped { .. } => self.skipped += 1,
            Outcome::Rejected(_) => self.rejected += 1,
        }
    }

    /// Returns files handled per second over the whole ingest.
    pub fn files_per_second(&self) -> f64 {
        per_second(self.files, self.elapsed)
    }

    /// Returns results stored per second over the whole ingest.
    pub fn results_per_second(&self) -> f64 {
        per_second(self.results, self.elapsed)
    }
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// Receives each file's outcome as it happens (a progress bar, a test, a log).
pub trait Progress {
    fn start(&self, files: usize);
    fn finished(&self, path: &str, outcome: &Outcome);
}

/// A path found while walking the inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    File(PathBuf),
    /// A path that could not be listed or read, with the reason.
    Unreadable(PathBuf, String),
}

/// Lists the files under `paths` in a stable order, folders recursively and
/// through symbolic links; a path that cannot be read is listed as such, so
/// one bad argument never hides the others.
pub fn collect_files(paths: &[PathBuf]) -> Vec<Found> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_file() {
            found.push(Found::File(path.clone()));
            continue;
        }
        if !path.is_dir() {
            found.push(Found::Unreadable(
                path.clone(),
                "no such file or folder".into(),
            ));
            continue;
        }
        for entry in walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
        {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    found.push(Found::File(entry.into_path()));
                }
                Ok(_) => {}
                Err(error) => {
                    let at = error.path().map_or_else(|| path.clone(), Path::to_path_buf);
                    found.push(Found::Unreadable(at, error.to_string()));
                }
            }
        }
    }
    found
}

/// Ingests every file under `paths`; database failures abort, file problems do not.
pub async fn ingest_paths(
    db: &DatabaseConnection,
    paths: &[PathBuf],
    options: &IngestOptions,
    progress: &dyn Progress,
) -> Result<Summary, IngestError> {
    let started = Instant::now();
    let found = collect_files(paths);
    progress.start(found.len());
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut summary = Summary::default();
    for item in &found {
        let (file, outcome) = match item {
            Found::File(file) => (file, ingest_file(db, file, options, &mut seen).await?),
            Found::Unreadable(path, reason) => {
                let outcome = Outcome::Rejected(FileError::io(path, reason));
                record(db, &path.display().to_string(), None, options, &outcome).await?;
                (path, outcome)
            }
        };
        summary.add(&outcome);
        progress.finished(&file.display().to_string(), &outcome);
    }
    summary.elapsed = started.elapsed();

    Ok(summary)
}

/// Why a whole ingest stopped: the database failed, not a file.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Another writer holds the SQLite file; said in words, because
    /// SQLite's own ("database is locked") does not say what to do.
    #[error(
        "the SQLite database is busy: another program (a running `yardstick serve`, or a \
         second ingest) is writing to it, and SQLite takes one writer at a time; the file \
         being stored was not kept, so run the ingest again once the other writer is done, \
         or use PostgreSQL (DATABASE_URL) for writers at the same time"
    )]
    Busy(#[source] DbErr),
    #[error("database error while ingesting: {0}")]
    Database(#[source] DbErr),
}

impl From<DbErr> for IngestError {
    fn from(error: DbErr) -> Self {
        if sqlite_busy(&error) {
            Self::Busy(error)
        } else {
            Self::Database(error)
        }
    }
}

async fn ingest_file(
    db: &DatabaseConnection,
    file: &Path,
    options: &IngestOptions,
    seen: &mut HashMap<String, String>,
) -> Result<Outcome, DbErr> {
    // Stored paths are absolute, so `./x.json` and `x.json` are one source.
    let source_path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let source_path = source_path.display().to_string();
    if is_samples_log(file) {
        return ingest_samples_log(db, file, &source_path, options, seen).await;
    }
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => {
            let outcome = Outcome::Rejected(FileError::io(file, &error.to_string()));
            record(db, &source_path, None, options, &outcome).await?;
            return Ok(outcome);
        }
    };
    let sha256 = identity::sha256_hex(&bytes);
    let (outcome, source_sha256) = match earlier_copy(db, &sha256, &source_path, seen).await? {
        Some(outcome) => (outcome, sha256),
        None => classify_and_store(db, file, &source_path, &bytes, &sha256, options, seen).await?,
    };
    remember(seen, &outcome, &source_sha256, &source_path);
    if !matches!(outcome, Outcome::Stored(_)) {
        record(db, &source_path, Some(&source_sha256), options, &outcome).await?;
    }

    Ok(outcome)
}

/// Remembers content whose results were stored, so a later copy of it in the
/// same batch is reported as a duplicate of it.
///
/// Files that stored nothing are not remembered: a byte-identical copy of a
/// skipped file (the same `instances.json` in every HELM run folder) gets its
/// own reason, not "same as" a file that was itself skipped.
fn remember(seen: &mut HashMap<String, String>, outcome: &Outcome, sha256: &str, path: &str) {
    if matches!(outcome, Outcome::Stored(_) | Outcome::AlreadyStored) {
        seen.entry(sha256.to_string())
            .or_insert_with(|| path.to_string());
    }
}

/// Per-sample logs can outgrow memory, so they are streamed, never read whole.
fn is_samples_log(file: &Path) -> bool {
    file.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("samples_") && name.ends_with(".jsonl"))
}

/// Ingests one per-sample log into the samples of its run.
async fn ingest_samples_log(
    db: &DatabaseConnection,
    file: &Path,
    source_path: &str,
    options: &IngestOptions,
    seen: &mut HashMap<String, String>,
) -> Result<Outcome, DbErr> {
    let sha256 = match sample_store::file_sha256(file) {
        Ok(sha256) => sha256,
        Err(error) => {
            let outcome = Outcome::Rejected(FileError::io(file, &error.to_string()));
            record(db, source_path, None, options, &outcome).await?;
            return Ok(outcome);
        }
    };
    let outcome = match seen.get(&sha256) {
        Some(first) => Outcome::Duplicate { of: first.clone() },
        None => store_samples_log(db, file, source_path, &sha256, options).await?,
    };
    remember(seen, &outcome, &sha256, source_path);
    if !matches!(outcome, Outcome::Stored(_)) {
        record(db, source_path, Some(&sha256), options, &outcome).await?;
    }
    Ok(outcome)
}

async fn store_samples_log(
    db: &DatabaseConnection,
    file: &Path,
    source_path: &str,
    sha256: &str,
    options: &IngestOptions,
) -> Result<Outcome, DbErr> {
    let run = match sample_store::find_run(db, file).await? {
        RunLookup::Found(run) => run,
        RunLookup::Missing(reason) => return Ok(Outcome::Skipped { reason }),
    };
    if sample_store::sample_count(db, run.id).await? > 0 {
        if sample_store::stored_before(db, sha256).await? {
            return Ok(Outcome::AlreadyStored);
        }
        let reason = format!("run {} has samples from another log already", run.id);
        return Ok(Outcome::Skipped { reason });
    }
    let source = SamplesSource {
        file,
        path: source_path,
        sha256,
        actor: &options.actor,
    };
    match sample_store::store_samples(db, &source, &run).await {
        Ok(Ok(stored)) => Ok(Outcome::Stored(stored)),
        Ok(Err(error)) => Ok(Outcome::Rejected(error)),
        Err(error) if is_unavailable(&error) => Err(error),
        Err(error) => {
            tracing::warn!(file = source_path, error = %error, "database refused a samples log");
            Ok(Outcome::Rejected(FileError::store_failed()))
        }
    }
}

/// Finds an earlier copy of the same bytes, already stored or seen in this batch.
async fn earlier_copy(
    db: &DatabaseConnection,
    sha256: &str,
    source_path: &str,
    seen: &HashMap<String, String>,
) -> Result<Option<Outcome>, DbErr> {
    let stored: Option<String> = run::Entity::find()
        .select_only()
        .column(run::Column::SourcePath)
        .filter(run::Column::SourceSha256.eq(sha256))
        .into_tuple()
        .one(db)
        .await?;
    let outcome = match (stored, seen.get(sha256)) {
        (Some(path), _) if path == source_path => Some(Outcome::AlreadyStored),
        (Some(path), _) => Some(Outcome::Duplicate { of: path }),
        (None, Some(first)) => Some(Outcome::Duplicate { of: first.clone() }),
        (None, None) => None,
    };

    Ok(outcome)
}

/// Reads a file and stores what it holds; returns the outcome and the hash
/// that identifies the source (its own, or its run folder's).
async fn classify_and_store(
    db: &DatabaseConnection,
    file: &Path,
    source_path: &str,
    bytes: &[u8],
    sha256: &str,
    options: &IngestOptions,
    seen: &HashMap<String, String>,
) -> Result<(Outcome, String), DbErr> {
    let own = |outcome| Ok((outcome, sha256.to_string()));
    let parsed = match classify(file, bytes) {
        Classified::Results(parsed) => parsed,
        Classified::BareResults(_) if options.model.is_none() => {
            let reason = "a bare lm-eval results map without model or configuration; \
                          name its model with `--model` to ingest it";
            return own(Outcome::Skipped {
                reason: reason.into(),
            });
        }
        Classified::BareResults(parsed) => parsed,
        Classified::Table(parsed) => {
            return own(table::store(db, source_path, sha256, &parsed, options).await?);
        }
        Classified::Skipped(reason) => return own(Outcome::Skipped { reason }),
        Classified::Rejected(error) => return own(Outcome::Rejected(error)),
    };
    if parsed.runs.is_empty() {
        let reason = "an lm-eval results file whose `results` map is empty; nothing to store";
        return own(Outcome::Skipped {
            reason: reason.into(),
        });
    }
    // A source spanning several files (a HELM run folder) is named by the
    // hash of them all, which only reading it reveals.
    let source_sha256 = parsed
        .folder_sha256
        .clone()
        .unwrap_or_else(|| sha256.to_string());
    if source_sha256 != sha256
        && let Some(outcome) = earlier_copy(db, &source_sha256, source_path, seen).await?
    {
        return Ok((outcome, source_sha256));
    }
    let outcome = store_parsed(db, source_path, &source_sha256, &parsed, options).await?;

    Ok((outcome, source_sha256))
}

async fn store_parsed(
    db: &DatabaseConnection,
    source_path: &str,
    sha256: &str,
    parsed: &ParsedFile,
    options: &IngestOptions,
) -> Result<Outcome, DbErr> {
    if options.model.is_some() && !identity::accepts_model_override(parsed.model.as_ref()) {
        tracing::warn!(
            file = source_path,
            "--model ignored: the file names its own hub model"
        );
    }
    let Some(model) = identity::model_identity(parsed.model.as_ref(), options.model.as_deref())
    else {
        return Ok(Outcome::Rejected(FileError::model_unresolved()));
    };
    let source = SourceFile {
        path: source_path,
        sha256,
        actor: &options.actor,
        model: &model,
        parsed,
        attachments: &options.attachments,
    };
    stored_or_rejected(store::store_file(db, &source).await, source_path)
}

/// Turns what storing a file returned into its outcome; only a database
/// that is unreachable or busy ends the ingest.
fn stored_or_rejected(result: Result<Stored, DbErr>, source_path: &str) -> Result<Outcome, DbErr> {
    match result {
        Ok(stored) => Ok(Outcome::Stored(stored)),
        Err(error) if is_unavailable(&error) => Err(error),
        Err(error) => {
            // The operator sees the cause in the log; the report stays generic.
            tracing::warn!(file = source_path, error = %error, "database refused a file");
            Ok(Outcome::Rejected(FileError::store_failed()))
        }
    }
}

/// Tells a database that is unreachable or busy (which ends the ingest) from
/// one that refused this file's content (which rejects only the file).
fn is_unavailable(error: &DbErr) -> bool {
    matches!(error, DbErr::Conn(_) | DbErr::ConnectionAcquire(_)) || sqlite_busy(error)
}

/// Whether SQLite refused because another writer holds the file:
/// SQLITE_BUSY (5) or SQLITE_LOCKED (6). Retrying the next file would fail
/// the same way.
fn sqlite_busy(error: &DbErr) -> bool {
    const SQLITE_BUSY_OR_LOCKED: [&str; 2] = ["5", "6"];
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(sqlx_error))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx_error)) => sqlx_error
            .as_database_error()
            .and_then(|database_error| database_error.code())
            .is_some_and(|code| SQLITE_BUSY_OR_LOCKED.contains(&code.as_ref())),
        _ => false,
    }
}

async fn record(
    db: &DatabaseConnection,
    source_path: &str,
    sha256: Option<&str>,
    options: &IngestOptions,
    outcome: &Outcome,
) -> Result<(), DbErr> {
    let detail = match outcome {
        Outcome::Duplicate { of } => Some(format!("same as {of}")),
        Outcome::Skipped { reason } => Some(reason.clone()),
        Outcome::Rejected(error) => Some(error.to_string()),
        Outcome::Stored(_) | Outcome::AlreadyStored => None,
    };
    let name = outcome.event_name();
    // A rejection and its quarantine entry are written together.
    let tx = db.begin().await?;
    store::record_event(
        &tx,
        source_path,
        sha256,
        &options.actor,
        name,
        Stored::default(),
        detail,
    )
    .await?;
    if let Outcome::Rejected(error) = outcome {
        quarantine::record(&tx, &options.actor, source_path, sha256, error).await?;
    }
    tx.commit().await
}
