//! Reads the files of one HELM run folder beside its `stats.json`, and the
//! hash that identifies the folder as one source.
//!
//! A run is spread over several files, so no single file's hash can name it:
//! two models may well write byte-identical `stats.json` files, and a fixed
//! `scenario_state.json` must not count as already stored. The folder hash
//! covers every file the run is read from; the display files HELM derives
//! from them (`display_*.json`) are not read and not hashed.

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ingest::file_error::{ErrorCode, FileError, JsonPath};
use crate::ingest::lenient_json;

/// The file a run is claimed through.
pub(super) const STATS: &str = "stats.json";

/// The other files a run is read from, in the order they are hashed.
pub(super) const SIBLINGS: [&str; 5] = [
    "run_spec.json",
    "scenario.json",
    "scenario_state.json",
    "instances.json",
    "per_instance_stats.json",
];

/// The parsed files of one run folder.
pub(super) struct Folder {
    pub run_spec: Value,
    pub scenario: Value,
    pub scenario_state: Value,
    pub instances: Value,
    pub per_instance_stats: Value,
    /// SHA-256 over each file's name and SHA-256, `stats.json` first.
    pub sha256: String,
}

/// Reads the siblings of the `stats.json` at `stats_path`, whose bytes the
/// caller has already read; fails on the first file that is missing or not
/// JSON, naming it.
pub(super) fn read(stats_path: &Path, stats_bytes: &[u8]) -> Result<Folder, FileError> {
    let dir = stats_path.parent().unwrap_or_else(|| Path::new("."));
    let mut hasher = Sha256::new();
    hash_file(&mut hasher, STATS, stats_bytes);
    let [
        run_spec,
        scenario,
        scenario_state,
        instances,
        per_instance_stats,
    ] = SIBLINGS;
    let mut read_one = |name: &str| -> Result<Value, FileError> {
        let bytes = std::fs::read(dir.join(name)).map_err(|error| missing(name, &error))?;
        hash_file(&mut hasher, name, &bytes);
        parse(name, &bytes)
    };
    let run_spec = read_one(run_spec)?;
    let scenario = read_one(scenario)?;
    let scenario_state = read_one(scenario_state)?;
    let instances = read_one(instances)?;
    let per_instance_stats = read_one(per_instance_stats)?;

    Ok(Folder {
        run_spec,
        scenario,
        scenario_state,
        instances,
        per_instance_stats,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn hash_file(hasher: &mut Sha256, name: &str, bytes: &[u8]) {
    hasher.update(name.as_bytes());
    hasher.update(b"\0");
    hasher.update(hex::encode(Sha256::digest(bytes)).as_bytes());
    hasher.update(b"\n");
}

fn parse(name: &str, bytes: &[u8]) -> Result<Value, FileError> {
    lenient_json::parse(bytes).map_err(|error| FileError {
        code: ErrorCode::InvalidJson,
        path: JsonPath::file_root(name).to_string(),
        message: format!(
            "`{name}` of this run folder is not JSON at line {}, column {}: `{}`.",
            error.line, error.column, error.reason
        ),
    })
}

fn missing(name: &str, error: &std::io::Error) -> FileError {
    FileError {
        code: ErrorCode::Unreadable,
        path: JsonPath::file_root(name).to_string(),
        message: format!(
            "Cannot read `{name}` beside `{STATS}` ({error}); a HELM run is read from its \
             whole folder."
        ),
    }
}
