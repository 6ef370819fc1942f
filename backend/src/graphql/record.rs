//! The input and payload types of `recordRuns`: evaluation runs given as
//! structured data rather than as a results file.

use async_graphql::{InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::types::NumberKind;
use crate::service::record::{self, NewResult, NewRun, Recorded};

/// One evaluation of one model on one task, as a harness or a script reports it.
///
/// Names are trimmed; tags and projects are sets (order and repeats do not
/// matter), and so are results. The run's id is derived from all of it, so
/// sending the same run again stores nothing, while a run that differs in
/// any field is stored as another run.
#[derive(InputObject)]
pub struct RecordRunInput {
    /// Any spelling of the model's name; spellings that differ only in case
    /// are one model.
    pub model: String,
    /// The weights snapshot evaluated (`step143000`); leave it out for the
    /// main weights.
    pub revision: Option<String>,
    pub task: String,
    /// The version label of the task or of its dataset (`v1.5`). Runs with
    /// different labels are never ranked together.
    pub task_version: Option<String>,
    /// Number of in-context examples.
    pub n_shot: Option<i32>,
    #[graphql(default_with = "\"lm-evaluation-harness\".to_string()")]
    pub harness: String,
    pub harness_version: Option<String>,
    #[graphql(default)]
    pub projects: Vec<String>,
    #[graphql(default)]
    pub tags: Vec<String>,
    /// When the evaluation started; time filters use it. Without it, the
    /// run is placed at the moment it is recorded.
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// How many samples the run evaluated.
    pub samples: Option<i64>,
    /// At least one, and at most one per metric and filter.
    pub results: Vec<RecordResultInput>,
}

/// One metric value of a run, with its standard error.
#[derive(InputObject)]
pub struct RecordResultInput {
    /// The metric's name without a filter suffix (`acc`, not `acc,none`).
    pub metric: String,
    /// lm-eval's post-processing variant.
    #[graphql(default_with = "\"none\".to_string()")]
    pub filter: String,
    /// The value; `null` with `valueKind` for NaN, ±Infinity or "N/A".
    pub value: Option<f64>,
    /// Leave out for an ordinary number.
    pub value_kind: Option<NumberKind>,
    /// The standard error, 0 or more; leaving it and `stderrKind` out means
    /// `MISSING`.
    pub stderr: Option<f64>,
    pub stderr_kind: Option<NumberKind>,
    /// Whether larger values are better. Used only while the metric's
    /// direction is unknown (a new metric, or one stored without a
    /// direction); a known direction never changes.
    pub higher_is_better: Option<bool>,
}

impl From<NumberKind> for record::NumberKind {
    fn from(kind: NumberKind) -> Self {
        match kind {
            NumberKind::Finite => Self::Finite,
            NumberKind::Nan => Self::NaN,
            NumberKind::PositiveInfinity => Self::PositiveInfinity,
            NumberKind::NegativeInfinity => Self::NegativeInfinity,
            NumberKind::NotAvailable => Self::NotAvailable,
            NumberKind::Missing => Self::Missing,
        }
    }
}

impl From<RecordResultInput> for NewResult {
    fn from(input: RecordResultInput) -> Self {
        Self {
            metric: input.metric,
            filter: input.filter,
            value: input.value,
            value_kind: input.value_kind.map(Into::into),
            stderr: input.stderr,
            stderr_kind: input.stderr_kind.map(Into::into),
            higher_is_better: input.higher_is_better,
        }
    }
}

impl From<RecordRunInput> for NewRun {
    fn from(input: RecordRunInput) -> Self {
        Self {
            model: input.model,
            revision: input.revision,
            task: input.task,
            task_version: input.task_version,
            n_shot: input.n_shot,
            harness: input.harness,
            harness_version: input.harness_version,
            projects: input.projects,
            tags: input.tags,
            started_at: input.started_at,
            finished_at: input.finished_at,
            samples: input.samples,
            results: input.results.into_iter().map(Into::into).collect(),
        }
    }
}

/// One run of a `recordRuns` request.
#[derive(SimpleObject)]
pub struct RecordedRun {
    pub id: Uuid,
    /// False when the run was stored before (or earlier in the same request).
    pub stored: bool,
}

/// What a `recordRuns` request stored.
#[derive(SimpleObject)]
pub struct RecordRunsPayload {
    /// Every run of the request, in request order.
    pub runs: Vec<RecordedRun>,
    /// How many runs were new and are now stored.
    pub stored: u64,
    /// How many runs were stored before; nothing of theirs was written again.
    pub already_stored: u64,
    /// How many results were stored.
    pub results: u64,
    /// SHA-256 identifying the request in the audit trail
    /// (`auditEvents(entityKind: "run_batch")`).
    pub request_sha256: String,
}

impl From<Recorded> for RecordRunsPayload {
    fn from(recorded: Recorded) -> Self {
        Self {
            runs: recorded
                .runs
                .into_iter()
                .map(|(id, stored)| RecordedRun { id, stored })
                .collect(),
            stored: recorded.stored as u64,
            already_stored: recorded.already_stored as u64,
            results: recorded.results as u64,
            request_sha256: recorded.request_sha256,
        }
    }
}
