//! GraphQL object types. Their doc comments are the API's public documentation.
//!
//! Types wrap entity rows and resolve edges through the request's data
//! loaders; they never run queries of their own beyond calling `service`.

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{metric, ml_model, project, run, run_result, tag, task};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::audit::AuditEvent;
use super::connection::{
    KeysetConnection, keyset_connection, keyset_request, list_complexity, list_take,
    page_complexity,
};
use super::loader::load_one;
use super::loader::{MetricKey, ModelKey, ProjectsKey, ResultsKey, RunKey, TagsKey, TaskKey};
use super::quality::QualityWarning;
use super::samples::{Sample, SamplesWhere};
use super::stats::{Interval, RankInterval, SampleEstimate, ci95};
use crate::error::ServiceError;
use crate::service::audit::Subject;
use crate::service::{self, catalog, leaderboard, model_profile, run::RunWhere};

/// Why a number is or is not present. JSON cannot carry NaN or Infinity, so
/// such values are sent as `null` with their kind here.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// An ordinary number; the value field holds it.
    Finite,
    /// The source recorded NaN.
    Nan,
    /// The source recorded +Infinity.
    PositiveInfinity,
    /// The source recorded -Infinity.
    NegativeInfinity,
    /// The source wrote "N/A".
    NotAvailable,
    /// The source has no such number at all.
    Missing,
}

impl NumberKind {
    pub fn from_stored(kind: &str) -> Self {
        match kind {
            "finite" => Self::Finite,
            "nan" => Self::Nan,
            "positive_infinity" => Self::PositiveInfinity,
            "negative_infinity" => Self::NegativeInfinity,
            "not_available" => Self::NotAvailable,
            _ => Self::Missing,
        }
    }
}

/// Which way a metric improves.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricDirection {
    /// Larger values are better (accuracy).
    Higher,
    /// Smaller values are better (perplexity).
    Lower,
    /// Values closest to `idealValue` are better.
    Ideal,
    /// Nobody said; such metrics are listed but never ranked.
    Unknown,
}

/// A system that was evaluated, under its canonical name.
pub struct Model(pub ml_model::Model);

#[Object]
impl Model {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The canonical name: the first spelling seen, or the name given at ingest.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// True when the only identity known is a local path's last folder name.
    async fn is_local_path(&self) -> bool {
        self.0.is_local_path
    }

    /// Every spelling that resolves to this model (names match ignoring case).
    async fn aliases(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(catalog::aliases(db(ctx)?, self.0.id).await?)
    }

    /// Tags attached to the model (`ingest --model-tag`).
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(catalog::model_tags(db(ctx)?, self.0.id).await?)
    }

    /// The weights snapshots (training checkpoints, commits) this model was run at.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<Revision>> {
        let revisions = model_profile::revisions(db(ctx)?, self.0.id).await?;
        Ok(revisions.into_iter().map(Revision::from).collect())
    }

    /// The model's scores across tasks: one per task, version, n-shot, filter and
    /// metric, from its latest run at its final revision (or at every revision).
    #[graphql(complexity = "list_complexity(None, child_complexity)")]
    async fn scores(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] all_revisions: bool,
    ) -> Result<Vec<Score>> {
        let scores = model_profile::scores(db(ctx)?, self.0.id, all_revisions).await?;
        Ok(scores.into_iter().map(Score).collect())
    }

    /// The model's runs, newest first.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<KeysetConnection<Run>> {
        let filter = RunWhere {
            model: Some(self.0.name.clone()),
            ..RunWhere::default()
        };
        let request = keyset_request(ctx, "runs", first, after.as_deref())?;
        let page = service::run::list(db(ctx)?, &filter, &request).await?;
        Ok(keyset_connection("runs", page, Run))
    }
}

/// A weights snapshot of a model.
#[derive(SimpleObject)]
pub struct Revision {
    /// As the source wrote it, e.g. `step143000`.
    pub name: String,
    /// The training step of a `stepN` revision.
    pub step: Option<i64>,
    /// How many runs used this revision.
    pub runs: u64,
}

impl From<model_profile::Revision> for Revision {
    fn from(revision: model_profile::Revision) -> Self {
        Self {
            name: revision.name,
            step: revision.step,
            runs: revision.runs as u64,
        }
    }
}

/// A task at one version and configuration.
pub struct Task(pub task::Model);

#[Object]
impl Task {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The task key as the harness names it (`arc_easy`, `hendrycksTest-anatomy`).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The task definition's version; `null` when the source records none.
    async fn version(&self) -> Option<&str> {
        Some(self.0.version.as_str()).filter(|v| !v.is_empty())
    }

    /// SHA-256 of the task's configuration block; `null` when the source has none.
    async fn config_hash(&self) -> Option<&str> {
        Some(self.0.config_hash.as_str()).filter(|h| !h.is_empty())
    }

    /// The task's configuration as the harness recorded it.
    async fn config(&self) -> Option<Json<serde_json::Value>> {
        self.0.config.clone().map(Json)
    }

    /// The subtasks when this task is a group (such as `mmlu`), else empty.
    async fn subtasks(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(catalog::subtasks(db(ctx)?, &self.0.name).await?)
    }

    /// The groups this task belongs to.
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(catalog::groups_of(db(ctx)?, &self.0.name).await?)
    }
}

/// A named measure with a direction.
pub struct Metric(pub metric::Model);

#[Object]
impl Metric {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The metric name without lm-eval's filter suffix (`acc`, not `acc,none`).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Which way the metric improves.
    async fn direction(&self) -> MetricDirection {
        match self.0.direction.as_str() {
            "higher" => MetricDirection::Higher,
            "lower" => MetricDirection::Lower,
            "ideal" => MetricDirection::Ideal,
            _ => MetricDirection::Unknown,
        }
    }

    /// Where the direction came from: `file`, `builtin` or `unknown`.
    async fn direction_source(&self) -> &str {
        &self.0.direction_source
    }

    /// The best value, for metrics whose direction is `IDEAL`.
    async fn ideal_value(&self) -> Option<f64> {
        self.0.ideal_value
    }

    /// The smallest possible value, when known.
    async fn range_min(&self) -> Option<f64> {
        self.0.range_min
    }

    /// The largest possible value, when known and finite.
    async fn range_max(&self) -> Option<f64> {
        self.0.range_max
    }
}

/// A free-form label attached to runs (and models) at ingest.
#[derive(SimpleObject)]
pub struct Tag {
    pub id: ID,
    pub name: String,
}

impl From<tag::Model> for Tag {
    fn from(row: tag::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            name: row.name,
        }
    }
}

/// The body of work a run belongs to, named at ingest.
#[derive(SimpleObject)]
pub struct Project {
    pub id: ID,
    pub name: String,
}

impl From<project::Model> for Project {
    fn from(row: project::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            name: row.name,
        }
    }
}

/// Where a run came from.
#[derive(SimpleObject)]
pub struct SourceFile {
    /// The path the file was ingested from (a HELM run's `stats.json`).
    pub path: String,
    /// SHA-256 of the file's bytes; identical files are stored once. For a
    /// HELM run, the hash of its whole run folder (each file's name and
    /// SHA-256), since the run is read from all of it.
    pub sha256: String,
}

/// One evaluation of one model on one task under one configuration.
pub struct Run(pub run::Model);

#[Object]
impl Run {
    /// Derived from the source file's content hash and the task: stable across re-ingests.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn model(&self, ctx: &Context<'_>) -> Result<Option<Model>> {
        Ok(load_one(ctx, ModelKey(self.0.model_id)).await?.map(Model))
    }

    /// The weights snapshot evaluated (`step143000`); `null` for the main weights.
    async fn revision(&self) -> Option<&str> {
        self.0.revision.as_deref()
    }

    async fn task(&self, ctx: &Context<'_>) -> Result<Option<Task>> {
        Ok(load_one(ctx, TaskKey(self.0.task_id)).await?.map(Task))
    }

    /// Number of in-context examples; `null` when the source does not say.
    async fn n_shot(&self) -> Option<i32> {
        self.0.n_shot
    }

    /// The harness that produced the run: `lm-evaluation-harness`, `helm` or
    /// `inspect_ai`.
    async fn harness(&self) -> &str {
        &self.0.harness
    }

    /// The harness version when recorded (`0.3` for legacy files).
    async fn harness_version(&self) -> Option<&str> {
        self.0.harness_version.as_deref()
    }

    /// The harness's git commit when recorded.
    async fn harness_commit(&self) -> Option<&str> {
        self.0.harness_commit.as_deref()
    }

    /// The run-level configuration exactly as recorded (non-finite numbers as strings).
    async fn config(&self) -> Json<serde_json::Value> {
        Json(self.0.config.clone())
    }

    /// SHA-256 over the run and task configuration.
    async fn config_hash(&self) -> &str {
        &self.0.config_hash
    }

    /// The dataset version the run was computed on, when it was pinned to one.
    async fn dataset_version(&self, ctx: &Context<'_>) -> Result<Option<DatasetVersionRef>> {
        let pinned = service::dataset::version::pinned_version(db(ctx)?, self.0.id).await?;
        Ok(pinned.map(|(dataset, number)| DatasetVersionRef { dataset, number }))
    }

    /// Every recorded change about this run, oldest first: the ingest of its
    /// source file (or the `recordRuns` request that stored it) and any later
    /// pinning.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<AuditEvent>> {
        let mut subjects = vec![
            Subject::new("run", self.0.id.to_string()),
            Subject::new("source_file", self.0.source_sha256.clone()),
        ];
        if let Some(request) = service::record::request_of(&self.0.source_path) {
            subjects.push(Subject::new("run_batch", request));
        }
        let events = service::audit::about(db(ctx)?, &subjects).await?;
        Ok(events.into_iter().map(AuditEvent).collect())
    }

    async fn source(&self) -> SourceFile {
        SourceFile {
            path: self.0.source_path.clone(),
            sha256: self.0.source_sha256.clone(),
        }
    }

    /// When the evaluation started (lm-eval v0.4 `date`, HELM's earliest
    /// request time); `null` for v0.3 files and HELM runs that record none.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }

    /// When the evaluation finished, when its duration is recorded.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }

    /// When Yardstick stored the run.
    async fn ingested_at(&self) -> DateTime<Utc> {
        self.0.ingested_at
    }

    /// `startedAt`, or `ingestedAt` when the source has no date: what time filters use.
    async fn effective_at(&self) -> DateTime<Utc> {
        self.0.effective_at
    }

    /// The harness's `--limit`, when one was set.
    async fn sample_limit(&self) -> Option<f64> {
        self.0.sample_limit
    }

    /// How many samples the task has and how many were evaluated, when recorded.
    async fn samples_original(&self) -> Option<i64> {
        self.0.samples_original
    }

    async fn samples_effective(&self) -> Option<i64> {
        self.0.samples_effective
    }

    /// True when `--limit` cut the evaluation short; such runs are never ranked.
    async fn truncated(&self) -> bool {
        self.0.truncated
    }

    /// The run's per-sample results in log order; empty when its per-sample
    /// log was not ingested.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn samples(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(name = "where")] filter: Option<SamplesWhere>,
    ) -> Result<KeysetConnection<Sample>> {
        let filter = filter.unwrap_or_default().into();
        let request = keyset_request(ctx, "samples", first, after.as_deref())?;
        let page = service::samples::list(db(ctx)?, self.0.id, &filter, &request).await?;
        Ok(keyset_connection("samples", page, Sample))
    }

    /// What the data-quality rules found about this run (compared with the
    /// other runs of its task).
    async fn quality_warnings(&self, ctx: &Context<'_>) -> Result<Vec<QualityWarning>> {
        let findings = service::quality::check(db(ctx)?, Some(self.0.id)).await?;
        Ok(findings.iter().map(QualityWarning::from).collect())
    }

    /// Every metric value of the run.
    async fn results(&self, ctx: &Context<'_>) -> Result<Vec<RunResult>> {
        let rows = load_one(ctx, ResultsKey(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(RunResult).collect())
    }

    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(load_one(ctx, TagsKey(self.0.id)).await?.unwrap_or_default())
    }

    async fn projects(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(load_one(ctx, ProjectsKey(self.0.id))
            .await?
            .unwrap_or_default())
    }
}

/// One metric value of a run under one filter; immutable.
pub struct RunResult(pub run_result::Model);

#[Object(name = "Result")]
impl RunResult {
    async fn metric(&self, ctx: &Context<'_>) -> Result<Option<Metric>> {
        Ok(load_one(ctx, MetricKey(self.0.metric_id))
            .await?
            .map(Metric))
    }

    /// lm-eval's post-processing variant (`none`, `strict-match`), the
    /// Inspect scorer that judged the outputs (`match`, `choice`), an MTEB
    /// split and language subset (`test/default`, `test/es-en`), or the
    /// AlpacaEval annotator (`weighted_alpaca_eval_gpt4_turbo`).
    async fn filter(&self) -> &str {
        &self.0.filter
    }

    /// The value; `null` unless `valueKind` is `FINITE`.
    async fn value(&self) -> Option<f64> {
        self.0.value
    }

    async fn value_kind(&self) -> NumberKind {
        NumberKind::from_stored(&self.0.value_kind)
    }

    /// The standard error; `null` unless `stderrKind` is `FINITE`.
    async fn stderr(&self) -> Option<f64> {
        self.0.stderr
    }

    async fn stderr_kind(&self) -> NumberKind {
        NumberKind::from_stored(&self.0.stderr_kind)
    }

    /// How many samples the value was computed over: the run's
    /// `samplesEffective`. `null` when the source does not record it.
    async fn n(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let run = load_one(ctx, RunKey(self.0.run_id)).await?;
        Ok(run.and_then(|run| run.samples_effective))
    }

    /// The 95% confidence interval, `value ± 1.959963984540054 × stderr`
    /// (normal approximation), in the value's unit. `null` unless both
    /// `value` and `stderr` are finite.
    async fn ci95(&self) -> Option<Interval> {
        ci95(self.0.value, self.0.stderr)
    }

    /// The value re-estimated from the run's stored samples: their mean and
    /// a bootstrap interval (for Inspect's `accuracy` and `mean`, over the
    /// scorer's verdicts). `null` when no stored sample of the run scores
    /// this metric. Computed on request from the samples (one read of the
    /// run's samples per result asked for), so ask for it on a run's page,
    /// not across long lists.
    async fn sample_estimate(&self, ctx: &Context<'_>) -> Result<Option<SampleEstimate>> {
        let Some(metric) = load_one(ctx, MetricKey(self.0.metric_id)).await? else {
            return Ok(None);
        };
        let estimate = service::sample_estimate::estimate(
            db(ctx)?,
            self.0.run_id,
            &self.0.filter,
            &metric.name,
        )
        .await?;
        Ok(estimate.map(SampleEstimate::from))
    }
}

/// One of a model's scores, with the run it came from.
pub struct Score(pub model_profile::Score);

#[Object]
impl Score {
    async fn task(&self) -> Task {
        Task(self.0.task.clone())
    }

    async fn n_shot(&self) -> Option<i32> {
        self.0.run.n_shot
    }

    async fn revision(&self) -> Option<&str> {
        self.0.run.revision.as_deref()
    }

    async fn result(&self) -> RunResult {
        RunResult(self.0.result.clone())
    }

    async fn run(&self) -> Run {
        Run(self.0.run.clone())
    }
}

/// Everything that must match for results to be ranked together.
#[derive(SimpleObject)]
pub struct Configuration {
    /// `null` when the task records no version.
    pub task_version: Option<String>,
    pub n_shot: Option<i32>,
    /// The results' filter (see `Result.filter`): an MTEB subset or an
    /// AlpacaEval annotator is part of what must match.
    pub filter: String,
    /// `name@number` of the dataset version the runs were pinned to; `null`
    /// for runs not pinned to any.
    pub dataset_version: Option<String>,
    /// How many distinct models have a comparable run.
    pub models: u64,
    /// How many comparable runs exist (re-runs and revisions included).
    pub runs: u64,
}

impl From<leaderboard::ConfigurationSummary> for Configuration {
    fn from(summary: leaderboard::ConfigurationSummary) -> Self {
        let configuration = summary.configuration;
        Self {
            task_version: Some(configuration.task_version).filter(|v| !v.is_empty()),
            n_shot: configuration.n_shot,
            filter: configuration.filter,
            dataset_version: configuration.dataset_version,
            models: summary.models as u64,
            runs: summary.runs as u64,
        }
    }
}

/// Models ranked on one task × metric × configuration.
pub struct Leaderboard(pub leaderboard::Leaderboard);

#[Object]
impl Leaderboard {
    async fn task(&self) -> &str {
        &self.0.task
    }

    async fn metric(&self) -> Metric {
        Metric(self.0.metric.clone())
    }

    /// The configuration shown; `null` when no comparable run matches.
    async fn configuration(&self) -> Option<Configuration> {
        self.0.configuration.clone().map(Configuration::from)
    }

    /// Configurations with data that are not shown, most models first.
    async fn other_configurations(&self) -> Vec<Configuration> {
        self.0
            .other_configurations
            .iter()
            .cloned()
            .map(Configuration::from)
            .collect()
    }

    /// False when the metric has no known direction; `unrankedReason` says why.
    async fn ranked(&self) -> bool {
        self.0.unranked_reason.is_none()
    }

    async fn unranked_reason(&self) -> Option<&str> {
        self.0.unranked_reason.as_deref()
    }

    /// Why the board has no entries; `null` when it has some. An empty board
    /// is not an error (the task and metric exist), so this says which part
    /// of the request found nothing.
    async fn empty_reason(&self) -> Option<String> {
        let board = &self.0;
        if board.configuration.is_some() || !board.entries.is_empty() {
            return None;
        }
        Some(if board.other_configurations.is_empty() {
            format!(
                "no run of `{}` with a result for `{}` matches this request",
                board.task, board.metric.name
            )
        } else {
            let others = match board.other_configurations.len() {
                1 => "1 other configuration has".to_string(),
                n => format!("{n} other configurations have"),
            };
            format!(
                "no run of `{}` matches the configuration asked for; {others} results for \
                 `{}` (see `otherConfigurations`)",
                board.task, board.metric.name
            )
        })
    }

    /// Runs left out because `--limit` truncated them.
    async fn truncated_runs(&self) -> u64 {
        self.0.truncated_runs as u64
    }

    /// When this board last changed: it is kept current by every ingest, in
    /// the same transaction as the results. `null` when `where` narrows the
    /// runs (the board is then computed for this request) or when no result
    /// of the metric exists on the task.
    async fn refreshed_at(&self) -> Option<DateTime<Utc>> {
        self.0.refreshed_at
    }

    /// Best first; entries that cannot be ranked (no finite value) come last.
    /// `first` keeps the leading entries (the top 20 with `first: 20`).
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<Vec<LeaderboardEntry>> {
        let take = list_take(first)?;
        let shown: Vec<&leaderboard::Ranked> = self.0.entries.iter().take(take).collect();
        // Read the shown entries' runs now when they are asked for, rather
        // than through a loader that waits to batch.
        let look_ahead = ctx.look_ahead();
        let mut runs = if look_ahead.field("run").exists() || look_ahead.field("n").exists() {
            let ids: Vec<Uuid> = shown.iter().map(|entry| entry.run_id).collect();
            service::run::by_ids(db(ctx)?, &ids).await?
        } else {
            HashMap::new()
        };
        let filter = self
            .0
            .configuration
            .as_ref()
            .map(|c| &c.configuration.filter);
        Ok(shown
            .into_iter()
            .map(|entry| LeaderboardEntry {
                run: runs.remove(&entry.run_id),
                entry: entry.clone(),
                metric_id: self.0.metric.id,
                filter: filter.cloned().unwrap_or_default(),
            })
            .collect())
    }
}

/// One model's place on a leaderboard.
pub struct LeaderboardEntry {
    entry: leaderboard::Ranked,
    metric_id: i64,
    filter: String,
    /// The run's row when it was read with the board.
    run: Option<run::Model>,
}

impl LeaderboardEntry {
    /// Returns the entry's run row, read with the board or loaded now.
    async fn run_row(&self, ctx: &Context<'_>) -> Result<Option<run::Model>> {
        match &self.run {
            Some(run) => Ok(Some(run.clone())),
            None => load_one(ctx, RunKey(self.entry.run_id)).await,
        }
    }

    /// Loads the entry's result row, for the kinds of its numbers.
    async fn result(&self, ctx: &Context<'_>) -> Result<Option<run_result::Model>> {
        let results = load_one(ctx, ResultsKey(self.entry.run_id)).await?;
        Ok(results
            .unwrap_or_default()
            .into_iter()
            .find(|r| r.metric_id == self.metric_id && r.filter == self.filter))
    }

    /// Returns the kind of a number: finite when present, else as stored.
    async fn kind(
        &self,
        ctx: &Context<'_>,
        number: Option<f64>,
        stored: impl Fn(&run_result::Model) -> &str,
    ) -> Result<NumberKind> {
        if number.is_some() {
            return Ok(NumberKind::Finite);
        }
        let row = self.result(ctx).await?;
        Ok(row.map_or(NumberKind::Missing, |row| {
            NumberKind::from_stored(stored(&row))
        }))
    }
}

#[Object]
impl LeaderboardEntry {
    /// 1-based; tied values share a rank. `null` when the entry cannot be ranked.
    async fn rank(&self) -> Option<u64> {
        self.entry.rank.map(|rank| rank as u64)
    }

    /// The value; `null` unless `valueKind` is `FINITE`.
    async fn value(&self) -> Option<f64> {
        self.entry.value
    }

    async fn value_kind(&self, ctx: &Context<'_>) -> Result<NumberKind> {
        self.kind(ctx, self.entry.value, |row| &row.value_kind)
            .await
    }

    /// The standard error; `null` unless `stderrKind` is `FINITE`.
    async fn stderr(&self) -> Option<f64> {
        self.entry.stderr
    }

    async fn stderr_kind(&self, ctx: &Context<'_>) -> Result<NumberKind> {
        self.kind(ctx, self.entry.stderr, |row| &row.stderr_kind)
            .await
    }

    /// How many samples the value was computed over: the run's
    /// `samplesEffective`. `null` when the source does not record it.
    async fn n(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let run = self.run_row(ctx).await?;
        Ok(run.and_then(|run| run.samples_effective))
    }

    /// The 95% confidence interval, `value ± 1.959963984540054 × stderr`
    /// (normal approximation), in the value's unit. `null` unless both
    /// `value` and `stderr` are finite.
    async fn ci95(&self) -> Option<Interval> {
        ci95(self.entry.value, self.entry.stderr)
    }

    /// The ranks this entry could hold given every entry's 95% interval: an
    /// entry whose value lacks a stderr counts as exact. `null` exactly when
    /// `rank` is.
    async fn rank_interval(&self) -> Option<RankInterval> {
        self.entry.rank_interval.map(RankInterval::from)
    }

    async fn model(&self) -> Model {
        Model(self.entry.model.clone())
    }

    /// The revision evaluated; `null` for the main weights.
    async fn revision(&self) -> Option<&str> {
        self.entry.revision.as_deref()
    }

    async fn run(&self, ctx: &Context<'_>) -> Result<Run> {
        let run = self.run_row(ctx).await?.map(Run);
        let id = self.entry.run_id;
        run.ok_or_else(|| ServiceError::not_found("run", id.to_string()).to_graphql())
    }
}

/// Returns the request's database connection.
pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

/// Loads a run by id through the request's loaders.
pub async fn run_by_id(ctx: &Context<'_>, id: Uuid) -> Result<Option<Run>> {
    Ok(load_one(ctx, RunKey(id)).await?.map(Run))
}

/// A dataset version named by its dataset and number.
#[derive(SimpleObject)]
pub struct DatasetVersionRef {
    pub dataset: String,
    pub number: i32,
}
