//! Stores a leaderboard table: every model row in one transaction under the
//! file's path and hash, with the rows dropped as repeats of a model named
//! on the file's ingest event and in the log.

use sea_orm::{DatabaseConnection, DbErr};

use super::{IngestOptions, Outcome, stored_or_rejected};
use crate::ingest::file_error::FileError;
use crate::ingest::parsed::{DroppedRow, ParsedTable};
use crate::ingest::store::{self, SourceFile};
use crate::service::identity::{self, ModelIdentity};

/// Stores `table`, read from the file at `source_path` with hash `sha256`.
pub(super) async fn store(
    db: &DatabaseConnection,
    source_path: &str,
    sha256: &str,
    table: &ParsedTable,
    options: &IngestOptions,
) -> Result<Outcome, DbErr> {
    if options.model.is_some() {
        tracing::warn!(
            file = source_path,
            "--model ignored: a leaderboard table names a model on every row"
        );
    }
    if table.rows.is_empty() {
        let reason = "a leaderboard table without rows; nothing to store".to_owned();
        return Ok(Outcome::Skipped { reason });
    }
    let identities: Option<Vec<ModelIdentity>> = table
        .rows
        .iter()
        .map(|row| identity::model_identity(row.model.as_ref(), None))
        .collect();
    let Some(identities) = identities else {
        return Ok(Outcome::Rejected(FileError::model_unresolved()));
    };
    let sources: Vec<SourceFile<'_>> = table
        .rows
        .iter()
        .zip(&identities)
        .map(|(parsed, model)| SourceFile {
            path: source_path,
            sha256,
            actor: &options.actor,
            model,
            parsed,
            attachments: &options.attachments,
        })
        .collect();
    let detail = dropped_detail(&table.dropped);
    if !table.dropped.is_empty() {
        let identical = table.dropped.iter().filter(|row| row.identical).count();
        // Reported to whoever ingests (the outcome says so), so not a warning
        // for the operator.
        tracing::info!(
            file = source_path,
            rows = table.dropped.len(),
            identical,
            "dropped repeated rows of a leaderboard table; the first listing of each model is kept"
        );
    }
    let result = store::store_file_sources(db, &sources, detail).await;
    let outcome = stored_or_rejected(result, source_path)?;

    Ok(match outcome {
        Outcome::Stored(stored) => Outcome::Stored(store::Stored {
            dropped_rows: table.dropped.len(),
            ..stored
        }),
        other => other,
    })
}

/// Describes the dropped rows for the ingest event, e.g. `dropped 2
/// repeated rows (1 identical): line 11 (`org/m`, as line 10), …`.
fn dropped_detail(dropped: &[DroppedRow]) -> Option<String> {
    if dropped.is_empty() {
        return None;
    }
    let identical = dropped.iter().filter(|row| row.identical).count();
    let rows: Vec<String> = dropped
        .iter()
        .map(|row| {
            let kind = if row.identical {
                "as"
            } else {
                "other numbers than"
            };
            format!(
                "line {} (`{}`, {kind} line {})",
                row.line, row.model, row.kept_line
            )
        })
        .collect();
    Some(format!(
        "dropped {} repeated rows ({identical} identical), keeping each model's first: {}",
        dropped.len(),
        rows.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_rows_are_listed_with_the_row_kept() {
        let dropped = [
            DroppedRow {
                line: 11,
                model: "org/m".into(),
                kept_line: 10,
                identical: true,
            },
            DroppedRow {
                line: 12,
                model: "org/n".into(),
                kept_line: 3,
                identical: false,
            },
        ];
        assert_eq!(
            dropped_detail(&dropped).as_deref(),
            Some(
                "dropped 2 repeated rows (1 identical), keeping each model's first: line 11 \
                 (`org/m`, as line 10), line 12 (`org/n`, other numbers than line 3)"
            )
        );
        assert_eq!(dropped_detail(&[]), None);
    }
}
