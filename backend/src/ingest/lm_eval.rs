//! Reads EleutherAI lm-evaluation-harness results files, v0.3 and v0.4, into a [`ParsedFile`].
//!
//! A file is classified before it is read: a harness results file, a
//! hand-saved summary, a bare results map, or something else entirely (a HELM,
//! Inspect or MTEB file next to it), which the caller skips with the reason
//! given. Classification looks only at the content, never at the file name,
//! because names in the wild do not follow the harness's own pattern.
//!
//! Per-sample records embedded by wrappers (`samples`) are ignored here.

mod classify;
mod fields;
mod hand_saved;
mod harness;
mod metrics;
mod model;
mod tasks;

#[cfg(test)]
mod real_files_tests;

use serde_json::Value;

use super::file_error::FileError;
use super::lenient_json;
use super::parsed::ParsedFile;

/// The layout an lm-eval file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// What the harness itself writes: `results` plus `versions`, `config`
    /// (v0.3) or `configs`, `n-shot`, `higher_is_better`, … (v0.4).
    ResultsFile,
    /// A hand-saved `{model, tasks, num_fewshot, results}` object.
    Summary,
    /// Only the results map: top-level keys are task names.
    BareResults,
}

/// Why a JSON document is not an lm-eval results file, for the skip report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotLmEval {
    HelmRun,
    HelmSuite,
    InspectLog,
    MtebResult,
    MtebModelMeta,
    /// OpenCompass's per-item predictions or judge outputs, keyed by index.
    OpenCompassOutput,
    /// The document is an array or a scalar; lm-eval writes objects.
    NotAnObject,
    /// An object without a `results` map that does not look like a bare map.
    NoResultsMap,
    /// `results` exists but does not map task names to metric objects, and
    /// nothing else in the file says it came from lm-eval.
    ForeignResults,
}

impl NotLmEval {
    /// Returns a short human reason, e.g. for an ingest summary.
    pub fn reason(self) -> &'static str {
        match self {
            Self::HelmRun => "HELM run file",
            Self::HelmSuite => "HELM suite summary",
            Self::InspectLog => "Inspect log",
            Self::MtebResult => "MTEB result",
            Self::MtebModelMeta => "MTEB model metadata",
            Self::OpenCompassOutput => "OpenCompass per-item predictions or judgements",
            Self::NotAnObject => "top level is not a JSON object",
            Self::NoResultsMap => "no `results` map",
            Self::ForeignResults => "`results` does not map task names to metrics",
        }
    }
}

/// What reading a JSON document as an lm-eval file produced.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per file and moved straight to the caller, which unpacks it"
)]
pub enum Outcome {
    Results { shape: Shape, file: ParsedFile },
    NotLmEval(NotLmEval),
}

/// Reads a parsed JSON document (see [`lenient_json::parse`]) as an lm-eval
/// results file; fails when the document is lm-eval output with a field that
/// cannot be read, and returns [`Outcome::NotLmEval`] when it is not lm-eval.
pub fn parse(document: &Value) -> Result<Outcome, FileError> {
    let (shape, object) = match classify::classify(document)? {
        classify::Classified::LmEval(shape, object) => (shape, object),
        classify::Classified::Foreign(reason) => return Ok(Outcome::NotLmEval(reason)),
    };
    let file = match shape {
        Shape::ResultsFile => harness::read(object)?,
        Shape::Summary => hand_saved::read_summary(object)?,
        Shape::BareResults => hand_saved::read_bare(object)?,
    };

    Ok(Outcome::Results { shape, file })
}

/// Parses bytes leniently (BOM, `NaN`, `Infinity`) and reads them as in
/// [`parse`]; fails with `invalid_json` when the bytes are not JSON.
pub fn parse_bytes(bytes: &[u8]) -> Result<Outcome, FileError> {
    let document = lenient_json::parse(bytes)?;
    parse(&document)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;
    use crate::ingest::parsed::{Measured, ModelSource, Number, SourceFormat};

    fn read(text: &str) -> (Shape, ParsedFile) {
        match parse_bytes(text.as_bytes()) {
            Ok(Outcome::Results { shape, file }) => (shape, file),
            other => panic!("expected lm-eval results, got {other:?}"),
        }
    }

    #[test]
    fn v03_file_reads_bare_metric_keys_with_filter_none() {
        let (shape, file) = read(
            r#"{"results": {"piqa": {"acc": 0.5, "acc_stderr": 0.01, "em": 0.2}},
                "versions": {"piqa": 0},
                "config": {"model": "gpt2", "model_args": "pretrained=facebook/opt-125m",
                           "num_fewshot": 3, "limit": null}}"#,
        );
        assert_eq!(shape, Shape::ResultsFile);
        assert_eq!(file.format, Some(SourceFormat::LmEvalV03));
        assert_eq!(file.harness_version.as_deref(), Some("0.3"));
        let model = file.model.as_ref().map(|model| &model.source);
        assert_eq!(model, Some(&ModelSource::Hub("facebook/opt-125m".into())));
        let run = &file.runs[0];
        assert_eq!((run.task.as_str(), run.n_shot), ("piqa", Some(3)));
        assert_eq!(run.task_version.as_deref(), Some("0"));
        assert_eq!(run.results[0].filter, "none");
        assert_eq!(
            run.results[0].stderr,
            Measured::Present(Number::Finite(0.01))
        );
        assert_eq!(run.results[1].stderr, Measured::Missing);
    }

    #[test]
    fn v04_file_splits_metric_and_filter() {
        let (_, file) = read(
            r#"{"results": {"gsm8k": {"alias": "gsm8k",
                    "exact_match,strict-match": 0.25, "exact_match_stderr,strict-match": 0.02}},
                "versions": {"gsm8k": 3.0}, "n-shot": {"gsm8k": 5},
                "higher_is_better": {"gsm8k": {"exact_match": true}},
                "config": {"model": "hf", "model_args": "pretrained=org/m,revision=abc"},
                "date": 1700000000.5, "total_evaluation_time_seconds": "12.5"}"#,
        );
        assert_eq!(file.format, Some(SourceFormat::LmEvalV04));
        assert_eq!(file.harness_version, None);
        let run = &file.runs[0];
        assert_eq!(run.task_version.as_deref(), Some("3"));
        let result = &run.results[0];
        assert_eq!(
            (result.metric.as_str(), result.filter.as_str()),
            ("exact_match", "strict-match")
        );
        assert_eq!(result.higher_is_better, Some(true));
        let revision = file.model.and_then(|model| model.revision);
        assert_eq!(revision.as_deref(), Some("abc"));
        assert_eq!(file.duration_seconds, Some(12.5));
        let millis = file.evaluated_at.map(|at| at.timestamp_millis());
        assert_eq!(millis, Some(1_700_000_000_500));
    }

    #[test]
    fn other_formats_are_named_not_rejected() {
        let cases = [
            (
                json!([{"instance_id": "id1", "stats": []}]),
                NotLmEval::HelmRun,
            ),
            (
                json!({"eval": {"task": "t"}, "status": "success", "results": {}}),
                NotLmEval::InspectLog,
            ),
            (
                json!({"task_name": "STS", "scores": {}}),
                NotLmEval::MtebResult,
            ),
            (json!({"0": {"prediction": "x"}}), NotLmEval::NoResultsMap),
            (
                json!({"results": {"accuracy": 0.5}}),
                NotLmEval::ForeignResults,
            ),
            (json!("text"), NotLmEval::NotAnObject),
        ];
        for (document, reason) in cases {
            assert_eq!(
                parse(&document),
                Ok(Outcome::NotLmEval(reason)),
                "{document}"
            );
        }
    }

    #[test]
    fn invalid_json_is_reported_with_position() {
        let error = parse_bytes(b"{\"results\": }").expect_err("not JSON");
        assert_eq!(error.code, ErrorCode::InvalidJson);
        assert_eq!(error.path, "$");
        assert_eq!(
            error.message,
            "The file is not JSON at line 1, column 13: `expected value`."
        );
    }

    #[test]
    fn results_that_are_not_objects_in_a_harness_file_are_unsupported() {
        let document = json!({"results": {"piqa": 0.5}, "versions": {"piqa": 0}});
        let error = parse(&document).expect_err("task entry is a number");
        assert_eq!(error.code, ErrorCode::UnsupportedShape);
        assert_eq!(error.path, "$.results.piqa");
        assert_eq!(
            error.message,
            "Expected an object of metrics for each task, found `0.5`."
        );
    }
}
