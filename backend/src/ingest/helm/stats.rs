//! HELM `Stat`s, the aggregate numbers of `stats.json` and
//! `per_instance_stats.json`, as metrics under filters.
//!
//! A stat is named by a compound key: a metric name, the split it was
//! computed on, an optional sub-split and an optional perturbation (the
//! worst case over robustness or fairness rewrites of each instance). The
//! metric is the name alone, so `exact_match` is one metric with one
//! direction everywhere; the rest of the key becomes the filter, written
//! `split[:sub_split][+perturbation[@computed_on][(field=value,…)]]`, e.g.
//! `test` or `test+robustness@worst`. Leaderboards keep filters apart, so a
//! worst-case score is never ranked against a plain one.
//!
//! HELM averages each metric over the instances of a train trial, then over
//! trials: `count` is the number of trials, not of instances, and `stddev` is
//! the population spread of the trial means. The stderr is therefore the
//! spread across trials, `stddev / sqrt(count − 1)`; with a single trial
//! there is none and it is stored as missing rather than as 0.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::fields;
use crate::ingest::file_error::{FileError, JsonPath, quote};
use crate::ingest::parsed::{Measured, Number, ParsedResult};

/// The split a stat without one is filed under, as lm-eval files unfiltered metrics.
const NO_SPLIT: &str = "none";

/// Keys of a perturbation that describe it rather than tell it apart.
const PERTURBATION_FLAGS: [&str; 4] = ["name", "computed_on", "robustness", "fairness"];

/// Keys of a stat's name that have their own place in the filter.
const NAME_PARTS: [&str; 4] = ["name", "split", "sub_split", "perturbation"];

/// One stat, read.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Stat {
    pub metric: String,
    pub filter: String,
    /// The mean; missing when `count` is 0, as HELM then writes no mean.
    pub value: Measured,
    pub stderr: Measured,
}

/// Reads `stats.json` into one result per stat; fails when it is not a
/// non-empty list of stats or names one stat twice.
pub(super) fn read_results(stats: &Value) -> Result<Vec<ParsedResult>, FileError> {
    let root = JsonPath::root();
    let Some(list) = stats.as_array() else {
        let message = format!(
            "Expected `stats.json` to be a list of stats, found `{}`.",
            quote(stats)
        );
        return Err(FileError::unsupported_shape(&root, message));
    };
    if list.is_empty() {
        let message = "`stats.json` holds no stats; a run without results is not stored.";
        return Err(FileError::unsupported_shape(&root, message.to_string()));
    }
    let mut first_seen: HashMap<(String, String), usize> = HashMap::new();
    let mut results = Vec::with_capacity(list.len());
    for (index, value) in list.iter().enumerate() {
        let path = root.index(index);
        let stat = read_stat(value, &path)?;
        let key = (stat.metric.clone(), stat.filter.clone());
        if let Some(first) = first_seen.insert(key, index) {
            return Err(twice(&stat, &path, &root.index(first)));
        }
        results.push(ParsedResult {
            metric: stat.metric,
            filter: stat.filter,
            value: stat.value,
            stderr: stat.stderr,
            higher_is_better: None,
        });
    }

    Ok(results)
}

fn twice(stat: &Stat, path: &JsonPath, first: &JsonPath) -> FileError {
    let message = format!(
        "The stat `{}` under `{}` appears twice; the first is at `{first}`.",
        stat.metric, stat.filter
    );
    FileError::invalid_field(&path.key("name"), message)
}

/// Reads one `Stat` object.
pub(super) fn read_stat(value: &Value, path: &JsonPath) -> Result<Stat, FileError> {
    let stat = fields::object(value, path, "a stat object")?;
    let name_path = path.key("name");
    let name = fields::object(
        fields::get(stat, "name"),
        &name_path,
        "a stat name object (`name`, `split`, …)",
    )?;
    let metric = fields::text(
        fields::get(name, "name"),
        &name_path.key("name"),
        "a metric name",
    )?;
    let count_path = path.key("count");
    let count = fields::optional_count(
        fields::get(stat, "count"),
        &count_path,
        "a whole number for `count`",
    )?
    .ok_or_else(|| FileError::unexpected(&count_path, "a count", &Value::Null))?;

    Ok(Stat {
        metric: metric.to_string(),
        filter: filter(name, &name_path)?,
        value: mean(stat, count, path)?,
        stderr: stderr(stat, count, path)?,
    })
}

fn mean(stat: &Map<String, Value>, count: i64, path: &JsonPath) -> Result<Measured, FileError> {
    if count == 0 {
        return Ok(Measured::Missing);
    }
    let expected = format!("a number for `mean`, since `count` is {count}");
    let value = fields::number(fields::get(stat, "mean"), &path.key("mean"), &expected)?;
    Ok(Measured::Present(value))
}

fn stderr(stat: &Map<String, Value>, count: i64, path: &JsonPath) -> Result<Measured, FileError> {
    let stddev = fields::optional_number(
        fields::get(stat, "stddev"),
        &path.key("stddev"),
        "a number for `stddev`",
    )?;
    if count < 2 {
        return Ok(Measured::Missing);
    }
    Ok(match stddev {
        None => Measured::Missing,
        Some(Number::Finite(stddev)) => {
            Measured::Present(Number::Finite(stddev / ((count - 1) as f64).sqrt()))
        }
        Some(other) => Measured::Present(other),
    })
}

/// Writes a stat name's split, sub-split, perturbation and any other key as a filter.
pub(super) fn filter(name: &Map<String, Value>, path: &JsonPath) -> Result<String, FileError> {
    let split = fields::optional_text(
        fields::get(name, "split"),
        &path.key("split"),
        "a split name",
    )?;
    let sub_split = fields::optional_text(
        fields::get(name, "sub_split"),
        &path.key("sub_split"),
        "a sub-split name",
    )?;
    let mut filter = split.unwrap_or(NO_SPLIT).to_string();
    if let Some(sub_split) = sub_split {
        filter.push(':');
        filter.push_str(sub_split);
    }
    let perturbation = fields::get(name, "perturbation");
    if !perturbation.is_null() {
        filter.push('+');
        filter.push_str(&perturbation_text(perturbation, &path.key("perturbation"))?);
    }
    filter.push_str(&extras(name, &NAME_PARTS));

    Ok(filter)
}

fn perturbation_text(value: &Value, path: &JsonPath) -> Result<String, FileError> {
    let perturbation = fields::object(value, path, "a perturbation object")?;
    let name = fields::text(
        fields::get(perturbation, "name"),
        &path.key("name"),
        "a perturbation name",
    )?;
    let computed_on = fields::optional_text(
        fields::get(perturbation, "computed_on"),
        &path.key("computed_on"),
        "what the perturbation was computed on",
    )?;
    let mut text = name.to_string();
    if let Some(computed_on) = computed_on {
        text.push('@');
        text.push_str(computed_on);
    }
    text.push_str(&extras(perturbation, &PERTURBATION_FLAGS));

    Ok(text)
}

/// Writes the keys of `object` not in `known` as `(key=value,…)`, sorted, so
/// stats that differ only in such a key keep different filters.
fn extras(object: &Map<String, Value>, known: &[&str]) -> String {
    let mut pairs: Vec<String> = object
        .iter()
        .filter(|(key, value)| !known.contains(&key.as_str()) && !value.is_null())
        .map(|(key, value)| match value {
            Value::String(text) => format!("{key}={text}"),
            other => format!("{key}={other}"),
        })
        .collect();
    if pairs.is_empty() {
        return String::new();
    }
    pairs.sort();
    format!("({})", pairs.join(","))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;

    fn stat(value: Value) -> Result<Stat, FileError> {
        read_stat(&value, &JsonPath::root().index(0))
    }

    #[test]
    fn a_plain_stat_is_its_mean_under_its_split() -> Result<(), FileError> {
        let read = stat(json!({"name": {"name": "exact_match", "split": "test"},
            "count": 1, "sum": 0.5, "mean": 0.5, "variance": 0.0, "stddev": 0.0}))?;
        assert_eq!(
            read,
            Stat {
                metric: "exact_match".into(),
                filter: "test".into(),
                value: Measured::Present(Number::Finite(0.5)),
                // One trial: no spread to speak of, rather than a stderr of 0.
                stderr: Measured::Missing,
            }
        );
        Ok(())
    }

    #[test]
    fn perturbations_and_sub_splits_go_into_the_filter() -> Result<(), FileError> {
        let worst = stat(json!({"name": {"name": "exact_match", "split": "test",
            "perturbation": {"name": "robustness", "robustness": true, "fairness": false,
                             "computed_on": "worst"}}, "count": 1, "mean": 1.0}))?;
        assert_eq!(worst.filter, "test+robustness@worst");
        let typo = stat(
            json!({"name": {"name": "f1", "split": "valid", "sub_split": "hard",
            "perturbation": {"name": "typos", "prob": 0.1, "computed_on": "perturbed"}},
            "count": 1, "mean": 1.0}),
        )?;
        assert_eq!(typo.filter, "valid:hard+typos@perturbed(prob=0.1)");
        let bare = stat(json!({"name": {"name": "num_instances"}, "count": 1, "mean": 2}))?;
        assert_eq!(bare.filter, "none");
        Ok(())
    }

    #[test]
    fn the_stderr_is_the_spread_across_trials() -> Result<(), FileError> {
        // Three trial means 0, 0.5, 1: population stddev sqrt(1/6).
        let read = stat(json!({"name": {"name": "exact_match", "split": "test"},
            "count": 3, "mean": 0.5, "stddev": (1.0_f64 / 6.0).sqrt()}))?;
        let Measured::Present(Number::Finite(stderr)) = read.stderr else {
            panic!("no stderr: {read:?}");
        };
        assert!((stderr - (1.0_f64 / 12.0).sqrt()).abs() < 1e-12, "{stderr}");
        Ok(())
    }

    #[test]
    fn a_stat_counted_zero_times_has_no_value() -> Result<(), FileError> {
        let read = stat(
            json!({"name": {"name": "training_co2_cost", "split": "test"},
            "count": 0, "sum": 0, "sum_squared": 0}),
        )?;
        assert_eq!(
            (read.value, read.stderr),
            (Measured::Missing, Measured::Missing)
        );
        Ok(())
    }

    #[test]
    fn broken_stats_name_the_field() {
        let cases = [
            (json!([1]), "$[0]"),
            (json!([{"name": "exact_match", "count": 1}]), "$[0].name"),
            (
                json!([{"name": {"split": "test"}, "count": 1}]),
                "$[0].name.name",
            ),
            (
                json!([{"name": {"name": "em"}, "count": "1", "mean": 1}]),
                "$[0].count",
            ),
            (json!([{"name": {"name": "em"}, "count": 1}]), "$[0].mean"),
            (
                json!([{"name": {"name": "em"}, "count": 1, "mean": "1"}]),
                "$[0].mean",
            ),
            (
                json!([{"name": {"name": "em", "split": 3}, "count": 1, "mean": 1}]),
                "$[0].name.split",
            ),
        ];
        for (stats, path) in cases {
            let error = read_results(&stats).err();
            assert_eq!(
                error.map(|e| (e.code, e.path)),
                Some((ErrorCode::InvalidField, path.to_string())),
                "{stats}"
            );
        }
    }

    #[test]
    fn a_stat_named_twice_is_refused() {
        let one = json!({"name": {"name": "em", "split": "test"}, "count": 1, "mean": 1});
        let error = read_results(&json!([one.clone(), one])).err();
        assert_eq!(
            error.map(|e| (e.path, e.message)),
            Some((
                "$[1].name".to_string(),
                "The stat `em` under `test` appears twice; the first is at `$[0]`.".to_string()
            ))
        );
    }

    #[test]
    fn stats_must_be_a_non_empty_list() {
        for stats in [json!({"name": "x"}), json!([])] {
            let error = read_results(&stats).err();
            assert_eq!(error.map(|e| e.code), Some(ErrorCode::UnsupportedShape));
        }
    }
}
