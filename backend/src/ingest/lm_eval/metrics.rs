//! Reads one task's metric object into results: metric, filter, value, stderr.
//!
//! v0.4 keys are `"<metric>,<filter>"` and the stderr of `m,f` is `m_stderr,f`
//! (the suffix goes on the metric, before the comma); v0.3 keys are bare and
//! count as filter `none`. Values are read as follows, and stderrs alike:
//!
//! - a number, or `NaN`/`Infinity`/`-Infinity`, is a measurement;
//! - `"N/A"` and `null` mean "written but not available";
//! - a string holding a number is read as that number, because the harness
//!   serialises values it cannot encode (numpy `float32` among them) with
//!   `str()`, so `"0.51"` and `"nan"` are numbers that lost their type;
//! - anything else (another string, a boolean, a list, an object) is an
//!   error: every key that is not bookkeeping (below) holds a metric, and
//!   skipping one would store a run that silently lost a result.
//!
//! Keys named `alias`, `name`, `sample_len`, `sample_count` and `samples` are
//! bookkeeping in both generations, and so is any v0.4 key without a comma.
//! A stderr whose metric is absent has nothing to attach to and is dropped.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{Measured, Number, ParsedResult};

/// Keys found beside metrics that are never metrics.
const BOOKKEEPING_KEYS: [&str; 5] = ["alias", "name", "sample_len", "sample_count", "samples"];

const STDERR_SUFFIX: &str = "_stderr";

/// The filter v0.3 results are stored under; v0.4 writes it as `,none`.
const NO_FILTER: &str = "none";

/// How a file spells its metric keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyStyle {
    /// v0.3: `acc`, `acc_stderr`.
    Bare,
    /// v0.4: `acc,none`, `acc_stderr,none`.
    WithFilter,
}

/// The `higher_is_better` entry of one task, with its path for errors.
pub(super) struct Directions<'a> {
    pub map: &'a Map<String, Value>,
    pub path: JsonPath,
}

/// Tells whether a key carries a filter suffix, as v0.4 metric keys do.
pub(super) fn has_filter(key: &str) -> bool {
    key.contains(',')
}

/// Tells whether a key is one of the known non-metric keys.
pub(super) fn is_bookkeeping(key: &str) -> bool {
    BOOKKEEPING_KEYS.contains(&key)
}

/// Tells how a results map spells its metric keys: with filters as soon as
/// one key of one task has a comma.
pub(super) fn key_style(results: &Map<String, Value>) -> KeyStyle {
    let filtered = results
        .values()
        .filter_map(Value::as_object)
        .any(|metrics| metrics.keys().any(|key| has_filter(key)));
    if filtered {
        KeyStyle::WithFilter
    } else {
        KeyStyle::Bare
    }
}

/// Reads every metric of one task in file order, each with its stderr and
/// direction; fails on a metric-shaped key whose value is not a measurement.
pub(super) fn read_results(
    metrics: &Map<String, Value>,
    style: KeyStyle,
    directions: Option<&Directions>,
    path: &JsonPath,
) -> Result<Vec<ParsedResult>, FileError> {
    let mut values = Vec::new();
    let mut stderrs = HashMap::new();
    for (key, raw) in metrics {
        let key_path = path.key(key);
        let Some((metric, filter)) = split_key(key, style, &key_path)? else {
            continue;
        };
        let measured = read_measured(raw, &key_path)?;
        match metric.strip_suffix(STDERR_SUFFIX) {
            Some(base) if !base.is_empty() => stderrs.insert((base, filter), measured),
            _ => {
                values.push((metric, filter, measured));
                None
            }
        };
    }
    values
        .into_iter()
        .map(|(metric, filter, value)| {
            let stderr = stderrs
                .remove(&(metric, filter))
                .unwrap_or(Measured::Missing);
            let higher_is_better = direction(directions, metric)?;
            Ok(ParsedResult {
                metric: metric.to_owned(),
                filter: filter.to_owned(),
                value,
                stderr,
                higher_is_better,
            })
        })
        .collect()
}

/// Splits a key into metric and filter, or returns `None` for bookkeeping keys.
fn split_key<'k>(
    key: &'k str,
    style: KeyStyle,
    path: &JsonPath,
) -> Result<Option<(&'k str, &'k str)>, FileError> {
    if is_bookkeeping(key) {
        return Ok(None);
    }
    if style == KeyStyle::Bare {
        return Ok(Some((key, NO_FILTER)));
    }
    let Some((metric, filter)) = key.split_once(',') else {
        return Ok(None);
    };
    if metric.is_empty() || filter.is_empty() {
        let expected = "a key of the form `metric,filter`";
        return Err(FileError::unexpected(path, expected, &Value::from(key)));
    }
    Ok(Some((metric, filter)))
}

/// Reads a metric or stderr value; anything that is not a measurement is an error.
fn read_measured(value: &Value, path: &JsonPath) -> Result<Measured, FileError> {
    if let Some(number) = lenient_json::number(value) {
        return Ok(Measured::Present(number));
    }
    match value {
        Value::Null => return Ok(Measured::NotAvailable),
        Value::String(text) if text == "N/A" => return Ok(Measured::NotAvailable),
        Value::String(text) => {
            if let Ok(number) = text.parse::<f64>() {
                return Ok(Measured::Present(from_f64(number)));
            }
        }
        _ => {}
    }
    let expected = "a number, `\"N/A\"` or null for a metric";
    Err(FileError::unexpected(path, expected, value))
}

/// Returns the direction the file states for a metric (keys carry no filter);
/// `null`, which the harness writes when a group's subtasks disagree, is `None`.
fn direction(directions: Option<&Directions>, metric: &str) -> Result<Option<bool>, FileError> {
    let Some(directions) = directions else {
        return Ok(None);
    };
    match directions.map.get(metric) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(higher)) => Ok(Some(*higher)),
        Some(other) => {
            let path = directions.path.key(metric);
            Err(FileError::unexpected(
                &path,
                "`true`, `false` or null",
                other,
            ))
        }
    }
}

fn from_f64(number: f64) -> Number {
    if number.is_nan() {
        Number::NaN
    } else if number == f64::INFINITY {
        Number::PositiveInfinity
    } else if number == f64::NEG_INFINITY {
        Number::NegativeInfinity
    } else {
        Number::Finite(number)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;

    fn results(metrics: &Value, style: KeyStyle) -> Result<Vec<ParsedResult>, FileError> {
        let path = JsonPath::root().key("results").key("t");
        let map = metrics.as_object().expect("test metrics are an object");
        read_results(map, style, None, &path)
    }

    fn read(metrics: &Value, style: KeyStyle) -> Vec<ParsedResult> {
        results(metrics, style).expect("test metrics are readable")
    }

    #[test]
    fn stderr_suffix_sits_before_the_filter() {
        let metrics = json!({
            "exact_match,strict-match": 0.5,
            "exact_match_stderr,strict-match": 0.1,
            "exact_match,flexible-extract": 0.6,
            "alias": "gsm8k"
        });
        let found = read(&metrics, KeyStyle::WithFilter);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].filter, "strict-match");
        assert_eq!(found[0].stderr, Measured::Present(Number::Finite(0.1)));
        assert_eq!(found[1].filter, "flexible-extract");
        assert_eq!(found[1].stderr, Measured::Missing);
    }

    #[test]
    fn not_available_null_and_numeric_strings_are_read() {
        let metrics = json!({
            "acc,none": "0.25",
            "acc_stderr,none": "N/A",
            "f1,none": null,
            "mae,none": "inf"
        });
        let found = read(&metrics, KeyStyle::WithFilter);
        assert_eq!(found[0].value, Measured::Present(Number::Finite(0.25)));
        assert_eq!(found[0].stderr, Measured::NotAvailable);
        assert_eq!(found[1].value, Measured::NotAvailable);
        assert_eq!(found[2].value, Measured::Present(Number::PositiveInfinity));
    }

    #[test]
    fn v03_keys_count_as_filter_none() {
        let metrics = json!({"acc": 1, "acc_stderr": 0.5, "sample_len": 10});
        let found = read(&metrics, KeyStyle::Bare);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].metric.as_str(), found[0].filter.as_str()),
            ("acc", "none")
        );
        assert_eq!(found[0].value, Measured::Present(Number::Finite(1.0)));
    }

    #[test]
    fn a_label_under_a_bare_v03_key_is_an_error() {
        let metrics = json!({"acc": "high"});
        let error = results(&metrics, KeyStyle::Bare).expect_err("a label is no metric");
        assert_eq!(
            (error.code, error.path.as_str()),
            (ErrorCode::InvalidField, "$.results.t.acc")
        );
    }

    #[test]
    fn v04_keys_without_comma_are_bookkeeping() {
        let metrics = json!({"acc,none": 0.5, "sample_total": 30});
        assert_eq!(read(&metrics, KeyStyle::WithFilter).len(), 1);
    }

    #[test]
    fn label_under_a_metric_key_is_an_error() {
        let metrics = json!({"acc,none": "high"});
        let error = results(&metrics, KeyStyle::WithFilter).expect_err("a label is no metric");
        assert_eq!(
            error,
            FileError {
                code: ErrorCode::InvalidField,
                path: r#"$.results.t["acc,none"]"#.to_owned(),
                message: "Expected a number, `\"N/A\"` or null for a metric, found `\"high\"`."
                    .to_owned(),
            }
        );
    }

    #[test]
    fn key_with_empty_filter_is_an_error() {
        let error = results(&json!({"acc,": 0.5}), KeyStyle::WithFilter).expect_err("no filter");
        assert_eq!(error.path, r#"$.results.t["acc,"]"#);
    }

    #[test]
    fn direction_is_matched_without_the_filter() {
        let path = JsonPath::root().key("higher_is_better").key("t");
        let table = json!({"acc": true, "ppl": false, "mixed": null});
        let map = table.as_object().expect("object");
        let directions = Directions { map, path };
        let metrics = json!({"acc,none": 0.5, "ppl,none": 3.0, "mixed,none": 1.0});
        let map = metrics.as_object().expect("object");
        let path = JsonPath::root();
        let found =
            read_results(map, KeyStyle::WithFilter, Some(&directions), &path).expect("readable");
        let stated: Vec<_> = found.iter().map(|result| result.higher_is_better).collect();
        assert_eq!(stated, [Some(true), Some(false), None]);
    }
}
