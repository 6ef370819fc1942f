//! Reads the scores of an MTEB result file, in any of its three
//! generations, into results keyed by split and language subset.
//!
//! - 1.x and 2.x write `scores: {split: [{hf_subset, languages, main_score,
//!   …metrics}]}`, one entry per subset;
//! - before 1.x a file holds its splits at the top level, each either one
//!   object of metrics (`"test": {"accuracy": 0.83}`) or one per language
//!   (`"test": {"en": {…}}`), with similarity functions nested in either
//!   (`"cos_sim": {"spearman": …}`) and no `main_score`.
//!
//! Nested similarity groups are flattened with `_` (`cos_sim_spearman`),
//! which is also how 1.x names the same numbers. Lists (per-experiment
//! scores, clustering's `v_measures`, a `[r, p]` correlation pair) are
//! raw material, not scores, and are not stored.

use serde_json::{Map, Value};

use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{Measured, ParsedResult};

/// Keys of an entry or split object that describe it rather than score it.
const BOOKKEEPING: [&str; 3] = ["hf_subset", "languages", "evaluation_time"];

/// Similarity-function groups of the oldest files; a split object keyed by
/// anything else, with only objects inside, is keyed by language.
const SIMILARITY_GROUPS: [&str; 8] = [
    "cos_sim",
    "cosine",
    "euclidean",
    "manhattan",
    "dot",
    "dot_product",
    "max",
    "similarity",
];

/// The subset name MTEB gives a task that has only one.
pub(super) const DEFAULT_SUBSET: &str = "default";

/// MTEB's headline metric, higher is better for every task type.
const MAIN_SCORE: &str = "main_score";

/// The scores of one split and subset.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SubsetScores {
    pub split: String,
    pub subset: String,
    /// ISO 639-3 + script codes (`eng-Latn`), when the file lists them.
    pub languages: Option<Value>,
    pub results: Vec<ParsedResult>,
}

impl SubsetScores {
    /// Returns the results, each under the filter `<split>/<subset>`
    /// (`test/es-en`), which keeps subsets apart on leaderboards.
    pub(super) fn into_results(self) -> Vec<ParsedResult> {
        let filter = format!("{}/{}", self.split, self.subset);
        self.results
            .into_iter()
            .map(|result| ParsedResult {
                filter: filter.clone(),
                ..result
            })
            .collect()
    }
}

/// Reads `scores` of a 1.x/2.x file.
pub(super) fn read_scores(scores: &Value) -> Result<Vec<SubsetScores>, FileError> {
    let path = JsonPath::root().key("scores");
    let splits = scores
        .as_object()
        .ok_or_else(|| FileError::unexpected(&path, "an object of splits", scores))?;
    let mut read = Vec::new();
    for (split, entries) in splits {
        let split_path = path.key(split);
        let entries = entries.as_array().ok_or_else(|| {
            FileError::unexpected(&split_path, "a list of subset scores", entries)
        })?;
        for (index, entry) in entries.iter().enumerate() {
            let entry_path = split_path.index(index);
            let subset = read_entry(split, entry, &entry_path)?;
            check_unique(&read, &subset, &entry_path)?;
            read.push(subset);
        }
    }

    Ok(read)
}

fn read_entry(split: &str, entry: &Value, path: &JsonPath) -> Result<SubsetScores, FileError> {
    let object = entry
        .as_object()
        .ok_or_else(|| FileError::unexpected(path, "an object of scores", entry))?;
    let subset_path = path.key("hf_subset");
    let subset = match object.get("hf_subset") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        other => {
            let found = other.unwrap_or(&Value::Null);
            let expected = "the subset's name (`hf_subset`)";
            return Err(FileError::unexpected(&subset_path, expected, found));
        }
    };

    Ok(SubsetScores {
        split: split.to_owned(),
        subset,
        languages: object.get("languages").cloned(),
        results: metrics(object, path)?,
    })
}

/// Reads the top-level splits of a file from before 1.x.
pub(super) fn read_legacy(
    document: &Map<String, Value>,
    splits: &[&str],
) -> Result<Vec<SubsetScores>, FileError> {
    let mut read = Vec::new();
    for split in splits {
        let path = JsonPath::root().key(split);
        let value = document.get(*split).unwrap_or(&Value::Null);
        let object = value
            .as_object()
            .ok_or_else(|| FileError::unexpected(&path, "an object of scores", value))?;
        if !is_by_language(object) {
            read.push(legacy_subset(split, DEFAULT_SUBSET, object, &path)?);
            continue;
        }
        for (language, scores) in object {
            let language_path = path.key(language);
            let scores = scores.as_object().ok_or_else(|| {
                FileError::unexpected(&language_path, "an object of scores", scores)
            })?;
            read.push(legacy_subset(split, language, scores, &language_path)?);
        }
    }

    Ok(read)
}

fn legacy_subset(
    split: &str,
    subset: &str,
    scores: &Map<String, Value>,
    path: &JsonPath,
) -> Result<SubsetScores, FileError> {
    Ok(SubsetScores {
        split: split.to_owned(),
        subset: subset.to_owned(),
        languages: None,
        results: metrics(scores, path)?,
    })
}

/// Tells a split keyed by language (only objects inside, none of them a
/// similarity group) from a split of metrics.
fn is_by_language(split: &Map<String, Value>) -> bool {
    let scored = split
        .iter()
        .filter(|(key, _)| !BOOKKEEPING.contains(&key.as_str()));
    let mut scored = scored.peekable();
    scored.peek().is_some()
        && scored
            .all(|(key, value)| value.is_object() && !SIMILARITY_GROUPS.contains(&key.as_str()))
}

/// Reads every metric of one subset; a `<metric>_stderr` key becomes the
/// stderr of `<metric>`.
fn metrics(scores: &Map<String, Value>, path: &JsonPath) -> Result<Vec<ParsedResult>, FileError> {
    let mut values: Vec<(String, Measured)> = Vec::new();
    for (key, value) in scores {
        if BOOKKEEPING.contains(&key.as_str()) {
            continue;
        }
        let key_path = path.key(key);
        match value {
            Value::Array(_) => {}
            Value::Object(group) => {
                for (name, value) in group {
                    if value.is_array() {
                        continue;
                    }
                    let measured = measured(value, &key_path.key(name))?;
                    push_unique(&mut values, format!("{key}_{name}"), measured, &key_path)?;
                }
            }
            _ => push_unique(&mut values, key.clone(), measured(value, &key_path)?, path)?,
        }
    }

    Ok(pair_stderrs(values))
}

fn measured(value: &Value, path: &JsonPath) -> Result<Measured, FileError> {
    if value.is_null() {
        return Ok(Measured::NotAvailable);
    }
    lenient_json::number(value)
        .map(Measured::Present)
        .ok_or_else(|| FileError::unexpected(path, "a number", value))
}

fn push_unique(
    values: &mut Vec<(String, Measured)>,
    name: String,
    measured: Measured,
    path: &JsonPath,
) -> Result<(), FileError> {
    if values.iter().any(|(known, _)| *known == name) {
        let message = format!("The metric `{name}` appears twice (flat and nested).");
        return Err(FileError::invalid_field(path, message));
    }
    values.push((name, measured));
    Ok(())
}

fn pair_stderrs(values: Vec<(String, Measured)>) -> Vec<ParsedResult> {
    let stderr_of = |metric: &str| {
        let key = format!("{metric}_stderr");
        values
            .iter()
            .find(|(name, _)| *name == key)
            .map_or(Measured::Missing, |(_, stderr)| *stderr)
    };
    let is_paired_stderr = |name: &str| {
        name.strip_suffix("_stderr")
            .is_some_and(|metric| values.iter().any(|(known, _)| known == metric))
    };
    values
        .iter()
        .filter(|(name, _)| !is_paired_stderr(name))
        .map(|(name, value)| ParsedResult {
            metric: name.clone(),
            filter: String::new(),
            value: *value,
            stderr: stderr_of(name),
            higher_is_better: (name == MAIN_SCORE).then_some(true),
        })
        .collect()
}

/// Refuses a second entry for a split and subset already read: the two
/// would claim the same results.
fn check_unique(
    read: &[SubsetScores],
    subset: &SubsetScores,
    path: &JsonPath,
) -> Result<(), FileError> {
    let repeated = read
        .iter()
        .any(|known| known.split == subset.split && known.subset == subset.subset);
    if !repeated {
        return Ok(());
    }
    let message = format!(
        "The subset `{}` appears twice in split `{}`.",
        subset.subset, subset.split
    );
    Err(FileError::invalid_field(&path.key("hf_subset"), message))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;
    use crate::ingest::parsed::Number;

    fn names(subset: &SubsetScores) -> Vec<&str> {
        subset.results.iter().map(|r| r.metric.as_str()).collect()
    }

    #[test]
    fn entries_keep_their_subset_and_skip_lists() -> Result<(), FileError> {
        let scores = json!({"test": [
            {"hf_subset": "es-en", "languages": ["spa-Latn", "eng-Latn"],
             "main_score": 0.7, "pearson": [0.6, 0.0], "cosine_spearman": 0.7},
            {"hf_subset": "de", "main_score": 0.5}]});
        let read = read_scores(&scores)?;
        assert_eq!(read.len(), 2);
        assert_eq!(
            (read[0].split.as_str(), read[0].subset.as_str()),
            ("test", "es-en")
        );
        assert_eq!(names(&read[0]), ["main_score", "cosine_spearman"]);
        assert_eq!(read[0].results[0].higher_is_better, Some(true));
        assert_eq!(read[0].results[1].higher_is_better, None);
        Ok(())
    }

    #[test]
    fn legacy_splits_by_language_and_similarity_groups() -> Result<(), FileError> {
        let document = json!({"mteb_dataset_name": "X",
            "test": {"en": {"accuracy": 0.8, "accuracy_stderr": 0.01}},
            "dev": {"cos_sim": {"spearman": 0.84}, "evaluation_time": 3.0}});
        let object = document.as_object().cloned().unwrap_or_default();
        let read = read_legacy(&object, &["test", "dev"])?;
        assert_eq!(read[0].subset, "en");
        assert_eq!(names(&read[0]), ["accuracy"]);
        assert_eq!(
            read[0].results[0].stderr,
            Measured::Present(Number::Finite(0.01))
        );
        assert_eq!(read[1].subset, DEFAULT_SUBSET);
        assert_eq!(names(&read[1]), ["cos_sim_spearman"]);
        Ok(())
    }

    #[test]
    fn wrong_types_name_their_path() {
        let error = |scores: Value| read_scores(&scores).err().map(|e| (e.code, e.path));
        assert_eq!(
            error(json!({"test": [{"hf_subset": "default", "main_score": "high"}]})),
            Some((
                ErrorCode::InvalidField,
                "$.scores.test[0].main_score".into()
            ))
        );
        assert_eq!(
            error(json!({"test": {"hf_subset": "default"}})),
            Some((ErrorCode::InvalidField, "$.scores.test".into()))
        );
        assert_eq!(
            error(json!({"test": [{"main_score": 0.5}]})),
            Some((ErrorCode::InvalidField, "$.scores.test[0].hf_subset".into()))
        );
        let twice = json!({"test": [{"hf_subset": "en", "main_score": 0.5},
                                    {"hf_subset": "en", "main_score": 0.6}]});
        assert_eq!(
            error(twice),
            Some((ErrorCode::InvalidField, "$.scores.test[1].hf_subset".into()))
        );
    }
}
