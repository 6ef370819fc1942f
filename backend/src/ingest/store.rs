//! Stores one parsed source file in one transaction: whole or not at all.
//!
//! Dimensions (model, task, metric, tag, project) are found or created with
//! `INSERT … ON CONFLICT DO NOTHING` followed by a read, so concurrent ingests
//! never fail on each other. Facts are keyed by run ids derived from the file's
//! content hash, so storing the same bytes twice cannot duplicate a row.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    ingest_event, metric, ml_model, model_alias, model_tag, project, run, run_project, run_result,
    run_tag, sample, tag, task, task_group_member,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, TransactionTrait,
};
use serde_json::json;

use super::lenient_json;
use super::parsed::{Measured, Number, ParsedFile, ParsedResult, ParsedRun};
use super::sample_store;
use crate::service::audit::{self, Change, Subject};
use crate::service::direction::{self, Direction};
use crate::service::identity::{self, ModelIdentity};
use crate::service::quarantine;

/// Rows inserted per statement; keeps SQLite under its bound-variable limit.
const CHUNK: usize = 500;

/// Labels the user attaches to everything one ingest stores.
#[derive(Debug, Clone, Default)]
pub struct Attachments {
    pub projects: Vec<String>,
    pub tags: Vec<String>,
    pub model_tags: Vec<String>,
}

/// A source file ready to store: where it came from and what it holds.
pub struct SourceFile<'a> {
    pub path: &'a str,
    pub sha256: &'a str,
    pub actor: &'a str,
    pub model: &'a ModelIdentity,
    pub parsed: &'a ParsedFile,
}

/// What storing a file wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stored {
    pub runs: usize,
    pub results: usize,
    /// Per-sample rows, from a samples log.
    pub samples: usize,
}

/// Stores `source` and its ingest event atomically; on error nothing is written.
pub async fn store_file(
    db: &DatabaseConnection,
    source: &SourceFile<'_>,
    attachments: &Attachments,
) -> Result<Stored, DbErr> {
    let tx = db.begin().await?;
    let stored = store_in(&tx, source, attachments).await?;
    record_event(
        &tx,
        source.path,
        Some(source.sha256),
        source.actor,
        "stored",
        stored,
        None,
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

async fn store_in<C: ConnectionTrait>(
    tx: &C,
    source: &SourceFile<'_>,
    attachments: &Attachments,
) -> Result<Stored, DbErr> {
    let model_id = find_or_create_model(tx, source.model).await?;
    let run_tags = tag_ids(tx, &attachments.tags).await?;
    let run_projects = project_ids(tx, &attachments.projects).await?;
    let model_tags = tag_ids(tx, &attachments.model_tags).await?;
    link_model_tags(tx, model_id, &model_tags).await?;

    let ingested_at = Utc::now();
    let mut metrics = MetricCache::default();
    let mut results = Vec::new();
    let mut stored = Stored::default();
    for parsed_run in &source.parsed.runs {
        let run_id = identity::run_id(source.sha256, &parsed_run.task);
        let task_id = find_or_create_task(tx, parsed_run).await?;
        let row = run_row(source, parsed_run, run_id, model_id, task_id, ingested_at);
        run::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(tx)
            .await?;
        link_run(tx, run_id, &run_tags, &run_projects).await?;
        for result in &parsed_run.results {
            let metric_id = metrics.id(tx, result).await?;
            results.push(result_row(run_id, metric_id, result));
        }
        stored.runs += 1;
    }
    stored.results = results.len();
    for chunk in results.chunks(CHUNK) {
        run_result::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing()
            .exec(tx)
            .await?;
    }
    for embedded in &source.parsed.samples {
        let run_id = identity::run_id(source.sha256, &embedded.task);
        let rows: Vec<sample::ActiveModel> = embedded
            .rows
            .iter()
            .map(|row| sample_store::active_row(run_id, ingested_at, row.clone()))
            .collect();
        stored.samples += rows.len();
        for chunk in rows.chunks(CHUNK) {
            sample::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(tx)
                .await?;
        }
    }

    Ok(stored)
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

async fn find_or_create_model<C: ConnectionTrait>(
    tx: &C,
    model: &ModelIdentity,
) -> Result<i64, DbErr> {
    let model_id = match alias_owner(tx, &model.alias_key).await? {
        Some(model_id) => model_id,
        None => create_model(tx, model).await?,
    };
    let alias = model_alias::ActiveModel {
        spelling: Set(model.spelling.clone()),
        alias_key: Set(model.alias_key.clone()),
        model_id: Set(model_id),
        created_at: Set(Utc::now()),
    };
    model_alias::Entity::insert(alias)
        .on_conflict_do_nothing()
        .exec(tx)
        .await?;

    Ok(model_id)
}

async fn alias_owner<C: ConnectionTrait>(tx: &C, alias_key: &str) -> Result<Option<i64>, DbErr> {
    let alias = model_alias::Entity::find()
        .filter(model_alias::Column::AliasKey.eq(alias_key))
        .one(tx)
        .await?;

    Ok(alias.map(|alias| alias.model_id))
}

async fn create_model<C: ConnectionTrait>(tx: &C, model: &ModelIdentity) -> Result<i64, DbErr> {
    let row = ml_model::ActiveModel {
        name: Set(model.name.clone()),
        is_local_path: Set(model.is_local_path),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    ml_model::Entity::insert(row)
        .on_conflict_do_nothing_on([ml_model::Column::Name])
        .exec(tx)
        .await?;
    let created = ml_model::Entity::find()
        .filter(ml_model::Column::Name.eq(&model.name))
        .one(tx)
        .await?;

    created
        .map(|row| row.id)
        .ok_or_else(|| DbErr::RecordNotFound(format!("model `{}`", model.name)))
}

fn tag_row(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

fn project_row(name: &str) -> project::ActiveModel {
    project::ActiveModel {
        name: Set(name.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Finds or creates tags by name, returning their ids in order.
async fn tag_ids<C: ConnectionTrait>(tx: &C, names: &[String]) -> Result<Vec<i64>, DbErr> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        tag::Entity::insert(tag_row(name))
            .on_conflict_do_nothing_on([tag::Column::Name])
            .exec(tx)
            .await?;
        let row = tag::Entity::find()
            .filter(tag::Column::Name.eq(name))
            .one(tx)
            .await?;
        ids.push(
            row.ok_or_else(|| DbErr::RecordNotFound(format!("tag `{name}`")))?
                .id,
        );
    }

    Ok(ids)
}

/// Finds or creates projects by name, returning their ids in order.
async fn project_ids<C: ConnectionTrait>(tx: &C, names: &[String]) -> Result<Vec<i64>, DbErr> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        project::Entity::insert(project_row(name))
            .on_conflict_do_nothing_on([project::Column::Name])
            .exec(tx)
            .await?;
        let row = project::Entity::find()
            .filter(project::Column::Name.eq(name))
            .one(tx)
            .await?;
        ids.push(
            row.ok_or_else(|| DbErr::RecordNotFound(format!("project `{name}`")))?
                .id,
        );
    }

    Ok(ids)
}

async fn link_model_tags<C: ConnectionTrait>(
    tx: &C,
    model_id: i64,
    tag_ids: &[i64],
) -> Result<(), DbErr> {
    for &tag_id in tag_ids {
        let row = model_tag::ActiveModel {
            model_id: Set(model_id),
            tag_id: Set(tag_id),
        };
        model_tag::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(tx)
            .await?;
    }

    Ok(())
}

async fn link_run<C: ConnectionTrait>(
    tx: &C,
    run_id: uuid::Uuid,
    tag_ids: &[i64],
    project_ids: &[i64],
) -> Result<(), DbErr> {
    for &tag_id in tag_ids {
        let row = run_tag::ActiveModel {
            run_id: Set(run_id),
            tag_id: Set(tag_id),
        };
        run_tag::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(tx)
            .await?;
    }
    for &project_id in project_ids {
        let row = run_project::ActiveModel {
            run_id: Set(run_id),
            project_id: Set(project_id),
        };
        run_project::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(tx)
            .await?;
    }

    Ok(())
}

async fn find_or_create_task<C: ConnectionTrait>(
    tx: &C,
    parsed_run: &ParsedRun,
) -> Result<i64, DbErr> {
    let version = parsed_run.task_version.clone().unwrap_or_default();
    let config_hash = identity::task_config_hash(parsed_run.task_config.as_ref());
    let row = task::ActiveModel {
        name: Set(parsed_run.task.clone()),
        version: Set(version.clone()),
        config_hash: Set(config_hash.clone()),
        config: Set(parsed_run.task_config.as_ref().map(lenient_json::plain)),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let key = [
        task::Column::Name,
        task::Column::Version,
        task::Column::ConfigHash,
    ];
    task::Entity::insert(row)
        .on_conflict_do_nothing_on(key)
        .exec(tx)
        .await?;
    let found = task::Entity::find()
        .filter(task::Column::Name.eq(&parsed_run.task))
        .filter(task::Column::Version.eq(&version))
        .filter(task::Column::ConfigHash.eq(&config_hash))
        .one(tx)
        .await?;
    let Some(found) = found else {
        return Err(DbErr::RecordNotFound(format!(
            "task `{}` after insert",
            parsed_run.task
        )));
    };
    for member in &parsed_run.subtasks {
        let row = task_group_member::ActiveModel {
            group_name: Set(parsed_run.task.clone()),
            member_name: Set(member.clone()),
        };
        task_group_member::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(tx)
            .await?;
    }

    Ok(found.id)
}

fn run_row(
    source: &SourceFile<'_>,
    parsed_run: &ParsedRun,
    run_id: uuid::Uuid,
    model_id: i64,
    task_id: i64,
    ingested_at: DateTime<Utc>,
) -> run::ActiveModel {
    let parsed = source.parsed;
    let revision = parsed
        .model
        .as_ref()
        .and_then(|model| model.revision.clone());
    let config = lenient_json::plain(&parsed.config);
    let task_config = parsed_run.task_config.as_ref().map(lenient_json::plain);
    let config_hash = identity::sha256_hex(
        identity::canonical_json(&json!({ "run": config, "task": task_config })).as_bytes(),
    );
    let finished_at =
        parsed
            .evaluated_at
            .zip(parsed.duration_seconds)
            .and_then(|(started, seconds)| {
                TimeDelta::try_milliseconds((seconds * 1000.0) as i64).map(|delta| started + delta)
            });
    let truncated = parsed_run
        .truncated
        .unwrap_or_else(|| is_truncated(parsed_run));
    run::ActiveModel {
        id: Set(run_id),
        model_id: Set(model_id),
        revision_step: Set(revision.as_deref().and_then(identity::revision_step)),
        revision: Set(revision),
        task_id: Set(task_id),
        n_shot: Set(parsed_run.n_shot),
        harness: Set(parsed.format.harness().to_string()),
        harness_version: Set(parsed.harness_version.clone()),
        harness_commit: Set(parsed.harness_commit.clone()),
        config: Set(config),
        config_hash: Set(config_hash),
        source_path: Set(source.path.to_string()),
        source_sha256: Set(source.sha256.to_string()),
        started_at: Set(parsed.evaluated_at),
        finished_at: Set(finished_at),
        ingested_at: Set(ingested_at),
        effective_at: Set(parsed.evaluated_at.unwrap_or(ingested_at)),
        sample_limit: Set(parsed_run.limit),
        samples_original: Set(parsed_run.samples_original),
        samples_effective: Set(parsed_run.samples_effective),
        truncated: Set(truncated),
    }
}

/// Decides whether `--limit` cut a run short.
///
/// The sample counts say so exactly when the harness recorded them: a limit
/// of 200 on a task of 24 samples evaluated all 24. Without counts, any limit
/// is taken to have cut the run.
fn is_truncated(parsed_run: &ParsedRun) -> bool {
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

fn result_row(
    run_id: uuid::Uuid,
    metric_id: i64,
    result: &ParsedResult,
) -> run_result::ActiveModel {
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

/// Metric ids already resolved in this file, so each metric is looked up once.
#[derive(Default)]
struct MetricCache {
    ids: HashMap<String, i64>,
}

impl MetricCache {
    async fn id<C: ConnectionTrait>(
        &mut self,
        tx: &C,
        result: &ParsedResult,
    ) -> Result<i64, DbErr> {
        if let Some(&id) = self.ids.get(&result.metric) {
            return Ok(id);
        }
        let id = find_or_create_metric(tx, &result.metric, result.higher_is_better).await?;
        self.ids.insert(result.metric.clone(), id);

        Ok(id)
    }
}

async fn find_or_create_metric<C: ConnectionTrait>(
    tx: &C,
    name: &str,
    higher_is_better: Option<bool>,
) -> Result<i64, DbErr> {
    let (facts, direction_source) = direction::resolve(name, higher_is_better);
    let found = metric::Entity::find()
        .filter(metric::Column::Name.eq(name))
        .one(tx)
        .await?;
    if let Some(found) = found {
        return upgrade_unknown_direction(tx, found, facts.direction, direction_source).await;
    }
    let ideal_value = match facts.direction {
        Direction::Ideal(value) => Some(value),
        _ => None,
    };
    let row = metric::ActiveModel {
        name: Set(name.to_string()),
        direction: Set(facts.direction.as_str().to_string()),
        direction_source: Set(direction_source.to_string()),
        ideal_value: Set(ideal_value),
        range_min: Set(facts.range.map(|(min, _)| min)),
        range_max: Set(facts
            .range
            .map(|(_, max)| max)
            .filter(|max| max.is_finite())),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    metric::Entity::insert(row)
        .on_conflict_do_nothing_on([metric::Column::Name])
        .exec(tx)
        .await?;
    let found = metric::Entity::find()
        .filter(metric::Column::Name.eq(name))
        .one(tx)
        .await?;

    found
        .map(|row| row.id)
        .ok_or_else(|| DbErr::RecordNotFound(format!("metric `{name}`")))
}

/// Records a direction learned later for a metric first seen without one.
///
/// The only change ever made to a stored dimension row: `unknown` becomes known.
async fn upgrade_unknown_direction<C: ConnectionTrait>(
    tx: &C,
    found: metric::Model,
    direction: Direction,
    direction_source: &str,
) -> Result<i64, DbErr> {
    if found.direction != Direction::Unknown.as_str() || direction == Direction::Unknown {
        return Ok(found.id);
    }
    let id = found.id;
    let mut row: metric::ActiveModel = found.into();
    row.direction = Set(direction.as_str().to_string());
    row.direction_source = Set(direction_source.to_string());
    metric::Entity::update(row).exec(tx).await?;

    Ok(id)
}
