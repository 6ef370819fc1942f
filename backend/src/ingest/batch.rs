//! Ingests files and folders: walks them, skips duplicates, stores each file
//! in its own transaction and reports one outcome per file.
//!
//! A rejected file never stops the batch; the caller turns the summary into
//! an exit code (non-zero only when something was rejected).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use entity::run;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::file_error::FileError;
use super::source::{Classified, classify};
use super::store::{self, Attachments, SourceFile, Stored};
use crate::service::identity;

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
    /// Byte-identical to a file stored or seen earlier under another path.
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

/// Lists the files under `paths`, folders recursively, in a stable order.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FileError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            return Err(FileError::io(path, "no such file or folder"));
        }
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|error| FileError::io(path, &error.to_string()))?;
            if entry.file_type().is_file() {
                files.push(entry.into_path());
            }
        }
    }

    Ok(files)
}

/// Ingests every file under `paths`; database failures abort, file problems do not.
pub async fn ingest_paths(
    db: &DatabaseConnection,
    paths: &[PathBuf],
    options: &IngestOptions,
    progress: &dyn Progress,
) -> Result<Summary, IngestError> {
    let started = Instant::now();
    let files = collect_files(paths).map_err(IngestError::Input)?;
    progress.start(files.len());
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut summary = Summary::default();
    for file in &files {
        let shown = file.display().to_string();
        let outcome = ingest_file(db, file, &shown, options, &mut seen).await?;
        summary.add(&outcome);
        progress.finished(&shown, &outcome);
    }
    summary.elapsed = started.elapsed();

    Ok(summary)
}

/// Why a whole ingest stopped.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Input(FileError),
    #[error("database error while ingesting: {0}")]
    Database(#[from] DbErr),
}

async fn ingest_file(
    db: &DatabaseConnection,
    file: &Path,
    shown: &str,
    options: &IngestOptions,
    seen: &mut HashMap<String, String>,
) -> Result<Outcome, DbErr> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => {
            let outcome = Outcome::Rejected(FileError::io(file, &error.to_string()));
            record(db, shown, None, options, &outcome).await?;
            return Ok(outcome);
        }
    };
    let sha256 = identity::sha256_hex(&bytes);
    let outcome = match earlier_copy(db, &sha256, shown, seen).await? {
        Some(outcome) => outcome,
        None => classify_and_store(db, file, shown, &bytes, &sha256, options).await?,
    };
    seen.entry(sha256.clone())
        .or_insert_with(|| shown.to_string());
    if !matches!(outcome, Outcome::Stored(_)) {
        record(db, shown, Some(&sha256), options, &outcome).await?;
    }

    Ok(outcome)
}

/// Finds an earlier copy of the same bytes, in this batch or already stored.
async fn earlier_copy(
    db: &DatabaseConnection,
    sha256: &str,
    shown: &str,
    seen: &HashMap<String, String>,
) -> Result<Option<Outcome>, DbErr> {
    if let Some(first) = seen.get(sha256) {
        return Ok(Some(Outcome::Duplicate { of: first.clone() }));
    }
    let stored: Option<String> = run::Entity::find()
        .select_only()
        .column(run::Column::SourcePath)
        .filter(run::Column::SourceSha256.eq(sha256))
        .into_tuple()
        .one(db)
        .await?;

    Ok(stored.map(|path| {
        if path == shown {
            Outcome::AlreadyStored
        } else {
            Outcome::Duplicate { of: path }
        }
    }))
}

async fn classify_and_store(
    db: &DatabaseConnection,
    file: &Path,
    shown: &str,
    bytes: &[u8],
    sha256: &str,
    options: &IngestOptions,
) -> Result<Outcome, DbErr> {
    let parsed = match classify(file, bytes) {
        Classified::Results(parsed) => parsed,
        Classified::BareResults(_) if options.model.is_none() => {
            let reason = "a bare lm-eval results map without model or configuration; \
                          name its model with `--model` to ingest it";
            return Ok(Outcome::Skipped {
                reason: reason.into(),
            });
        }
        Classified::BareResults(parsed) => parsed,
        Classified::Skipped(reason) => return Ok(Outcome::Skipped { reason }),
        Classified::Rejected(error) => return Ok(Outcome::Rejected(error)),
    };
    let Some(model) = identity::model_identity(parsed.model.as_ref(), options.model.as_deref())
    else {
        return Ok(Outcome::Rejected(FileError::model_unresolved()));
    };
    let source = SourceFile {
        path: shown,
        sha256,
        actor: &options.actor,
        model: &model,
        parsed: &parsed,
    };
    match store::store_file(db, &source, &options.attachments).await {
        Ok(stored) => Ok(Outcome::Stored(stored)),
        Err(error @ (DbErr::Conn(_) | DbErr::ConnectionAcquire(_))) => Err(error),
        Err(error) => {
            // The operator sees the cause in the log; the report stays generic.
            tracing::warn!(file = %shown, error = %error, "database refused a file");
            Ok(Outcome::Rejected(FileError::store_failed()))
        }
    }
}

async fn record(
    db: &DatabaseConnection,
    shown: &str,
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
    store::record_event(
        db,
        shown,
        sha256,
        &options.actor,
        name,
        Stored::default(),
        detail,
    )
    .await
}
