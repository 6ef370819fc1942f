//! Stores a per-sample log: finds the run it belongs to, streams its lines
//! into the sample table in one transaction, and records the ingest.
//!
//! On PostgreSQL rows go through `COPY … FROM STDIN` in batches of about a
//! megabyte; on SQLite through multi-row inserts. Memory holds one line and
//! one batch, whatever the size of the log. A bad line aborts the whole log:
//! nothing of it is stored.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{DateTime, Utc};
use entity::{ingest_event, run, sample};
use sea_orm::sqlx;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::file_error::{ErrorCode, FileError};
use super::samples::{MAX_LINE_BYTES, SampleRow, read_sample, task_and_stamp};
use super::store::{self, Stored};
use crate::service::audit::{self, Change, Subject};
use crate::service::{identity, quarantine};

/// Bytes of COPY data sent at a time.
const COPY_BATCH_BYTES: usize = 1 << 20;
/// Rows per INSERT on SQLite (14 columns each, well under its parameter limit).
const INSERT_BATCH_ROWS: usize = 500;

const COPY_SAMPLES: &str = "COPY sample (run_id, sample_no, run_ingested_at, doc_id, filter, \
    item_sha256, input, target, output, scores, score, score_kind, correct, epoch) FROM STDIN";

/// Where a log's run was looked for and what was found.
pub enum RunLookup {
    Found(Box<run::Model>),
    /// Not an error in the file: the run is unknown, with the reason.
    Missing(String),
}

/// Finds the run of `samples_<task>_<time>.jsonl`: the task of the
/// `results_<time>.json` beside it, which must be stored already.
pub async fn find_run<C: ConnectionTrait>(db: &C, file: &Path) -> Result<RunLookup, DbErr> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some((task, stamp)) = task_and_stamp(name) else {
        return Ok(RunLookup::Missing(format!(
            "`{name}` is not named samples_<task>_<time>.jsonl, so its run is unknown"
        )));
    };
    let results_name = format!("results_{stamp}.json");
    let results = file.with_file_name(&results_name);
    let Ok(bytes) = std::fs::read(&results) else {
        return Ok(RunLookup::Missing(format!(
            "per-sample log without its results file: `{results_name}` is not beside it"
        )));
    };
    let run_id = identity::run_id(&identity::sha256_hex(&bytes), task);
    match run::Entity::find_by_id(run_id).one(db).await? {
        Some(run) => Ok(RunLookup::Found(Box::new(run))),
        None => Ok(RunLookup::Missing(format!(
            "`{results_name}` holds no stored run of task `{task}`; ingest it first"
        ))),
    }
}

/// Returns the SHA-256 of a file, read in pieces.
pub fn file_sha256(file: &Path) -> std::io::Result<String> {
    let mut reader = BufReader::new(File::open(file)?);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Counts the samples a run has.
pub async fn sample_count<C: ConnectionTrait>(db: &C, run_id: Uuid) -> Result<u64, DbErr> {
    sample::Entity::find()
        .filter(sample::Column::RunId.eq(run_id))
        .count(db)
        .await
}

/// Reads the lines of a log one at a time, refusing overlong ones.
struct Lines<R> {
    reader: R,
    line: u64,
    buffer: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    /// Returns the next non-blank line and its 1-based number.
    fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, FileError> {
        loop {
            self.buffer.clear();
            self.line += 1;
            let limit = (MAX_LINE_BYTES + 1) as u64;
            let read = (&mut self.reader)
                .take(limit)
                .read_until(b'\n', &mut self.buffer)
                .map_err(|error| FileError::io(Path::new("samples log"), &error.to_string()))?;
            if read == 0 {
                return Ok(None);
            }
            if self.buffer.len() > MAX_LINE_BYTES {
                return Err(FileError {
                    code: ErrorCode::UnsupportedShape,
                    path: format!("line {}", self.line),
                    message: format!("Line longer than {MAX_LINE_BYTES} bytes."),
                });
            }
            if self.buffer.iter().any(|b| !b.is_ascii_whitespace()) {
                return Ok(Some((self.line, &self.buffer)));
            }
        }
    }
}

/// Appends one field of COPY's text format, escaped.
fn copy_field(out: &mut Vec<u8>, value: Option<&str>) {
    let Some(value) = value else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for byte in value.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

/// Appends one row of COPY's text format.
fn copy_row(out: &mut Vec<u8>, run: &run::Model, row: &SampleRow) {
    let fields: [Option<String>; 14] = [
        Some(run.id.to_string()),
        Some(row.sample_no.to_string()),
        Some(run.ingested_at.to_rfc3339()),
        row.doc_id.map(|id| id.to_string()),
        Some(row.filter.clone()),
        row.item_sha256.clone(),
        row.input.clone(),
        row.target.clone(),
        row.output.clone(),
        Some(row.scores.to_string()),
        row.score.map(|s| s.to_string()),
        Some(row.score_kind.to_string()),
        row.correct.map(|c| if c { "t" } else { "f" }.to_string()),
        Some(row.epoch.to_string()),
    ];
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.push(b'\t');
        }
        copy_field(out, field.as_deref());
    }
    out.push(b'\n');
}

/// Builds the row of one sample of run `run_id`, ingested at `ingested_at`.
pub fn active_row(run_id: Uuid, ingested_at: DateTime<Utc>, row: SampleRow) -> sample::ActiveModel {
    sample::ActiveModel {
        run_id: Set(run_id),
        sample_no: Set(row.sample_no),
        run_ingested_at: Set(ingested_at),
        doc_id: Set(row.doc_id),
        filter: Set(row.filter),
        item_sha256: Set(row.item_sha256),
        input: Set(row.input),
        target: Set(row.target),
        output: Set(row.output),
        scores: Set(row.scores),
        score: Set(row.score),
        score_kind: Set(row.score_kind.to_string()),
        correct: Set(row.correct),
        epoch: Set(row.epoch),
    }
}

/// What a log store needs to know.
pub struct SamplesSource<'a> {
    pub file: &'a Path,
    pub path: &'a str,
    pub sha256: &'a str,
    pub actor: &'a str,
}

/// Stores every sample of a log for `run`; a bad line stores nothing and is
/// returned as the file's error.
pub async fn store_samples(
    db: &DatabaseConnection,
    source: &SamplesSource<'_>,
    run: &run::Model,
) -> Result<Result<Stored, FileError>, DbErr> {
    let reader = match File::open(source.file) {
        Ok(file) => BufReader::with_capacity(1 << 16, file),
        Err(error) => return Ok(Err(FileError::io(source.file, &error.to_string()))),
    };
    let mut lines = Lines {
        reader,
        line: 0,
        buffer: Vec::new(),
    };
    match db.get_database_backend() {
        DbBackend::Postgres => copy_samples(db, source, run, &mut lines).await,
        _ => insert_samples(db, source, run, &mut lines).await,
    }
}

fn ingest_change<'a>(source: &'a SamplesSource<'_>, actor: &'a str, samples: usize) -> Change<'a> {
    Change {
        actor,
        action: "source_file.ingest",
        subject: Subject::new("source_file", source.sha256),
        before: None,
        after: Some(json!({"path": source.path, "samples": samples})),
    }
}

async fn copy_samples<R: BufRead>(
    db: &DatabaseConnection,
    source: &SamplesSource<'_>,
    run: &run::Model,
    lines: &mut Lines<R>,
) -> Result<Result<Stored, FileError>, DbErr> {
    let internal = |error: sqlx::Error| DbErr::Custom(error.to_string());
    let pool = db.get_postgres_connection_pool();
    let mut tx = pool.begin().await.map_err(internal)?;
    let mut copy = tx.copy_in_raw(COPY_SAMPLES).await.map_err(internal)?;
    let mut batch = Vec::with_capacity(COPY_BATCH_BYTES + 4096);
    let mut count = 0usize;
    loop {
        let (line, bytes) = match lines.next_line() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(error) => {
                copy.abort("bad line").await.map_err(internal)?;
                return Ok(Err(error));
            }
        };
        match read_sample(line, count as i64, bytes) {
            Ok(row) => copy_row(&mut batch, run, &row),
            Err(error) => {
                copy.abort("bad line").await.map_err(internal)?;
                return Ok(Err(error));
            }
        }
        count += 1;
        if batch.len() >= COPY_BATCH_BYTES {
            copy.send(batch.as_slice()).await.map_err(internal)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        copy.send(batch.as_slice()).await.map_err(internal)?;
    }
    copy.finish().await.map_err(internal)?;
    let stored = Stored {
        runs: 0,
        results: 0,
        samples: count,
        dropped_rows: 0,
    };
    // The event rows go through the same sqlx transaction as the samples.
    let now: DateTime<Utc> = Utc::now();
    sqlx::query(
        "INSERT INTO ingest_event (occurred_at, actor, outcome, source_path, source_sha256, \
         runs, results, detail) VALUES ($1, $2, 'stored', $3, $4, 0, 0, $5)",
    )
    .bind(now)
    .bind(source.actor)
    .bind(source.path)
    .bind(source.sha256)
    .bind(format!("{count} samples of run {}", run.id))
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    let actor = format!("cli:{}", source.actor);
    let change = ingest_change(source, &actor, count);
    sqlx::query(
        "INSERT INTO audit_event (occurred_at, actor, action, entity_kind, entity_id, before, \
         after) VALUES ($1, $2, $3, $4, $5, NULL, $6)",
    )
    .bind(now)
    .bind(change.actor)
    .bind(change.action)
    .bind(change.subject.kind)
    .bind(&change.subject.id)
    .bind(change.after)
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    sqlx::query(
        "UPDATE quarantine SET resolved_at = $1 WHERE source_path = $2 AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(source.path)
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(Ok(stored))
}

async fn insert_samples<R: BufRead>(
    db: &DatabaseConnection,
    source: &SamplesSource<'_>,
    run: &run::Model,
    lines: &mut Lines<R>,
) -> Result<Result<Stored, FileError>, DbErr> {
    let tx = db.begin().await?;
    let mut batch = Vec::with_capacity(INSERT_BATCH_ROWS);
    let mut count = 0usize;
    loop {
        let (line, bytes) = match lines.next_line() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(error) => return Ok(Err(error)),
        };
        match read_sample(line, count as i64, bytes) {
            Ok(row) => batch.push(active_row(run.id, run.ingested_at, row)),
            Err(error) => return Ok(Err(error)),
        }
        count += 1;
        if batch.len() >= INSERT_BATCH_ROWS {
            sample::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(&tx)
                .await?;
        }
    }
    if !batch.is_empty() {
        sample::Entity::insert_many(batch)
            .exec_without_returning(&tx)
            .await?;
    }
    let stored = Stored {
        runs: 0,
        results: 0,
        samples: count,
        dropped_rows: 0,
    };
    store::record_event(
        &tx,
        source.path,
        Some(source.sha256),
        source.actor,
        "stored",
        stored,
        Some(format!("{count} samples of run {}", run.id)),
    )
    .await?;
    let actor = format!("cli:{}", source.actor);
    audit::record(&tx, ingest_change(source, &actor, count)).await?;
    quarantine::resolve(&tx, source.path).await?;
    tx.commit().await?;
    Ok(Ok(stored))
}

/// Whether a log with this hash was stored before (for "already stored").
pub async fn stored_before<C: ConnectionTrait>(db: &C, sha256: &str) -> Result<bool, DbErr> {
    Ok(ingest_event::Entity::find()
        .filter(ingest_event::Column::SourceSha256.eq(sha256))
        .filter(ingest_event::Column::Outcome.eq("stored"))
        .count(db)
        .await?
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_fields_escape_what_the_text_format_reserves() {
        let mut out = Vec::new();
        copy_field(&mut out, Some("a\tb\\c\nd\re"));
        out.push(b'|');
        copy_field(&mut out, None);
        assert_eq!(out, b"a\\tb\\\\c\\nd\\re|\\N");
    }

    #[test]
    fn lines_skip_blanks_and_refuse_giants() -> Result<(), FileError> {
        let mut lines = Lines {
            reader: &b"{}\n\n  \n{\"a\":1}"[..],
            line: 0,
            buffer: Vec::new(),
        };
        assert_eq!(
            lines.next_line()?.map(|(n, b)| (n, b.to_vec())),
            Some((1, b"{}\n".to_vec()))
        );
        assert_eq!(
            lines.next_line()?.map(|(n, b)| (n, b.to_vec())),
            Some((4, b"{\"a\":1}".to_vec()))
        );
        assert_eq!(lines.next_line()?.map(|(n, _)| n), None);
        Ok(())
    }
}
