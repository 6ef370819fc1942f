//! Decides whether a JSON document is lm-eval output, and in which layout.
//!
//! Other formats are recognised by a few keys that only they write, so the
//! skip report can say what a file is; these checks are hints for people, not
//! validation of those formats.

use serde_json::{Map, Value};

use super::metrics;
use super::{NotLmEval, Shape};
use crate::ingest::file_error::{FileError, JsonPath, quote};
use crate::ingest::{inspect, mteb};

/// Top-level keys only the harness writes. When one is present, a `results`
/// map that cannot be read is an error in an lm-eval file, not another format.
const HARNESS_KEYS: [&str; 9] = [
    "versions",
    "config",
    "configs",
    "n-shot",
    "higher_is_better",
    "group_subtasks",
    "n-samples",
    "lm_eval_version",
    "model_source",
];

/// Top-level keys of a hand-saved `{model, tasks, num_fewshot, results}` summary.
const SUMMARY_KEYS: [&str; 3] = ["model", "tasks", "num_fewshot"];

/// A document's verdict: lm-eval in some shape, or another format.
pub(super) enum Classified<'a> {
    LmEval(Shape, &'a Map<String, Value>),
    Foreign(NotLmEval),
}

/// Classifies a document; fails only for harness output whose `results` map
/// has a layout that cannot be read.
pub(super) fn classify(document: &Value) -> Result<Classified<'_>, FileError> {
    let Some(object) = document.as_object() else {
        return Ok(Classified::Foreign(array_kind(document)));
    };
    // Inspect logs carry a `results` key of their own, so they go first.
    if inspect::is_log(object) {
        return Ok(Classified::Foreign(NotLmEval::InspectLog));
    }
    match object.get("results") {
        Some(results) => classify_with_results(object, results),
        None if is_bare_results(object) => Ok(Classified::LmEval(Shape::BareResults, object)),
        None => Ok(Classified::Foreign(object_kind(object))),
    }
}

fn classify_with_results<'a>(
    object: &'a Map<String, Value>,
    results: &Value,
) -> Result<Classified<'a>, FileError> {
    let is_harness = HARNESS_KEYS.iter().any(|key| object.contains_key(*key));
    let Some(problem) = task_map_problem(results) else {
        let is_summary = SUMMARY_KEYS.iter().any(|key| object.contains_key(*key));
        let shape = if is_summary && !is_harness {
            Shape::Summary
        } else {
            Shape::ResultsFile
        };
        return Ok(Classified::LmEval(shape, object));
    };
    if is_harness {
        return Err(problem);
    }
    Ok(Classified::Foreign(NotLmEval::ForeignResults))
}

/// Returns why `results` is not a map of task names to metric objects, if it is not.
fn task_map_problem(results: &Value) -> Option<FileError> {
    let path = JsonPath::root().key("results");
    let Some(tasks) = results.as_object() else {
        let message = format!(
            "Expected `results` to map task names to metric objects, found `{}`.",
            quote(results)
        );
        return Some(FileError::unsupported_shape(&path, message));
    };
    let (task, metrics) = tasks.iter().find(|(_, metrics)| !metrics.is_object())?;
    let message = format!(
        "Expected an object of metrics for each task, found `{}`.",
        quote(metrics)
    );
    Some(FileError::unsupported_shape(&path.key(task), message))
}

/// Tells whether an object is a results map saved without its wrapper: every
/// value is an object holding only `metric,filter` keys and bookkeeping keys.
///
/// v0.3-style bare keys (`acc`) are not accepted here: without the comma
/// nothing tells such a map apart from any other object of objects.
fn is_bare_results(object: &Map<String, Value>) -> bool {
    let mut has_metric = false;
    for metrics in object.values() {
        let Some(metrics) = metrics.as_object() else {
            return false;
        };
        for key in metrics.keys() {
            if metrics::has_filter(key) {
                has_metric = true;
            } else if !metrics::is_bookkeeping(key) {
                return false;
            }
        }
    }
    has_metric
}

/// Names the format of an object that has no `results` map.
fn object_kind(object: &Map<String, Value>) -> NotLmEval {
    let has = |key: &str| object.contains_key(key);
    let helm_run = has("adapter_spec")
        || has("scenario_spec")
        || has("request_states")
        || (has("definition_path") && has("tags"));
    let helm_suite = (has("header") && has("rows")) || has("run_groups") || has("suites");
    if helm_run {
        NotLmEval::HelmRun
    } else if helm_suite {
        NotLmEval::HelmSuite
    } else if mteb::is_result(object) {
        NotLmEval::MtebResult
    } else if mteb::is_model_meta(object) {
        NotLmEval::MtebModelMeta
    } else if is_opencompass_output(object) {
        NotLmEval::OpenCompassOutput
    } else {
        NotLmEval::NoResultsMap
    }
}

/// Tells OpenCompass's `predictions/…` and `results/…` files: items keyed
/// by their index (`"0"`, `"1"`, …), each with its prompt and prediction.
fn is_opencompass_output(object: &Map<String, Value>) -> bool {
    !object.is_empty()
        && object.iter().all(|(key, item)| {
            let is_index = key.bytes().all(|byte| byte.is_ascii_digit());
            let item = item.as_object();
            is_index
                && item.is_some_and(|item| {
                    item.contains_key("origin_prompt") && item.contains_key("prediction")
                })
        })
}

/// Names the format of a document that is not an object, by its first element.
fn array_kind(document: &Value) -> NotLmEval {
    let first = document.as_array().and_then(|items| items.first());
    let Some(item) = first.and_then(Value::as_object) else {
        return NotLmEval::NotAnObject;
    };
    let has = |key: &str| item.contains_key(key);
    // Per-instance files, instance lists and `stats.json` of one HELM run.
    let helm_run = has("instance_id")
        || (has("input") && has("references"))
        || (has("name") && has("count") && has("sum"));
    // `runs.json`, `run_specs.json` and rendered tables of a HELM suite.
    let helm_suite = has("run_spec") || has("adapter_spec") || (has("header") && has("rows"));
    if helm_run {
        NotLmEval::HelmRun
    } else if helm_suite {
        NotLmEval::HelmSuite
    } else {
        NotLmEval::NotAnObject
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shape(document: &Value) -> Option<Shape> {
        match classify(document) {
            Ok(Classified::LmEval(shape, _)) => Some(shape),
            _ => None,
        }
    }

    #[test]
    fn summary_needs_summary_keys_and_no_harness_keys() {
        let summary = json!({"model": "m", "num_fewshot": 5, "results": {}});
        assert_eq!(shape(&summary), Some(Shape::Summary));
        let harness = json!({"model": "m", "versions": {}, "results": {}});
        assert_eq!(shape(&harness), Some(Shape::ResultsFile));
    }

    #[test]
    fn bare_map_needs_a_filtered_metric_key() {
        let bare = json!({"glue": {"alias": "glue"}, "rte": {"acc,none": 0.5}});
        assert_eq!(shape(&bare), Some(Shape::BareResults));
        let v03_style = json!({"rte": {"acc": 0.5}});
        assert_eq!(shape(&v03_style), None);
        let only_alias = json!({"glue": {"alias": "glue"}});
        assert_eq!(shape(&only_alias), None);
    }

    #[test]
    fn results_that_are_a_list_in_a_harness_file_fail() {
        let document = json!({"results": [1], "config": {}});
        let Err(error) = classify(&document) else {
            panic!("a list of results in a harness file is an error");
        };
        assert_eq!(error.path, "$.results");
        assert_eq!(
            error.message,
            "Expected `results` to map task names to metric objects, found `[1]`."
        );
    }
}
