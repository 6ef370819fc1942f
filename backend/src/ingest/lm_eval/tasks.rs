//! Builds one run per task of a results map, task groups included, each once.
//!
//! v0.4 writes a group's row twice, in `results` and again in `groups`; rows
//! are taken from `results`, and `groups` only adds a row that is missing
//! there. A group's subtasks come from `group_subtasks`. Files without that
//! table (hand-saved summaries, bare maps) keep the hierarchy only in the
//! display `alias`, indented as `"mmlu"`, `" - humanities"`,
//! `"  - formal_logic"`, which is read instead; in every full v0.4 file of the
//! reference data the two agree.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::fields;
use super::metrics::{self, Directions, KeyStyle};
use crate::ingest::file_error::{FileError, JsonPath, quote};
use crate::ingest::lenient_json;
use crate::ingest::parsed::ParsedRun;

/// A top-level table keyed by task name, such as `versions` or `n-shot`.
pub(super) struct Table<'a> {
    map: &'a Map<String, Value>,
    path: JsonPath,
}

impl<'a> Table<'a> {
    /// Reads the table under `key`; fails when it is not an object.
    pub(super) fn read(
        document: &'a Map<String, Value>,
        key: &str,
    ) -> Result<Option<Self>, FileError> {
        let root = JsonPath::root();
        let map = fields::optional_object(document, key, &root)?;
        Ok(map.map(|map| Self {
            map,
            path: root.key(key),
        }))
    }

    fn entry(&self, task: &str) -> Option<(&'a Value, JsonPath)> {
        let value = self.map.get(task)?;
        Some((value, self.path.key(task)))
    }
}

/// The per-task tables of a harness file; all absent for other shapes.
#[derive(Default)]
pub(super) struct TaskTables<'a> {
    pub versions: Option<Table<'a>>,
    pub n_shot: Option<Table<'a>>,
    pub higher_is_better: Option<Table<'a>>,
    pub n_samples: Option<Table<'a>>,
    pub configs: Option<Table<'a>>,
    pub group_subtasks: Option<Table<'a>>,
}

/// What applies to every task of a file unless a table says otherwise.
pub(super) struct RunDefaults {
    /// v0.3 `config.num_fewshot`, or a summary's `num_fewshot`.
    pub n_shot: Option<i32>,
    pub limit: Option<f64>,
    pub style: KeyStyle,
}

/// Returns the `results` map of a document; fails when it is not an object.
pub(super) fn results_map(document: &Map<String, Value>) -> Result<&Map<String, Value>, FileError> {
    let value = document.get("results").unwrap_or(&Value::Null);
    let Some(results) = value.as_object() else {
        let path = JsonPath::root().key("results");
        let message = format!(
            "Expected a map of task names to metrics, found `{}`.",
            quote(value)
        );
        return Err(FileError::unsupported_shape(&path, message));
    };
    Ok(results)
}

/// Reads one run per task of `results`, then one per `groups` row missing from it.
pub(super) fn read_runs(
    results: &Map<String, Value>,
    groups: Option<&Map<String, Value>>,
    tables: &TaskTables,
    defaults: &RunDefaults,
) -> Result<Vec<ParsedRun>, FileError> {
    let inferred = match tables.group_subtasks {
        Some(_) => HashMap::new(),
        None => subtasks_from_aliases(results),
    };
    let results_path = JsonPath::root().key("results");
    let groups_path = JsonPath::root().key("groups");
    let extra_groups = groups
        .into_iter()
        .flatten()
        .filter(|(task, _)| !results.contains_key(*task))
        .map(|entry| (entry, &groups_path));
    results
        .iter()
        .map(|entry| (entry, &results_path))
        .chain(extra_groups)
        .map(|((task, metrics), path)| {
            let subtasks = inferred.get(task.as_str()).cloned().unwrap_or_default();
            read_run(task, metrics, &path.key(task), tables, defaults, subtasks)
        })
        .collect()
}

fn read_run(
    task: &str,
    metrics: &Value,
    path: &JsonPath,
    tables: &TaskTables,
    defaults: &RunDefaults,
    inferred_subtasks: Vec<String>,
) -> Result<ParsedRun, FileError> {
    let Some(metrics) = metrics.as_object() else {
        let message = format!("Expected an object of metrics, found `{}`.", quote(metrics));
        return Err(FileError::unsupported_shape(path, message));
    };
    let directions = directions(tables, task)?;
    let (samples_original, samples_effective) = samples(tables, task)?;
    let subtasks = match &tables.group_subtasks {
        Some(table) => subtasks(table, task)?,
        None => inferred_subtasks,
    };

    Ok(ParsedRun {
        task: task.to_owned(),
        task_version: version(tables, task)?,
        task_config: task_config(tables, task),
        subtasks,
        n_shot: n_shot(tables, task)?.or(defaults.n_shot),
        limit: defaults.limit,
        samples_original,
        samples_effective,
        results: metrics::read_results(metrics, defaults.style, directions.as_ref(), path)?,
        truncated: None,
    })
}

fn version(tables: &TaskTables, task: &str) -> Result<Option<String>, FileError> {
    let Some((value, path)) = tables.versions.as_ref().and_then(|table| table.entry(task)) else {
        return Ok(None);
    };
    fields::version_text(value, &path)
}

fn n_shot(tables: &TaskTables, task: &str) -> Result<Option<i32>, FileError> {
    let Some((value, path)) = tables.n_shot.as_ref().and_then(|table| table.entry(task)) else {
        return Ok(None);
    };
    fields::n_shot(value, &path)
}

/// Returns `configs[task]` ready to store, non-finite numbers spelled out.
fn task_config(tables: &TaskTables, task: &str) -> Option<Value> {
    let (value, _) = tables.configs.as_ref()?.entry(task)?;
    (!value.is_null()).then(|| lenient_json::plain(value))
}

fn directions<'a>(
    tables: &TaskTables<'a>,
    task: &str,
) -> Result<Option<Directions<'a>>, FileError> {
    let table = tables.higher_is_better.as_ref();
    let Some((value, path)) = table.and_then(|table| table.entry(task)) else {
        return Ok(None);
    };
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(Directions { map, path })),
        other => Err(FileError::unexpected(
            &path,
            "an object of metric directions",
            other,
        )),
    }
}

/// Returns `n-samples[task]` as (original, effective) document counts.
fn samples(tables: &TaskTables, task: &str) -> Result<(Option<i64>, Option<i64>), FileError> {
    let table = tables.n_samples.as_ref();
    let Some((value, path)) = table.and_then(|table| table.entry(task)) else {
        return Ok((None, None));
    };
    let Some(counts) = value.as_object() else {
        let expected = "an object with `original` and `effective` counts";
        return Err(FileError::unexpected(&path, expected, value));
    };
    let count = |key: &str| match counts.get(key) {
        Some(count) => fields::count(count, &path.key(key)),
        None => Ok(None),
    };
    Ok((count("original")?, count("effective")?))
}

/// Returns `group_subtasks[task]`; leaf tasks map to `[]` or are absent.
fn subtasks(table: &Table, task: &str) -> Result<Vec<String>, FileError> {
    let Some((value, path)) = table.entry(task) else {
        return Ok(Vec::new());
    };
    let expected = "a list of task names";
    let Some(items) = value.as_array() else {
        return Err(FileError::unexpected(&path, expected, value));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item.as_str() {
            Some(name) => Ok(name.to_owned()),
            None => Err(FileError::unexpected(
                &path.index(index),
                "a task name",
                item,
            )),
        })
        .collect()
}

/// Rebuilds group membership from alias indentation: each task belongs to the
/// nearest task above it that is indented less.
fn subtasks_from_aliases(results: &Map<String, Value>) -> HashMap<&str, Vec<String>> {
    let mut subtasks: HashMap<&str, Vec<String>> = HashMap::new();
    let mut ancestors: Vec<(&str, usize)> = Vec::new();
    for (task, metrics) in results {
        let alias = metrics.get("alias").and_then(Value::as_str);
        let depth = alias.map_or(0, alias_depth);
        while ancestors.last().is_some_and(|(_, above)| *above >= depth) {
            ancestors.pop();
        }
        if let Some((parent, _)) = ancestors.last() {
            subtasks.entry(*parent).or_default().push(task.clone());
        }
        ancestors.push((task, depth));
    }
    subtasks
}

/// Returns how deep an alias is indented: the spaces before a `- ` marker.
fn alias_depth(alias: &str) -> usize {
    let unindented = alias.trim_start_matches(' ');
    if unindented.starts_with("- ") {
        alias.len() - unindented.len()
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn defaults() -> RunDefaults {
        RunDefaults {
            n_shot: None,
            limit: None,
            style: KeyStyle::WithFilter,
        }
    }

    fn runs(document: &Value) -> Vec<ParsedRun> {
        let document = document.as_object().expect("object");
        let results = document
            .get("results")
            .and_then(Value::as_object)
            .expect("results");
        let groups = document.get("groups").and_then(Value::as_object);
        let tables = TaskTables {
            versions: Table::read(document, "versions").expect("object"),
            n_shot: Table::read(document, "n-shot").expect("object"),
            group_subtasks: Table::read(document, "group_subtasks").expect("object"),
            ..TaskTables::default()
        };
        read_runs(results, groups, &tables, &defaults()).expect("readable runs")
    }

    #[test]
    fn group_rows_in_results_and_groups_are_read_once() {
        let document = json!({
            "results": {"g": {"acc,none": 0.5}, "a": {"acc,none": 0.4}},
            "groups": {"g": {"acc,none": 0.5}, "h": {"acc,none": 0.7}},
            "group_subtasks": {"g": ["a"], "a": []},
            "versions": {"a": 1.0, "g": null},
            "n-shot": {"a": 0}
        });
        let found = runs(&document);
        let tasks: Vec<_> = found.iter().map(|run| run.task.as_str()).collect();
        assert_eq!(tasks, ["g", "a", "h"]);
        assert_eq!(found[0].subtasks, ["a"]);
        assert_eq!(
            (found[0].task_version.as_deref(), found[0].n_shot),
            (None, None)
        );
        assert_eq!(
            (found[1].task_version.as_deref(), found[1].n_shot),
            (Some("1"), Some(0))
        );
    }

    #[test]
    fn subtasks_are_read_from_alias_indentation_without_a_table() {
        let document = json!({"results": {
            "mmlu": {"alias": "mmlu", "acc,none": 0.5},
            "mmlu_stem": {"alias": " - stem", "acc,none": 0.5},
            "mmlu_anatomy": {"alias": "  - anatomy", "acc,none": 0.5},
            "mmlu_other": {"alias": " - other", "acc,none": 0.5},
            "piqa": {"alias": "piqa", "acc,none": 0.5}
        }});
        let found = runs(&document);
        assert_eq!(found[0].subtasks, ["mmlu_stem", "mmlu_other"]);
        assert_eq!(found[1].subtasks, ["mmlu_anatomy"]);
        assert!(found[4].subtasks.is_empty());
    }

    #[test]
    fn subtask_that_is_not_a_name_is_an_error() {
        let document = json!({
            "results": {"g": {"acc,none": 0.5}},
            "group_subtasks": {"g": ["a", 3]}
        });
        let document = document.as_object().expect("object");
        let results = document
            .get("results")
            .and_then(Value::as_object)
            .expect("results");
        let tables = TaskTables {
            group_subtasks: Table::read(document, "group_subtasks").expect("object"),
            ..TaskTables::default()
        };
        let error = read_runs(results, None, &tables, &defaults()).expect_err("a number");
        assert_eq!(error.path, "$.group_subtasks.g[1]");
        assert_eq!(error.message, "Expected a task name, found `3`.");
    }
}
