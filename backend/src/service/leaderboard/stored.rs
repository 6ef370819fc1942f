//! Reads one board from the leaderboard read model as candidates: one per
//! slot (configuration × model × revision), standing for the slot's runs.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{leaderboard_board, leaderboard_entry, ml_model};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
    RelationDef,
};
use uuid::Uuid;

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

/// One stored entry with its model's row, as the joined read returns it.
#[derive(Debug, FromQueryResult)]
struct EntryRow {
    task_name: String,
    task_version: String,
    n_shot: Option<i32>,
    filter: String,
    dataset_version_id: Option<i64>,
    model_id: i64,
    revision: Option<String>,
    revision_step: Option<i64>,
    run_id: Uuid,
    effective_at: DateTime<Utc>,
    value: Option<f64>,
    stderr: Option<f64>,
    runs: i64,
    model_name: String,
    model_is_local_path: bool,
    model_created_at: DateTime<Utc>,
}

/// Reads the boards of every task name in `task_names` × `metric_id`, by
/// task name, with the rows of the models on them; a name no result reached
/// has no board.
///
/// One statement reads the entries and their models together, and only the
/// columns ranking needs: at two thousand models a board is read whole on
/// every request, so each column and each round trip counts.
pub async fn read(
    db: &impl ConnectionTrait,
    task_names: &[String],
    metric_id: i64,
) -> ServiceResult<(HashMap<String, StoredBoard>, HashMap<i64, ml_model::Model>)> {
    use leaderboard_entry::Column as Entry;
    let model_of: RelationDef = leaderboard_entry::Entity::belongs_to(ml_model::Entity)
        .from(Entry::ModelId)
        .to(ml_model::Column::Id)
        .into();
    let rows = leaderboard_entry::Entity::find()
        .select_only()
        .columns([
            Entry::TaskName,
            Entry::TaskVersion,
            Entry::NShot,
            Entry::Filter,
            Entry::DatasetVersionId,
            Entry::ModelId,
            Entry::Revision,
            Entry::RevisionStep,
            Entry::RunId,
            Entry::EffectiveAt,
            Entry::Value,
            Entry::Stderr,
            Entry::Runs,
        ])
        .column_as(ml_model::Column::Name, "model_name")
        .column_as(ml_model::Column::IsLocalPath, "model_is_local_path")
        .column_as(ml_model::Column::CreatedAt, "model_created_at")
        .join(JoinType::InnerJoin, model_of)
        .filter(Entry::TaskName.is_in(task_names.to_vec()))
        .filter(Entry::MetricId.eq(metric_id))
        .into_model::<EntryRow>()
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
    let mut models = HashMap::new();
    for row in rows {
        models
            .entry(row.model_id)
            .or_insert_with(|| ml_model::Model {
                id: row.model_id,
                name: row.model_name.clone(),
                is_local_path: row.model_is_local_path,
                created_at: row.model_created_at,
            });
        let board = boards.entry(row.task_name.clone()).or_default();
        board.candidates.push(candidate_of(row, &pins));
    }

    Ok((boards, models))
}

fn candidate_of(row: EntryRow, pins: &HashMap<i64, String>) -> Candidate {
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
