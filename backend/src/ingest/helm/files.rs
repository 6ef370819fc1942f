//! Recognises the files HELM writes, by name and content together, and says
//! why each file other than a run's `stats.json` stores nothing by itself.
//!
//! A run folder is stored once, through its `stats.json`; its other files
//! are read from there, so each is skipped with that reason. The suite-level
//! files are summaries of the run folders: `runs.json` and `run_specs.json`
//! repeat each folder's `stats.json` and `run_spec.json` (byte for byte in
//! the real data), and `groups/…` are tables rendered for the web site, with
//! display names (`Llama 3 (70B)`) instead of model ids. Importing them would
//! store runs twice, or store runs without their samples that a later run
//! folder would store again, so they are skipped with what they hold.

use std::path::Path;

use serde_json::{Map, Value};

use super::folder::STATS;

/// The file every HELM run folder holds beside its `stats.json`.
const RUN_SPEC: &str = "run_spec.json";

/// What a HELM file is to the importer.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    /// A run's `stats.json`: the run is read from its folder.
    Stats,
    /// Of the format but stored only through another file, or never; why.
    Skip(String),
}

/// Recognises a HELM file from its path and parsed content; `None` when it
/// is not one.
pub(super) fn recognise(path: &Path, document: &Value) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    if name == STATS {
        let in_run_folder = is_stat_list(document) || beside(path, RUN_SPEC);
        return in_run_folder.then_some(Kind::Stats);
    }
    if let Some(what) = run_file(name, document, path) {
        return Some(Kind::Skip(run_file_reason(name, what, path)));
    }
    suite_file(name, document, path).map(|reason| Kind::Skip(reason.to_string()))
}

fn beside(path: &Path, name: &str) -> bool {
    path.parent().is_some_and(|dir| dir.join(name).is_file())
}

fn has_all(object: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().all(|key| object.contains_key(*key))
}

/// The first element of an array, when it is an object.
fn first_object(document: &Value) -> Option<&Map<String, Value>> {
    document.as_array()?.first()?.as_object()
}

fn is_stat_list(document: &Value) -> bool {
    first_object(document).is_some_and(|stat| {
        stat.get("name")
            .and_then(Value::as_object)
            .is_some_and(|name| name.contains_key("name"))
            && stat.contains_key("count")
    })
}

/// Names a run folder's file other than `stats.json`, when its content is
/// what HELM writes under that name or it sits in a run folder.
fn run_file(name: &str, document: &Value, path: &Path) -> Option<&'static str> {
    let object = document.as_object();
    let first = first_object(document);
    let (what, shaped) = match name {
        RUN_SPEC => (
            "run spec",
            object.is_some_and(|o| has_all(o, &["adapter_spec", "scenario_spec"])),
        ),
        "scenario.json" => (
            "scenario description",
            object.is_some_and(|o| has_all(o, &["name", "definition_path"])),
        ),
        "scenario_state.json" => (
            "prompts and completions",
            object.is_some_and(|o| o.contains_key("request_states")),
        ),
        "instances.json" => (
            "instances",
            first.is_some_and(|o| has_all(o, &["input", "references"])),
        ),
        "per_instance_stats.json" => (
            "per-instance stats",
            first.is_some_and(|o| has_all(o, &["instance_id", "stats"])),
        ),
        "display_predictions.json" => (
            "predictions rendered for display",
            first.is_some_and(|o| has_all(o, &["instance_id", "predicted_text"])),
        ),
        "display_requests.json" => (
            "requests rendered for display",
            first.is_some_and(|o| has_all(o, &["instance_id", "request"])),
        ),
        _ => return None,
    };
    (shaped || beside(path, STATS) || beside(path, RUN_SPEC)).then_some(what)
}

fn run_file_reason(name: &str, what: &str, path: &Path) -> String {
    let derived = name.starts_with("display_");
    if beside(path, STATS) && derived {
        format!(
            "HELM run file `{name}` ({what}): derived from the run folder's other files, \
             stored through its `{STATS}`"
        )
    } else if beside(path, STATS) {
        format!("HELM run file `{name}` ({what}): read with the run folder's `{STATS}`")
    } else {
        format!(
            "HELM run file `{name}` ({what}) without a `{STATS}` beside it; a HELM run is \
             stored from its whole folder, through its `{STATS}`"
        )
    }
}

/// Says what a suite-level file holds, when it is one.
fn suite_file(name: &str, document: &Value, path: &Path) -> Option<&'static str> {
    let object = document.as_object();
    let reason = match name {
        "runs.json"
            if first_object(document).is_some_and(|o| has_all(o, &["run_spec", "stats"])) =>
        {
            "HELM suite summary `runs.json`: repeats each run folder's `run_spec.json` and \
             `stats.json`; runs are stored from their folders, and a run listed without its \
             folder is not stored"
        }
        "run_specs.json"
            if first_object(document).is_some_and(|o| o.contains_key("adapter_spec")) =>
        {
            "HELM suite summary `run_specs.json`: repeats each run folder's `run_spec.json`"
        }
        "runs_to_run_suites.json" if object.is_some_and(|o| o.values().all(Value::is_string)) => {
            "HELM suite index `runs_to_run_suites.json`: the suite of each run; no results"
        }
        "schema.json" if object.is_some_and(|o| has_all(o, &["metrics", "run_groups"])) => {
            "HELM suite schema: display names, metric descriptions and groups; no results"
        }
        "groups_metadata.json" if object.is_some_and(|o| o.values().all(is_group_metadata)) => {
            "HELM group metadata: display names and taxonomies of scenario groups; no results"
        }
        "summary.json" if object.is_some_and(|o| has_all(o, &["suite", "date"])) => {
            "HELM suite summary `summary.json`: the suite's name and date; no results"
        }
        "costs.json" if object.is_some() && beside(path, "runs.json") => {
            "HELM suite costs: what the suite's requests cost, not evaluation results"
        }
        _ if is_rendered_table(document) => {
            "HELM rendered table: cells computed from the run folders' stats, naming models by \
             display name; runs are stored from their folders"
        }
        _ => return None,
    };
    Some(reason)
}

fn is_group_metadata(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|group| group.contains_key("display_name"))
}

/// A table HELM renders for its web site: `{title, header, rows}`, alone or
/// in a list.
fn is_rendered_table(document: &Value) -> bool {
    let table = document.as_object().or_else(|| first_object(document));
    table.is_some_and(|table| has_all(table, &["title", "header", "rows"]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn skip_reason(name: &str, document: &Value) -> Option<String> {
        match recognise(Path::new(name), document) {
            Some(Kind::Skip(reason)) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn a_stat_list_named_stats_json_is_a_run() {
        let stats = json!([{"name": {"name": "exact_match", "split": "test"}, "count": 1}]);
        assert_eq!(
            recognise(Path::new("stats.json"), &stats),
            Some(Kind::Stats)
        );
        assert_eq!(recognise(Path::new("other.json"), &stats), None);
        assert_eq!(recognise(Path::new("stats.json"), &json!({"a": 1})), None);
    }

    #[test]
    fn run_files_alone_say_that_a_run_needs_its_folder() {
        let spec = json!({"name": "bbq", "adapter_spec": {}, "scenario_spec": {}});
        let reason = skip_reason("run_spec.json", &spec).unwrap_or_default();
        assert!(reason.contains("without a `stats.json`"), "{reason}");
        assert_eq!(skip_reason("run_spec.json", &json!({"name": "x"})), None);
    }

    #[test]
    fn suite_files_say_what_they_hold() {
        let runs = json!([{"run_path": "x", "run_spec": {}, "stats": []}]);
        let reason = skip_reason("runs.json", &runs).unwrap_or_default();
        assert!(reason.contains("repeats each run folder's"), "{reason}");
        let table = json!({"title": "BBQ", "header": [], "rows": [], "links": []});
        let reason = skip_reason("bbq_bbq_subject:all.json", &table).unwrap_or_default();
        assert!(reason.starts_with("HELM rendered table"), "{reason}");
        let summary = json!({"suites": ["v3"], "suite": "v3", "date": "2024-06-28"});
        assert!(skip_reason("summary.json", &summary).is_some());
        // A bare `{}` is only HELM's `costs.json` inside a suite folder.
        assert_eq!(skip_reason("costs.json", &json!({})), None);
    }
}
