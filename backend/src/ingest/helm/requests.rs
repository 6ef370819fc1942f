//! The requests of a HELM run, from `scenario_state.json`: the prompt sent
//! for each instance and trial, and what the model answered.
//!
//! Requests are found by instance id, train trial and perturbation, the key
//! `per_instance_stats.json` uses too. Most adapter methods send one request
//! per instance; the `multiple_choice_separate_*` methods send one per
//! answer choice, which leaves no single prompt or answer for the instance.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::fields;
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::service::identity;

/// Which instance, trial and perturbation a request or a per-instance stat is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct RequestKey {
    pub instance_id: String,
    pub trial: i64,
    /// The perturbation's canonical JSON, empty for the original instance.
    pub perturbation: String,
}

impl RequestKey {
    /// Builds a key, reading the perturbation's canonical form.
    pub fn new(instance_id: &str, trial: i64, perturbation: &Value) -> Self {
        let perturbation = if perturbation.is_null() {
            String::new()
        } else {
            identity::canonical_json(&lenient_json::plain(perturbation))
        };
        Self {
            instance_id: instance_id.to_string(),
            trial,
            perturbation,
        }
    }
}

/// One request: the prompt and the first completion, when recorded.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Request {
    pub prompt: Option<String>,
    pub completion: Option<String>,
}

/// Every request of a run, by key, and when the earliest was made.
#[derive(Debug, Default)]
pub(super) struct Requests {
    by_key: HashMap<RequestKey, Vec<Request>>,
    /// The earliest `request_datetime`: when the model produced its answers
    /// (a cached request keeps the time it was first made).
    pub earliest: Option<DateTime<Utc>>,
}

impl Requests {
    /// Returns the requests made for `key`, none when there were none.
    pub fn get(&self, key: &RequestKey) -> &[Request] {
        self.by_key.get(key).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Reads the request states of a parsed `scenario_state.json`.
pub(super) fn read(scenario_state: &Value) -> Result<Requests, FileError> {
    let root = JsonPath::file_root("scenario_state.json");
    let state = fields::object(scenario_state, &root, "a scenario state object")?;
    let list_path = root.key("request_states");
    let list = fields::array(
        fields::get(state, "request_states"),
        &list_path,
        "a list of request states",
    )?;
    let mut requests = Requests::default();
    for (index, value) in list.iter().enumerate() {
        let path = list_path.index(index);
        let (key, request, time) = read_one(value, &path)?;
        requests.by_key.entry(key).or_default().push(request);
        requests.earliest = match (requests.earliest, time) {
            (Some(earliest), Some(time)) => Some(earliest.min(time)),
            (earliest, time) => earliest.or(time),
        };
    }

    Ok(requests)
}

type ReadRequest = (RequestKey, Request, Option<DateTime<Utc>>);

fn read_one(value: &Value, path: &JsonPath) -> Result<ReadRequest, FileError> {
    let state = fields::object(value, path, "a request state object")?;
    let instance_path = path.key("instance");
    let instance = fields::object(
        fields::get(state, "instance"),
        &instance_path,
        "the instance object",
    )?;
    let instance_id = fields::text(
        fields::get(instance, "id"),
        &instance_path.key("id"),
        "the instance's id",
    )?;
    let trial = fields::optional_count(
        fields::get(state, "train_trial_index"),
        &path.key("train_trial_index"),
        "a whole number for the train trial",
    )?
    .unwrap_or(0);
    let key = RequestKey::new(instance_id, trial, fields::get(instance, "perturbation"));
    let prompt = prompt(state, path)?;
    let (completion, time) = answer(state, path)?;

    Ok((key, Request { prompt, completion }, time))
}

fn prompt(state: &Map<String, Value>, path: &JsonPath) -> Result<Option<String>, FileError> {
    let path = path.key("request");
    let request = fields::get(state, "request");
    if request.is_null() {
        return Ok(None);
    }
    let request = fields::object(request, &path, "the request object")?;
    let prompt = fields::optional_text(
        fields::get(request, "prompt"),
        &path.key("prompt"),
        "the prompt text",
    )?;
    Ok(prompt.map(str::to_string))
}

/// Reads the first completion and the time of the request, when the result
/// is there (a failed request has none).
fn answer(
    state: &Map<String, Value>,
    path: &JsonPath,
) -> Result<(Option<String>, Option<DateTime<Utc>>), FileError> {
    let path = path.key("result");
    let result = fields::get(state, "result");
    if result.is_null() {
        return Ok((None, None));
    }
    let result = fields::object(result, &path, "the result object")?;
    let completions_path = path.key("completions");
    let completions = match fields::get(result, "completions") {
        Value::Null => &[][..],
        value => fields::array(value, &completions_path, "a list of completions")?,
    };
    let completion = match completions.first() {
        Some(first) => {
            let first_path = completions_path.index(0);
            let first = fields::object(first, &first_path, "a completion object")?;
            let text = fields::optional_text(
                fields::get(first, "text"),
                &first_path.key("text"),
                "the completion text",
            )?;
            text.map(str::to_string)
        }
        None => None,
    };
    let time = request_time(fields::get(result, "request_datetime"), &path)?;

    Ok((completion, time))
}

fn request_time(value: &Value, path: &JsonPath) -> Result<Option<DateTime<Utc>>, FileError> {
    let path = path.key("request_datetime");
    let expected = "a Unix time in seconds";
    let Some(number) = fields::optional_number(value, &path, expected)? else {
        return Ok(None);
    };
    let seconds = match number {
        crate::ingest::parsed::Number::Finite(seconds) => seconds,
        _ => return Err(FileError::unexpected(&path, expected, value)),
    };
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round() as u32;
    DateTime::from_timestamp(whole as i64, nanos.min(999_999_999))
        .map(Some)
        .ok_or_else(|| FileError::unexpected(&path, expected, value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;

    fn state(request_states: Value) -> Value {
        json!({"adapter_spec": {}, "request_states": request_states})
    }

    #[test]
    fn requests_are_found_by_instance_trial_and_perturbation() -> Result<(), FileError> {
        let requests = read(&state(json!([
            {"instance": {"id": "id1"}, "train_trial_index": 0,
             "request": {"prompt": "Q?"},
             "result": {"completions": [{"text": " B"}], "request_datetime": 1719559273}},
            {"instance": {"id": "id1", "perturbation": {"name": "typos", "prob": 0.1}},
             "train_trial_index": 0, "request": {"prompt": "Qq?"},
             "result": {"completions": [], "request_datetime": 1719559200}}
        ])))?;
        let plain = RequestKey::new("id1", 0, &Value::Null);
        assert_eq!(
            requests.get(&plain),
            [Request {
                prompt: Some("Q?".into()),
                completion: Some(" B".into())
            }]
        );
        let perturbed = RequestKey::new("id1", 0, &json!({"prob": 0.1, "name": "typos"}));
        assert_eq!(requests.get(&perturbed)[0].completion, None);
        assert!(
            requests
                .get(&RequestKey::new("id2", 0, &Value::Null))
                .is_empty()
        );
        assert_eq!(
            requests.earliest.map(|t| t.to_rfc3339()),
            Some("2024-06-28T07:20:00+00:00".to_string())
        );
        Ok(())
    }

    #[test]
    fn broken_requests_name_the_field() {
        let cases = [
            (
                json!({"request_states": 1}),
                "scenario_state.json:$.request_states",
            ),
            (
                state(json!([{"instance": {"id": 5}}])),
                "scenario_state.json:$.request_states[0].instance.id",
            ),
            (
                state(json!([{"instance": {"id": "a"}, "result": {"completions": "B"}}])),
                "scenario_state.json:$.request_states[0].result.completions",
            ),
            (
                state(json!([{"instance": {"id": "a"},
                              "result": {"request_datetime": "yesterday"}}])),
                "scenario_state.json:$.request_states[0].result.request_datetime",
            ),
        ];
        for (scenario_state, path) in cases {
            let error = read(&scenario_state).err();
            assert_eq!(
                error.map(|e| (e.code, e.path)),
                Some((ErrorCode::InvalidField, path.to_string()))
            );
        }
    }
}
