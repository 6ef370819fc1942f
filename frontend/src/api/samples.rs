//! The GraphQL calls of per-sample views: a run's samples a page at a time.

use graphql_client::GraphQLQuery;

use super::{ApiError, JSON, UUID, post};

operation!("graphql/samples.graphql", RunSamples);

/// One page of a run's samples, with how many match in all.
pub type SamplePage = run_samples::RunSamplesRunSamples;
/// One sample of a run.
pub type Sample = run_samples::RunSamplesRunSamplesNodes;
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
