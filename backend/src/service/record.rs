//! Records evaluation runs given as structured input (the API's
//! `recordRuns`): checks every run, then stores the whole request in one
//! transaction through the same store as results files, with one audit event.
//!
//! A run's id derives from the hash of its whole normalised input, the way a
//! file's runs derive from the file's bytes, so sending a run again stores
//! nothing; a run that differs in any value or label is another run.

pub mod input;

use std::time::Instant;

use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

pub use self::input::{NewResult, NewRun, NumberKind};
use crate::error::{ServiceError, ServiceResult};
use crate::ingest::store::{self, SourceFile};
use crate::service::audit::{self, Change, Subject};
use crate::service::identity;

/// The most runs one request may record.
pub const MAX_RUNS: usize = 5000;
/// Starts the source path of every recorded run; the request's hash follows.
const SOURCE_PREFIX: &str = "graphql:recordRuns/";

/// What one request recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Each run's id and whether this request stored it, in request order.
    pub runs: Vec<(Uuid, bool)>,
    /// Runs stored now.
    pub stored: usize,
    /// Runs that existed already, or repeated an earlier run of the request.
    pub already_stored: usize,
    /// Results stored now.
    pub results: usize,
    /// SHA-256 over the runs' hashes in request order: the request's identity
    /// in the audit trail and in its runs' source path.
    pub request_sha256: String,
}

/// Checks and stores `runs` for `actor`, all or nothing.
///
/// Fails with `invalid_argument` naming the first field at fault
/// (`runs[3].results[0].value`) before anything is written.
pub async fn record_runs(
    db: &DatabaseConnection,
    runs: Vec<NewRun>,
    actor: &str,
) -> ServiceResult<Recorded> {
    let started = Instant::now();
    check_count(runs.len())?;
    let prepared = runs
        .into_iter()
        .enumerate()
        .map(|(index, run)| input::prepare(index, run))
        .collect::<ServiceResult<Vec<_>>>()?;
    let hashes: Vec<&str> = prepared.iter().map(|p| p.sha256.as_str()).collect();
    let request_sha256 = identity::sha256_hex(hashes.join("\n").as_bytes());
    let path = format!("{SOURCE_PREFIX}{request_sha256}");
    let sources: Vec<SourceFile<'_>> = prepared
        .iter()
        .map(|run| SourceFile {
            path: &path,
            sha256: &run.sha256,
            actor,
            model: &run.model,
            parsed: &run.parsed,
            attachments: &run.attachments,
        })
        .collect();

    let tx = db.begin().await?;
    let stored = store::store_sources(&tx, &sources).await?;
    let recorded = Recorded {
        runs: prepared
            .iter()
            .zip(&stored)
            .map(|(run, stored)| (run.run_id(), stored.runs > 0))
            .collect(),
        stored: stored.iter().map(|s| s.runs).sum(),
        already_stored: stored.iter().filter(|s| s.runs == 0).count(),
        results: stored.iter().map(|s| s.results).sum(),
        request_sha256,
    };
    audit::record(&tx, change(&recorded, actor)).await?;
    tx.commit().await?;

    tracing::info!(
        runs = recorded.runs.len(),
        stored = recorded.stored,
        results = recorded.results,
        duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1000.0,
        "recorded runs"
    );
    Ok(recorded)
}

fn check_count(runs: usize) -> ServiceResult<()> {
    if runs == 0 {
        return Err(ServiceError::invalid("runs", "send at least one run"));
    }
    if runs > MAX_RUNS {
        return Err(ServiceError::invalid(
            "runs",
            format!("{runs} runs in one request; at most {MAX_RUNS} are allowed"),
        ));
    }
    Ok(())
}

fn change<'a>(recorded: &Recorded, actor: &'a str) -> Change<'a> {
    Change {
        actor,
        action: "run_batch.record",
        subject: Subject::new("run_batch", recorded.request_sha256.clone()),
        before: None,
        after: Some(json!({
            "runs": recorded.runs.len(),
            "stored": recorded.stored,
            "alreadyStored": recorded.already_stored,
            "results": recorded.results,
        })),
    }
}

/// Returns the request that first stored a recorded run, from its source path.
pub fn request_of(source_path: &str) -> Option<&str> {
    source_path.strip_prefix(SOURCE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_bounded() {
        assert_eq!(
            check_count(0).map_err(|e| e.message()),
            Err("invalid `runs`: send at least one run".into())
        );
        assert!(check_count(MAX_RUNS).is_ok());
        assert!(check_count(MAX_RUNS + 1).is_err());
    }

    #[test]
    fn a_recorded_run_names_its_request() {
        assert_eq!(request_of("graphql:recordRuns/abc"), Some("abc"));
        assert_eq!(request_of("/data/results.json"), None);
    }
}
