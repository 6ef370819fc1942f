//! The query root: every read the API offers.
//!
//! Resolvers parse arguments, call one `service` function and wrap the rows;
//! they contain no queries of their own.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::audit::AuditEvent;
use super::composite::{CompositeOrder, CompositeRanking};
use super::connection::{
    KeysetConnection, PageConnection, connection, keyset_connection, keyset_request,
    page_complexity, page_request,
};
use super::dataset::Dataset;
use super::principal::{Principal, Viewer};
use super::quality::{QualityReport, QuarantinedFile};
use super::samples::SampleComparison;
use super::task_summary::TaskSummary;
use super::types::{Leaderboard, Metric, Model, Project, Run, Tag, Task, db, run_by_id};
use crate::error::ServiceError;
use crate::service::audit::EventWhere;
use crate::service::composite::CompositeQuery;
use crate::service::{self, catalog, leaderboard::LeaderboardQuery, run::RunWhere};

/// Which runs to list. Every field narrows the set; fields left out do not.
#[derive(InputObject, Default)]
pub struct RunsWhere {
    /// Any spelling of the model's name (case does not matter).
    pub model: Option<String>,
    /// A task name (all versions).
    pub task: Option<String>,
    pub tag: Option<String>,
    pub project: Option<String>,
    /// Runs evaluated at or after this time (ingest time for sources without a date).
    pub from: Option<DateTime<Utc>>,
    /// Runs evaluated before this time.
    pub to: Option<DateTime<Utc>>,
    /// Runs whose model carries this tag, such as a family (`family:llama`).
    pub model_tag: Option<String>,
    /// Filters that must all match as well.
    pub and: Option<Vec<RunsWhere>>,
    /// Filters of which at least one must match as well; an empty list
    /// narrows nothing. At most 32 nested filters, 4 levels deep.
    pub or: Option<Vec<RunsWhere>>,
}

impl From<RunsWhere> for RunWhere {
    fn from(input: RunsWhere) -> Self {
        let nested = |filters: Option<Vec<RunsWhere>>| {
            filters
                .unwrap_or_default()
                .into_iter()
                .map(RunWhere::from)
                .collect()
        };
        Self {
            model: input.model,
            task: input.task,
            tag: input.tag,
            project: input.project,
            from: input.from,
            to: input.to,
            model_tag: input.model_tag,
            all: nested(input.and),
            any: nested(input.or),
        }
    }
}

/// Which runs may enter a leaderboard; the task is named by `leaderboard(task:)`.
#[derive(InputObject, Default)]
pub struct LeaderboardWhere {
    pub model: Option<String>,
    pub tag: Option<String>,
    pub project: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl From<LeaderboardWhere> for RunWhere {
    fn from(input: LeaderboardWhere) -> Self {
        Self {
            model: input.model,
            task: None,
            tag: input.tag,
            project: input.project,
            from: input.from,
            to: input.to,
            ..RunWhere::default()
        }
    }
}

/// Yardstick's read API.
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Models by name; `search` keeps names containing it, ignoring case.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn models(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<KeysetConnection<Model>> {
        let request = keyset_request(ctx, "models", first, after.as_deref())?;
        let page = catalog::list_models(db(ctx)?, search.as_deref(), &request).await?;
        Ok(keyset_connection("models", page, Model))
    }

    /// One model by any spelling of its name, or `null` when unknown.
    async fn model(&self, ctx: &Context<'_>, name: String) -> Result<Option<Model>> {
        Ok(catalog::find_model(db(ctx)?, &name).await?.map(Model))
    }

    /// Tasks by name; one entry per version and configuration.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        name: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<KeysetConnection<Task>> {
        let request = keyset_request(ctx, "tasks", first, after.as_deref())?;
        let page = catalog::list_tasks(db(ctx)?, name.as_deref(), &request).await?;
        Ok(keyset_connection("tasks", page, Task))
    }

    /// Task names, each once, with their versions, metrics and models;
    /// `search` keeps names containing it, ignoring case.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn task_summaries(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PageConnection<TaskSummary>> {
        let page = page_request(first, after.as_deref())?;
        let page = service::task_summary::list(db(ctx)?, search.as_deref(), page).await?;
        Ok(connection(page, TaskSummary))
    }

    /// One task name across its versions, or `null` when no task has it.
    async fn task_summary(&self, ctx: &Context<'_>, name: String) -> Result<Option<TaskSummary>> {
        let summary = service::task_summary::find(db(ctx)?, &name).await?;
        Ok(summary.map(TaskSummary))
    }

    /// Metrics by name, with their directions.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PageConnection<Metric>> {
        let page = catalog::list_metrics(db(ctx)?, page_request(first, after.as_deref())?).await?;
        Ok(connection(page, Metric))
    }

    /// Projects by name.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PageConnection<Project>> {
        let page = page_request(first, after.as_deref())?;
        let page = catalog::list_projects(db(ctx)?, page).await?;
        Ok(connection(page, Project::from))
    }

    /// Tags by name.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn tags(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PageConnection<Tag>> {
        let page = catalog::list_tags(db(ctx)?, page_request(first, after.as_deref())?).await?;
        Ok(connection(page, Tag::from))
    }

    /// Runs matching `where`, newest first (by evaluation time, else ingest time).
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] filter: Option<RunsWhere>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<KeysetConnection<Run>> {
        let filter: RunWhere = filter.unwrap_or_default().into();
        filter.check()?;
        let request = keyset_request(ctx, "runs", first, after.as_deref())?;
        let page = service::run::list(db(ctx)?, &filter, &request).await?;
        Ok(keyset_connection("runs", page, Run))
    }

    /// One run with its results and provenance, or `null` when no run has this id.
    async fn run(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<Run>> {
        run_by_id(ctx, id).await
    }

    /// Models ranked on `task` × `metric` under one comparable configuration.
    ///
    /// Without `nShot` (or `taskVersion`, `filter`, `datasetVersion` as
    /// `name@number`), the configuration with the most models is shown and the
    /// others are listed. Each model contributes its latest run at its final
    /// revision unless `allRevisions` is true.
    #[allow(clippy::too_many_arguments)]
    async fn leaderboard(
        &self,
        ctx: &Context<'_>,
        task: String,
        metric: String,
        n_shot: Option<i32>,
        task_version: Option<String>,
        filter: Option<String>,
        #[graphql(default = false)] all_revisions: bool,
        dataset_version: Option<String>,
        #[graphql(name = "where")] scope: Option<LeaderboardWhere>,
    ) -> Result<Leaderboard> {
        let scope: RunWhere = scope.unwrap_or_default().into();
        scope.check()?;
        let query = LeaderboardQuery {
            task,
            metric,
            n_shot,
            task_version,
            filter,
            all_revisions,
            dataset_version,
            scope,
        };
        let board = service::leaderboard::leaderboard(db(ctx)?, &query).await?;
        Ok(Leaderboard(board))
    }

    /// How far the leaderboard read model is behind the results: the boards
    /// (task × metric with results) and how many of them have a current
    /// ranking. The server ranks a changed board once it has been quiet for
    /// two seconds (or its ranking is five minutes old); until then its default
    /// leaderboard is ranked on request, with the same answer, only slower.
    async fn read_model(&self, ctx: &Context<'_>) -> Result<ReadModelStatus> {
        let progress = service::leaderboard::ranked::progress(db(ctx)?).await?;
        Ok(ReadModelStatus {
            boards: progress.boards as u64,
            ranked_boards: progress.ranked as u64,
        })
    }

    /// Models ranked across `tasks` on `metric`: each model's mean score,
    /// mean rank, normalised mean and head-to-head win rate, with the tasks
    /// it misses.
    ///
    /// Each task contributes its default leaderboard (the configuration with
    /// the most models, each model's latest run at its final revision). Only
    /// models with a value on every task are ranked. At most 1,000 tasks.
    async fn composite_ranking(
        &self,
        ctx: &Context<'_>,
        metric: String,
        tasks: Vec<String>,
        #[graphql(default_with = "CompositeOrder::MeanScore")] order_by: CompositeOrder,
        #[graphql(name = "where")] scope: Option<LeaderboardWhere>,
    ) -> Result<CompositeRanking> {
        let scope: RunWhere = scope.unwrap_or_default().into();
        scope.check()?;
        let query = CompositeQuery {
            metric,
            tasks,
            order: order_by.into(),
            scope,
        };
        let composite = service::composite::ranking(db(ctx)?, &query).await?;
        Ok(CompositeRanking(composite))
    }

    /// The credentials this request came with.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(
            ctx.data_opt::<Principal>()
                .cloned()
                .unwrap_or(Principal::Anonymous),
        )
    }

    /// Datasets by name; `search` keeps those whose name contains it, ignoring case.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
    ) -> Result<PageConnection<Dataset>> {
        let request = page_request(first, after.as_deref())?;
        let page = service::dataset::list(db(ctx)?, search.as_deref(), request).await?;
        Ok(connection(page, Dataset))
    }

    /// A dataset by its current name; `null` when there is none.
    async fn dataset(&self, ctx: &Context<'_>, name: String) -> Result<Option<Dataset>> {
        match service::dataset::find(db(ctx)?, &name).await {
            Ok(found) => Ok(Some(Dataset(found))),
            Err(ServiceError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The audit trail, newest first: every change made through the API or
    /// the command line, optionally about one kind of entity or one entity.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        entity_kind: Option<String>,
        entity_id: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PageConnection<AuditEvent>> {
        let filter = EventWhere {
            entity_kind,
            entity_id,
        };
        let request = page_request(first, after.as_deref())?;
        let page = service::audit::list(db(ctx)?, &filter, request).await?;
        Ok(connection(page, AuditEvent))
    }

    /// Compares two runs item by item on the items both evaluated: counts,
    /// McNemar's test, the bootstrapped mean score difference, and the items
    /// scored differently.
    async fn compare_samples(
        &self,
        ctx: &Context<'_>,
        first: Uuid,
        second: Uuid,
    ) -> Result<SampleComparison> {
        let comparison = service::samples::compare(db(ctx)?, first, second).await?;
        Ok(SampleComparison(comparison))
    }

    /// Data-quality findings over everything stored (computed on request).
    async fn quality_report(&self, ctx: &Context<'_>) -> Result<QualityReport> {
        Ok(QualityReport(
            service::quality::check(db(ctx)?, None).await?,
        ))
    }

    /// Rejected source files, newest first; resolved ones on request.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn quarantine(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default = false)] include_resolved: bool,
    ) -> Result<PageConnection<QuarantinedFile>> {
        let request = page_request(first, after.as_deref())?;
        let page = service::quarantine::list(db(ctx)?, include_resolved, request).await?;
        Ok(connection(page, QuarantinedFile))
    }
}

/// How many boards are ranked ahead of requests.
#[derive(SimpleObject)]
pub struct ReadModelStatus {
    /// Task × metric pairs with at least one result.
    pub boards: u64,
    /// Boards whose default leaderboard is ranked and current.
    pub ranked_boards: u64,
}
