//! Reads UK AISI Inspect evaluation logs: one run per log, each scorer's
//! metrics as results, and the log's samples as sample rows.
//!
//! Inspect writes the same `EvalLog` in two containers: one JSON document
//! (`.json`, and `.txt` for some early logs) whose `samples` array holds the
//! samples, and the `.eval` zip, whose `header.json` holds everything but
//! the samples and `samples/<id>_epoch_<n>.json` one sample each. Both are
//! turned into the same JSON values (a header, then samples) and read by one
//! path from there, so a log gives the same run, results and samples in
//! either container. In an archive, error paths name the entry
//! (`header.json:$.eval.model`).
//!
//! How Inspect's terms map onto the glossary: `eval.model` (`provider/name`)
//! is the model, `eval.task` and `task_version` the task, each scorer's name
//! the filter of its metrics (see `results`), and one sample per item and
//! epoch a sample.

mod archive;
mod config;
mod coverage;
mod header;
mod results;
mod sample;
mod score;

#[cfg(test)]
mod real_files_tests;

use std::path::Path;

use serde_json::{Map, Value};

use archive::{LIMITS, Limits};

use super::file_error::{FileError, JsonPath};
use super::importer::{Imported, Importer, Probe};
use super::lenient_json;
use super::samples::SampleRow;

/// The entry of an `.eval` archive that holds the log's header.
const HEADER: &str = "header.json";
/// The entry an `.eval` archive has from its start, before `header.json`.
const JOURNAL_START: &str = "_journal/start.json";

/// UK AISI Inspect logs.
pub struct InspectImporter;

impl Importer for InspectImporter {
    fn name(&self) -> &'static str {
        "inspect"
    }

    fn looks_for(&self) -> &'static str {
        "Inspect log (an `.eval` zip, or JSON with an `eval` object and `status` or `plan`)"
    }

    fn import(&self, probe: &Probe<'_>) -> Result<Option<Imported>, FileError> {
        if is_archive(probe.path) {
            return read_archive(probe.bytes, LIMITS).map(Some);
        }
        match probe.json {
            Some(Value::Object(log)) if is_log(log) => read_document(log).map(Some),
            _ => Ok(None),
        }
    }
}

/// Tells whether a JSON object is an Inspect log: an `eval` object beside
/// a `status` or a `plan`. lm-eval's classifier asks the same question, so
/// the two importers never both claim a file.
pub fn is_log(object: &Map<String, Value>) -> bool {
    let has_eval = object.get("eval").is_some_and(Value::is_object);
    has_eval && (object.contains_key("status") || object.contains_key("plan"))
}

/// `.eval` is Inspect's own extension; what is inside is checked when read,
/// so a `.eval` file that is not a zip is an error, not another format.
fn is_archive(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| extension.eq_ignore_ascii_case("eval"))
}

/// Reads a single-document log: the header is the document itself.
fn read_document(log: &Map<String, Value>) -> Result<Imported, FileError> {
    let header = header::read(log)?;
    let samples = match log.get("samples") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(samples)) => samples.as_slice(),
        Some(other) => {
            let path = JsonPath::root().key("samples");
            return Err(FileError::unexpected(&path, "a list of samples", other));
        }
    };
    if let Some(reason) = header.skip_reason(!samples.is_empty()) {
        return Ok(Imported::Skipped(reason));
    }
    let path = JsonPath::root().key("samples");
    let samples = samples
        .iter()
        .enumerate()
        .map(|(index, value)| sample::read(value, &path.index(index)))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = sample::number(samples)?;

    Ok(Imported::Results(header.into_file(rows)))
}

/// Reads an `.eval` archive: `header.json`, then each `samples/*.json`.
fn read_archive(bytes: &[u8], limits: Limits) -> Result<Imported, FileError> {
    let mut archive = archive::Archive::open(bytes, limits)?;
    let names = archive.names()?;
    let Some(header_bytes) = archive.read(HEADER)? else {
        if names.iter().any(|name| name == JOURNAL_START) {
            let reason = "an Inspect log still being written (no `header.json` yet)";
            return Ok(Imported::Skipped(reason.into()));
        }
        let message = format!("The archive has no `{HEADER}`, so it is not an Inspect log.");
        return Err(FileError::unsupported_shape(&JsonPath::root(), message));
    };
    let header = parse_entry(HEADER, &header_bytes).and_then(|log| {
        let Value::Object(log) = log else {
            let message = "Expected the log header, a JSON object.".to_string();
            return Err(FileError::unsupported_shape(&JsonPath::root(), message));
        };
        header::read(&log)
    });
    let header = header.map_err(|error| error.in_entry(HEADER))?;
    let sample_names: Vec<&String> = names.iter().filter(|name| is_sample(name)).collect();
    if let Some(reason) = header.skip_reason(!sample_names.is_empty()) {
        return Ok(Imported::Skipped(reason));
    }
    let mut samples = Vec::with_capacity(sample_names.len());
    for name in sample_names {
        let bytes = archive.read(name)?.unwrap_or_default();
        let mut sample = parse_entry(name, &bytes)
            .and_then(|value| sample::read(&value, &JsonPath::root()))
            .map_err(|error| error.in_entry(name))?;
        sample.location.clone_from(name);
        samples.push(sample);
    }
    let rows: Vec<SampleRow> = sample::number(samples)?;

    Ok(Imported::Results(header.into_file(rows)))
}

fn is_sample(name: &str) -> bool {
    name.starts_with("samples/") && name.ends_with(".json")
}

fn parse_entry(name: &str, bytes: &[u8]) -> Result<Value, FileError> {
    tracing::trace!(
        entry = name,
        bytes = bytes.len(),
        "parsing an archive entry"
    );
    Ok(lenient_json::parse(bytes)?)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use serde_json::json;
    use zip::ZipWriter;
    use zip::write::SimpleFileOptions;

    use super::*;
    use crate::ingest::file_error::ErrorCode;

    fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in entries {
            assert!(
                writer
                    .start_file(*name, SimpleFileOptions::default())
                    .is_ok()
            );
            assert!(writer.write_all(content).is_ok());
        }
        writer.finish().map(Cursor::into_inner).unwrap_or_default()
    }

    fn header() -> Value {
        json!({"version": 2, "status": "success",
               "eval": {"task": "t", "model": "openai/gpt-4o", "dataset": {"samples": 2}},
               "results": {"total_samples": 2, "completed_samples": 2, "scores": [
                   {"name": "match", "metrics": {"accuracy": {"value": 0.5}}}]}})
    }

    fn sample(id: i64, verdict: &str) -> Value {
        json!({"id": id, "epoch": 1, "input": format!("q{id}"), "target": "A",
               "scores": {"match": {"value": verdict}}})
    }

    fn imported(result: Result<Imported, FileError>) -> crate::ingest::parsed::ParsedFile {
        match result {
            Ok(Imported::Results(file)) => file,
            other => panic!("expected results, got {other:?}"),
        }
    }

    #[test]
    fn a_log_reads_the_same_from_either_container() -> Result<(), FileError> {
        let mut document = header();
        document["samples"] = json!([sample(2, "I"), sample(1, "C")]);
        let document = document.as_object().cloned().unwrap_or_default();
        let from_json = imported(read_document(&document));
        let archive = zip_of(&[
            ("_journal/start.json", b"{}".to_vec()),
            (
                "samples/1_epoch_1.json",
                sample(1, "C").to_string().into_bytes(),
            ),
            (
                "samples/2_epoch_1.json",
                sample(2, "I").to_string().into_bytes(),
            ),
            (HEADER, header().to_string().into_bytes()),
        ]);
        let from_archive = imported(read_archive(&archive, LIMITS));
        assert_eq!(from_json, from_archive);
        let rows = &from_archive.samples[0].rows;
        assert_eq!(
            rows.iter()
                .map(|row| (row.doc_id, row.correct))
                .collect::<Vec<_>>(),
            [(Some(1), Some(true)), (Some(2), Some(false))]
        );
        Ok(())
    }

    #[test]
    fn entry_errors_name_the_entry_and_the_json_path() {
        let archive = zip_of(&[
            (HEADER, header().to_string().into_bytes()),
            (
                "samples/1_epoch_1.json",
                br#"{"id": 1, "epoch": "one"}"#.to_vec(),
            ),
        ]);
        let error = read_archive(&archive, LIMITS).err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((
                ErrorCode::InvalidField,
                "samples/1_epoch_1.json:$.epoch".to_string()
            ))
        );
        let archive = zip_of(&[(HEADER, b"{\"version\": 2, \"eval\"".to_vec())]);
        let error = read_archive(&archive, LIMITS).err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::InvalidJson, "header.json:$".to_string()))
        );
    }

    #[test]
    fn an_archive_without_a_header_is_unfinished_or_not_a_log() {
        let unfinished = zip_of(&[(JOURNAL_START, b"{}".to_vec())]);
        assert!(matches!(
            read_archive(&unfinished, LIMITS),
            Ok(Imported::Skipped(reason)) if reason.contains("still being written")
        ));
        let other = zip_of(&[("readme.txt", b"hello".to_vec())]);
        let error = read_archive(&other, LIMITS).err();
        assert_eq!(error.map(|e| e.code), Some(ErrorCode::UnsupportedShape));
    }

    #[test]
    fn json_documents_are_claimed_only_when_they_are_logs() {
        let probe = |json: &Value| {
            let probe = Probe {
                path: Path::new("log.json"),
                bytes: b"",
                json: Some(json),
            };
            InspectImporter
                .import(&probe)
                .map(|imported| imported.is_some())
        };
        assert_eq!(probe(&json!({"results": {"arc": {"acc": 1}}})), Ok(false));
        assert_eq!(probe(&header()), Ok(true));
        let not_a_zip = Probe {
            path: Path::new("log.EVAL"),
            bytes: b"not a zip",
            json: None,
        };
        let error = InspectImporter.import(&not_a_zip).err();
        assert_eq!(error.map(|e| e.code), Some(ErrorCode::InvalidArchive));
    }
}
