//! Gathers the settings an Inspect run was made under into the run's
//! configuration: everything in the header that could change its scores,
//! and its status.

use serde_json::{Map, Value};

/// Gathers the settings a run was made under into one object.
///
/// `eval.dataset.sample_ids` is left out: it lists which items ran (the
/// samples carry their ids), can run to thousands of entries, and `.eval`
/// headers write it where `.json` logs of the same run may not. The
/// generation settings are the plan's, overridden by the model's, as
/// Inspect combines them.
pub fn run_config(log: &Map<String, Value>, eval: &Map<String, Value>, status: &str) -> Value {
    let plan = log.get("plan");
    let mut config = Map::new();
    let mut put = |key: &str, value: Option<&Value>| {
        if let Some(value) = value.filter(|value| !value.is_null()) {
            config.insert(key.to_string(), value.clone());
        }
    };
    put("log_version", log.get("version"));
    put("status", Some(&Value::from(status)));
    put("eval_config", eval.get("config"));
    put(
        "generate_config",
        generate_config(plan, eval.get("model_generate_config")).as_ref(),
    );
    let dataset = eval
        .get("dataset")
        .and_then(Value::as_object)
        .map(|dataset| {
            let mut dataset = dataset.clone();
            dataset.remove("sample_ids");
            Value::Object(dataset)
        });
    put("dataset", dataset.as_ref());
    put("model_args", eval.get("model_args"));
    put("model_base_url", eval.get("model_base_url"));
    put("task_args", eval.get("task_args"));
    put("solvers", plan.and_then(|plan| plan.get("steps")));
    put("revision", eval.get("revision"));

    Value::Object(config)
}

fn generate_config(plan: Option<&Value>, model: Option<&Value>) -> Option<Value> {
    let plan = plan
        .and_then(|plan| plan.get("config"))
        .and_then(Value::as_object);
    let model = model.and_then(Value::as_object);
    if plan.is_none() && model.is_none() {
        return None;
    }
    let mut merged = plan.cloned().unwrap_or_default();
    for (key, value) in model.into_iter().flatten() {
        if !value.is_null() {
            merged.insert(key.clone(), value.clone());
        }
    }

    Some(Value::Object(merged))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_model_generation_settings_override_the_plan() {
        let plan = json!({"config": {"temperature": 1.0, "max_tokens": 10}});
        let model = json!({"temperature": 0.0, "top_p": null});
        assert_eq!(
            generate_config(Some(&plan), Some(&model)),
            Some(json!({"temperature": 0.0, "max_tokens": 10}))
        );
        assert_eq!(generate_config(None, None), None);
    }
}
