//! Reads a results file as the harness itself writes it, v0.3 or v0.4.
//!
//! v0.3 files hold only `results`, `versions` and `config`; v0.4 adds per-task
//! tables (`n-shot`, `higher_is_better`, `n-samples`, `configs`,
//! `group_subtasks`) and run metadata (`date`, `git_hash`, `model_name`, …).
//! The generation is told by those keys or by `metric,filter` keys, never by
//! `lm_eval_version`, which only exists from about 0.4.8 on.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::metrics::{self, KeyStyle};
use super::tasks::{self, RunDefaults, Table, TaskTables};
use super::{fields, model};
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{ParsedFile, SourceFormat};

/// Top-level keys that only v0.4 writes.
const V04_KEYS: [&str; 10] = [
    "configs",
    "n-shot",
    "higher_is_better",
    "group_subtasks",
    "groups",
    "n-samples",
    "lm_eval_version",
    "date",
    "model_name",
    "model_source",
];

/// What v0.3 files record as their harness version: they name none, but the
/// generation is certain.
const V03_VERSION: &str = "0.3";

/// Reads a harness results file; fails on the first field that cannot be read.
pub(super) fn read(document: &Map<String, Value>) -> Result<ParsedFile, FileError> {
    let root = JsonPath::root();
    let results = tasks::results_map(document)?;
    let format = format(document, results);
    let config = fields::optional_object(document, "config", &root)?;
    let groups = fields::optional_object(document, "groups", &root)?;
    let defaults = defaults(config, format)?;
    let runs = tasks::read_runs(results, groups, &tables(document)?, &defaults)?;

    Ok(ParsedFile {
        format: Some(format),
        harness: format.harness().to_string(),
        harness_version: harness_version(document, format)?,
        model: model::from_results_file(document, config)?,
        config: stored_config(document),
        evaluated_at: evaluated_at(document)?,
        duration_seconds: duration(document)?,
        finished_at: None,
        harness_commit: fields::optional_str(document, "git_hash", &root)?.map(str::to_owned),
        runs,
        samples: Vec::new(),
        folder_sha256: None,
        table_row: None,
    })
}

fn format(document: &Map<String, Value>, results: &Map<String, Value>) -> SourceFormat {
    let has_v04_keys = V04_KEYS.iter().any(|key| document.contains_key(*key));
    if has_v04_keys || metrics::key_style(results) == KeyStyle::WithFilter {
        SourceFormat::LmEvalV04
    } else {
        SourceFormat::LmEvalV03
    }
}

/// Returns how a format spells metric keys; formats of other harnesses
/// never reach this reader and are given v0.4's spelling.
pub(super) fn style_of(format: SourceFormat) -> KeyStyle {
    match format {
        SourceFormat::LmEvalV03 => KeyStyle::Bare,
        // HELM and Inspect files never reach lm-eval's reader; the arm only
        // completes the match.
        SourceFormat::LmEvalV04
        | SourceFormat::Helm
        | SourceFormat::Inspect
        | SourceFormat::Mteb
        | SourceFormat::AlpacaEval
        | SourceFormat::OpenLlmLeaderboard => KeyStyle::WithFilter,
    }
}

fn tables(document: &Map<String, Value>) -> Result<TaskTables<'_>, FileError> {
    Ok(TaskTables {
        versions: Table::read(document, "versions")?,
        n_shot: Table::read(document, "n-shot")?,
        higher_is_better: Table::read(document, "higher_is_better")?,
        n_samples: Table::read(document, "n-samples")?,
        configs: Table::read(document, "configs")?,
        group_subtasks: Table::read(document, "group_subtasks")?,
    })
}

/// Reads what `config` says for every task: v0.3's run-wide `num_fewshot`
/// and the `limit` (`null`, `1` or `50.0` depending on the version).
fn defaults(
    config: Option<&Map<String, Value>>,
    format: SourceFormat,
) -> Result<RunDefaults, FileError> {
    let style = style_of(format);
    let path = JsonPath::root().key("config");
    let field = |key: &str| {
        config
            .and_then(|config| config.get(key))
            .unwrap_or(&Value::Null)
    };
    let limit_expected = "a number of documents or null for the limit";

    Ok(RunDefaults {
        n_shot: fields::n_shot(field("num_fewshot"), &path.key("num_fewshot"))?,
        limit: fields::finite(field("limit"), &path.key("limit"), limit_expected)?,
        style,
    })
}

fn harness_version(
    document: &Map<String, Value>,
    format: SourceFormat,
) -> Result<Option<String>, FileError> {
    let stated = fields::optional_str(document, "lm_eval_version", &JsonPath::root())?;
    Ok(stated
        .map(str::to_owned)
        .or_else(|| implied_version(format)))
}

/// Returns the harness version a format implies when the file states none:
/// v0.3 for v0.3 files, nothing for v0.4, which spans many releases.
pub(super) fn implied_version(format: SourceFormat) -> Option<String> {
    match format {
        SourceFormat::LmEvalV03 => Some(V03_VERSION.to_owned()),
        SourceFormat::LmEvalV04
        | SourceFormat::Helm
        | SourceFormat::Inspect
        | SourceFormat::Mteb
        | SourceFormat::AlpacaEval
        | SourceFormat::OpenLlmLeaderboard => None,
    }
}

/// Returns `config` ready to store; `{}` when the file has none.
fn stored_config(document: &Map<String, Value>) -> Value {
    match document.get("config") {
        Some(config @ Value::Object(_)) => lenient_json::plain(config),
        _ => Value::Object(Map::new()),
    }
}

/// Reads v0.4's `date`, unix seconds as a float, in UTC.
fn evaluated_at(document: &Map<String, Value>) -> Result<Option<DateTime<Utc>>, FileError> {
    let path = JsonPath::root().key("date");
    let value = document.get("date").unwrap_or(&Value::Null);
    let expected = "a unix timestamp in seconds";
    let Some(seconds) = fields::finite(value, &path, expected)? else {
        return Ok(None);
    };
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
    match DateTime::from_timestamp(whole as i64, nanos) {
        Some(at) => Ok(Some(at)),
        None => Err(FileError::unexpected(&path, expected, value)),
    }
}

/// Reads `total_evaluation_time_seconds`; without it, `end_time - start_time`,
/// which are monotonic-clock readings whose difference alone means something.
fn duration(document: &Map<String, Value>) -> Result<Option<f64>, FileError> {
    let root = JsonPath::root();
    if let Some(total) = document.get("total_evaluation_time_seconds") {
        return fields::seconds(total, &root.key("total_evaluation_time_seconds"));
    }
    let clock = |key: &str| document.get(key).and_then(Value::as_f64);
    let elapsed = match (clock("start_time"), clock("end_time")) {
        (Some(start), Some(end)) if end >= start => Some(end - start),
        _ => None,
    };
    Ok(elapsed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;

    fn file(document: Value) -> Result<ParsedFile, FileError> {
        let document = document.as_object().cloned().unwrap_or_default();
        read(&document)
    }

    #[test]
    fn v03_with_a_git_hash_is_still_v03() {
        let found = file(json!({
            "results": {"piqa": {"acc": 0.5}}, "versions": {"piqa": 0},
            "config": {"num_fewshot": 0}, "git_hash": "abc1234"
        }))
        .expect("readable");
        assert_eq!(found.format, Some(SourceFormat::LmEvalV03));
        assert_eq!(found.harness_commit.as_deref(), Some("abc1234"));
    }

    #[test]
    fn config_keeps_non_finite_numbers_as_text() {
        let document = lenient_json::parse(br#"{"results": {}, "config": {"temperature": NaN}}"#)
            .expect("lenient JSON");
        let found = file(document).expect("readable");
        assert_eq!(found.config, json!({"temperature": "NaN"}));
    }

    #[test]
    fn duration_falls_back_to_clock_difference() {
        let found =
            file(json!({"results": {}, "start_time": 10.0, "end_time": 12.5})).expect("readable");
        assert_eq!(found.duration_seconds, Some(2.5));
    }

    #[test]
    fn date_that_is_text_is_an_error() {
        let error = file(json!({"results": {}, "date": "2025-01-01"})).expect_err("text date");
        assert_eq!(
            error,
            FileError {
                code: ErrorCode::InvalidField,
                path: "$.date".to_owned(),
                message: "Expected a unix timestamp in seconds, found `\"2025-01-01\"`.".to_owned(),
            }
        );
    }

    #[test]
    fn limit_applies_to_every_run() {
        let found = file(json!({
            "results": {"a": {"acc,none": 1.0}, "b": {"acc,none": 0.0}},
            "config": {"limit": 1}
        }))
        .expect("readable");
        let limits: Vec<_> = found.runs.iter().map(|run| run.limit).collect();
        assert_eq!(limits, [Some(1.0), Some(1.0)]);
    }
}
