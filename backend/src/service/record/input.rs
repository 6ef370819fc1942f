//! Checks and normalises runs given as structured input, hashes each into
//! the content hash its run id derives from, and shapes it like a parsed
//! results file holding one run.
//!
//! Everything here is pure, so the rules that make recording idempotent are
//! testable without a database.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::error::{ServiceError, ServiceResult};
use crate::ingest::parsed::{
    Measured, ModelRef, ModelSource, Number, ParsedFile, ParsedResult, ParsedRun,
};
use crate::ingest::store::{Attachments, measured_columns};
use crate::service::identity::{self, ModelIdentity};

/// The longest model, task, metric, tag or project name accepted.
const MAX_NAME: usize = 500;
/// The most results one run may carry.
pub const MAX_RESULTS: usize = 1000;
/// The most tags, or projects, one run may carry.
const MAX_LABELS: usize = 50;
/// Names the hashing scheme, so a later change to it cannot collide.
const SCHEME: &str = "yardstick.recorded_run.v1";

/// One run as a client describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewRun {
    /// Any spelling of the model's name; spellings that differ in case are one model.
    pub model: String,
    /// The weights snapshot, e.g. `step143000`; `None` for the main weights.
    pub revision: Option<String>,
    pub task: String,
    /// The task's or its dataset's version label (`v1.5`); runs with different
    /// labels are never ranked together.
    pub task_version: Option<String>,
    pub n_shot: Option<i32>,
    pub harness: String,
    pub harness_version: Option<String>,
    pub projects: Vec<String>,
    pub tags: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// How many samples the run evaluated.
    pub samples: Option<i64>,
    pub results: Vec<NewResult>,
}

/// One metric value of a new run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewResult {
    pub metric: String,
    /// lm-eval's post-processing variant; `none` when there is none.
    pub filter: String,
    pub value: Option<f64>,
    /// Why `value` is absent; must be `None` or `Finite` when it is present.
    pub value_kind: Option<NumberKind>,
    pub stderr: Option<f64>,
    pub stderr_kind: Option<NumberKind>,
    /// The client's statement of the metric's direction, if it makes one.
    pub higher_is_better: Option<bool>,
}

/// What a number is: an ordinary one, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Finite,
    NaN,
    PositiveInfinity,
    NegativeInfinity,
    NotAvailable,
    Missing,
}

/// A run checked, normalised and shaped for the store.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// SHA-256 of the normalised run; its id derives from this and the task.
    pub sha256: String,
    pub model: ModelIdentity,
    pub parsed: ParsedFile,
    pub attachments: Attachments,
}

impl Prepared {
    /// Returns the id the run is stored under.
    pub fn run_id(&self) -> uuid::Uuid {
        let task = self.parsed.runs.first().map_or("", |run| run.task.as_str());
        identity::run_id(&self.sha256, task)
    }
}

/// Checks run `index` and prepares it; the error names the field at fault
/// as `runs[index].field`.
pub fn prepare(index: usize, run: NewRun) -> ServiceResult<Prepared> {
    let at = |field: &str| format!("runs[{index}].{field}");
    let model = name(&run.model, &at("model"))?;
    let revision = optional_label(run.revision.as_deref(), &at("revision"))?;
    let task = name(&run.task, &at("task"))?;
    let task_version = optional_label(run.task_version.as_deref(), &at("taskVersion"))?;
    let harness = name(&run.harness, &at("harness"))?;
    let harness_version = optional_label(run.harness_version.as_deref(), &at("harnessVersion"))?;
    let projects = labels(&run.projects, &at("projects"))?;
    let tags = labels(&run.tags, &at("tags"))?;
    check_counts(&run, &at)?;
    let results = results(&run.results, &at("results"))?;

    let hashed = json!({
        "scheme": SCHEME,
        "model": model,
        "revision": revision,
        "task": task,
        "taskVersion": task_version,
        "nShot": run.n_shot,
        "harness": harness,
        "harnessVersion": harness_version,
        "projects": projects,
        "tags": tags,
        "startedAtMicros": run.started_at.map(|t| t.timestamp_micros()),
        "finishedAtMicros": run.finished_at.map(|t| t.timestamp_micros()),
        "samples": run.samples,
        "results": results.iter().map(result_json).collect::<Vec<_>>(),
    });
    let sha256 = identity::sha256_hex(identity::canonical_json(&hashed).as_bytes());
    let model_ref = ModelRef {
        source: ModelSource::Hub(model),
        revision,
    };
    let Some(identity) = identity::model_identity(Some(&model_ref), None) else {
        return Err(ServiceError::invalid_element(at("model"), "names no model"));
    };
    let parsed_run = ParsedRun {
        task,
        task_version,
        task_config: None,
        subtasks: Vec::new(),
        n_shot: run.n_shot,
        limit: None,
        samples_original: run.samples,
        samples_effective: run.samples,
        results,
        truncated: None,
    };
    let parsed = ParsedFile {
        format: None,
        harness,
        harness_version,
        model: Some(model_ref),
        config: json!({}),
        evaluated_at: run.started_at,
        duration_seconds: None,
        finished_at: run.finished_at,
        harness_commit: None,
        runs: vec![parsed_run],
        samples: Vec::new(),
        folder_sha256: None,
        table_row: None,
    };

    Ok(Prepared {
        sha256,
        model: identity,
        parsed,
        attachments: Attachments {
            projects,
            tags,
            model_tags: Vec::new(),
        },
    })
}

fn check_counts(run: &NewRun, at: &impl Fn(&str) -> String) -> ServiceResult<()> {
    if run.n_shot.is_some_and(|n| n < 0) {
        return Err(ServiceError::invalid_element(
            at("nShot"),
            "must not be negative",
        ));
    }
    if run.samples.is_some_and(|n| n < 0) {
        return Err(ServiceError::invalid_element(
            at("samples"),
            "must not be negative",
        ));
    }
    if let (Some(started), Some(finished)) = (run.started_at, run.finished_at)
        && finished < started
    {
        return Err(ServiceError::invalid_element(
            at("finishedAt"),
            format!("`{finished}` is before `startedAt` (`{started}`)"),
        ));
    }

    Ok(())
}

/// Trims a required name and checks its length and characters.
fn name(value: &str, path: &str) -> ServiceResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ServiceError::invalid_element(path, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME {
        return Err(ServiceError::invalid_element(
            path,
            format!("must be at most {MAX_NAME} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ServiceError::invalid_element(
            path,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_string())
}

/// Like [`name`], for a field that may be left out but not given empty.
fn optional_label(value: Option<&str>, path: &str) -> ServiceResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(value) if value.trim().is_empty() => Err(ServiceError::invalid_element(
            path,
            "must not be empty: leave the field out instead",
        )),
        Some(value) => name(value, path).map(Some),
    }
}

/// Checks tags or projects; returns them sorted without repeats.
fn labels(values: &[String], path: &str) -> ServiceResult<Vec<String>> {
    let mut checked = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        checked.push(name(value, &format!("{path}[{index}]"))?);
    }
    checked.sort();
    checked.dedup();
    if checked.len() > MAX_LABELS {
        return Err(ServiceError::invalid_element(
            path,
            format!("at most {MAX_LABELS} are allowed"),
        ));
    }
    Ok(checked)
}

/// Checks a run's results; returns them ordered by metric and filter.
fn results(values: &[NewResult], path: &str) -> ServiceResult<Vec<ParsedResult>> {
    if values.is_empty() {
        return Err(ServiceError::invalid_element(
            path,
            "a run needs at least one result",
        ));
    }
    if values.len() > MAX_RESULTS {
        return Err(ServiceError::invalid_element(
            path,
            format!("at most {MAX_RESULTS} results per run"),
        ));
    }
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let at = format!("{path}[{index}]");
        let result = result(value, &at)?;
        if !seen.insert((result.metric.clone(), result.filter.clone())) {
            return Err(ServiceError::invalid_element(
                at,
                format!(
                    "metric `{}` with filter `{}` appears twice in this run",
                    result.metric, result.filter
                ),
            ));
        }
        checked.push(result);
    }
    checked.sort_by(|a, b| (&a.metric, &a.filter).cmp(&(&b.metric, &b.filter)));
    Ok(checked)
}

fn result(value: &NewResult, path: &str) -> ServiceResult<ParsedResult> {
    let metric = name(&value.metric, &format!("{path}.metric"))?;
    if metric.contains(',') {
        return Err(ServiceError::invalid_element(
            format!("{path}.metric"),
            format!("`{metric}` holds a comma: give the filter in `filter`"),
        ));
    }
    let filter = if value.filter.trim().is_empty() {
        "none".to_string()
    } else {
        name(&value.filter, &format!("{path}.filter"))?
    };
    let measured_value = measured(value.value, value.value_kind, None)
        .map_err(|reason| ServiceError::invalid_element(format!("{path}.value"), reason))?;
    let stderr = measured(value.stderr, value.stderr_kind, Some(Measured::Missing))
        .and_then(never_negative)
        .map_err(|reason| ServiceError::invalid_element(format!("{path}.stderr"), reason))?;

    Ok(ParsedResult {
        metric,
        filter,
        value: measured_value,
        stderr,
        higher_is_better: value.higher_is_better,
    })
}

/// Combines a number and its kind; `absent` is what neither means, or
/// `None` when one of them is required.
fn measured(
    value: Option<f64>,
    kind: Option<NumberKind>,
    absent: Option<Measured>,
) -> Result<Measured, String> {
    match (value, kind) {
        (Some(value), None | Some(NumberKind::Finite)) if value.is_finite() => {
            Ok(Measured::Present(Number::Finite(value)))
        }
        (Some(value), None | Some(NumberKind::Finite)) => Err(format!(
            "`{value}` is not a finite number: send null with its kind"
        )),
        (Some(_), Some(kind)) => Err(format!(
            "a number was given, but its kind says {kind:?}: send null with that kind"
        )),
        (None, Some(NumberKind::Finite)) => {
            Err("the kind is FINITE but no number was given".into())
        }
        (None, Some(NumberKind::NaN)) => Ok(Measured::Present(Number::NaN)),
        (None, Some(NumberKind::PositiveInfinity)) => {
            Ok(Measured::Present(Number::PositiveInfinity))
        }
        (None, Some(NumberKind::NegativeInfinity)) => {
            Ok(Measured::Present(Number::NegativeInfinity))
        }
        (None, Some(NumberKind::NotAvailable)) => Ok(Measured::NotAvailable),
        (None, Some(NumberKind::Missing)) => Ok(Measured::Missing),
        (None, None) => absent.ok_or_else(|| "give a number, or null with its kind".into()),
    }
}

/// Refuses a negative standard error: a spread is never below zero, and a
/// stored one would give every interval built from it a negative width.
fn never_negative(stderr: Measured) -> Result<Measured, String> {
    match stderr {
        Measured::Present(Number::Finite(value)) if value < 0.0 => Err(format!(
            "`{value}` is negative; a standard error is 0 or more"
        )),
        Measured::Present(Number::NegativeInfinity) => {
            Err("a standard error cannot be negative infinity".into())
        }
        other => Ok(other),
    }
}

/// A result as hashed: numbers as the store keeps them, kinds spelled out.
fn result_json(result: &ParsedResult) -> Value {
    let (value, value_kind) = measured_columns(result.value);
    let (stderr, stderr_kind) = measured_columns(result.stderr);
    json!({
        "metric": result.metric,
        "filter": result.filter,
        "value": value,
        "valueKind": value_kind,
        "stderr": stderr,
        "stderrKind": stderr_kind,
        "higherIsBetter": result.higher_is_better,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn acc(value: f64, stderr: f64) -> NewResult {
        NewResult {
            metric: "acc".into(),
            value: Some(value),
            stderr: Some(stderr),
            ..NewResult::default()
        }
    }

    fn run() -> NewRun {
        NewRun {
            model: "llama-7b-0004".into(),
            task: "arc_easy".into(),
            task_version: Some("v1.5".into()),
            n_shot: Some(25),
            harness: "lm-evaluation-harness".into(),
            harness_version: Some("0.4.1".into()),
            projects: vec!["safety-evals".into()],
            tags: vec!["family:llama".into(), "size:3-10b".into()],
            started_at: Utc.timestamp_millis_opt(1_735_689_637_107).single(),
            finished_at: Utc.timestamp_millis_opt(1_735_692_531_475).single(),
            results: vec![acc(0.5, 0.01)],
            ..NewRun::default()
        }
    }

    fn error_of(result: ServiceResult<Prepared>) -> (String, String) {
        match result {
            Err(error) => (
                error.field().unwrap_or_default().to_string(),
                error.message(),
            ),
            Ok(_) => (String::new(), "accepted".into()),
        }
    }

    #[test]
    fn the_same_run_gets_the_same_id_whatever_the_order_of_its_lists() {
        let norm = NewResult {
            metric: "acc_norm".into(),
            ..acc(0.7, 0.02)
        };
        let mut first = run();
        first.results.push(norm.clone());
        let mut second = run();
        second.results.insert(0, norm);
        second.tags = vec![
            "size:3-10b".into(),
            " family:llama".into(),
            "size:3-10b".into(),
        ];
        let first = prepare(0, first).map(|p| p.run_id()).ok();
        assert!(first.is_some());
        assert_eq!(first, prepare(5, second).map(|p| p.run_id()).ok());
        assert_ne!(first, prepare(0, run()).map(|p| p.run_id()).ok());
    }

    #[test]
    fn any_change_to_a_value_or_label_is_another_run() {
        let base = prepare(0, run()).map(|p| p.sha256).ok();
        let mut value = run();
        value.results[0].value = Some(0.5000000000000001);
        let mut project = run();
        project.projects = vec!["internal-sweep".into()];
        for changed in [value, project] {
            assert_ne!(prepare(0, changed).map(|p| p.sha256).ok(), base);
        }
    }

    #[test]
    fn a_prepared_run_holds_what_was_sent() {
        let Ok(prepared) = prepare(0, run()) else {
            panic!("a valid run was refused");
        };
        let parsed = &prepared.parsed;
        assert_eq!(parsed.format, None);
        assert_eq!(parsed.harness_version.as_deref(), Some("0.4.1"));
        assert_eq!(
            parsed.finished_at.map(|t| t.timestamp_millis()),
            Some(1_735_692_531_475)
        );
        let result = &parsed.runs[0].results[0];
        assert_eq!(result.value, Measured::Present(Number::Finite(0.5)));
        assert_eq!(result.filter, "none");
        assert_eq!(prepared.model.alias_key, "llama-7b-0004");
        assert_eq!(prepared.attachments.tags, ["family:llama", "size:3-10b"]);
    }

    #[test]
    fn a_negative_stderr_is_refused_where_it_is() {
        let mut negative = run();
        negative.results.push(NewResult {
            metric: "acc_norm".into(),
            ..acc(0.5, -0.5)
        });
        assert_eq!(
            error_of(prepare(2, negative)),
            (
                "runs[2].results[1].stderr".into(),
                "invalid `runs[2].results[1].stderr`: `-0.5` is negative; a standard error \
                 is 0 or more"
                    .into()
            )
        );
        let mut zero = run();
        zero.results[0].stderr = Some(0.0);
        assert_eq!(error_of(prepare(0, zero)).1, "accepted");
    }

    #[test]
    fn errors_name_the_run_and_the_field() {
        let mut empty_model = run();
        empty_model.model = "  ".into();
        assert_eq!(
            error_of(prepare(7, empty_model)),
            (
                "runs[7].model".into(),
                "invalid `runs[7].model`: must not be empty".into()
            )
        );
        let mut backwards = run();
        backwards.finished_at = Utc.timestamp_millis_opt(0).single();
        assert_eq!(error_of(prepare(2, backwards)).0, "runs[2].finishedAt");
        let mut twice = run();
        twice.results.push(acc(0.6, 0.01));
        assert_eq!(
            error_of(prepare(0, twice)),
            (
                "runs[0].results[1]".into(),
                "invalid `runs[0].results[1]`: metric `acc` with filter `none` appears \
                 twice in this run"
                    .into()
            )
        );
        let mut no_results = run();
        no_results.results.clear();
        assert_eq!(error_of(prepare(0, no_results)).0, "runs[0].results");
        let mut comma = run();
        comma.results[0].metric = "acc,none".into();
        assert_eq!(error_of(prepare(0, comma)).0, "runs[0].results[0].metric");
        let mut empty_version = run();
        empty_version.task_version = Some(String::new());
        assert_eq!(error_of(prepare(1, empty_version)).0, "runs[1].taskVersion");
        let mut negative = run();
        negative.n_shot = Some(-1);
        assert_eq!(error_of(prepare(0, negative)).0, "runs[0].nShot");
        let mut empty_tag = run();
        empty_tag.tags.push(String::new());
        assert_eq!(error_of(prepare(0, empty_tag)).0, "runs[0].tags[2]");
    }

    #[test]
    fn kinds_must_agree_with_numbers() {
        let nan = measured(None, Some(NumberKind::NaN), None);
        assert_eq!(nan, Ok(Measured::Present(Number::NaN)));
        assert_eq!(
            measured(None, None, Some(Measured::Missing)),
            Ok(Measured::Missing)
        );
        assert!(measured(None, None, None).is_err());
        assert!(measured(Some(1.0), Some(NumberKind::NaN), None).is_err());
        assert!(measured(None, Some(NumberKind::Finite), None).is_err());
        assert!(measured(Some(f64::INFINITY), None, None).is_err());
        let mut not_available = run();
        not_available.results[0].value = None;
        not_available.results[0].value_kind = Some(NumberKind::NotAvailable);
        let stored = prepare(0, not_available).map(|p| p.parsed.runs[0].results[0].value);
        assert_eq!(stored.ok(), Some(Measured::NotAvailable));
    }
}
