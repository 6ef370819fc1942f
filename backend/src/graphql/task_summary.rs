//! The `TaskSummary` type: one task name across its versions, for browsing.

use async_graphql::Object;

use super::connection::list_complexity;
use super::types::{Metric, Model};
use crate::service::task_summary;

/// A task name with everything recorded under it, across versions and
/// configurations.
pub struct TaskSummary(pub task_summary::TaskSummary);

#[Object]
impl TaskSummary {
    /// The task key as the harness names it.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The task versions seen, in order; `null` stands for "no version recorded".
    async fn versions(&self) -> Vec<Option<&str>> {
        let versions = self.0.versions.iter();
        versions
            .map(|v| Some(v.as_str()).filter(|v| !v.is_empty()))
            .collect()
    }

    /// The n-shot settings seen; `null` when a source did not say.
    async fn n_shots(&self) -> &[Option<i32>] {
        &self.0.n_shots
    }

    /// The metrics with at least one result on this task, by name.
    async fn metrics(&self) -> Vec<Metric> {
        self.0.metrics.iter().cloned().map(Metric).collect()
    }

    /// The models with at least one run of this task, by name.
    #[graphql(complexity = "list_complexity(None, child_complexity)")]
    async fn models(&self) -> Vec<Model> {
        self.0.models.iter().cloned().map(Model).collect()
    }

    /// How many runs of this task are stored (all versions and models).
    async fn run_count(&self) -> u64 {
        self.0.runs
    }
}
