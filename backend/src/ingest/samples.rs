//! Reads lm-evaluation-harness per-sample logs (`samples_<task>_<time>.jsonl`)
//! one line at a time into format-neutral sample rows.
//!
//! A log can be far larger than memory allows, so nothing here holds more
//! than one line: the caller feeds lines and writes rows in batches. Each
//! line is one evaluated item with the harness's arguments, responses and a
//! value per metric named in `metrics` (non-finite values as Python writes
//! them). The item itself (`doc`) is hashed the way dataset items are, so the
//! same item can be followed across runs and into a dataset.

use serde_json::{Map, Value};

use super::file_error::{ErrorCode, FileError};
use super::lenient_json;
use super::parsed::Number;
use crate::service::dataset::items::{canonical, content_sha256};

/// The longest line accepted; a longer one is an error, not an allocation.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// Metrics whose per-sample value is 1 when the item was answered right.
const BINARY_METRICS: &[&str] = &[
    "acc",
    "acc_norm",
    "exact_match",
    "em",
    "correct",
    "accuracy",
    "mc1",
    "pass@1",
];

/// Fields of a sample line that are not metrics.
const KNOWN_FIELDS: &[&str] = &[
    "doc_id",
    "doc",
    "target",
    "arguments",
    "resps",
    "filtered_resps",
    "filter",
    "metrics",
    "doc_hash",
    "prompt_hash",
    "target_hash",
];

/// One sample ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    pub sample_no: i64,
    pub doc_id: Option<i64>,
    pub filter: String,
    pub item_sha256: Option<String>,
    pub input: Option<String>,
    pub target: Option<String>,
    pub output: Option<String>,
    /// Every metric named in `metrics`, non-finite values spelled out.
    pub scores: Value,
    pub score: Option<f64>,
    /// `finite`, `nan`, `positive_infinity`, `negative_infinity` or `missing`.
    pub score_kind: &'static str,
    pub correct: Option<bool>,
    /// Which repetition of the item (Inspect's epochs, from 1); 1 where a
    /// harness runs each item once.
    pub epoch: i32,
}

/// Splits `samples_<task>_<time>.jsonl` into the task and the time stamp.
pub fn task_and_stamp(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.strip_prefix("samples_")?.strip_suffix(".jsonl")?;
    let (task, stamp) = stem.rsplit_once('_')?;
    (!task.is_empty() && !stamp.is_empty()).then_some((task, stamp))
}

fn line_error(line: u64, code: ErrorCode, message: String) -> FileError {
    FileError {
        code,
        path: format!("line {line}"),
        message,
    }
}

/// Renders a value as text: strings as they are, anything else as JSON.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Array(items) if items.len() == 1 => text(&items[0]),
        other => Some(lenient_json::plain(other).to_string()),
    }
}

/// The prompt of the first request the harness made for the item.
fn prompt(arguments: &Value) -> Option<String> {
    let first = match arguments {
        Value::Object(requests) => requests.values().next()?,
        Value::Array(requests) => requests.first()?,
        _ => return None,
    };
    match first {
        Value::Object(args) => args.get("arg_0").and_then(text),
        Value::Array(args) => args.first().and_then(text),
        other => text(other),
    }
}

/// Names how a score is present, as `sample.score_kind` stores it.
pub fn score_kind(number: Option<Number>) -> &'static str {
    match number {
        Some(Number::Finite(_)) => "finite",
        Some(Number::NaN) => "nan",
        Some(Number::PositiveInfinity) => "positive_infinity",
        Some(Number::NegativeInfinity) => "negative_infinity",
        None => "missing",
    }
}

fn first_score(object: &Map<String, Value>, metrics: &[String]) -> (Option<Number>, Option<bool>) {
    let Some(name) = metrics.first() else {
        return (None, None);
    };
    let value = object.get(name.as_str());
    let number = match value {
        Some(Value::Bool(flag)) => Some(Number::Finite(if *flag { 1.0 } else { 0.0 })),
        Some(value) => lenient_json::number(value),
        None => None,
    };
    let correct = match number {
        Some(Number::Finite(v)) if BINARY_METRICS.contains(&name.as_str()) => {
            (v == 0.0 || v == 1.0).then_some(v == 1.0)
        }
        _ => None,
    };
    (number, correct)
}

/// Reads line `line` (1-based) of a samples log as sample `sample_no`.
pub fn read_sample(line: u64, sample_no: i64, bytes: &[u8]) -> Result<SampleRow, FileError> {
    let value = lenient_json::parse(bytes).map_err(|error| {
        // The parser sees one line, so its own line number means nothing to
        // a reader; past the line's last byte it counts a line more.
        let message = if error.line > 1 || error.column == 0 {
            format!("Not JSON: {} (at the end of the line).", error.reason)
        } else {
            format!("Not JSON at column {}: {}.", error.column, error.reason)
        };
        line_error(line, ErrorCode::InvalidJson, message)
    })?;
    let Value::Object(object) = value else {
        return Err(line_error(
            line,
            ErrorCode::UnsupportedShape,
            "Expected one JSON object per line.".to_string(),
        ));
    };
    let doc_id = match object.get("doc_id") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(other) => {
            return Err(line_error(
                line,
                ErrorCode::InvalidField,
                format!("Expected `doc_id` to be an integer, found `{other}`."),
            ));
        }
    };
    let metrics: Vec<String> = match object.get("metrics") {
        // Older logs name no metrics: every other top-level number is one.
        None => object
            .iter()
            .filter(|(key, value)| {
                !KNOWN_FIELDS.contains(&key.as_str())
                    && (value.is_boolean() || lenient_json::number(value).is_some())
            })
            .map(|(key, _)| key.clone())
            .collect(),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(|name| name.as_str().map(str::to_string))
            .collect(),
        Some(other) => {
            return Err(line_error(
                line,
                ErrorCode::InvalidField,
                format!("Expected `metrics` to be a list of names, found `{other}`."),
            ));
        }
    };
    let scores: Map<String, Value> = metrics
        .iter()
        .filter_map(|name| {
            object
                .get(name.as_str())
                .map(|v| (name.clone(), lenient_json::plain(v)))
        })
        .collect();
    let (number, correct) = first_score(&object, &metrics);
    let item_sha256 = object
        .get("doc")
        .map(|doc| content_sha256(&canonical(lenient_json::plain(doc))));
    Ok(SampleRow {
        sample_no,
        doc_id,
        filter: object
            .get("filter")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_string(),
        item_sha256,
        input: object.get("arguments").and_then(prompt),
        target: object.get("target").and_then(text),
        output: object
            .get("filtered_resps")
            .or_else(|| object.get("resps"))
            .and_then(text),
        scores: Value::Object(scores),
        score: match number {
            Some(Number::Finite(v)) => Some(v),
            _ => None,
        },
        score_kind: score_kind(number),
        correct,
        epoch: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_task_and_stamp() {
        assert_eq!(
            task_and_stamp("samples_polymer_tg_prediction_2025-06-30T19-40-09.461247.jsonl"),
            Some(("polymer_tg_prediction", "2025-06-30T19-40-09.461247"))
        );
        assert_eq!(task_and_stamp("samples_.jsonl"), None);
        assert_eq!(task_and_stamp("results_x.json"), None);
    }

    #[test]
    fn a_generation_sample_keeps_its_texts_and_scores() -> Result<(), FileError> {
        let line = br#"{"doc_id": 3, "doc": {"q": "2+2", "a": "4"}, "target": "4",
            "arguments": {"gen_args_0": {"arg_0": "Q: 2+2\nA:", "arg_1": {"until": ["\n"]}}},
            "resps": [["4"]], "filtered_resps": ["4"], "filter": "strict-match",
            "metrics": ["exact_match"], "exact_match": 1.0}"#;
        let row = read_sample(7, 6, line)?;
        assert_eq!(row.doc_id, Some(3));
        assert_eq!(row.input.as_deref(), Some("Q: 2+2\nA:"));
        assert_eq!(
            (row.target.as_deref(), row.output.as_deref()),
            (Some("4"), Some("4"))
        );
        assert_eq!(row.filter, "strict-match");
        assert_eq!(
            (row.score, row.score_kind, row.correct),
            (Some(1.0), "finite", Some(true))
        );
        assert_eq!(
            row.item_sha256,
            Some(content_sha256(&serde_json::json!({"a": "4", "q": "2+2"})))
        );
        Ok(())
    }

    #[test]
    fn non_finite_scores_are_kept_with_their_kind() -> Result<(), FileError> {
        let row = read_sample(
            1,
            0,
            br#"{"doc_id": 0, "metrics": ["mae"], "mae": Infinity}"#,
        )?;
        assert_eq!(
            (row.score, row.score_kind, row.correct),
            (None, "positive_infinity", None)
        );
        assert_eq!(row.scores, serde_json::json!({"mae": "Infinity"}));
        Ok(())
    }

    #[test]
    fn logs_without_a_metric_list_name_them_by_key() -> Result<(), FileError> {
        let row = read_sample(
            1,
            0,
            br#"{"doc_id": 0, "target": "9", "doc_hash": "ab", "acc": 1}"#,
        )?;
        assert_eq!((row.score, row.correct), (Some(1.0), Some(true)));
        assert_eq!(row.scores, serde_json::json!({"acc": 1}));
        Ok(())
    }

    #[test]
    fn broken_lines_name_their_line() {
        let error = read_sample(12, 11, b"{\"doc_id\": ").err();
        assert_eq!(
            error.map(|e| (e.code, e.path, e.message)),
            Some((
                ErrorCode::InvalidJson,
                "line 12".to_string(),
                "Not JSON at column 11: EOF while parsing a value.".to_string()
            ))
        );
        let error = read_sample(12, 11, b"{\"doc_id\": \r\n").err();
        assert_eq!(
            error.map(|e| e.message),
            Some("Not JSON: EOF while parsing a value (at the end of the line).".to_string())
        );
        let error = read_sample(4, 3, b"{\"doc_id\" 1}\n").err();
        assert_eq!(
            error.map(|e| e.message),
            Some("Not JSON at column 11: expected `:`.".to_string())
        );
        let error = read_sample(2, 1, b"[1, 2]").err();
        assert_eq!(error.map(|e| e.code), Some(ErrorCode::UnsupportedShape));
        let error = read_sample(3, 2, br#"{"doc_id": "x"}"#).err();
        assert_eq!(error.map(|e| e.code), Some(ErrorCode::InvalidField));
    }
}
