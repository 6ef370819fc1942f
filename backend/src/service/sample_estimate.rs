//! A result re-estimated from its run's samples: the mean of the per-sample
//! scores of its metric, with a bootstrap interval.
//!
//! A result file's stderr is the harness's own formula, sometimes missing,
//! and its normal interval can pass the metric's range. When the samples are
//! stored, resampling them gives an interval that needs neither, and the
//! mean shows whether the samples really add up to the reported value.

use entity::{run, sample};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use super::stats::{self, BootstrapMean};
use crate::error::ServiceResult;

/// Resamples of the bootstrap; enough for stable 95% percentiles.
const RESAMPLES: usize = 2000;
/// Fixed, so the same samples always give the same interval.
const SEED: u64 = 20_261_205;
/// Samples read per query: memory holds one such batch of scores at a time.
const BATCH: u64 = 10_000;
/// Metrics that are the mean of a scorer's per-sample value. Inspect stores
/// each sample's verdict under the scorer's name (`{"match": "C"}`), not the
/// metric's, and the sample's `score` holds that verdict as a number; for
/// these metrics that number is what the metric averages.
const MEAN_OF_SCORE: [&str; 2] = ["accuracy", "mean"];

/// What a run's samples say about one of its results.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleEstimate {
    /// Samples whose score for the metric is a finite number or a boolean.
    pub n: u64,
    /// Samples of the filter without such a score (absent, text, NaN, ±∞);
    /// they are left out of `n` and of the mean.
    pub excluded: u64,
    /// Mean and interval over the `n` scores; `None` when `n` is zero.
    pub bootstrap: Option<BootstrapMean>,
}

/// Estimates `metric` under `filter` from the samples of `run_id`; `None`
/// when the run has no sample with a score for that metric.
///
/// The run's samples are read in batches along their key, so memory holds
/// one number per sample and one batch of scores.
pub async fn estimate<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    filter: &str,
    metric: &str,
) -> ServiceResult<Option<SampleEstimate>> {
    // A run's samples share its ingest time, the partition column: naming
    // it reads one monthly partition instead of probing all of them.
    let Some(run) = run::Entity::find_by_id(run_id).one(db).await? else {
        return Ok(None);
    };
    let (mut values, mut excluded, mut mentioned) = (Vec::new(), 0u64, false);
    let (mut verdicts, mut no_verdict) = (Vec::new(), 0u64);
    let mut after = -1i64;
    loop {
        let rows: Vec<(i64, Value, Option<f64>)> = sample::Entity::find()
            .select_only()
            .column(sample::Column::SampleNo)
            .column(sample::Column::Scores)
            .column(sample::Column::Score)
            .filter(sample::Column::RunId.eq(run_id))
            .filter(sample::Column::RunIngestedAt.eq(run.ingested_at))
            .filter(sample::Column::SampleNo.gt(after))
            .filter(sample::Column::Filter.eq(filter))
            .order_by_asc(sample::Column::SampleNo)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&(last, ..)) = rows.last() else {
            break;
        };
        for (_, scores, verdict) in &rows {
            let score = scores.get(metric);
            mentioned |= score.is_some();
            match score.and_then(numeric) {
                Some(value) => values.push(value),
                None => excluded += 1,
            }
            match verdict {
                Some(value) => verdicts.push(*value),
                None => no_verdict += 1,
            }
        }
        after = last;
    }
    if !mentioned {
        if !MEAN_OF_SCORE.contains(&metric) || verdicts.is_empty() {
            return Ok(None);
        }
        (values, excluded) = (verdicts, no_verdict);
    }
    Ok(Some(SampleEstimate {
        n: values.len() as u64,
        excluded,
        bootstrap: stats::bootstrap_mean(&values, RESAMPLES, SEED),
    }))
}

/// A per-sample score as a number: finite numbers as they are, booleans as
/// 1 and 0 (harnesses write `acc` either way).
fn numeric(score: &Value) -> Option<f64> {
    match score {
        Value::Bool(right) => Some(f64::from(u8::from(*right))),
        Value::Number(number) => number.as_f64().filter(|v| v.is_finite()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::numeric;

    #[test]
    fn booleans_count_as_one_and_zero_and_text_is_no_score() {
        assert_eq!(numeric(&json!(true)), Some(1.0));
        assert_eq!(numeric(&json!(false)), Some(0.0));
        assert_eq!(numeric(&json!(0.25)), Some(0.25));
        assert_eq!(numeric(&json!("Infinity")), None);
        assert_eq!(numeric(&json!("C")), None);
        assert_eq!(numeric(&json!(null)), None);
    }
}
