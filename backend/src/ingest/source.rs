//! Decides what a file on disk is: results to store, something to skip (with
//! the reason), or a broken file to reject (with a coded error).
//!
//! Detection reads the content, not just the name, and never guesses
//! silently: every skip says what the file was taken for, and a file no
//! importer recognises is rejected as `unrecognised_format`, saying what
//! was looked for.

use std::path::Path;

use super::file_error::{ErrorCode, FileError, JsonPath};
use super::importer::{self, Claimed, Imported, Probe};
use super::lenient_json;
use super::parsed::{ParsedFile, ParsedTable};

/// What a file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Classified {
    /// Results with (possibly) a model identity of their own.
    Results(ParsedFile),
    /// A bare results map: storable only when the user names the model.
    BareResults(ParsedFile),
    /// A leaderboard table: one source per model row.
    Table(ParsedTable),
    /// Not imported by this version; not an error.
    Skipped(String),
    /// A results file that cannot be read.
    Rejected(FileError),
}

/// Classifies `bytes` read from `path` by asking every importer.
pub fn classify(path: &Path, bytes: &[u8]) -> Classified {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_lowercase();
    if let Some(reason) = skip_by_name(name, &extension) {
        return Classified::Skipped(reason.to_string());
    }
    // `.eval` logs are zip archives: parsing them as JSON would only fail.
    let (json, json_error) = match extension.as_str() {
        "eval" => (None, None),
        _ => match lenient_json::parse(bytes) {
            Ok(value) => (Some(value), None),
            Err(error) => (None, Some(FileError::from(error))),
        },
    };
    // A `.json` file that is not JSON is broken, not of another format.
    if let (Some(error), "json") = (&json_error, extension.as_str()) {
        return Classified::Rejected(error.clone());
    }
    let probe = Probe {
        path,
        bytes,
        json: json.as_ref(),
    };
    match importer::import(&probe) {
        Ok(Claimed::By(_, Imported::Results(file))) => Classified::Results(file),
        Ok(Claimed::By(_, Imported::BareResults(file))) => Classified::BareResults(file),
        Ok(Claimed::By(_, Imported::Table(table))) => Classified::Table(table),
        Ok(Claimed::By(_, Imported::Skipped(reason))) => Classified::Skipped(reason),
        Ok(Claimed::Unrecognised(reason)) => {
            Classified::Rejected(FileError::unrecognised(&extension, json.is_some(), &reason))
        }
        Err(error) => Classified::Rejected(error),
    }
}

/// Formats recognised by name alone, whose importers come later.
fn skip_by_name(name: &str, extension: &str) -> Option<&'static str> {
    let reason = match extension {
        "jsonl" if name.starts_with("samples_") => {
            "lm-eval per-sample log (`samples_*.jsonl`); per-sample results are not imported yet"
        }
        "jsonl" => "JSON Lines file; no JSON Lines importer is available yet",
        "yaml" | "yml" => {
            "YAML file (such as OpenCompass's score baselines: expected scores kept by \
             hand, not a run's results); YAML is not imported"
        }
        "md" | "markdown" => "documentation, not results",
        _ => return None,
    };
    Some(reason)
}

impl FileError {
    /// The file could not be read from disk.
    pub fn io(path: &Path, reason: &str) -> Self {
        Self {
            code: ErrorCode::Unreadable,
            path: JsonPath::root().to_string(),
            message: format!("Cannot read `{}`: {reason}.", path.display()),
        }
    }

    /// The file holds results but no model identity, and none was given.
    pub fn model_unresolved() -> Self {
        Self {
            code: ErrorCode::ModelUnresolved,
            path: "$.config.model_args".to_string(),
            message: "No model could be identified (no `model_name`, no `pretrained=` in \
                      `model_args`); name it with `--model`."
                .to_string(),
        }
    }

    /// No importer claimed the file; `looked_for` names what each expects.
    /// A JSON document or a table gets that list, since one of them nearly
    /// matched; any other file gets the kinds of file that are read, the
    /// importers' JSON fields being no help for a `.txt`.
    pub fn unrecognised(extension: &str, is_json: bool, looked_for: &str) -> Self {
        let (path, message) = match (is_json, extension) {
            (true, _) => (
                "$",
                format!("No importer recognises this JSON document: {looked_for}."),
            ),
            (false, "csv") => (
                "line 1",
                format!("No importer recognises this table's header: {looked_for}."),
            ),
            (false, extension) => {
                let what = match extension {
                    "" => "file".to_owned(),
                    extension => format!("`.{extension}` file"),
                };
                (
                    "$",
                    format!(
                        "No importer recognises this {what}: results are read from JSON \
                         files (lm-eval, HELM, Inspect, MTEB), Inspect `.eval` archives and \
                         leaderboard `.csv` tables."
                    ),
                )
            }
        };
        Self {
            code: ErrorCode::UnrecognisedFormat,
            path: path.to_owned(),
            message,
        }
    }

    /// The database refused the file part-way; the transaction was rolled back.
    pub fn store_failed() -> Self {
        Self {
            code: ErrorCode::StoreFailed,
            path: JsonPath::root().to_string(),
            message: "The database refused the file's content; nothing from it was stored."
                .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_logs_are_skipped_by_name() {
        let classified = classify(Path::new("samples_asdiv_2024.jsonl"), b"{}");
        assert!(matches!(classified, Classified::Skipped(reason) if reason.contains("per-sample")));
    }

    #[test]
    fn broken_json_files_are_rejected_with_a_code() {
        let classified = classify(Path::new("results.json"), b"{\"results\": ");
        let Classified::Rejected(error) = classified else {
            panic!("expected a rejection, got {classified:?}");
        };
        assert_eq!(error.code, ErrorCode::InvalidJson);
    }

    #[test]
    fn unrecognised_files_are_rejected_saying_what_was_looked_for() {
        let Classified::Rejected(error) = classify(Path::new("notes.txt"), b"hello") else {
            panic!("an unknown file is rejected");
        };
        assert_eq!(
            (error.code, error.path.as_str()),
            (ErrorCode::UnrecognisedFormat, "$")
        );
        assert_eq!(
            error.message,
            "No importer recognises this `.txt` file: results are read from JSON files \
             (lm-eval, HELM, Inspect, MTEB), Inspect `.eval` archives and leaderboard `.csv` \
             tables."
        );
        let Classified::Rejected(error) = classify(Path::new("x.json"), b"{\"a\": 1}") else {
            panic!("an unknown JSON document is rejected");
        };
        assert_eq!(
            (error.code, error.path.as_str()),
            (ErrorCode::UnrecognisedFormat, "$")
        );
    }
}
