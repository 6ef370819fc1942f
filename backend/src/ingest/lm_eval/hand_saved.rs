//! Reads the two layouts people save by hand next to real results files: a
//! `{model, tasks, num_fewshot, results}` summary and a bare results map.
//!
//! Both lost the harness's per-task tables, so task versions, sample counts
//! and directions are unknown, and group membership comes from alias
//! indentation. Their generation is told by the metric keys alone.

use serde_json::{Map, Value};

use super::harness::{implied_version, style_of};
use super::metrics::{self, KeyStyle};
use super::tasks::{self, RunDefaults, TaskTables};
use super::{fields, model};
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{ParsedFile, SourceFormat};

/// Reads a hand-saved summary; its `num_fewshot` applies to every task.
pub(super) fn read_summary(document: &Map<String, Value>) -> Result<ParsedFile, FileError> {
    let results = tasks::results_map(document)?;
    let format = format(results);
    let n_shot = document.get("num_fewshot").unwrap_or(&Value::Null);
    let defaults = RunDefaults {
        n_shot: fields::n_shot(n_shot, &JsonPath::root().key("num_fewshot"))?,
        limit: None,
        style: style_of(format),
    };
    let runs = tasks::read_runs(results, None, &TaskTables::default(), &defaults)?;

    Ok(ParsedFile {
        model: model::from_summary(document)?,
        config: summary_config(document),
        ..file_without_metadata(format, runs)
    })
}

/// Reads a bare results map, whose top-level keys are task names.
pub(super) fn read_bare(document: &Map<String, Value>) -> Result<ParsedFile, FileError> {
    let format = format(document);
    let defaults = RunDefaults {
        n_shot: None,
        limit: None,
        style: style_of(format),
    };
    let runs = tasks::read_runs(document, None, &TaskTables::default(), &defaults)?;
    Ok(file_without_metadata(format, runs))
}

fn format(results: &Map<String, Value>) -> SourceFormat {
    match metrics::key_style(results) {
        KeyStyle::Bare => SourceFormat::LmEvalV03,
        KeyStyle::WithFilter => SourceFormat::LmEvalV04,
    }
}

/// Returns the summary's own fields apart from `results` (model, tasks,
/// n-shot), as the closest thing it has to a configuration block.
fn summary_config(document: &Map<String, Value>) -> Value {
    let known = document
        .iter()
        .filter(|(key, _)| key.as_str() != "results")
        .map(|(key, value)| (key.clone(), lenient_json::plain(value)))
        .collect();
    Value::Object(known)
}

fn file_without_metadata(
    format: SourceFormat,
    runs: Vec<crate::ingest::parsed::ParsedRun>,
) -> ParsedFile {
    ParsedFile {
        harness_version: implied_version(format),
        ..ParsedFile::of(format, runs)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::parsed::{ModelRef, ModelSource};

    #[test]
    fn summary_records_model_and_n_shot() {
        let document = json!({
            "model": "/workspace/rwkv", "tasks": ["glue"], "num_fewshot": 5,
            "results": {"glue": {"alias": "glue", "acc,none": 0.4}}
        });
        let document = document.as_object().cloned().unwrap_or_default();
        let found = read_summary(&document).expect("readable");
        let model = ModelRef {
            source: ModelSource::LocalPath("/workspace/rwkv".into()),
            revision: None,
        };
        assert_eq!(found.model, Some(model));
        assert_eq!(found.runs[0].n_shot, Some(5));
        assert_eq!(
            found.config,
            json!({"model": "/workspace/rwkv", "tasks": ["glue"], "num_fewshot": 5})
        );
        assert_eq!(found.format, Some(SourceFormat::LmEvalV04));
    }

    #[test]
    fn bare_map_has_no_model_and_an_empty_config() {
        let document = json!({"rte": {"acc,none": 0.5, "alias": " - rte"}});
        let document = document.as_object().cloned().unwrap_or_default();
        let found = read_bare(&document).expect("readable");
        assert_eq!((found.model, found.config), (None, json!({})));
        assert_eq!(found.runs[0].task, "rte");
    }
}
