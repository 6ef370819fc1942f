//! GraphQL types of per-sample results and of the per-item comparison of
//! two runs.

use async_graphql::{InputObject, Json, Object, SimpleObject};
use entity::sample;
use serde_json::Value;
use uuid::Uuid;

use super::stats::Interval;
use super::types::NumberKind;
use crate::error::ServiceError;
use crate::service::samples::{self, ItemComparison, ItemDifference};
use crate::service::stats;

/// Differences listed per comparison at most: the web app's page of them.
const MAX_DIFFERENCES: usize = 500;

/// Which samples to list; every field narrows, fields left out do not.
#[derive(InputObject, Default)]
pub struct SamplesWhere {
    /// Only items answered right (`true`) or wrong (`false`); samples whose
    /// first metric is not right/wrong never match.
    pub correct: Option<bool>,
    /// Only samples whose score is at least this.
    pub min_score: Option<f64>,
    /// Only samples whose score is at most this.
    pub max_score: Option<f64>,
    /// Only samples whose input contains this text (case does not matter).
    pub search: Option<String>,
}

impl From<SamplesWhere> for samples::SampleWhere {
    fn from(input: SamplesWhere) -> Self {
        Self {
            correct: input.correct,
            min_score: input.min_score,
            max_score: input.max_score,
            search: input.search,
        }
    }
}

/// One item's outcome in a run.
pub struct Sample(pub sample::Model);

#[Object]
impl Sample {
    /// The run this sample belongs to.
    async fn run_id(&self) -> Uuid {
        self.0.run_id
    }

    /// 0-based position in the source log; an Inspect log's samples are
    /// numbered by epoch, then by sample id.
    async fn sample_no(&self) -> i64 {
        self.0.sample_no
    }

    /// The harness's index of the item in its dataset (for Inspect, the
    /// sample's id when it is a number).
    async fn doc_id(&self) -> Option<i64> {
        self.0.doc_id
    }

    /// Which repetition of the item this is: Inspect's epoch, from 1; 1 for
    /// harnesses that score each item once.
    async fn epoch(&self) -> i32 {
        self.0.epoch
    }

    /// The filter the output went through (`none`, `strict-match`, …); for
    /// Inspect samples the scorer whose verdict `score` holds.
    async fn filter(&self) -> &str {
        &self.0.filter
    }

    /// SHA-256 of the item's canonical JSON: the hash dataset items carry, so
    /// the same item can be found in other runs and in datasets.
    async fn item_sha256(&self) -> Option<&str> {
        self.0.item_sha256.as_deref()
    }

    /// The prompt the model was given.
    async fn input(&self) -> Option<&str> {
        self.0.input.as_deref()
    }

    async fn target(&self) -> Option<&str> {
        self.0.target.as_deref()
    }

    /// The model's (filtered) response.
    async fn output(&self) -> Option<&str> {
        self.0.output.as_deref()
    }

    /// Every per-sample metric; non-finite numbers as `"NaN"`, `"Infinity"`.
    async fn scores(&self) -> Json<Value> {
        Json(self.0.scores.clone())
    }

    /// The first metric's value; `null` when it is not a finite number
    /// (`scoreKind` says why).
    async fn score(&self) -> Option<f64> {
        self.0.score
    }

    async fn score_kind(&self) -> NumberKind {
        NumberKind::from_stored(&self.0.score_kind)
    }

    /// Whether the item was answered right, when the first metric says so.
    async fn correct(&self) -> Option<bool> {
        self.0.correct
    }
}

/// McNemar's test on the items both runs judged right or wrong.
#[derive(SimpleObject)]
pub struct McNemarTest {
    /// Items the first run got right and the second wrong.
    pub only_first_correct: u64,
    /// Items the second run got right and the first wrong.
    pub only_second_correct: u64,
    /// Two-sided exact binomial p-value.
    pub exact_p: f64,
    /// Continuity-corrected chi-square statistic.
    pub chi_square: f64,
    pub chi_square_p: f64,
}

impl From<stats::McNemar> for McNemarTest {
    fn from(test: stats::McNemar) -> Self {
        Self {
            only_first_correct: test.only_first,
            only_second_correct: test.only_second,
            exact_p: test.exact_p,
            chi_square: test.chi_square,
            chi_square_p: test.chi_square_p,
        }
    }
}

/// The mean per-item score difference with its bootstrap interval.
#[derive(SimpleObject)]
pub struct MeanDifference {
    /// Mean of first − second over shared items with finite scores in both.
    pub mean: f64,
    /// 95% paired-bootstrap interval (fixed seed, so repeatable).
    pub ci95: Interval,
    pub resamples: u64,
}

/// A shared item the two runs scored differently.
#[derive(SimpleObject)]
pub struct SampleDifference {
    pub item_sha256: String,
    pub doc_id: Option<i64>,
    pub input: Option<String>,
    pub first_correct: Option<bool>,
    pub second_correct: Option<bool>,
    pub first_score: Option<f64>,
    pub second_score: Option<f64>,
}

impl From<&ItemDifference> for SampleDifference {
    fn from(item: &ItemDifference) -> Self {
        Self {
            item_sha256: item.item_sha256.clone(),
            doc_id: item.doc_id,
            input: item.input.clone(),
            first_correct: item.first_correct,
            second_correct: item.second_correct,
            first_score: item.first_score,
            second_score: item.second_score,
        }
    }
}

/// Two runs compared on the items both evaluated (matched by item hash).
pub struct SampleComparison(pub ItemComparison);

#[Object]
impl SampleComparison {
    /// Items both runs evaluated.
    async fn shared(&self) -> u64 {
        self.0.shared
    }

    async fn only_in_first(&self) -> u64 {
        self.0.only_in_first
    }

    async fn only_in_second(&self) -> u64 {
        self.0.only_in_second
    }

    async fn both_correct(&self) -> u64 {
        self.0.both_correct
    }

    async fn both_wrong(&self) -> u64 {
        self.0.both_wrong
    }

    /// `null` when no shared item was judged right or wrong by both.
    async fn mcnemar(&self) -> Option<McNemarTest> {
        self.0.mcnemar.map(McNemarTest::from)
    }

    /// `null` when no shared item has a finite score in both runs.
    async fn mean_score_difference(&self) -> Option<MeanDifference> {
        self.0.bootstrap.map(|b| MeanDifference {
            mean: b.mean_difference,
            ci95: b.ci95.into(),
            resamples: b.resamples as u64,
        })
    }

    /// Shared items scored differently, in the first run's order; `first`
    /// is at most 500.
    async fn differences(
        &self,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<SampleDifference>> {
        let first = usize::try_from(first)
            .ok()
            .filter(|&first| first <= MAX_DIFFERENCES)
            .ok_or_else(|| {
                ServiceError::invalid("first", format!("must be between 0 and {MAX_DIFFERENCES}"))
            })?;
        Ok(self
            .0
            .differences
            .iter()
            .take(first)
            .map(SampleDifference::from)
            .collect())
    }

    /// How many shared items differ in total.
    async fn difference_count(&self) -> u64 {
        self.0.differences.len() as u64
    }
}
