//! Per-sample results: a run's samples with filters, and the per-item
//! comparison of two runs on the items both evaluated.
//!
//! Cross-run work is two per-run reads joined here, never a join of the
//! sample table with itself, so it stays cheap when samples are distributed
//! by run.

use std::collections::HashMap;

use entity::{run, sample};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::stats::{self, McNemar, PairedBootstrap};
use crate::error::{ServiceError, ServiceResult};
use crate::service::keyset::{self, KeyKind, KeyPart, KeysetPage, KeysetRequest, Sort};

/// Resamples of the paired bootstrap; enough for stable 95% percentiles.
const BOOTSTRAP_RESAMPLES: usize = 2000;
/// The bootstrap's seed: fixed so the same two runs always give one interval.
const BOOTSTRAP_SEED: u64 = 20_261_204;

/// Which samples to list; unset fields do not narrow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleWhere {
    pub correct: Option<bool>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    /// Case-insensitive text the input must contain.
    pub search: Option<String>,
}

fn condition(run_id: Uuid, filter: &SampleWhere) -> ServiceResult<Condition> {
    let mut condition = Condition::all().add(sample::Column::RunId.eq(run_id));
    if let Some(correct) = filter.correct {
        condition = condition.add(sample::Column::Correct.eq(correct));
    }
    if let Some(min) = filter.min_score {
        condition = condition.add(sample::Column::Score.gte(min));
    }
    if let Some(max) = filter.max_score {
        condition = condition.add(sample::Column::Score.lte(max));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        let pattern = super::catalog::contains("where.search", search.trim())?;
        let input = Expr::expr(Func::lower(Expr::col(sample::Column::Input)));
        condition = condition.add(input.like(pattern));
    }
    Ok(condition)
}

/// Narrows samples to their run's partition. Every sample carries its run's
/// ingest time (the partition column on PostgreSQL); naming it lets the
/// planner read one month's partition instead of probing every one.
fn in_partition(run: &run::Model) -> Condition {
    Condition::all().add(sample::Column::RunIngestedAt.eq(run.ingested_at))
}

/// Samples in log order; a sample's number is unique within its run.
const LOG_ORDER: [Sort<sample::Column>; 1] =
    [Sort::ascending(sample::Column::SampleNo, KeyKind::Number)];

/// Lists a run's samples in log order, after the key in `request`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    filter: &SampleWhere,
    request: &KeysetRequest,
) -> ServiceResult<KeysetPage<sample::Model>> {
    if let (Some(min), Some(max)) = (filter.min_score, filter.max_score)
        && min > max
    {
        return Err(ServiceError::invalid(
            "minScore",
            "must not exceed `maxScore`",
        ));
    }
    let mut narrowed = condition(run_id, filter)?;
    if let Some(run) = run::Entity::find_by_id(run_id).one(db).await? {
        narrowed = narrowed.add(in_partition(&run));
    }
    let select = sample::Entity::find().filter(narrowed);
    keyset::fetch(db, select, &LOG_ORDER, request, |sample| {
        vec![KeyPart::Number(sample.sample_no)]
    })
    .await
}

/// One item both runs evaluated, scored differently.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDifference {
    pub item_sha256: String,
    pub doc_id: Option<i64>,
    pub input: Option<String>,
    pub first_correct: Option<bool>,
    pub second_correct: Option<bool>,
    pub first_score: Option<f64>,
    pub second_score: Option<f64>,
}

/// Two runs compared item by item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemComparison {
    pub shared: u64,
    pub only_in_first: u64,
    pub only_in_second: u64,
    pub both_correct: u64,
    pub both_wrong: u64,
    /// McNemar's test on the items with a right/wrong verdict in both runs.
    pub mcnemar: Option<McNemar>,
    /// Mean score difference (first − second) over shared items with finite
    /// scores in both, bootstrapped over items.
    pub bootstrap: Option<PairedBootstrap>,
    /// Shared items whose verdict or score differs, in the first run's order.
    pub differences: Vec<ItemDifference>,
}

/// What a comparison reads of each sample.
type Compared = (
    i64,
    Option<String>,
    Option<i64>,
    Option<bool>,
    Option<f64>,
    Option<String>,
);

async fn compared<C: ConnectionTrait>(db: &C, run_id: Uuid) -> ServiceResult<Vec<Compared>> {
    let Some(run) = run::Entity::find_by_id(run_id).one(db).await? else {
        return Err(ServiceError::not_found("run", run_id.to_string()));
    };
    Ok(sample::Entity::find()
        .select_only()
        .column(sample::Column::SampleNo)
        .column(sample::Column::ItemSha256)
        .column(sample::Column::DocId)
        .column(sample::Column::Correct)
        .column(sample::Column::Score)
        .column(sample::Column::Input)
        .filter(sample::Column::RunId.eq(run_id))
        .filter(in_partition(&run))
        .order_by_asc(sample::Column::SampleNo)
        .into_tuple()
        .all(db)
        .await?)
}

/// Compares two runs on the items both evaluated (matched by item hash).
pub async fn compare<C: ConnectionTrait>(
    db: &C,
    first: Uuid,
    second: Uuid,
) -> ServiceResult<ItemComparison> {
    let left = compared(db, first).await?;
    let right = compared(db, second).await?;
    let by_item: HashMap<&str, &Compared> = right
        .iter()
        .filter_map(|row| row.1.as_deref().map(|hash| (hash, row)))
        .collect();
    let mut comparison = ItemComparison {
        shared: 0,
        only_in_first: 0,
        only_in_second: 0,
        both_correct: 0,
        both_wrong: 0,
        mcnemar: None,
        bootstrap: None,
        differences: Vec::new(),
    };
    let (mut only_first_right, mut only_second_right) = (0u64, 0u64);
    let (mut judged, mut first_scores, mut second_scores) = (0u64, Vec::new(), Vec::new());
    for row in &left {
        let Some(other) = row.1.as_deref().and_then(|hash| by_item.get(hash)) else {
            comparison.only_in_first += 1;
            continue;
        };
        comparison.shared += 1;
        match (row.3, other.3) {
            (Some(true), Some(true)) => comparison.both_correct += 1,
            (Some(false), Some(false)) => comparison.both_wrong += 1,
            (Some(true), Some(false)) => only_first_right += 1,
            (Some(false), Some(true)) => only_second_right += 1,
            _ => {}
        }
        if row.3.is_some() && other.3.is_some() {
            judged += 1;
        }
        if let (Some(a), Some(b)) = (row.4, other.4) {
            first_scores.push(a);
            second_scores.push(b);
        }
        if row.3 != other.3 || row.4 != other.4 {
            comparison.differences.push(ItemDifference {
                item_sha256: row.1.clone().unwrap_or_default(),
                doc_id: row.2,
                input: row.5.clone(),
                first_correct: row.3,
                second_correct: other.3,
                first_score: row.4,
                second_score: other.4,
            });
        }
    }
    let left_items: std::collections::HashSet<&str> =
        left.iter().filter_map(|row| row.1.as_deref()).collect();
    comparison.only_in_second = right
        .iter()
        .filter(|row| {
            row.1
                .as_deref()
                .is_none_or(|hash| !left_items.contains(hash))
        })
        .count() as u64;
    if judged > 0 {
        comparison.mcnemar = Some(stats::mcnemar(only_first_right, only_second_right));
    }
    comparison.bootstrap = stats::paired_bootstrap(
        &first_scores,
        &second_scores,
        BOOTSTRAP_RESAMPLES,
        BOOTSTRAP_SEED,
    );
    Ok(comparison)
}
