//! Keeps the leaderboard read model current: every writer calls `add` (or
//! `repin`) in the transaction that changes the facts, so a board and the
//! results behind it become visible together, or not at all.
//!
//! Additions are merged in SQL (`INSERT … ON CONFLICT … DO UPDATE`), keeping
//! the later run of a slot and adding up run counts. The merge is
//! commutative, so two ingests touching one slot at once cannot lose each
//! other's runs: PostgreSQL applies the second upsert to the row the first
//! committed. This is the one function that would become asynchronous if the
//! update ever left the ingest transaction.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{leaderboard_board, leaderboard_entry};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

/// Rows per multi-row upsert, well under SQLite's limit on bound values.
const CHUNK: usize = 500;

/// One result of a newly stored run, with what places it on a board.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub task_name: String,
    pub task_version: String,
    pub n_shot: Option<i32>,
    pub filter: String,
    pub dataset_version_id: Option<i64>,
    pub metric_id: i64,
    pub model_id: i64,
    pub revision: Option<String>,
    pub revision_step: Option<i64>,
    pub run_id: Uuid,
    pub effective_at: DateTime<Utc>,
    /// `None` unless finite.
    pub value: Option<f64>,
    pub stderr: Option<f64>,
    /// A run cut short by `--limit`: counted on its board, never entered.
    pub truncated: bool,
}

impl Contribution {
    /// Returns the text that identifies this result's slot: the same text
    /// the migration's backfill computes in SQL.
    pub fn slot(&self) -> String {
        let text = |value: Option<&str>| match value {
            Some(value) => format!("={}", value.replace('\\', "\\\\").replace('|', "\\|")),
            None => "~".to_string(),
        };
        let number = |value: Option<i64>| text(value.map(|v| v.to_string()).as_deref());
        [
            text(Some(&self.task_name)),
            text(Some(&self.task_version)),
            number(self.n_shot.map(i64::from)),
            text(Some(&self.filter)),
            number(self.dataset_version_id),
            number(Some(self.metric_id)),
            number(Some(self.model_id)),
            text(self.revision.as_deref()),
        ]
        .join("|")
    }

    /// Whether this result's run replaces `other`'s in their shared slot:
    /// the later evaluation, ties to the smaller run id.
    fn supersedes(&self, other: &Self) -> bool {
        (other.effective_at, self.run_id) < (self.effective_at, other.run_id)
    }
}

/// Adds newly stored results to their boards, through `tx`.
///
/// Each contribution must belong to a run this transaction inserted, once:
/// the run counts are sums.
pub async fn add<C: ConnectionTrait>(tx: &C, contributions: &[Contribution]) -> Result<(), DbErr> {
    if contributions.is_empty() {
        return Ok(());
    }
    // Boards, then slots, each in key order (the maps are sorted): every
    // writer locks rows in one order, so two ingests cannot deadlock.
    let now = Utc::now();
    upsert_boards(tx, contributions, now).await?;
    let mut slots: BTreeMap<String, (&Contribution, i64)> = BTreeMap::new();
    for contribution in contributions.iter().filter(|c| !c.truncated) {
        let slot = slots
            .entry(contribution.slot())
            .or_insert((contribution, 0));
        if contribution.supersedes(slot.0) {
            slot.0 = contribution;
        }
        slot.1 += 1;
    }
    let rows: Vec<leaderboard_entry::ActiveModel> = slots
        .into_iter()
        .map(|(slot, (best, runs))| entry_row(slot, best, runs))
        .collect();
    for chunk in rows.chunks(CHUNK) {
        leaderboard_entry::Entity::insert_many(chunk.to_vec())
            .on_conflict(merge_entry())
            .exec_without_returning(tx)
            .await?;
    }

    tracing::debug!(
        results = contributions.len(),
        "leaderboard read model updated"
    );
    Ok(())
}

/// Counts each board's new truncated runs and marks it refreshed: a new
/// `refreshed_at` and one more `version`, which tell rankers their copy is stale.
async fn upsert_boards<C: ConnectionTrait>(
    tx: &C,
    contributions: &[Contribution],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut boards: BTreeMap<(&str, i64), HashSet<Uuid>> = BTreeMap::new();
    for contribution in contributions {
        let key = (contribution.task_name.as_str(), contribution.metric_id);
        let truncated = boards.entry(key).or_default();
        if contribution.truncated {
            truncated.insert(contribution.run_id);
        }
    }
    let rows: Vec<leaderboard_board::ActiveModel> = boards
        .into_iter()
        .map(
            |((task_name, metric_id), truncated)| leaderboard_board::ActiveModel {
                task_name: Set(task_name.to_string()),
                metric_id: Set(metric_id),
                truncated_runs: Set(i64::try_from(truncated.len()).unwrap_or(i64::MAX)),
                refreshed_at: Set(now),
                version: Set(1),
                ..Default::default()
            },
        )
        .collect();
    let merge = OnConflict::columns([
        leaderboard_board::Column::TaskName,
        leaderboard_board::Column::MetricId,
    ])
    .value(
        leaderboard_board::Column::TruncatedRuns,
        Expr::cust("leaderboard_board.truncated_runs + excluded.truncated_runs"),
    )
    .value(
        leaderboard_board::Column::Version,
        Expr::cust("leaderboard_board.version + 1"),
    )
    .update_column(leaderboard_board::Column::RefreshedAt)
    .to_owned();
    for chunk in rows.chunks(CHUNK) {
        leaderboard_board::Entity::insert_many(chunk.to_vec())
            .on_conflict(merge.clone())
            .exec_without_returning(tx)
            .await?;
    }

    Ok(())
}

fn entry_row(slot: String, best: &Contribution, runs: i64) -> leaderboard_entry::ActiveModel {
    leaderboard_entry::ActiveModel {
        slot: Set(slot),
        task_name: Set(best.task_name.clone()),
        task_version: Set(best.task_version.clone()),
        n_shot: Set(best.n_shot),
        filter: Set(best.filter.clone()),
        dataset_version_id: Set(best.dataset_version_id),
        metric_id: Set(best.metric_id),
        model_id: Set(best.model_id),
        revision: Set(best.revision.clone()),
        revision_step: Set(best.revision_step),
        run_id: Set(best.run_id),
        effective_at: Set(best.effective_at),
        value: Set(best.value),
        stderr: Set(best.stderr),
        runs: Set(runs),
        ..Default::default()
    }
}

/// Merges an incoming slot row into the stored one: the later run's columns
/// win (ties to the smaller run id), run counts add up.
///
/// Both backends evaluate every `SET` expression against the stored row, so
/// the order of assignments does not matter. On SQLite times are RFC 3339
/// text in UTC with a fixed-width date, which compares in time order.
fn merge_entry() -> OnConflict {
    use leaderboard_entry::Column;
    let later = "(excluded.effective_at > leaderboard_entry.effective_at \
        OR (excluded.effective_at = leaderboard_entry.effective_at \
            AND excluded.run_id < leaderboard_entry.run_id))";
    let pick = |column: &str| {
        Expr::cust(format!(
            "CASE WHEN {later} THEN excluded.{column} ELSE leaderboard_entry.{column} END"
        ))
    };
    OnConflict::column(Column::Slot)
        .values([
            (Column::RunId, pick("run_id")),
            (Column::EffectiveAt, pick("effective_at")),
            (Column::Value, pick("value")),
            (Column::Stderr, pick("stderr")),
            (
                Column::Runs,
                Expr::cust("leaderboard_entry.runs + excluded.runs"),
            ),
        ])
        .to_owned()
}

/// Moves a run's results to the configuration of the dataset version it was
/// just pinned to, through `tx`, after the pin row is written.
///
/// A pin takes a run out of its unpinned slots, which a merge cannot express,
/// so the model's entries on the task are rebuilt from the facts. On
/// PostgreSQL the table is locked against other writers first, so the rebuild
/// sees every committed run and no upsert interleaves; pins are rare.
pub async fn repin<C: ConnectionTrait>(
    tx: &C,
    task_name: &str,
    model_id: i64,
    metric_ids: &[i64],
) -> Result<(), DbErr> {
    // Boards first, then entries: the order `add` locks them in, so a pin
    // and an ingest wait for each other instead of deadlocking.
    leaderboard_board::Entity::update_many()
        .col_expr(
            leaderboard_board::Column::RefreshedAt,
            Expr::value(Utc::now()),
        )
        .col_expr(
            leaderboard_board::Column::Version,
            Expr::col(leaderboard_board::Column::Version).add(1),
        )
        .filter(leaderboard_board::Column::TaskName.eq(task_name))
        .filter(leaderboard_board::Column::MetricId.is_in(metric_ids.to_vec()))
        .exec(tx)
        .await?;
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_unprepared("LOCK TABLE leaderboard_entry IN SHARE ROW EXCLUSIVE MODE")
            .await?;
    }
    leaderboard_entry::Entity::delete_many()
        .filter(leaderboard_entry::Column::TaskName.eq(task_name))
        .filter(leaderboard_entry::Column::ModelId.eq(model_id))
        .exec(tx)
        .await?;
    let scope = migration::Rebuild::ModelOnTask {
        task_name,
        model_id,
    };
    migration::rebuild_leaderboard_read_model(tx, scope).await?;

    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn contribution() -> Contribution {
        Contribution {
            task_name: "arc|easy".into(),
            task_version: String::new(),
            n_shot: None,
            filter: "none\\x".into(),
            dataset_version_id: None,
            metric_id: 3,
            model_id: 7,
            revision: Some("step1".into()),
            revision_step: Some(1),
            run_id: Uuid::from_u128(2),
            effective_at: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
            value: None,
            stderr: None,
            truncated: false,
        }
    }

    #[test]
    fn slots_escape_separators_and_tell_null_from_empty() {
        assert_eq!(
            contribution().slot(),
            "=arc\\|easy|=|~|=none\\\\x|~|=3|=7|=step1"
        );
    }

    #[test]
    fn the_later_run_supersedes_and_ties_go_to_the_smaller_id() {
        let older = contribution();
        let mut newer = contribution();
        newer.effective_at += chrono::TimeDelta::seconds(1);
        newer.run_id = Uuid::from_u128(9);
        assert!(newer.supersedes(&older));
        assert!(!older.supersedes(&newer));
        let mut twin = contribution();
        twin.run_id = Uuid::from_u128(1);
        assert!(twin.supersedes(&older));
        assert!(!older.supersedes(&twin));
    }
}
