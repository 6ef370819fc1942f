//! What a HELM run evaluated: its model, task, n-shot and configuration,
//! from `run_spec.json` and `scenario.json`.
//!
//! HELM names a run `<group>:<arg>=<value>,…,model=<org>_<name>`. The task is
//! the scenario's name (`bbq`) and the arguments other than the model are its
//! configuration (`subject=all`, `method=multiple_choice_joint`), so the runs
//! of every model on one scenario and arguments share a task and can be
//! ranked together. The model comes from `adapter_spec.model`, which keeps
//! the `org/name` spelling the directory name flattens to `org_name`.

use serde_json::{Map, Value};

use super::fields;
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{ModelRef, ModelSource};

/// Run-name arguments that say which model ran, not what was asked.
const MODEL_ARGUMENTS: [&str; 2] = ["model", "model_deployment"];

/// What `run_spec.json` and `scenario.json` say about a run.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RunSpec {
    pub model: ModelRef,
    /// The scenario's name, e.g. `bbq`.
    pub task: String,
    /// The run name's arguments except the model, in the order written.
    pub task_config: Value,
    /// `adapter_spec.max_train_instances`: in-context examples per prompt.
    pub n_shot: Option<i32>,
    /// The whole run spec, stored as the run's configuration.
    pub config: Value,
}

/// Reads a run's identity from its parsed `run_spec.json` and `scenario.json`.
pub(super) fn read(run_spec: &Value, scenario: &Value) -> Result<RunSpec, FileError> {
    let root = JsonPath::file_root("run_spec.json");
    let spec = fields::object(run_spec, &root, "a run spec object")?;
    let name_path = root.key("name");
    let name = fields::text(fields::get(spec, "name"), &name_path, "the run's name")?;
    let adapter_path = root.key("adapter_spec");
    let adapter = fields::object(
        fields::get(spec, "adapter_spec"),
        &adapter_path,
        "an adapter spec object",
    )?;

    Ok(RunSpec {
        model: model(adapter, &adapter_path)?,
        task: scenario_name(scenario)?,
        task_config: Value::Object(arguments(name, &name_path)?),
        n_shot: n_shot(adapter, &adapter_path)?,
        config: lenient_json::plain(run_spec),
    })
}

fn model(adapter: &Map<String, Value>, path: &JsonPath) -> Result<ModelRef, FileError> {
    let path = path.key("model");
    let name = fields::text(
        fields::get(adapter, "model"),
        &path,
        "the model as `org/name`",
    )?;
    Ok(ModelRef {
        source: ModelSource::Hub(name.trim().to_string()),
        revision: None,
    })
}

fn n_shot(adapter: &Map<String, Value>, path: &JsonPath) -> Result<Option<i32>, FileError> {
    let path = path.key("max_train_instances");
    let value = fields::get(adapter, "max_train_instances");
    let expected = "a whole number of in-context examples";
    let Some(count) = fields::optional_count(value, &path, expected)? else {
        return Ok(None);
    };
    i32::try_from(count)
        .map(Some)
        .map_err(|_| FileError::unexpected(&path, expected, value))
}

fn scenario_name(scenario: &Value) -> Result<String, FileError> {
    let root = JsonPath::file_root("scenario.json");
    let object = fields::object(scenario, &root, "a scenario object")?;
    let name = fields::text(
        fields::get(object, "name"),
        &root.key("name"),
        "the scenario's name",
    )?;
    Ok(name.trim().to_string())
}

/// Splits `bbq:subject=all,method=…,model=…` into its arguments, leaving the
/// model out; a name without `:` has none.
fn arguments(name: &str, path: &JsonPath) -> Result<Map<String, Value>, FileError> {
    let mut arguments = Map::new();
    let Some((_, list)) = name.split_once(':') else {
        return Ok(arguments);
    };
    for argument in list.split(',').filter(|argument| !argument.is_empty()) {
        let Some((key, value)) = argument.split_once('=') else {
            let message = format!(
                "Expected the run name's arguments as `key=value`, found `{argument}` in \
                 `{name}`."
            );
            return Err(FileError::invalid_field(path, message));
        };
        if !MODEL_ARGUMENTS.contains(&key) {
            arguments.insert(key.to_string(), Value::from(value));
        }
    }
    Ok(arguments)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;

    fn spec(name: &str, adapter: Value) -> Value {
        json!({"name": name, "adapter_spec": adapter})
    }

    #[test]
    fn the_task_is_the_scenario_and_its_arguments_without_the_model() -> Result<(), FileError> {
        let run_spec = spec(
            "bbq:subject=all,method=multiple_choice_joint,model=openai_gpt-4o",
            json!({"model": "openai/gpt-4o", "max_train_instances": 0}),
        );
        let read = read(&run_spec, &json!({"name": "bbq"}))?;
        assert_eq!(read.task, "bbq");
        assert_eq!(
            read.task_config,
            json!({"subject": "all", "method": "multiple_choice_joint"})
        );
        assert_eq!(read.model.source, ModelSource::Hub("openai/gpt-4o".into()));
        assert_eq!(read.n_shot, Some(0));
        assert_eq!(read.config, run_spec);
        Ok(())
    }

    #[test]
    fn a_name_without_arguments_has_an_empty_configuration() -> Result<(), FileError> {
        let run_spec = spec("bbq", json!({"model": "a/b"}));
        let read = read(&run_spec, &json!({"name": "bbq"}))?;
        assert_eq!((read.task_config, read.n_shot), (json!({}), None));
        Ok(())
    }

    #[test]
    fn broken_fields_name_their_file_and_path() {
        let cases = [
            (
                spec("bbq:model=x", json!({"model": 7})),
                "run_spec.json:$.adapter_spec.model",
            ),
            (
                spec("bbq", json!({"model": "a/b", "max_train_instances": -1})),
                "run_spec.json:$.adapter_spec.max_train_instances",
            ),
            (
                spec("bbq:subject", json!({"model": "a/b"})),
                "run_spec.json:$.name",
            ),
            (json!({"name": "bbq"}), "run_spec.json:$.adapter_spec"),
        ];
        for (run_spec, path) in cases {
            let error = read(&run_spec, &json!({"name": "bbq"})).err();
            assert_eq!(
                error.map(|e| (e.code, e.path)),
                Some((ErrorCode::InvalidField, path.to_string()))
            );
        }
        let error = read(&spec("bbq", json!({"model": "a/b"})), &json!({"name": ""})).err();
        assert_eq!(
            error.map(|e| e.path),
            Some("scenario.json:$.name".to_string())
        );
    }
}
