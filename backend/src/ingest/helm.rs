//! Reads Stanford HELM run folders: one run per folder, with a result per
//! stat and a sample per evaluated instance.
//!
//! A run is claimed through its folder's `stats.json`; the folder's other
//! files are read from there by path (`folder`), and are themselves skipped
//! with that reason, so every file gets one outcome and a run is stored
//! once. Suite-level summaries are recognised and skipped (`files` says
//! why). Like every importer, this one only reads; the store writes.

mod fields;
mod files;
mod folder;
mod instances;
mod per_instance;
mod requests;
mod run_spec;
mod stats;

#[cfg(test)]
mod real_files_tests;

use std::path::Path;

use super::file_error::FileError;
use super::importer::{Imported, Importer, Probe};
use super::parsed::{ParsedFile, ParsedRun, ParsedSamples, SourceFormat};

/// Stanford HELM run folders and suite summaries.
pub struct HelmImporter;

impl Importer for HelmImporter {
    fn name(&self) -> &'static str {
        "helm"
    }

    fn looks_for(&self) -> &'static str {
        "HELM run folders (`stats.json` beside `run_spec.json`, `scenario_state.json`, …) and \
         suite summaries (`runs.json`, `schema.json`, `groups/…`)"
    }

    fn import(&self, probe: &Probe<'_>) -> Result<Option<Imported>, FileError> {
        let Some(document) = probe.json else {
            return Ok(None);
        };
        match files::recognise(probe.path, document) {
            None => Ok(None),
            Some(files::Kind::Skip(reason)) => Ok(Some(Imported::Skipped(reason))),
            Some(files::Kind::Stats) => read_run(probe.path, probe.bytes, document)
                .map(|file| Some(Imported::Results(file))),
        }
    }
}

/// Reads the run whose `stats.json` is at `stats_path` (its bytes and parsed
/// content given) together with the rest of its folder; fails with the file
/// and JSON path of the first problem.
pub fn read_run(
    stats_path: &Path,
    stats_bytes: &[u8],
    stats: &serde_json::Value,
) -> Result<ParsedFile, FileError> {
    let results = stats::read_results(stats)?;
    let folder = folder::read(stats_path, stats_bytes)?;
    let spec = run_spec::read(&folder.run_spec, &folder.scenario)?;
    let requests = requests::read(&folder.scenario_state)?;
    let instances = instances::read(&folder.instances)?;
    let samples = per_instance::read(&folder.per_instance_stats, &instances, &requests)?;
    tracing::debug!(
        run.task = %spec.task,
        results = results.len(),
        samples = samples.rows.len(),
        "read a HELM run folder"
    );
    let run = ParsedRun {
        task: spec.task.clone(),
        task_version: None,
        task_config: Some(spec.task_config),
        subtasks: Vec::new(),
        n_shot: spec.n_shot,
        // HELM's `max_eval_instances` is the designed size of the evaluation
        // set, kept in the run spec, not a cut-short run: no limit is recorded.
        limit: None,
        samples_original: None,
        samples_effective: i64::try_from(samples.instances).ok(),
        results,
        truncated: None,
    };

    Ok(ParsedFile {
        format: Some(SourceFormat::Helm),
        harness: SourceFormat::Helm.harness().to_string(),
        finished_at: None,
        harness_version: None,
        model: Some(spec.model),
        config: spec.config,
        evaluated_at: requests.earliest,
        duration_seconds: None,
        harness_commit: None,
        runs: vec![run],
        samples: vec![ParsedSamples {
            task: spec.task,
            rows: samples.rows,
        }],
        folder_sha256: Some(folder.sha256),
        table_row: None,
    })
}
