//! Reads one board from the leaderboard read model as candidates: one per
//! slot (configuration × model × revision), standing for the slot's runs.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{leaderboard_board, leaderboard_entry};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::Configuration;
use super::candidate::{self, Candidate, RunFacts};
use crate::error::ServiceResult;

/// A stored board, ready for the leaderboard rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredBoard {
    pub candidates: Vec<Candidate>,
    pub truncated_runs: usize,
    /// `None` when no result of the metric reached the task.
    pub refreshed_at: Option<DateTime<Utc>>,
}

/// Reads the boards of every task name in `task_names` × `metric_id`, by
/// task name; a name no result reached has no board.
pub async fn read(
    db: &impl ConnectionTrait,
    task_names: &[String],
    metric_id: i64,
) -> ServiceResult<HashMap<String, StoredBoard>> {
    let rows = leaderboard_entry::Entity::find()
        .filter(leaderboard_entry::Column::TaskName.is_in(task_names.to_vec()))
        .filter(leaderboard_entry::Column::MetricId.eq(metric_id))
        .all(db)
        .await?;
    let counts = leaderboard_board::Entity::find()
        .filter(leaderboard_board::Column::TaskName.is_in(task_names.to_vec()))
        .filter(leaderboard_board::Column::MetricId.eq(metric_id))
        .all(db)
        .await?;
    let pinned: HashSet<i64> = rows.iter().filter_map(|r| r.dataset_version_id).collect();
    let pins = candidate::pin_labels(db, pinned).await?;
    let mut boards: HashMap<String, StoredBoard> = counts
        .into_iter()
        .map(|board| {
            let stored = StoredBoard {
                candidates: Vec::new(),
                truncated_runs: usize::try_from(board.truncated_runs).unwrap_or_default(),
                refreshed_at: Some(board.refreshed_at),
            };
            (board.task_name, stored)
        })
        .collect();
    for row in rows {
        let board = boards.entry(row.task_name.clone()).or_default();
        board.candidates.push(candidate_of(row, &pins));
    }

    Ok(boards)
}

fn candidate_of(row: leaderboard_entry::Model, pins: &HashMap<i64, String>) -> Candidate {
    Candidate {
        configuration: Configuration {
            task_version: row.task_version,
            n_shot: row.n_shot,
            filter: row.filter,
            dataset_version: row.dataset_version_id.and_then(|id| pins.get(&id).cloned()),
        },
        task_name: row.task_name,
        run: RunFacts {
            id: row.run_id,
            model_id: row.model_id,
            revision: row.revision,
            revision_step: row.revision_step,
            effective_at: row.effective_at,
        },
        value: row.value,
        stderr: row.stderr,
        runs: usize::try_from(row.runs).unwrap_or_default(),
    }
}
