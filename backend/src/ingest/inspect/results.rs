//! Reads an Inspect log's `results` into results: one per metric of each
//! scorer, with the scorer's name as the result's filter.
//!
//! Inspect has written three layouts over its log versions: `scorer` plus
//! `metrics` (version 1), `scorers[]` each with its `metrics` (early version
//! 2), and `scores[]` with `name`, `scorer`, `reducer` and `metrics` (later).
//!
//! Why the scorer is the filter: the glossary's filter is the procedure
//! that turned raw outputs into scored values under which a metric was
//! computed, and a scorer is exactly that (exact `match`, a `choice` parser,
//! a model grader). Keeping metric names plain (`accuracy`) lets one metric
//! mean one thing across harnesses, while results of different scorers are
//! never ranked together because leaderboards already keep filters apart.
//! An epoch reducer other than the default mean changes what the metric
//! measures, so it joins the filter too (`match/max`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{Measured, ParsedResult};

/// Metrics that are the standard error of a scorer's mean, most precise
/// first: Inspect's `stderr`, its bootstrap estimate, and that estimate's
/// name in old logs. They are the stderr of other results, never results.
const STDERR_METRICS: [&str; 3] = ["stderr", "bootstrap_stderr", "bootstrap_std"];

/// Metrics that are a mean of the per-sample scores, the quantity the
/// stderr metrics describe; other metrics (`std`, `var`, custom ones) get
/// no stderr.
const MEAN_METRICS: [&str; 2] = ["accuracy", "mean"];

/// The reducer Inspect applies across epochs when none is named.
const DEFAULT_REDUCER: &str = "mean";

/// One scorer's entry, wherever the layout put it.
struct Scorer<'a> {
    filter: String,
    metrics: &'a Map<String, Value>,
    metrics_path: JsonPath,
}

/// Reads the results object at `path`; an object without any layout's
/// scorer key holds no results.
pub fn read(results: &Value, path: &JsonPath) -> Result<Vec<ParsedResult>, FileError> {
    let Some(object) = results.as_object() else {
        return Err(FileError::unexpected(path, "a results object", results));
    };
    let scorers = scorers(object, path)?;
    let mut seen = HashSet::new();
    let mut parsed = Vec::new();
    for scorer in &scorers {
        for result in read_scorer(scorer)? {
            if !seen.insert((result.metric.clone(), result.filter.clone())) {
                let message = format!(
                    "Metric `{}` of scorer `{}` appears twice.",
                    result.metric, result.filter
                );
                return Err(FileError::unsupported_shape(&scorer.metrics_path, message));
            }
            parsed.push(result);
        }
    }

    Ok(parsed)
}

/// Finds the scorers of whichever layout the log uses.
fn scorers<'a>(
    object: &'a Map<String, Value>,
    path: &JsonPath,
) -> Result<Vec<Scorer<'a>>, FileError> {
    if let Some(scores) = object.get("scores") {
        return list(scores, &path.key("scores"));
    }
    if let Some(scorers) = object.get("scorers") {
        return list(scorers, &path.key("scorers"));
    }
    let Some(scorer) = object.get("scorer") else {
        return Ok(Vec::new());
    };
    let filter = name(scorer, &path.key("scorer"))?;
    let metrics_path = path.key("metrics");
    let metrics = match object.get("metrics") {
        Some(Value::Object(metrics)) => metrics,
        other => {
            let found = other.unwrap_or(&Value::Null);
            return Err(FileError::unexpected(
                &metrics_path,
                "an object of metrics",
                found,
            ));
        }
    };

    Ok(vec![Scorer {
        filter,
        metrics,
        metrics_path,
    }])
}

fn list<'a>(value: &'a Value, path: &JsonPath) -> Result<Vec<Scorer<'a>>, FileError> {
    let Some(entries) = value.as_array() else {
        return Err(FileError::unexpected(path, "a list of scorers", value));
    };
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let path = path.index(index);
            let filter = filter(entry, &path)?;
            let metrics_path = path.key("metrics");
            match entry.get("metrics") {
                Some(Value::Object(metrics)) => Ok(Scorer {
                    filter,
                    metrics,
                    metrics_path,
                }),
                other => Err(FileError::unexpected(
                    &metrics_path,
                    "an object of metrics",
                    other.unwrap_or(&Value::Null),
                )),
            }
        })
        .collect()
}

/// The scorer's name, with its epoch reducer when that is not the default.
fn filter(entry: &Value, path: &JsonPath) -> Result<String, FileError> {
    let name = name(entry, path)?;
    match entry.get("reducer") {
        None | Some(Value::Null) => Ok(name),
        Some(Value::String(reducer)) if reducer == DEFAULT_REDUCER => Ok(name),
        Some(Value::String(reducer)) => Ok(format!("{name}/{reducer}")),
        Some(other) => Err(FileError::unexpected(
            &path.key("reducer"),
            "a reducer name",
            other,
        )),
    }
}

fn name(entry: &Value, path: &JsonPath) -> Result<String, FileError> {
    let Some(object) = entry.as_object() else {
        return Err(FileError::unexpected(path, "a scorer object", entry));
    };
    match object.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => Ok(name.clone()),
        other => Err(FileError::unexpected(
            &path.key("name"),
            "the scorer's name",
            other.unwrap_or(&Value::Null),
        )),
    }
}

/// Reads one scorer's metrics; its stderr metric becomes the stderr of its
/// mean metrics.
fn read_scorer(scorer: &Scorer<'_>) -> Result<Vec<ParsedResult>, FileError> {
    let mut stderr = Measured::Missing;
    for name in STDERR_METRICS {
        if let Some(metric) = scorer.metrics.get(name) {
            stderr = value(metric, &scorer.metrics_path.key(name))?;
            break;
        }
    }
    let mut results = Vec::new();
    for (name, metric) in scorer.metrics {
        let path = scorer.metrics_path.key(name);
        let value = value(metric, &path)?;
        if STDERR_METRICS.contains(&name.as_str()) {
            continue;
        }
        results.push(ParsedResult {
            metric: name.clone(),
            filter: scorer.filter.clone(),
            value,
            stderr: if MEAN_METRICS.contains(&name.as_str()) {
                stderr
            } else {
                Measured::Missing
            },
            higher_is_better: None,
        });
    }

    Ok(results)
}

/// A metric's `value`: a number (NaN and the infinities included), `null`
/// when Inspect could not compute it.
fn value(metric: &Value, path: &JsonPath) -> Result<Measured, FileError> {
    let Some(object) = metric.as_object() else {
        return Err(FileError::unexpected(
            path,
            "a metric object with a `value`",
            metric,
        ));
    };
    let path = path.key("value");
    match object.get("value") {
        None => Ok(Measured::Missing),
        Some(Value::Null) => Ok(Measured::NotAvailable),
        Some(value) => lenient_json::number(value)
            .map(Measured::Present)
            .ok_or_else(|| FileError::unexpected(&path, "a number", value)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;
    use crate::ingest::parsed::Number;

    fn root() -> JsonPath {
        JsonPath::root().key("results")
    }

    fn finite(value: f64) -> Measured {
        Measured::Present(Number::Finite(value))
    }

    fn result(metric: &str, filter: &str, value: Measured, stderr: Measured) -> ParsedResult {
        ParsedResult {
            metric: metric.into(),
            filter: filter.into(),
            value,
            stderr,
            higher_is_better: None,
        }
    }

    #[test]
    fn scores_list_takes_stderr_from_the_same_scorer() -> Result<(), FileError> {
        let results = json!({"total_samples": 3, "scores": [
            {"name": "match", "scorer": "match", "params": {}, "metrics": {
                "accuracy": {"name": "accuracy", "value": 0.75, "params": {}},
                "stderr": {"name": "stderr", "value": 0.25, "params": {}}}},
            {"name": "judge", "scorer": "model_graded_fact", "metrics": {
                "mean": {"name": "mean", "value": 0.5}, "std": {"name": "std", "value": 0.1}}}
        ]});
        assert_eq!(
            read(&results, &root())?,
            [
                result("accuracy", "match", finite(0.75), finite(0.25)),
                result("mean", "judge", finite(0.5), Measured::Missing),
                result("std", "judge", finite(0.1), Measured::Missing),
            ]
        );
        Ok(())
    }

    #[test]
    fn version_one_and_early_version_two_layouts_are_read() -> Result<(), FileError> {
        let v1 = lenient_json::parse(
            br#"{"scorer": {"name": "model_graded_fact", "params": {}}, "metrics": {
                "accuracy": {"name": "accuracy", "value": NaN, "options": {}},
                "bootstrap_std": {"name": "bootstrap_std", "value": 0.0, "options": {}}}}"#,
        )?;
        assert_eq!(
            read(&v1, &root())?,
            [result(
                "accuracy",
                "model_graded_fact",
                Measured::Present(Number::NaN),
                finite(0.0)
            )]
        );
        let v2 = json!({"scorers": [{"name": "model_graded_fact", "params": {}, "metrics": {
            "accuracy": {"name": "accuracy", "value": 1, "options": {}},
            "bootstrap_std": {"name": "bootstrap_std", "value": 0.0, "options": {}}}}]});
        assert_eq!(
            read(&v2, &root())?,
            [result(
                "accuracy",
                "model_graded_fact",
                finite(1.0),
                finite(0.0)
            )]
        );
        Ok(())
    }

    #[test]
    fn a_reducer_other_than_the_mean_joins_the_filter() -> Result<(), FileError> {
        let metrics = json!({"accuracy": {"value": 0.5}});
        let results = json!({"scores": [
            {"name": "match", "reducer": "mean", "metrics": metrics},
            {"name": "match", "reducer": "max", "metrics": metrics}]});
        let filters: Vec<String> = read(&results, &root())?
            .into_iter()
            .map(|result| result.filter)
            .collect();
        assert_eq!(filters, ["match", "match/max"]);
        Ok(())
    }

    #[test]
    fn unscored_logs_and_missing_values_are_not_zero() -> Result<(), FileError> {
        assert_eq!(read(&json!({"scores": []}), &root())?, []);
        assert_eq!(read(&json!({"total_samples": 3}), &root())?, []);
        let results = json!({"scores": [{"name": "m", "metrics": {"accuracy": {"value": null}}}]});
        assert_eq!(read(&results, &root())?[0].value, Measured::NotAvailable);
        Ok(())
    }

    #[test]
    fn bad_layouts_are_reported_where_they_are() {
        let cases = [
            (json!([]), ErrorCode::InvalidField, "$.results"),
            (
                json!({"scores": {}}),
                ErrorCode::InvalidField,
                "$.results.scores",
            ),
            (
                json!({"scores": [{"metrics": {}}]}),
                ErrorCode::InvalidField,
                "$.results.scores[0].name",
            ),
            (
                json!({"scores": [{"name": "m", "metrics": {"accuracy": {"value": "high"}}}]}),
                ErrorCode::InvalidField,
                "$.results.scores[0].metrics.accuracy.value",
            ),
            (
                json!({"scores": [{"name": "m", "metrics": []}]}),
                ErrorCode::InvalidField,
                "$.results.scores[0].metrics",
            ),
            (
                json!({"scores": [{"name": "m", "metrics": {"accuracy": {"value": 1}}},
                                  {"name": "m", "metrics": {"accuracy": {"value": 0}}}]}),
                ErrorCode::UnsupportedShape,
                "$.results.scores[1].metrics",
            ),
        ];
        for (results, code, path) in cases {
            let error = read(&results, &root()).err();
            assert_eq!(
                error.map(|e| (e.code, e.path)),
                Some((code, path.to_string())),
                "{results}"
            );
        }
    }
}
