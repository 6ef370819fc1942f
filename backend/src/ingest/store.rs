//! Stores parsed sources (results files, or runs given through the API) in
//! one transaction: whole or not at all.
//!
//! Dimensions are resolved set-wise once per call (see `dimensions`), and
//! facts are written with multi-row inserts, so a batch of many sources costs
//! a few statements rather than a few per run. Facts are keyed by run ids
//! derived from content hashes, so storing the same content twice cannot
//! duplicate a row: runs that exist already are skipped whole, links and
//! results included.

mod dimensions;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use entity::{ingest_event, run, run_project, run_result, run_tag, sample};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QuerySelect, TransactionTrait, TryInsertResult,
};
use serde_json::json;
use uuid::Uuid;

use self::dimensions::{CHUNK, TaskKey};
use super::lenient_json;
use super::parsed::{Measured, Number, ParsedFile, ParsedResult, ParsedRun};
use super::sample_store;
use crate::service::audit::{self, Change, Subject};
use crate::service::identity::{self, ModelIdentity};
use crate::service::leaderboard::read_model::{self, Contribution};
use crate::service::quarantine;

/// Labels the user attaches to everything one ingest stores.
#[derive(Debug, Clone, Default)]
pub struct Attachments {
    pub projects: Vec<String>,
    pub tags: Vec<String>,
    pub model_tags: Vec<String>,
}

/// A source ready to store: where it came from, what it holds and the labels
/// it is stored with.
pub struct SourceFile<'a> {
    pub path: &'a str,
    /// The content hash run ids derive from.
    pub sha256: &'a str,
    pub actor: &'a str,
    pub model: &'a ModelIdentity,
    pub parsed: &'a ParsedFile,
    pub attachments: &'a Attachments,
}

/// What storing a source wrote: runs that were new, and their results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stored {
    pub runs: usize,
    pub results: usize,
    /// Per-sample rows, from a samples log.
    pub samples: usize,
    /// Rows of a leaderboard table left out as repeats of a model.
    pub dropped_rows: usize,
}

/// Stores `source` and its ingest event atomically; on error nothing is written.
pub async fn store_file(db: &DatabaseConnection, source: &SourceFile<'_>) -> Result<Stored, DbErr> {
    store_file_sources(db, std::slice::from_ref(source), None).await
}

/// Stores the sources one file holds (a leaderboard table's rows, which
/// share its path and hash) with one ingest event, all or nothing; `detail`
/// goes on the event. Returns what was added in all; an empty `sources`
/// stores nothing.
pub async fn store_file_sources(
    db: &DatabaseConnection,
    sources: &[SourceFile<'_>],
    detail: Option<String>,
) -> Result<Stored, DbErr> {
    let Some(source) = sources.first() else {
        return Ok(Stored::default());
    };
    let tx = db.begin().await?;
    let stored =
        store_sources(&tx, sources)
            .await?
            .into_iter()
            .fold(Stored::default(), |total, added| Stored {
                runs: total.runs + added.runs,
                results: total.results + added.results,
                samples: total.samples + added.samples,
                dropped_rows: 0,
            });
    record_event(
        &tx,
        source.path,
        Some(source.sha256),
        source.actor,
        "stored",
        stored,
        detail,
    )
    .await?;
    quarantine::resolve(&tx, source.path).await?;
    let actor = format!("cli:{}", source.actor);
    audit::record(
        &tx,
        Change {
            actor: &actor,
            action: "source_file.ingest",
            subject: Subject::new("source_file", source.sha256),
            before: None,
            after: Some(json!({
                "path": source.path,
                "runs": stored.runs,
                "results": stored.results,
            })),
        },
    )
    .await?;
    tx.commit().await?;

    Ok(stored)
}

/// The ids every row of a call refers to, resolved once.
struct Resolved {
    models: HashMap<String, i64>,
    tags: HashMap<String, i64>,
    projects: HashMap<String, i64>,
    tasks: HashMap<TaskKey, i64>,
    metrics: HashMap<String, i64>,
}

/// The rows a call inserts, in the order foreign keys need.
#[derive(Default)]
struct Rows {
    runs: Vec<run::ActiveModel>,
    run_tags: Vec<run_tag::ActiveModel>,
    run_projects: Vec<run_project::ActiveModel>,
    results: Vec<run_result::ActiveModel>,
    /// The results as the leaderboard read model sees them.
    contributions: Vec<Contribution>,
}

/// Stores every source through `tx`, which the caller commits, and returns
/// what each one added, in order.
///
/// A run whose id exists already, or appeared earlier in `sources`, is
/// skipped with its links and results, so it counts in no `Stored`.
pub async fn store_sources<C: ConnectionTrait>(
    tx: &C,
    sources: &[SourceFile<'_>],
) -> Result<Vec<Stored>, DbErr> {
    let resolved = resolve(tx, sources).await?;
    let existing = existing_runs(tx, sources).await?;
    let ingested_at = Utc::now();
    let mut seen = HashSet::new();
    let mut rows = Rows::default();
    let mut stored = Vec::with_capacity(sources.len());
    let mut fresh_runs: HashSet<Uuid> = HashSet::new();
    for source in sources {
        let mut added = Stored::default();
        for parsed_run in &source.parsed.runs {
            let run_id = identity::run_id(source.sha256, &source.parsed.run_key(&parsed_run.task));
            if existing.contains(&run_id) || !seen.insert(run_id) {
                continue;
            }
            let fresh = FreshRun {
                source,
                parsed_run,
                run_id,
                ingested_at,
            };
            added.results += add_rows(&mut rows, &resolved, &fresh)?;
            added.runs += 1;
            fresh_runs.insert(run_id);
        }
        stored.push(added);
    }
    let contributions = std::mem::take(&mut rows.contributions);
    let inserted = insert_rows(tx, rows).await?;
    let contributions: Vec<Contribution> = contributions
        .into_iter()
        .filter(|c| inserted.contains(&c.run_id))
        .collect();
    read_model::add(tx, &contributions).await?;
    // Samples embedded in a source (Inspect, HELM) belong to runs stored just
    // now; runs that existed keep the samples they have.
    for (source, added) in sources.iter().zip(stored.iter_mut()) {
        for embedded in &source.parsed.samples {
            let run_id = identity::run_id(source.sha256, &source.parsed.run_key(&embedded.task));
            if !fresh_runs.contains(&run_id) {
                continue;
            }
            let samples: Vec<sample::ActiveModel> = embedded
                .rows
                .iter()
                .map(|row| sample_store::active_row(run_id, ingested_at, row.clone()))
                .collect();
            added.samples += samples.len();
            for chunk in samples.chunks(CHUNK) {
                sample::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(tx)
                    .await?;
            }
        }
    }

    Ok(stored)
}

async fn resolve<C: ConnectionTrait>(
    tx: &C,
    sources: &[SourceFile<'_>],
) -> Result<Resolved, DbErr> {
    let identities: Vec<&ModelIdentity> = sources.iter().map(|s| s.model).collect();
    let models = dimensions::model_ids(tx, &identities).await?;
    let tag_names: Vec<&str> = sources
        .iter()
        .flat_map(|s| s.attachments.tags.iter().chain(&s.attachments.model_tags))
        .map(String::as_str)
        .collect();
    let tags = dimensions::tag_ids(tx, &tag_names).await?;
    let project_names: Vec<&str> = sources
        .iter()
        .flat_map(|s| &s.attachments.projects)
        .map(String::as_str)
        .collect();
    let projects = dimensions::project_ids(tx, &project_names).await?;
    let mut model_tags = HashSet::new();
    for source in sources {
        let model_id = lookup(&models, &source.model.alias_key, "model")?;
        for name in &source.attachments.model_tags {
            model_tags.insert((model_id, lookup(&tags, name, "tag")?));
        }
    }
    dimensions::link_model_tags(tx, &model_tags).await?;
    let runs: Vec<&ParsedRun> = sources.iter().flat_map(|s| &s.parsed.runs).collect();
    let tasks = dimensions::task_ids(tx, &runs).await?;
    let results: Vec<&ParsedResult> = runs.iter().flat_map(|r| &r.results).collect();
    let metrics = dimensions::metric_ids(tx, &results).await?;

    Ok(Resolved {
        models,
        tags,
        projects,
        tasks,
        metrics,
    })
}

fn lookup<K, Q>(ids: &HashMap<K, i64>, key: &Q, what: &str) -> Result<i64, DbErr>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + std::fmt::Debug + ?Sized,
{
    ids.get(key)
        .copied()
        .ok_or_else(|| DbErr::RecordNotFound(format!("{what} {key:?} was not resolved")))
}

/// Returns the ids, among those `sources` would store, that exist already.
async fn existing_runs<C: ConnectionTrait>(
    tx: &C,
    sources: &[SourceFile<'_>],
) -> Result<HashSet<Uuid>, DbErr> {
    let ids: Vec<Uuid> = sources
        .iter()
        .flat_map(|s| {
            s.parsed
                .runs
                .iter()
                .map(|r| identity::run_id(s.sha256, &s.parsed.run_key(&r.task)))
        })
        .collect();
    let mut existing = HashSet::new();
    for chunk in ids.chunks(1000) {
        let found: Vec<Uuid> = run::Entity::find()
            .select_only()
            .column(run::Column::Id)
            .filter(run::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(tx)
            .await?;
        existing.extend(found);
    }

    Ok(existing)
}

/// A run about to be stored for the first time.
struct FreshRun<'a> {
    source: &'a SourceFile<'a>,
    parsed_run: &'a ParsedRun,
    run_id: Uuid,
    ingested_at: DateTime<Utc>,
}

/// Adds a run's row, links and results; returns how many results it has.
fn add_rows(rows: &mut Rows, resolved: &Resolved, fresh: &FreshRun<'_>) -> Result<usize, DbErr> {
    let (source, run_id) = (fresh.source, fresh.run_id);
    let model_id = lookup(&resolved.models, &source.model.alias_key, "model")?;
    let task_id = lookup(&resolved.tasks, &TaskKey::of(fresh.parsed_run), "task")?;
    rows.runs.push(run_row(fresh, model_id, task_id));
    for name in &source.attachments.tags {
        rows.run_tags.push(run_tag::ActiveModel {
            run_id: Set(run_id),
            tag_id: Set(lookup(&resolved.tags, name, "tag")?),
        });
    }
    for name in &source.attachments.projects {
        rows.run_projects.push(run_project::ActiveModel {
            run_id: Set(run_id),
            project_id: Set(lookup(&resolved.projects, name, "project")?),
        });
    }
    for result in &fresh.parsed_run.results {
        let metric_id = lookup(&resolved.metrics, &result.metric, "metric")?;
        rows.results.push(result_row(run_id, metric_id, result));
        rows.contributions
            .push(contribution(fresh, model_id, metric_id, result));
    }

    Ok(fresh.parsed_run.results.len())
}

/// Inserts the rows; returns the ids of the runs this call inserted, which
/// can be fewer than asked when a concurrent ingest stored the same file.
async fn insert_rows<C: ConnectionTrait>(tx: &C, rows: Rows) -> Result<HashSet<Uuid>, DbErr> {
    let mut inserted = HashSet::new();
    for chunk in rows.runs.chunks(CHUNK) {
        inserted.extend(insert_runs(tx, chunk).await?);
    }
    for chunk in rows.run_tags.chunks(CHUNK) {
        run_tag::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing()
            .exec_without_returning(tx)
            .await?;
    }
    for chunk in rows.run_projects.chunks(CHUNK) {
        run_project::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing()
            .exec_without_returning(tx)
            .await?;
    }
    for chunk in rows.results.chunks(CHUNK) {
        run_result::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing()
            .exec_without_returning(tx)
            .await?;
    }

    Ok(inserted)
}

/// Inserts runs whose id is not stored yet and returns the ids inserted.
///
/// PostgreSQL says which through `RETURNING`. SQLite (where sea-orm does not
/// use it) lets one transaction write at a time and refuses a write after a
/// stale read, so there every run found missing earlier in the transaction
/// is inserted now.
async fn insert_runs<C: ConnectionTrait>(
    tx: &C,
    chunk: &[run::ActiveModel],
) -> Result<Vec<Uuid>, DbErr> {
    let insert = run::Entity::insert_many(chunk.to_vec()).on_conflict_do_nothing();
    if !tx.support_returning() {
        insert.exec_without_returning(tx).await?;
        return Ok(chunk
            .iter()
            .filter_map(|run| run.id.try_as_ref().copied())
            .collect());
    }
    Ok(match insert.exec_with_returning_keys(tx).await? {
        TryInsertResult::Inserted(ids) => ids,
        TryInsertResult::Empty | TryInsertResult::Conflicted => Vec::new(),
    })
}

/// Appends an ingest event; events are never updated or deleted.
pub async fn record_event<C: ConnectionTrait>(
    db: &C,
    path: &str,
    sha256: Option<&str>,
    actor: &str,
    outcome: &str,
    stored: Stored,
    detail: Option<String>,
) -> Result<(), DbErr> {
    let event = ingest_event::ActiveModel {
        occurred_at: Set(Utc::now()),
        actor: Set(actor.to_string()),
        outcome: Set(outcome.to_string()),
        source_path: Set(path.to_string()),
        source_sha256: Set(sha256.map(str::to_string)),
        runs: Set(count(stored.runs)),
        results: Set(count(stored.results)),
        detail: Set(detail),
        ..Default::default()
    };
    ingest_event::Entity::insert(event)
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

fn count(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn run_row(fresh: &FreshRun<'_>, model_id: i64, task_id: i64) -> run::ActiveModel {
    let (source, parsed_run) = (fresh.source, fresh.parsed_run);
    let parsed = source.parsed;
    let revision = revision_of(parsed);
    let config = lenient_json::plain(&parsed.config);
    let task_config = parsed_run.task_config.as_ref().map(lenient_json::plain);
    let config_hash = identity::sha256_hex(
        identity::canonical_json(&json!({ "run": config, "task": task_config })).as_bytes(),
    );
    let finished_at = parsed.finished_at.or_else(|| {
        let (started, seconds) = parsed.evaluated_at.zip(parsed.duration_seconds)?;
        TimeDelta::try_milliseconds((seconds * 1000.0) as i64).map(|delta| started + delta)
    });
    run::ActiveModel {
        id: Set(fresh.run_id),
        model_id: Set(model_id),
        revision_step: Set(revision.as_deref().and_then(identity::revision_step)),
        revision: Set(revision),
        task_id: Set(task_id),
        n_shot: Set(parsed_run.n_shot),
        harness: Set(parsed.harness.clone()),
        harness_version: Set(parsed.harness_version.clone()),
        harness_commit: Set(parsed.harness_commit.clone()),
        config: Set(config),
        config_hash: Set(config_hash),
        source_path: Set(source.path.to_string()),
        source_sha256: Set(source.sha256.to_string()),
        started_at: Set(parsed.evaluated_at),
        finished_at: Set(finished_at),
        ingested_at: Set(fresh.ingested_at),
        effective_at: Set(effective_at(fresh)),
        sample_limit: Set(parsed_run.limit),
        samples_original: Set(parsed_run.samples_original),
        samples_effective: Set(parsed_run.samples_effective),
        truncated: Set(is_truncated(parsed_run)),
    }
}

fn revision_of(parsed: &ParsedFile) -> Option<String> {
    parsed
        .model
        .as_ref()
        .and_then(|model| model.revision.clone())
}

/// When the evaluation ran, or, for sources without a date, when it was
/// ingested.
fn effective_at(fresh: &FreshRun<'_>) -> DateTime<Utc> {
    fresh
        .source
        .parsed
        .evaluated_at
        .unwrap_or(fresh.ingested_at)
}

/// Describes one result of a fresh run for the leaderboard read model; a
/// run is never pinned when it is first stored.
fn contribution(
    fresh: &FreshRun<'_>,
    model_id: i64,
    metric_id: i64,
    result: &ParsedResult,
) -> Contribution {
    let revision = revision_of(fresh.source.parsed);
    Contribution {
        task_name: fresh.parsed_run.task.clone(),
        task_version: fresh.parsed_run.task_version.clone().unwrap_or_default(),
        n_shot: fresh.parsed_run.n_shot,
        filter: result.filter.clone(),
        dataset_version_id: None,
        metric_id,
        model_id,
        revision_step: revision.as_deref().and_then(identity::revision_step),
        revision,
        run_id: fresh.run_id,
        effective_at: effective_at(fresh),
        value: measured_columns(result.value).0,
        stderr: measured_columns(result.stderr).0,
        truncated: is_truncated(fresh.parsed_run),
    }
}

/// Decides whether `--limit` cut a run short, unless the source says.
///
/// The sample counts say so exactly when the harness recorded them: a limit
/// of 200 on a task of 24 samples evaluated all 24. Without counts, any limit
/// is taken to have cut the run.
fn is_truncated(parsed_run: &ParsedRun) -> bool {
    if let Some(truncated) = parsed_run.truncated {
        return truncated;
    }
    match parsed_run
        .samples_original
        .zip(parsed_run.samples_effective)
    {
        Some((original, effective)) => effective < original,
        None => parsed_run.limit.is_some_and(|limit| limit > 0.0),
    }
}

/// Splits a measured quantity into the stored value and its kind.
pub fn measured_columns(measured: Measured) -> (Option<f64>, &'static str) {
    match measured {
        Measured::Present(Number::Finite(value)) => (Some(value), "finite"),
        Measured::Present(Number::NaN) => (None, "nan"),
        Measured::Present(Number::PositiveInfinity) => (None, "positive_infinity"),
        Measured::Present(Number::NegativeInfinity) => (None, "negative_infinity"),
        Measured::NotAvailable => (None, "not_available"),
        Measured::Missing => (None, "missing"),
    }
}

fn result_row(run_id: Uuid, metric_id: i64, result: &ParsedResult) -> run_result::ActiveModel {
    let (value, value_kind) = measured_columns(result.value);
    let (stderr, stderr_kind) = measured_columns(result.stderr);
    run_result::ActiveModel {
        run_id: Set(run_id),
        metric_id: Set(metric_id),
        filter: Set(result.filter.clone()),
        value: Set(value),
        value_kind: Set(value_kind.to_string()),
        stderr: Set(stderr),
        stderr_kind: Set(stderr_kind.to_string()),
    }
}
