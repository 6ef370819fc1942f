//! Reads an Inspect log's header (everything but its samples): the model,
//! the task, the settings that make up the run's configuration, its times,
//! its results, and whether it covers its task's whole dataset.
//!
//! Decisions a reader of stored runs should know:
//! - A log that is still being written (status `started`) is skipped; its
//!   finished form will be a different file.
//! - A cancelled or failed log is stored with what it has (results computed
//!   on the samples that finished, and those samples), marked truncated so
//!   that no leaderboard ranks it; one with neither results nor samples is
//!   skipped with its status and error.
//! - Times without a zone (early logs) are taken as UTC.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use super::config::run_config;
use super::coverage::{self, Counts, Coverage};
use super::results;
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::parsed::{
    ModelRef, ModelSource, ParsedFile, ParsedRun, ParsedSamples, SourceFormat,
};
use crate::ingest::samples::SampleRow;

/// The statuses Inspect writes.
const STATUSES: [&str; 4] = ["started", "success", "cancelled", "error"];

/// Task arguments that state the number of in-context examples.
const N_SHOT_ARGS: [&str; 2] = ["fewshot", "num_fewshot"];

/// Longest error message quoted in a skip reason.
const ERROR_QUOTE_CHARS: usize = 200;

/// What a header holds, before the samples are read.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    status: String,
    error: Option<String>,
    model: String,
    harness_version: Option<String>,
    config: Value,
    started_at: Option<DateTime<Utc>>,
    duration_seconds: Option<f64>,
    run: ParsedRun,
}

impl Header {
    /// Says why the log is not stored, if it is not: still being written,
    /// or holding neither results nor samples.
    pub fn skip_reason(&self, has_samples: bool) -> Option<String> {
        if self.status == "started" {
            return Some("an Inspect log still being written (status `started`)".into());
        }
        if !self.run.results.is_empty() || has_samples {
            return None;
        }
        let error = self
            .error
            .as_deref()
            .map(|message| format!(": {}", quote_error(message)))
            .unwrap_or_default();
        Some(format!(
            "an Inspect log with status `{}` and neither results nor samples{error}",
            self.status
        ))
    }

    /// Builds the parsed file: one run, and its samples when it has any.
    pub fn into_file(self, rows: Vec<SampleRow>) -> ParsedFile {
        let samples = if rows.is_empty() {
            Vec::new()
        } else {
            vec![ParsedSamples {
                task: self.run.task.clone(),
                rows,
            }]
        };
        ParsedFile {
            format: Some(SourceFormat::Inspect),
            harness: SourceFormat::Inspect.harness().to_string(),
            finished_at: None,
            harness_version: self.harness_version,
            model: Some(ModelRef {
                source: ModelSource::Hub(self.model),
                revision: None,
            }),
            config: self.config,
            evaluated_at: self.started_at,
            duration_seconds: self.duration_seconds,
            harness_commit: None,
            runs: vec![self.run],
            samples,
            folder_sha256: None,
            table_row: None,
        }
    }
}

fn quote_error(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    if line.chars().count() <= ERROR_QUOTE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(ERROR_QUOTE_CHARS).collect();
    format!("{cut}…")
}

/// Reads the header object of a log (the whole document of a `.json` log,
/// `header.json` of an `.eval` one); paths are relative to its root.
pub fn read(log: &Map<String, Value>) -> Result<Header, FileError> {
    let root = JsonPath::root();
    let eval_path = root.key("eval");
    let Some(eval) = log.get("eval").and_then(Value::as_object) else {
        let found = log.get("eval").unwrap_or(&Value::Null);
        return Err(FileError::unexpected(
            &eval_path,
            "the `eval` object",
            found,
        ));
    };
    let status = status(log.get("status"), &root.key("status"))?;
    let run = read_run(log, eval, status == "success")?;
    let (started_at, duration_seconds) = times(log, eval)?;
    let header = Header {
        error: log
            .get("error")
            .and_then(|error| error.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string),
        model: text(
            eval.get("model"),
            &eval_path.key("model"),
            "the model's name",
        )?,
        harness_version: eval
            .get("packages")
            .and_then(|packages| packages.get("inspect_ai"))
            .and_then(Value::as_str)
            .map(str::to_string),
        config: run_config(log, eval, &status),
        started_at,
        duration_seconds,
        status,
        run,
    };
    tracing::debug!(
        task = %header.run.task,
        model = %header.model,
        status = %header.status,
        results = header.run.results.len(),
        "read an Inspect log header"
    );

    Ok(header)
}

/// Reads the run: the task, its results, and how much of its dataset it saw.
fn read_run(
    log: &Map<String, Value>,
    eval: &Map<String, Value>,
    complete: bool,
) -> Result<ParsedRun, FileError> {
    let eval_path = JsonPath::root().key("eval");
    let config = eval.get("config").and_then(Value::as_object);
    let results_path = JsonPath::root().key("results");
    let (results, counts) = match log.get("results") {
        None | Some(Value::Null) => (Vec::new(), Counts::default()),
        Some(value) => (
            results::read(value, &results_path)?,
            Counts::read(value, &results_path)?,
        ),
    };
    let limit = coverage::limit(config, &eval_path.key("config").key("limit"))?;
    let coverage = Coverage {
        complete,
        counts,
        dataset_size: whole(eval.get("dataset").and_then(|d| d.get("samples"))),
        epochs: whole(config.and_then(|c| c.get("epochs"))).unwrap_or(1),
        limit,
    };

    Ok(ParsedRun {
        task: text(eval.get("task"), &eval_path.key("task"), "the task's name")?,
        task_version: task_version(eval.get("task_version"), &eval_path.key("task_version"))?,
        task_config: task_config(eval),
        subtasks: Vec::new(),
        n_shot: n_shot(eval),
        limit,
        samples_original: counts.total,
        samples_effective: counts.completed,
        truncated: Some(coverage.truncated()),
        results,
    })
}

fn status(value: Option<&Value>, path: &JsonPath) -> Result<String, FileError> {
    match value {
        Some(Value::String(status)) if STATUSES.contains(&status.as_str()) => Ok(status.clone()),
        other => Err(FileError::unexpected(
            path,
            "one of `started`, `success`, `cancelled`, `error`",
            other.unwrap_or(&Value::Null),
        )),
    }
}

fn text(value: Option<&Value>, path: &JsonPath, expected: &str) -> Result<String, FileError> {
    match value {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.trim().to_string()),
        other => Err(FileError::unexpected(
            path,
            expected,
            other.unwrap_or(&Value::Null),
        )),
    }
}

/// The task version as text; integral numbers lose their fraction, as
/// lm-eval versions do, so `1` and `1.0` are one version.
fn task_version(value: Option<&Value>, path: &JsonPath) -> Result<Option<String>, FileError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(version)) => Ok(Some(version.clone())),
        Some(Value::Number(number)) => Ok(Some(match number.as_f64() {
            Some(float) if float.fract() == 0.0 && float.abs() < 1e15 => {
                format!("{}", float as i64)
            }
            _ => number.to_string(),
        })),
        Some(other) => Err(FileError::unexpected(
            path,
            "a version number or text",
            other,
        )),
    }
}

/// A task's own configuration is the arguments it was built with; a task
/// built without any has none.
fn task_config(eval: &Map<String, Value>) -> Option<Value> {
    let args = eval.get("task_args")?.as_object()?;
    (!args.is_empty()).then(|| serde_json::json!({ "task_args": args }))
}

/// The n-shot a task argument states; tasks name it themselves, so an
/// argument of another type is not an n-shot and is left in the config.
fn n_shot(eval: &Map<String, Value>) -> Option<i32> {
    let args = eval.get("task_args")?.as_object()?;
    N_SHOT_ARGS
        .iter()
        .find_map(|name| args.get(*name)?.as_u64())
        .and_then(|shots| i32::try_from(shots).ok())
}

fn whole(value: Option<&Value>) -> Option<i64> {
    value?.as_i64()
}

/// When the run started (`stats.started_at`, else `eval.created`) and how
/// long it took (to `stats.completed_at`).
fn times(
    log: &Map<String, Value>,
    eval: &Map<String, Value>,
) -> Result<(Option<DateTime<Utc>>, Option<f64>), FileError> {
    let stats = log.get("stats");
    let stats_path = JsonPath::root().key("stats");
    let started = time(
        stats.and_then(|s| s.get("started_at")),
        &stats_path.key("started_at"),
    )?;
    let created = time(
        eval.get("created"),
        &JsonPath::root().key("eval").key("created"),
    )?;
    let completed = time(
        stats.and_then(|s| s.get("completed_at")),
        &stats_path.key("completed_at"),
    )?;
    let started = started.or(created);
    let duration = started
        .zip(completed)
        .map(|(started, completed)| (completed - started).num_milliseconds() as f64 / 1000.0)
        .filter(|seconds| *seconds >= 0.0);

    Ok((started, duration))
}

/// An ISO 8601 time with or without a zone (none means UTC); an empty
/// string (a log cut short) is no time.
fn time(value: Option<&Value>, path: &JsonPath) -> Result<Option<DateTime<Utc>>, FileError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok(None),
        Some(Value::String(text)) => text.trim(),
        Some(other) => return Err(FileError::unexpected(path, "an ISO 8601 time", other)),
    };
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(time.with_timezone(&Utc)));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|time| Some(time.and_utc()))
        .map_err(|_| FileError::unexpected(path, "an ISO 8601 time", &Value::from(text)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;
    use crate::ingest::parsed::{Measured, Number};

    fn log(overrides: Value) -> Map<String, Value> {
        let mut log = json!({
            "version": 2, "status": "success",
            "eval": {"task": "popularity", "task_version": 0, "model": "openai/gpt-4o-mini",
                     "created": "2025-02-11T15:17:00-05:00",
                     "dataset": {"name": "popularity", "samples": 100, "sample_ids": [1, 2]},
                     "config": {"limit": 2}, "task_args": {},
                     "packages": {"inspect_ai": "0.3.63"}},
            "plan": {"steps": [{"solver": "generate", "params": {}}],
                     "config": {"temperature": 1.0}},
            "results": {"total_samples": 2, "completed_samples": 2, "scores": [
                {"name": "match", "metrics": {"accuracy": {"value": 0.5},
                                             "stderr": {"value": 0.5}}}]},
            "stats": {"started_at": "2025-02-11T15:17:00-05:00",
                      "completed_at": "2025-02-11T15:17:01.5-05:00"}
        });
        if let (Some(base), Some(changes)) = (log.as_object_mut(), overrides.as_object()) {
            for (key, value) in changes {
                base.insert(key.clone(), value.clone());
            }
        }
        log.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_finished_log_reads_model_task_times_and_config() -> Result<(), FileError> {
        let header = read(&log(json!({})))?;
        assert_eq!(header.skip_reason(false), None);
        let file = header.into_file(Vec::new());
        assert_eq!(file.harness, "inspect_ai");
        assert_eq!(file.harness_version.as_deref(), Some("0.3.63"));
        assert_eq!(
            file.model.map(|model| model.source),
            Some(ModelSource::Hub("openai/gpt-4o-mini".into()))
        );
        assert_eq!(
            file.evaluated_at.map(|at| at.to_rfc3339()),
            Some("2025-02-11T20:17:00+00:00".to_string())
        );
        assert_eq!(file.duration_seconds, Some(1.5));
        assert_eq!(
            file.config,
            json!({"log_version": 2, "status": "success", "eval_config": {"limit": 2},
                   "generate_config": {"temperature": 1.0},
                   "dataset": {"name": "popularity", "samples": 100}, "task_args": {},
                   "solvers": [{"solver": "generate", "params": {}}]})
        );
        let run = &file.runs[0];
        assert_eq!(
            (
                run.task.as_str(),
                run.task_version.as_deref(),
                run.task_config.as_ref()
            ),
            ("popularity", Some("0"), None)
        );
        assert_eq!(
            (run.samples_original, run.samples_effective),
            (Some(2), Some(2))
        );
        // 2 of the dataset's 100 samples: a limited run is never ranked.
        assert_eq!((run.limit, run.truncated), (Some(2.0), Some(true)));
        assert_eq!(
            run.results[0].stderr,
            Measured::Present(Number::Finite(0.5))
        );
        assert!(file.samples.is_empty());
        Ok(())
    }

    #[test]
    fn a_run_over_the_whole_dataset_is_not_truncated() -> Result<(), FileError> {
        let eval = json!({"task": "t", "model": "m/x", "dataset": {"samples": 5},
                          "config": {"epochs": 2}});
        let results = json!({"total_samples": 10, "completed_samples": 10, "scores": []});
        let header = read(&log(json!({"eval": eval, "results": results})))?;
        assert_eq!(header.run.truncated, Some(false));
        let cancelled = read(&log(json!({"eval": eval, "results": results,
                                         "status": "cancelled"})))?;
        assert_eq!(cancelled.run.truncated, Some(true));
        Ok(())
    }

    #[test]
    fn unfinished_and_empty_logs_are_skipped_with_their_reason() -> Result<(), FileError> {
        let started = read(&log(json!({"status": "started", "results": null})))?;
        assert_eq!(
            started.skip_reason(true).as_deref(),
            Some("an Inspect log still being written (status `started`)")
        );
        let failed = read(&log(json!({"status": "error", "results": null,
            "error": {"message": "RuntimeError: boom\nTraceback …"}})))?;
        assert_eq!(
            failed.skip_reason(false).as_deref(),
            Some(
                "an Inspect log with status `error` and neither results nor samples: \
                  RuntimeError: boom"
            )
        );
        assert_eq!(failed.skip_reason(true), None);
        Ok(())
    }

    #[test]
    fn n_shot_and_task_arguments_come_from_the_task() -> Result<(), FileError> {
        let eval = json!({"task": "inspect_evals/gsm8k", "model": "m/x",
                          "task_args": {"fewshot": 10, "fewshot_seed": 42}});
        let header = read(&log(json!({"eval": eval})))?;
        assert_eq!(header.run.n_shot, Some(10));
        assert_eq!(
            header.run.task_config,
            Some(json!({"task_args": {"fewshot": 10, "fewshot_seed": 42}}))
        );
        Ok(())
    }

    #[test]
    fn naive_times_are_utc_and_bad_fields_are_located() -> Result<(), FileError> {
        let stats = json!({"started_at": "2024-05-05T07:59:35", "completed_at": ""});
        let header = read(&log(json!({"stats": stats})))?;
        assert_eq!(
            header.started_at.map(|at| at.to_rfc3339()),
            Some("2024-05-05T07:59:35+00:00".to_string())
        );
        assert_eq!(header.duration_seconds, None);
        let cases = [
            (json!({"status": "done"}), "$.status"),
            (json!({"eval": {"task": "t", "model": 3}}), "$.eval.model"),
            (json!({"eval": {"model": "m"}}), "$.eval.task"),
            (
                json!({"eval": {"task": "t", "model": "m", "task_version": []}}),
                "$.eval.task_version",
            ),
            (
                json!({"stats": {"started_at": "yesterday"}}),
                "$.stats.started_at",
            ),
            (
                json!({"results": {"total_samples": "3"}}),
                "$.results.total_samples",
            ),
            (
                json!({"eval": {"task": "t", "model": "m", "config": {"limit": "all"}}}),
                "$.eval.config.limit",
            ),
            (json!({"eval": []}), "$.eval"),
        ];
        for (overrides, path) in cases {
            let error = read(&log(overrides.clone())).err();
            assert_eq!(
                error.map(|e| (e.code, e.path)),
                Some((ErrorCode::InvalidField, path.to_string())),
                "{overrides}"
            );
        }
        Ok(())
    }
}
