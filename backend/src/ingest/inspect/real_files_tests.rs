//! Reads every Inspect log of the reference data (three containers, log
//! versions 1, 2 and 4) and pins exact values from each kind.
//!
//! The data folder is `YARDSTICK_DATA_DIR`, else `shared/data/real` next to
//! the workspace; a missing folder fails these tests rather than skip them.

use std::path::PathBuf;

use walkdir::WalkDir;

use super::InspectImporter;
use crate::ingest::importer::{Imported, Importer, Probe};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{Measured, ModelSource, Number, ParsedFile, ParsedResult};
use crate::ingest::real_data;
use crate::ingest::samples::SampleRow;

const LOGS: &str = "inspect-ai-logs/tests";

fn logs_dir() -> PathBuf {
    real_data::folder(LOGS)
}

fn import(path: &std::path::Path) -> Imported {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json = lenient_json::parse(&bytes).ok();
    let probe = Probe {
        path,
        bytes: &bytes,
        json: json.as_ref(),
    };
    match InspectImporter.import(&probe) {
        Ok(Some(imported)) => imported,
        Ok(None) => panic!("`{}` was not claimed", path.display()),
        Err(error) => panic!("`{}`: {error}", path.display()),
    }
}

/// Reads the log at `relative` (below the Inspect folder) as results.
fn read(relative: &str) -> ParsedFile {
    match import(&logs_dir().join(relative)) {
        Imported::Results(file) => file,
        other => panic!("`{relative}` was not read as results: {other:?}"),
    }
}

fn only_result(file: &ParsedFile) -> &ParsedResult {
    let results = &file.runs[0].results;
    assert_eq!(results.len(), 1, "{results:?}");
    &results[0]
}

fn rows(file: &ParsedFile) -> &[SampleRow] {
    file.samples.first().map_or(&[], |samples| &samples.rows)
}

fn finite(value: f64) -> Measured {
    Measured::Present(Number::Finite(value))
}

#[test]
fn every_real_log_is_stored_with_one_run() {
    let mut counts = Vec::new();
    for entry in WalkDir::new(logs_dir()).sort_by_file_name() {
        let entry = entry.unwrap_or_else(|error| panic!("{error}"));
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().to_string();
        let Imported::Results(file) = import(entry.path()) else {
            panic!("`{name}` was skipped");
        };
        assert_eq!(file.runs.len(), 1, "{name}");
        counts.push((name, file.runs[0].results.len(), rows(&file).len()));
    }
    let total = |pick: fn(&(String, usize, usize)) -> usize| counts.iter().map(pick).sum::<usize>();
    // 17 logs: 8 `.eval`, 6 `.json`, 3 `.txt`; one unscored log has no
    // results, and three logs carry no samples.
    assert_eq!(counts.len(), 17, "{counts:?}");
    assert_eq!(total(|count| count.1), 16, "{counts:?}");
    assert_eq!(total(|count| count.2), 38, "{counts:?}");
}

#[test]
fn the_same_run_reads_the_same_from_json_and_eval() {
    let json = read("log/test_eval_log/log_formats.json");
    let eval = read("log/test_eval_log/log_formats.eval");
    assert_eq!(json, eval);
    assert_eq!(
        json.model.as_ref().map(|model| &model.source),
        Some(&ModelSource::Hub("ollama/llama3.1".into()))
    );
    let result = only_result(&json);
    assert_eq!(
        (result.metric.as_str(), result.filter.as_str()),
        ("accuracy", "match")
    );
    assert_eq!((result.value, result.stderr), (finite(0.0), finite(0.0)));
    let row = &rows(&json)[0];
    assert_eq!(
        (row.target.as_deref(), row.output.as_deref(), row.correct),
        (Some(" Yes"), Some("No"), Some(false))
    );
}

#[test]
fn version_one_nan_stays_nan_and_its_bootstrap_std_is_the_stderr() {
    let file = read("log/test_eval_log/log_with_nan.txt");
    assert_eq!(file.config["log_version"], 1);
    let result = only_result(&file);
    assert_eq!(result.filter, "model_graded_fact");
    assert_eq!(result.value, Measured::Present(Number::NaN));
    assert_eq!(result.stderr, finite(0.0));
    // `2024-05-05T07:59:35` has no zone; it is read as UTC, 28 s long.
    assert_eq!(
        file.evaluated_at.map(|at| at.to_rfc3339()),
        Some("2024-05-05T07:59:35+00:00".into())
    );
    assert_eq!(file.duration_seconds, Some(28.0));
    let run = &file.runs[0];
    assert_eq!((run.limit, run.truncated), (Some(20.0), Some(true)));
}

#[test]
fn early_version_two_scorers_and_a_mislabelled_version_four_read_alike() {
    let valid = read("log/test_eval_log/log_valid.txt");
    let four = read("log/test_eval_log/log_version_3.txt");
    assert_eq!(four.config["log_version"], 4);
    for file in [&valid, &four] {
        let result = only_result(file);
        assert_eq!(
            (&result.metric[..], &result.filter[..], result.value),
            ("accuracy", "model_graded_fact", finite(1.0))
        );
        assert_eq!(file.runs[0].task, "wikipedia");
        assert!(file.samples.is_empty());
    }
}

#[test]
fn epochs_are_separate_samples_in_epoch_then_id_order() {
    let file = read("log/test_eval_log/log_streaming.eval");
    assert_eq!(
        file.model.as_ref().map(|model| &model.source),
        Some(&ModelSource::Hub(
            "azureai/Meta-Llama-3-1-405B-Instruct-jqf".into()
        ))
    );
    let result = only_result(&file);
    assert_eq!((result.value, result.stderr), (finite(0.75), finite(0.25)));
    let run = &file.runs[0];
    assert_eq!(
        (run.samples_original, run.samples_effective),
        (Some(4), Some(4))
    );
    let order: Vec<_> = rows(&file)
        .iter()
        .map(|row| (row.sample_no, row.doc_id, row.correct))
        .collect();
    // Sample 1 was wrong in epoch 1 and right in epoch 2 (reduced to 0.5).
    assert_eq!(
        order,
        [
            (0, Some(1), Some(false)),
            (1, Some(2), Some(true)),
            (2, Some(1), Some(true)),
            (3, Some(2), Some(true)),
        ]
    );
    assert_eq!(rows(&file)[0].item_sha256, rows(&file)[2].item_sha256);
}

#[test]
fn a_cancelled_log_is_stored_with_its_partial_results_as_truncated() {
    let file = read("analysis/test_logs/2025-05-12T20-28-13-04-00_popularity.json");
    assert_eq!(file.config["status"], "cancelled");
    let result = only_result(&file);
    assert_eq!(result.value, finite(0.6666666666666666));
    assert_eq!(result.stderr, finite(0.33333333333333337));
    assert_eq!(file.runs[0].truncated, Some(true));
    assert_eq!(rows(&file).len(), 3);
    let header_only = read("analysis/test_logs/2025-05-12T20-28-13-04-00_no-samples.json");
    assert!(header_only.samples.is_empty());
    assert_eq!(only_result(&header_only).value, finite(0.6666666666666666));
}

#[test]
fn an_unscored_log_keeps_its_samples_without_scores() {
    let file = read("scorer/logs/2025-02-11T15-17-00-05-00_popularity_dPiJifoWeEQBrfWsAopzWr.eval");
    assert!(file.runs[0].results.is_empty());
    let rows = rows(&file);
    assert_eq!(rows.len(), 10);
    assert!(
        rows.iter()
            .all(|row| row.score_kind == "missing" && row.filter == "none")
    );
    assert_eq!(rows[0].doc_id, Some(1));
    assert_eq!(rows[9].doc_id, Some(10));
}

#[test]
fn chat_inputs_choices_and_package_qualified_tasks_are_read() {
    let security = read("analysis/test_logs/2025-05-12T20-28-26-04-00_security-guide.json");
    let row = &rows(&security)[0];
    assert_eq!(
        row.input.as_deref(),
        Some("How do I prevent SQL Injection attacks?")
    );
    assert_eq!(
        row.output.as_deref(),
        Some(
            "Use parameterized queries and prepared statements, sanitize inputs, and employ \
             ORM frameworks."
        )
    );
    assert_eq!(
        (row.filter.as_str(), row.correct),
        ("model_graded_fact", Some(true))
    );

    let mmlu = read("analysis/test_logs_choices/mmlu-summary-choices.eval");
    let run = &mmlu.runs[0];
    assert_eq!(
        (run.task.as_str(), run.task_version.as_deref()),
        ("inspect_evals/mmlu_0_shot", Some("0"))
    );
    assert_eq!(
        mmlu.harness_version.as_deref(),
        Some("0.3.154.dev44+g32a84c8fe.d20251213")
    );
    assert_eq!(mmlu.config["dataset"]["name"], "cais/mmlu");
    let row = &rows(&mmlu)[0];
    assert_eq!(
        (row.output.as_deref(), row.correct),
        (Some("ANSWER: C"), Some(false))
    );
    assert_eq!(row.scores, serde_json::json!({"choice": "I"}));
}
