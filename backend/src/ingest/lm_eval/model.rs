//! Finds which model an lm-eval file evaluated, and which snapshot of it.
//!
//! The harness records the model in different places by version: v0.3 only
//! inside the `config.model_args` string (`pretrained=…,revision=…`, keys in
//! any order); v0.4 as `model_name`, else in that same string, else in
//! `configs[*].metadata.pretrained` (files re-saved by leaderboard wrappers).
//! `config.model` is the loader class (`hf-causal`, even `gpt2` for OPT
//! runs), never the model, so it is not read.

use serde_json::{Map, Value};

use super::fields;
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::parsed::{ModelRef, ModelSource};

/// Keys of `model_args` that name the model, by preference: Hugging Face
/// loaders use `pretrained`, API loaders `model`, the v0.3 OpenAI loader `engine`.
const NAME_KEYS: [&str; 3] = ["pretrained", "model", "engine"];

/// The branch a hub loader uses when no revision is asked for.
const DEFAULT_BRANCH: &str = "main";

/// Finds the model of a harness results file; `None` when it names none.
pub(super) fn from_results_file(
    document: &Map<String, Value>,
    config: Option<&Map<String, Value>>,
) -> Result<Option<ModelRef>, FileError> {
    let root = JsonPath::root();
    let config_path = root.key("config");
    let args = match config {
        Some(config) => model_args(config, &config_path)?,
        None => None,
    };
    let name = match fields::optional_str(document, "model_name", &root)? {
        Some(name) => Some(name),
        None => args
            .and_then(name_arg)
            .or_else(|| name_in_task_configs(document)),
    };
    let Some(name) = name else {
        return Ok(None);
    };
    let revision = match args.and_then(|args| arg(args, "revision")) {
        Some(revision) => Some(revision),
        None => config
            .map(|config| fields::optional_str(config, "model_revision", &config_path))
            .transpose()?
            .flatten(),
    };

    Ok(Some(model_ref(name, revision)))
}

/// Finds the model of a hand-saved summary, from its top-level `model`.
pub(super) fn from_summary(document: &Map<String, Value>) -> Result<Option<ModelRef>, FileError> {
    let name = fields::optional_str(document, "model", &JsonPath::root())?;
    Ok(name.map(|name| model_ref(name, None)))
}

/// Returns `config.model_args`, a `k=v,k=v` string or, in newer harnesses, an object.
fn model_args<'a>(
    config: &'a Map<String, Value>,
    path: &JsonPath,
) -> Result<Option<&'a Value>, FileError> {
    match config.get("model_args") {
        None | Some(Value::Null) => Ok(None),
        Some(args @ (Value::String(_) | Value::Object(_))) => Ok(Some(args)),
        Some(other) => {
            let path = path.key("model_args");
            Err(FileError::unexpected(
                &path,
                "a `key=value,…` string",
                other,
            ))
        }
    }
}

fn name_arg(args: &Value) -> Option<&str> {
    NAME_KEYS.iter().find_map(|key| arg(args, key))
}

/// Looks up one argument; empty values count as absent.
fn arg<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    let value = match args {
        Value::String(text) => text
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| name.trim() == key)
            .map(|(_, value)| value.trim()),
        Value::Object(object) => object.get(key).and_then(Value::as_str),
        _ => None,
    };
    value.filter(|value| !value.is_empty())
}

/// Returns the first `configs[task].metadata.pretrained`, which leaderboard
/// wrappers keep even when they drop `model_name`.
fn name_in_task_configs(document: &Map<String, Value>) -> Option<&str> {
    let configs = document.get("configs")?.as_object()?;
    configs.values().find_map(|config| {
        let pretrained = config.get("metadata")?.get("pretrained")?.as_str()?;
        Some(pretrained).filter(|name| !name.is_empty())
    })
}

fn model_ref(name: &str, revision: Option<&str>) -> ModelRef {
    let name = name.trim();
    let source = if is_local_path(name) {
        ModelSource::LocalPath(name.to_owned())
    } else {
        ModelSource::Hub(name.to_owned())
    };
    let revision = revision
        .map(str::trim)
        .filter(|revision| !revision.is_empty() && *revision != DEFAULT_BRANCH)
        .map(str::to_owned);
    ModelRef { source, revision }
}

/// Tells a filesystem path from a hub id: hub ids never start with `/`, `.`
/// or `~` and never contain a backslash.
fn is_local_path(name: &str) -> bool {
    ["/", "./", "../", "~"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        || name.contains('\\')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn model(document: Value) -> Option<ModelRef> {
        let document = document.as_object().cloned().unwrap_or_default();
        let config = document.get("config").and_then(Value::as_object);
        from_results_file(&document, config).expect("readable model")
    }

    fn hub(name: &str, revision: Option<&str>) -> Option<ModelRef> {
        Some(ModelRef {
            source: ModelSource::Hub(name.to_owned()),
            revision: revision.map(str::to_owned),
        })
    }

    #[test]
    fn v03_args_in_any_order_give_name_and_revision() {
        let args = "use_accelerate=True,pretrained=EleutherAI/pythia-160m,revision=step0";
        let found = model(json!({"config": {"model": "hf-causal", "model_args": args}}));
        assert_eq!(found, hub("EleutherAI/pythia-160m", Some("step0")));
    }

    #[test]
    fn model_name_wins_and_main_is_no_revision() {
        let found = model(json!({
            "model_name": "Qwen/Qwen2.5-7B",
            "config": {"model_args": "pretrained=other", "model_revision": "main"}
        }));
        assert_eq!(found, hub("Qwen/Qwen2.5-7B", None));
    }

    #[test]
    fn api_models_are_named_by_the_model_argument() {
        let found = model(json!({"config": {"model_args": "model=gpt-4o-mini"}}));
        assert_eq!(found, hub("gpt-4o-mini", None));
    }

    #[test]
    fn task_config_metadata_is_the_last_resort() {
        let found = model(json!({
            "configs": {"t": {"metadata": {"version": 1.0, "pretrained": "Qwen/Qwen3-8B"}}},
            "config": {"model_args": "load_in_4bit=True", "model_revision": "abc"}
        }));
        assert_eq!(found, hub("Qwen/Qwen3-8B", Some("abc")));
    }

    #[test]
    fn paths_are_local() {
        for name in ["/workspace/m", "./m", "../m", "~/m", r"C:\models\m"] {
            let found = model_ref(name, None).source;
            assert_eq!(found, ModelSource::LocalPath(name.to_owned()));
        }
        assert_eq!(
            model_ref("gpt2", None).source,
            ModelSource::Hub("gpt2".into())
        );
    }

    #[test]
    fn args_of_the_wrong_type_are_an_error() {
        let document = json!({"config": {"model_args": 3}});
        let document = document.as_object().cloned().unwrap_or_default();
        let config = document.get("config").and_then(Value::as_object);
        let error = from_results_file(&document, config).expect_err("a number");
        assert_eq!(error.path, "$.config.model_args");
    }

    #[test]
    fn no_identity_at_all_is_none() {
        assert_eq!(model(json!({"config": {"model": "hf-causal"}})), None);
    }
}
