//! Reads MTEB (Massive Text Embedding Benchmark) result files: one run per
//! file, with a result per metric, split and language subset.
//!
//! How MTEB's terms map onto the glossary:
//!
//! - the **task** is `task_name` (`mteb_dataset_name` before 1.x), and its
//!   **version** the `dataset_revision` MTEB pins for it: MTEB versions a
//!   task by the dataset commit it evaluates, and scores on another commit
//!   are not comparable. The oldest files record none (version empty).
//! - each **split** and **subset** (`hf_subset`: a language or language pair
//!   such as `es-en`, else `default`) becomes the results' **filter**,
//!   `test/es-en`. The filter is part of the comparable configuration, so a
//!   leaderboard never ranks one model's Spanish score against another's
//!   English one, while the task stays one task across subsets (as MTEB's
//!   own leaderboard has it) and one file stays one run. A task key per
//!   subset would instead split one evaluation into many runs and tasks.
//! - `main_score` is stored as a metric of its own, beside the metric it
//!   repeats (`cosine_spearman`), and is higher-is-better for every task
//!   type; the oldest files have none, so their runs join a `main_score`
//!   leaderboard only under their own metric names.
//! - the **model** and **revision** come from the folder layout and its
//!   `model_meta.json` (see `layout`); that file is metadata, skipped.
//!
//! Like every importer, this one only reads; the store writes.

mod layout;
mod scores;

#[cfg(test)]
mod real_files_tests;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use self::scores::SubsetScores;
use super::file_error::{FileError, JsonPath};
use super::importer::{Imported, Importer, Probe};
use super::parsed::{ParsedFile, ParsedRun, SourceFormat};

/// Top-level keys that describe a file rather than hold a split's scores.
const META_KEYS: [&str; 8] = [
    "mteb_dataset_name",
    "task_name",
    "mteb_version",
    "dataset_revision",
    "evaluation_time",
    "kg_co2_emissions",
    "date",
    "scores",
];

/// MTEB result files and the `model_meta.json` beside them.
pub struct MtebImporter;

impl Importer for MtebImporter {
    fn name(&self) -> &'static str {
        "mteb"
    }

    fn looks_for(&self) -> &'static str {
        "MTEB result JSON (`task_name` with `scores`, or `mteb_dataset_name`/`mteb_version` \
         with splits) and `model_meta.json`"
    }

    fn import(&self, probe: &Probe<'_>) -> Result<Option<Imported>, FileError> {
        let Some(Value::Object(document)) = probe.json else {
            return Ok(None);
        };
        if is_model_meta(document) {
            let reason = "MTEB model metadata (`model_meta.json`): names the model and \
                          revision of the results beside it, which are read with it";
            return Ok(Some(Imported::Skipped(reason.into())));
        }
        if !is_result(document) {
            return Ok(None);
        }
        let mut file = read(document)?;
        file.model = layout::model(probe.path)?;
        tracing::debug!(
            file = %probe.path.display(),
            results = file.runs.iter().map(|run| run.results.len()).sum::<usize>(),
            "read an MTEB result"
        );

        Ok(Some(Imported::Results(file)))
    }
}

/// Tells whether a document is an MTEB result by keys only MTEB writes.
pub fn is_result(document: &Map<String, Value>) -> bool {
    let has = |key: &str| document.contains_key(key);
    has("mteb_dataset_name") || has("mteb_version") || (has("task_name") && has("scores"))
}

/// Tells whether a document is MTEB's model metadata.
pub fn is_model_meta(document: &Map<String, Value>) -> bool {
    document.contains_key("embed_dim") && document.contains_key("max_tokens")
}

/// Reads a result document into one run; the model is left to the caller,
/// which knows where the file sits.
fn read(document: &Map<String, Value>) -> Result<ParsedFile, FileError> {
    let root = JsonPath::root();
    let task = task_name(document)?;
    let subsets = match document.get("scores") {
        Some(scores) => scores::read_scores(scores)?,
        None => {
            let splits: Vec<&str> = document
                .keys()
                .map(String::as_str)
                .filter(|key| !META_KEYS.contains(key))
                .collect();
            if splits.is_empty() {
                let message = format!("The MTEB result for `{task}` holds no split's scores.");
                return Err(FileError::unsupported_shape(&root, message));
            }
            scores::read_legacy(document, &splits)?
        }
    };
    let config = run_config(document, &subsets);
    let run = ParsedRun {
        task,
        task_version: optional_text(document, "dataset_revision")?,
        task_config: None,
        subtasks: Vec::new(),
        n_shot: None,
        limit: None,
        samples_original: None,
        samples_effective: None,
        results: subsets
            .into_iter()
            .flat_map(SubsetScores::into_results)
            .collect(),
        truncated: None,
    };

    Ok(ParsedFile {
        harness_version: optional_text(document, "mteb_version")?,
        config,
        evaluated_at: evaluated_at(document)?,
        duration_seconds: optional_seconds(document, "evaluation_time")?,
        ..ParsedFile::of(SourceFormat::Mteb, vec![run])
    })
}

fn task_name(document: &Map<String, Value>) -> Result<String, FileError> {
    let key = if document.contains_key("task_name") {
        "task_name"
    } else {
        "mteb_dataset_name"
    };
    let path = JsonPath::root().key(key);
    match document.get(key) {
        Some(Value::String(name)) if !name.trim().is_empty() => Ok(name.trim().to_owned()),
        other => Err(FileError::unexpected(
            &path,
            "the task's name",
            other.unwrap_or(&Value::Null),
        )),
    }
}

fn optional_text(document: &Map<String, Value>, key: &str) -> Result<Option<String>, FileError> {
    match document.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_owned())),
        Some(other) => Err(FileError::unexpected(
            &JsonPath::root().key(key),
            "a string",
            other,
        )),
    }
}

fn optional_seconds(document: &Map<String, Value>, key: &str) -> Result<Option<f64>, FileError> {
    match document.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => Ok(number.as_f64()),
        Some(other) => Err(FileError::unexpected(
            &JsonPath::root().key(key),
            "seconds as a number",
            other,
        )),
    }
}

/// Reads 2.x's `date`: unix seconds, or an RFC 3339 time.
fn evaluated_at(document: &Map<String, Value>) -> Result<Option<DateTime<Utc>>, FileError> {
    let path = JsonPath::root().key("date");
    let value = document.get("date").unwrap_or(&Value::Null);
    let parsed = match value {
        Value::Null => return Ok(None),
        Value::Number(number) => number
            .as_f64()
            .and_then(|seconds| DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)),
        Value::String(text) => DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|time| time.with_timezone(&Utc)),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| FileError::unexpected(&path, "unix seconds or an RFC 3339 time", value))
}

/// The file's own description (everything but the scores), with each
/// subset's languages.
fn run_config(document: &Map<String, Value>, subsets: &[SubsetScores]) -> Value {
    let mut config: Map<String, Value> = document
        .iter()
        .filter(|(key, _)| META_KEYS.contains(&key.as_str()) && key.as_str() != "scores")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let languages: Map<String, Value> = subsets
        .iter()
        .filter_map(|subset| Some((subset.subset.clone(), subset.languages.clone()?)))
        .collect();
    if !languages.is_empty() {
        config.insert("languages".into(), json!(languages));
    }
    Value::Object(config)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;
    use crate::ingest::parsed::{Measured, ModelSource, Number};

    fn import(path: &str, document: &Value) -> Result<Option<Imported>, FileError> {
        let probe = Probe {
            path: Path::new(path),
            bytes: b"",
            json: Some(document),
        };
        MtebImporter.import(&probe)
    }

    fn results(path: &str, document: &Value) -> ParsedFile {
        match import(path, document) {
            Ok(Some(Imported::Results(file))) => file,
            other => panic!("expected results, got {other:?}"),
        }
    }

    #[test]
    fn a_current_file_is_one_run_with_a_filter_per_subset() {
        let document = json!({"dataset_revision": "abc", "task_name": "STS22",
            "mteb_version": "1.18.0", "evaluation_time": 2.5,
            "scores": {"test": [
                {"hf_subset": "es-en", "languages": ["spa-Latn", "eng-Latn"],
                 "main_score": 0.7}]}});
        let file = results("results/org__model/rev1/STS22.json", &document);
        let run = &file.runs[0];
        assert_eq!(
            (run.task.as_str(), run.task_version.as_deref()),
            ("STS22", Some("abc"))
        );
        assert_eq!(run.results[0].filter, "test/es-en");
        assert_eq!(run.results[0].value, Measured::Present(Number::Finite(0.7)));
        assert_eq!(file.harness_version.as_deref(), Some("1.18.0"));
        assert_eq!(file.duration_seconds, Some(2.5));
        assert_eq!(file.config["languages"]["es-en"][0], "spa-Latn");
        let model = file.model.expect("the folder names the model");
        assert_eq!(model.source, ModelSource::Hub("org/model".into()));
        assert_eq!(model.revision.as_deref(), Some("rev1"));
    }

    #[test]
    fn a_file_outside_the_layout_names_no_model() {
        let document = json!({"mteb_dataset_name": "ArguAna", "test": {"ndcg_at_10": 0.5}});
        let file = results("ArguAna.json", &document);
        assert_eq!(file.model, None);
        assert_eq!(file.runs[0].results[0].filter, "test/default");
        assert_eq!(file.runs[0].task_version, None);
    }

    #[test]
    fn model_meta_is_skipped_and_other_documents_left_alone() {
        let meta = json!({"name": "org/m", "embed_dim": 384, "max_tokens": 512});
        assert!(matches!(
            import("model_meta.json", &meta),
            Ok(Some(Imported::Skipped(reason))) if reason.contains("metadata")
        ));
        let other = json!({"results": {"arc": {"acc": 0.5}}});
        assert_eq!(import("x.json", &other), Ok(None));
    }

    #[test]
    fn broken_fields_are_coded_errors() {
        let error = |document: Value| import("x.json", &document).err().map(|e| (e.code, e.path));
        assert_eq!(
            error(json!({"task_name": 5, "scores": {}})),
            Some((ErrorCode::InvalidField, "$.task_name".into()))
        );
        assert_eq!(
            error(json!({"mteb_dataset_name": "X"})),
            Some((ErrorCode::UnsupportedShape, "$".into()))
        );
        assert_eq!(
            error(json!({"task_name": "X", "scores": {}, "date": "yesterday"})),
            Some((ErrorCode::InvalidField, "$.date".into()))
        );
    }
}
