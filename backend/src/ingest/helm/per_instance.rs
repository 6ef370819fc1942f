//! A HELM run's samples: one per entry of `per_instance_stats.json`, joined
//! to its instance (`instances.json`) and its request (`scenario_state.json`).
//!
//! An entry is one instance under one train trial and perturbation. Its
//! stats become the sample's scores, keyed by metric name, or by
//! `metric,filter` when a stat's filter is not the sample's own. The score
//! and the right/wrong verdict come from `exact_match`, the stat HELM's
//! multiple-choice and generation metrics agree on; the input is the prompt
//! sent, or the instance's own text when one request per answer choice was
//! sent.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::fields;
use super::instances::Instance;
use super::requests::{RequestKey, Requests};
use super::stats::{self, Stat};
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{Measured, Number};
use crate::ingest::samples::{self, SampleRow};

/// The stat a sample's score and verdict are taken from, when present.
const HEADLINE: &str = "exact_match";

/// A run's samples and how many distinct instances they cover.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Samples {
    pub rows: Vec<SampleRow>,
    pub instances: usize,
}

/// Builds the samples of a parsed `per_instance_stats.json`; fails on a
/// broken entry, or one whose instance or request does not exist.
pub(super) fn read(
    per_instance_stats: &Value,
    instances: &HashMap<String, Instance>,
    requests: &Requests,
) -> Result<Samples, FileError> {
    let root = JsonPath::file_root("per_instance_stats.json");
    let list = fields::array(per_instance_stats, &root, "a list of per-instance stats")?;
    let mut rows = Vec::with_capacity(list.len());
    let mut seen = HashSet::new();
    for (index, value) in list.iter().enumerate() {
        let path = root.index(index);
        let sample_no = i64::try_from(index).unwrap_or(i64::MAX);
        let (row, instance_id) = read_one(value, &path, sample_no, instances, requests)?;
        seen.insert(instance_id);
        rows.push(row);
    }

    Ok(Samples {
        rows,
        instances: seen.len(),
    })
}

fn read_one(
    value: &Value,
    path: &JsonPath,
    sample_no: i64,
    instances: &HashMap<String, Instance>,
    requests: &Requests,
) -> Result<(SampleRow, String), FileError> {
    let entry = fields::object(value, path, "a per-instance stats object")?;
    let id_path = path.key("instance_id");
    let id = fields::text(
        fields::get(entry, "instance_id"),
        &id_path,
        "an instance id",
    )?;
    let Some(instance) = instances.get(id) else {
        let message = format!("The instance `{id}` is not in `instances.json`.");
        return Err(FileError::invalid_field(&id_path, message));
    };
    let trial = fields::optional_count(
        fields::get(entry, "train_trial_index"),
        &path.key("train_trial_index"),
        "a whole number for the train trial",
    )?
    .unwrap_or(0);
    let perturbation = fields::get(entry, "perturbation");
    let filter = sample_filter(instance, perturbation, path)?;
    let key = RequestKey::new(id, trial, perturbation);
    let (input, output) = match requests.get(&key) {
        [] => return Err(no_request(id, trial, path)),
        [request] => (request.prompt.clone(), request.completion.clone()),
        _ => (instance.input.clone(), None),
    };
    let stats = read_stats(entry, path)?;
    let headline = stats
        .iter()
        .find(|stat| stat.metric == HEADLINE && stat.filter == filter)
        .or_else(|| stats.first());
    let number = headline.and_then(|stat| match stat.value {
        Measured::Present(number) => Some(number),
        _ => None,
    });
    let row = SampleRow {
        sample_no,
        doc_id: doc_id(id),
        scores: scores(&stats, &filter, path)?,
        filter,
        item_sha256: Some(instance.sha256.clone()),
        input,
        target: instance.target.clone(),
        output,
        score: match number {
            Some(Number::Finite(value)) => Some(value),
            _ => None,
        },
        score_kind: samples::score_kind(number),
        correct: headline
            .filter(|stat| stat.metric == HEADLINE)
            .and_then(|_| verdict(number)),
        epoch: 1,
    };

    Ok((row, id.to_string()))
}

fn no_request(id: &str, trial: i64, path: &JsonPath) -> FileError {
    let message = format!(
        "No request in `scenario_state.json` is for instance `{id}` in train trial {trial}."
    );
    FileError::invalid_field(path, message)
}

/// Names a sample's filter the way its instance's stats are named: split,
/// sub-split and the entry's perturbation.
fn sample_filter(
    instance: &Instance,
    perturbation: &Value,
    path: &JsonPath,
) -> Result<String, FileError> {
    let name = json!({
        "split": instance.split,
        "sub_split": instance.sub_split,
        "perturbation": perturbation,
    });
    let name = name.as_object().cloned().unwrap_or_default();
    stats::filter(&name, path)
}

fn read_stats(entry: &Map<String, Value>, path: &JsonPath) -> Result<Vec<Stat>, FileError> {
    let path = path.key("stats");
    let list = fields::array(fields::get(entry, "stats"), &path, "a list of stats")?;
    list.iter()
        .enumerate()
        .map(|(index, value)| stats::read_stat(value, &path.index(index)))
        .collect()
}

/// Writes each stat's mean under its metric name (`metric,filter` when the
/// filter is not the sample's), non-finite values spelled out and stats
/// without a mean as `null`.
fn scores(stats: &[Stat], filter: &str, path: &JsonPath) -> Result<Value, FileError> {
    let mut scores = Map::new();
    for (index, stat) in stats.iter().enumerate() {
        let key = if stat.filter == filter {
            stat.metric.clone()
        } else {
            format!("{},{}", stat.metric, stat.filter)
        };
        let value = match stat.value {
            Measured::Present(Number::Finite(value)) => json!(value),
            Measured::Present(number) => json!(lenient_json::spelling(number)),
            Measured::NotAvailable | Measured::Missing => Value::Null,
        };
        if scores.insert(key.clone(), value).is_some() {
            let message = format!("The stat `{key}` appears twice for this instance.");
            return Err(FileError::invalid_field(
                &path.key("stats").index(index).key("name"),
                message,
            ));
        }
    }
    Ok(Value::Object(scores))
}

/// Reads HELM's `id<N>` instance ids as the index N they were given.
fn doc_id(id: &str) -> Option<i64> {
    let digits = id.strip_prefix("id")?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn verdict(number: Option<Number>) -> Option<bool> {
    match number {
        Some(Number::Finite(value)) if value == 0.0 || value == 1.0 => Some(value == 1.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::file_error::ErrorCode;

    fn instances() -> HashMap<String, Instance> {
        let instance = Instance {
            sha256: "hash".into(),
            target: Some("Not known".into()),
            input: Some("Who?".into()),
            split: Some("test".into()),
            sub_split: None,
        };
        HashMap::from([("id58485".to_string(), instance)])
    }

    fn requests(request_states: Value) -> Requests {
        let state = json!({"request_states": request_states});
        super::super::requests::read(&state).unwrap_or_default()
    }

    fn stat(name: &str, mean: f64) -> Value {
        json!({"name": {"name": name, "split": "test"}, "count": 1, "mean": mean})
    }

    #[test]
    fn an_entry_becomes_a_sample_with_its_request() -> Result<(), FileError> {
        let requests = requests(json!([{"instance": {"id": "id58485"},
            "request": {"prompt": "Passage: …"},
            "result": {"completions": [{"text": " B"}]}}]));
        let entry = json!([{"instance_id": "id58485", "train_trial_index": 0,
            "stats": [stat("num_references", 3.0), stat("exact_match", 1.0),
                      {"name": {"name": "training_co2_cost", "split": "test"}, "count": 0}]}]);
        let samples = read(&entry, &instances(), &requests)?;
        assert_eq!(samples.instances, 1);
        assert_eq!(
            samples.rows,
            [SampleRow {
                sample_no: 0,
                doc_id: Some(58485),
                filter: "test".into(),
                item_sha256: Some("hash".into()),
                input: Some("Passage: …".into()),
                target: Some("Not known".into()),
                output: Some(" B".into()),
                scores: json!({"num_references": 3.0, "exact_match": 1.0,
                               "training_co2_cost": null}),
                score: Some(1.0),
                score_kind: "finite",
                correct: Some(true),
                epoch: 1,
            }]
        );
        Ok(())
    }

    #[test]
    fn without_exact_match_there_is_no_verdict() -> Result<(), FileError> {
        let requests = requests(json!([{"instance": {"id": "id58485"}}]));
        let entry = json!([{"instance_id": "id58485", "stats": [stat("f1", 0.5)]}]);
        let row = &read(&entry, &instances(), &requests)?.rows[0];
        assert_eq!((row.score, row.correct), (Some(0.5), None));
        Ok(())
    }

    #[test]
    fn dangling_entries_are_refused() {
        let requests = requests(json!([{"instance": {"id": "id58485"}}]));
        let unknown = json!([{"instance_id": "id1", "stats": []}]);
        let error = read(&unknown, &instances(), &requests).err();
        assert_eq!(
            error.map(|e| (e.code, e.path, e.message)),
            Some((
                ErrorCode::InvalidField,
                "per_instance_stats.json:$[0].instance_id".to_string(),
                "The instance `id1` is not in `instances.json`.".to_string()
            ))
        );
        let other_trial = json!([{"instance_id": "id58485", "train_trial_index": 1,
                                  "stats": []}]);
        let error = read(&other_trial, &instances(), &requests).err();
        assert_eq!(
            error.map(|e| e.path),
            Some("per_instance_stats.json:$[0]".to_string())
        );
    }

    #[test]
    fn only_helm_style_ids_give_a_doc_id() {
        assert_eq!(doc_id("id58485"), Some(58485));
        assert_eq!(doc_id("id"), None);
        assert_eq!(doc_id("x12"), None);
        assert_eq!(doc_id("id-3"), None);
    }
}
