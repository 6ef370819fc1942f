//! The GraphQL calls of per-sample views: a run's samples a page at a time,
//! the runs of a task that have samples, and two runs compared item by item.

use graphql_client::GraphQLQuery;

use super::{ApiError, DateTime, JSON, UUID, post};

operation!("graphql/samples.graphql", RunSamples);
operation!("graphql/samples.graphql", SampleRuns);
operation!("graphql/samples.graphql", CompareSamples);

/// One page of a run's samples, with how many match in all.
pub type SamplePage = run_samples::RunSamplesRunSamples;
/// One sample of a run.
pub type Sample = run_samples::RunSamplesRunSamplesNodes;
/// Two runs compared item by item, with both runs' model and task.
pub type Comparison = compare_samples::ResponseData;
/// A shared item the two runs scored differently.
pub type Difference = compare_samples::CompareSamplesCompareSamplesDifferences;
/// A run named in a comparison.
pub type RunHead = compare_samples::SampleRunHead;

/// Which of a run's samples to list; `None` fields do not narrow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleFilter {
    pub correct: Option<bool>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    pub search: Option<String>,
}

impl SampleFilter {
    /// The API's `where` argument; `None` when nothing narrows, so the
    /// request stays the plain listing.
    fn to_where(&self) -> Option<run_samples::SamplesWhere> {
        if *self == Self::default() {
            return None;
        }
        Some(run_samples::SamplesWhere {
            correct: self.correct,
            min_score: self.min_score,
            max_score: self.max_score,
            search: self.search.clone(),
        })
    }
}

/// Fetches a page of a run's samples; `None` when no run has that id.
pub async fn run_samples(
    id: String,
    filter: SampleFilter,
    after: Option<String>,
) -> Result<Option<SamplePage>, ApiError> {
    let variables = run_samples::Variables {
        id,
        where_: filter.to_where(),
        after,
    };
    let data = post::<RunSamples>(variables).await?;
    Ok(data.run.map(|run| run.samples))
}

/// A run of a task, as the "compare samples with…" choice lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRun {
    pub id: String,
    pub model: String,
    pub version: Option<String>,
    pub n_shot: Option<i64>,
    pub revision: Option<String>,
    pub effective_at: String,
    pub samples: i64,
}

/// Fetches up to 100 runs of `task` (every version) that have samples.
pub async fn sample_runs(task: String) -> Result<Vec<SampleRun>, ApiError> {
    let data = post::<SampleRuns>(sample_runs::Variables { task }).await?;
    let runs = data
        .runs
        .nodes
        .into_iter()
        .filter(|r| r.samples.total_count > 0);
    Ok(runs
        .map(|run| SampleRun {
            model: run.model.map(|m| m.name).unwrap_or_default(),
            version: run.task.and_then(|t| t.version),
            samples: run.samples.total_count,
            id: run.id,
            n_shot: run.n_shot,
            revision: run.revision,
            effective_at: run.effective_at,
        })
        .collect())
}

/// Compares two runs on the items both evaluated; an unknown run is an
/// error (`run_not_found`).
pub async fn compare(first: String, second: String) -> Result<Comparison, ApiError> {
    post::<CompareSamples>(compare_samples::Variables { first, second }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_filter_sends_no_where_argument() {
        assert_eq!(SampleFilter::default().to_where(), None);
        let wrong = SampleFilter {
            correct: Some(false),
            search: Some("apples".into()),
            ..SampleFilter::default()
        };
        let sent = wrong.to_where();
        assert_eq!(sent.as_ref().and_then(|w| w.correct), Some(false));
        assert_eq!(sent.and_then(|w| w.search).as_deref(), Some("apples"));
    }
}
