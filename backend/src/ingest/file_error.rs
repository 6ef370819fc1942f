//! The error an importer reports when it cannot read one source file.
//!
//! Every error carries a stable snake_case code, the JSON path of the value at
//! fault and a one-sentence message quoting that value, so that a quarantined
//! file can be fixed by someone who has only the error in front of them.

use std::fmt;

use serde_json::Value;

use super::lenient_json::{self, JsonError};

/// The longest quoted value, in characters, before a message cuts it short.
const QUOTE_LIMIT: usize = 60;

/// What went wrong, as a stable code that clients may match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The bytes are not JSON, even allowing Python's `NaN`/`Infinity` tokens.
    InvalidJson,
    /// A field has a type or a value that the format does not allow.
    InvalidField,
    /// The file is of the format, but its layout is not one the importer reads.
    UnsupportedShape,
    /// The file holds results but names no model, and `--model` was not given.
    ModelUnresolved,
    /// The file could not be read from disk.
    Unreadable,
    /// The database refused part of the file; nothing of it was stored.
    StoreFailed,
    /// An archive (an Inspect `.eval` zip) is not a zip, is corrupt, or uses
    /// a compression method or encryption that is not read.
    InvalidArchive,
    /// An archive holds more entries, or more bytes once decompressed, than
    /// an importer reads: a zip bomb, or a log far beyond any real one.
    ArchiveTooLarge,
    /// A CSV file cannot be read as CSV: not UTF-8, a row whose number of
    /// fields differs from the header's, a quote never closed, or a line
    /// beyond the length any real table has.
    InvalidCsv,
    /// No importer recognised the file; the message says what was looked for.
    UnrecognisedFormat,
}

impl ErrorCode {
    /// Returns the code as written in API responses and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidField => "invalid_field",
            Self::UnsupportedShape => "unsupported_shape",
            Self::ModelUnresolved => "model_unresolved",
            Self::Unreadable => "unreadable",
            Self::StoreFailed => "store_failed",
            Self::InvalidArchive => "invalid_archive",
            Self::ArchiveTooLarge => "archive_too_large",
            Self::InvalidCsv => "invalid_csv",
            Self::UnrecognisedFormat => "unrecognised_format",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a source file was rejected, and where in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({code} at {path})")]
pub struct FileError {
    pub code: ErrorCode,
    /// The JSON path of the offending value, e.g. `$.results.arc_easy["acc,none"]`;
    /// inside an archive prefixed by the entry (`header.json:$.eval`), or the
    /// entry alone when the problem is the entry itself.
    pub path: String,
    /// One sentence, the offending value in backticks.
    pub message: String,
}

impl FileError {
    /// Builds an `invalid_field` error saying what was expected and what was found.
    pub fn unexpected(path: &JsonPath, expected: &str, found: &Value) -> Self {
        Self {
            code: ErrorCode::InvalidField,
            path: path.to_string(),
            message: format!("Expected {expected}, found `{}`.", quote(found)),
        }
    }

    /// Builds an `invalid_field` error with a message written by the caller,
    /// for a value whose fault is more than its type (a duplicate, a dangling
    /// reference).
    pub fn invalid_field(path: &JsonPath, message: String) -> Self {
        Self {
            code: ErrorCode::InvalidField,
            path: path.to_string(),
            message,
        }
    }

    /// Returns the error located inside archive entry `entry`: its path
    /// becomes `entry:path`, e.g. `header.json:$.eval.model`.
    pub fn in_entry(self, entry: &str) -> Self {
        Self {
            path: format!("{entry}:{}", self.path),
            ..self
        }
    }

    /// Builds an `unsupported_shape` error with a message written by the caller.
    pub fn unsupported_shape(path: &JsonPath, message: String) -> Self {
        Self {
            code: ErrorCode::UnsupportedShape,
            path: path.to_string(),
            message,
        }
    }
}

impl From<JsonError> for FileError {
    /// Keeps the line and column in the message: a JSON path means nothing
    /// for a document that never parsed.
    fn from(error: JsonError) -> Self {
        Self {
            code: ErrorCode::InvalidJson,
            path: JsonPath::root().to_string(),
            message: format!(
                "The file is not JSON at line {}, column {}: `{}`.",
                error.line, error.column, error.reason
            ),
        }
    }
}

/// A location inside a JSON document, written in the usual `$.a.b["c,d"][0]` notation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(String);

impl JsonPath {
    /// Returns the path of the whole document, `$`.
    pub fn root() -> Self {
        Self("$".to_owned())
    }

    /// Returns the root of a file read alongside the reported one, `name:$`,
    /// so an error found in a sibling (a HELM run folder's `run_spec.json`,
    /// reported against its `stats.json`) says which file it is in.
    pub fn file_root(name: &str) -> Self {
        Self(format!("{name}:$"))
    }

    /// Returns a location in a file that is not JSON, written out in
    /// words: a CSV cell is `line 3, column "win_rate"`.
    pub fn located(location: &str) -> Self {
        Self(location.to_owned())
    }

    /// Returns the path of `key` inside the object at this path.
    ///
    /// Keys that are not plain identifiers (`"acc,none"`, `n-shot`) are
    /// bracketed and quoted so the path can be pasted into a JSONPath tool.
    pub fn key(&self, key: &str) -> Self {
        let mut path = self.0.clone();
        if is_identifier(key) {
            path.push('.');
            path.push_str(key);
        } else {
            path.push('[');
            path.push_str(&Value::from(key).to_string());
            path.push(']');
        }
        Self(path)
    }

    /// Returns the path of element `index` of the array at this path.
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Renders a value for an error message: compact JSON, non-finite numbers
/// spelled as Python writes them, cut short so a huge object stays readable.
pub fn quote(value: &Value) -> String {
    if let Some(text) = lenient_json::special_number(value).and_then(lenient_json::spelling) {
        return text.to_owned();
    }
    let text = lenient_json::plain(value).to_string();
    if text.chars().count() <= QUOTE_LIMIT {
        return text;
    }
    let cut: String = text.chars().take(QUOTE_LIMIT).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn path_quotes_keys_that_are_not_identifiers() {
        let path = JsonPath::root()
            .key("results")
            .key("arc_easy")
            .key("acc,none");
        assert_eq!(path.to_string(), r#"$.results.arc_easy["acc,none"]"#);
        let path = JsonPath::root().key("n-shot").key("mmlu");
        assert_eq!(path.to_string(), r#"$["n-shot"].mmlu"#);
    }

    #[test]
    fn path_escapes_quotes_and_numbers_indices() {
        let path = JsonPath::root().key("a\"b").key("").index(3);
        assert_eq!(path.to_string(), r#"$["a\"b"][""][3]"#);
    }

    #[test]
    fn file_roots_name_their_file() {
        let path = JsonPath::file_root("run_spec.json")
            .key("adapter_spec")
            .key("model");
        assert_eq!(path.to_string(), "run_spec.json:$.adapter_spec.model");
    }

    #[test]
    fn unexpected_quotes_the_found_value() {
        let path = JsonPath::root().key("n-shot").key("mmlu");
        let error = FileError::unexpected(&path, "a whole number", &json!("five"));
        assert_eq!(
            error,
            FileError {
                code: ErrorCode::InvalidField,
                path: r#"$["n-shot"].mmlu"#.to_owned(),
                message: "Expected a whole number, found `\"five\"`.".to_owned(),
            }
        );
    }

    #[test]
    fn quote_spells_non_finite_numbers_and_cuts_long_values() {
        let nan = Value::from(lenient_json::NAN_SENTINEL);
        assert_eq!(quote(&nan), "NaN");
        let long = json!({ "key": "x".repeat(100) });
        let quoted = quote(&long);
        assert_eq!(quoted.chars().count(), QUOTE_LIMIT + 1);
        assert!(quoted.ends_with('…'));
    }

    #[test]
    fn display_names_code_and_path() {
        let error = FileError::unsupported_shape(&JsonPath::root(), "No map.".to_owned());
        assert_eq!(error.to_string(), "No map. (unsupported_shape at $)");
    }
}
