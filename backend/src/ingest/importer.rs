//! One trait every source format implements, and the registry that asks
//! each in turn whether a file is its own.
//!
//! Detection never guesses: an importer claims a file only when its content
//! (not just its name) is of the format, and a file no importer claims is
//! reported as an unrecognised format, naming what was looked for. Importers
//! only read bytes; storing is the caller's job.

use std::path::Path;

use serde_json::Value;

use super::file_error::FileError;
use super::helm::HelmImporter;
use super::inspect::InspectImporter;
use super::leaderboard_csv::LeaderboardCsvImporter;
use super::lm_eval::{self, NotLmEval, Shape};
use super::mteb::MtebImporter;
use super::parsed::{ParsedFile, ParsedTable};

/// A file as importers see it: its path (for sibling files and messages),
/// its bytes, and its JSON when it parses as JSON (read once for all; never
/// for `.eval` files, which are zip archives).
pub struct Probe<'a> {
    pub path: &'a Path,
    pub bytes: &'a [u8],
    pub json: Option<&'a Value>,
}

/// What an importer made of a file it claimed.
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    /// Results with (possibly) a model identity of their own.
    Results(ParsedFile),
    /// Results that name no model; storable only when the user names one.
    BareResults(ParsedFile),
    /// A leaderboard table: one source per model row.
    Table(ParsedTable),
    /// Of the format but holding nothing to store (an index, metadata), with why.
    Skipped(String),
}

/// A source format.
pub trait Importer: Sync {
    /// A short name for reports: `lm-eval`, `inspect`, `helm`, …
    fn name(&self) -> &'static str;

    /// What the importer recognises, for the "unrecognised format" report.
    fn looks_for(&self) -> &'static str;

    /// Reads the file if it is of this format; `Ok(None)` when it is not, an
    /// error when it is but cannot be read.
    fn import(&self, probe: &Probe<'_>) -> Result<Option<Imported>, FileError>;
}

/// EleutherAI lm-evaluation-harness results files (v0.3 and v0.4).
pub struct LmEvalImporter;

impl Importer for LmEvalImporter {
    fn name(&self) -> &'static str {
        "lm-eval"
    }

    fn looks_for(&self) -> &'static str {
        "lm-evaluation-harness results JSON (`results` with `versions`/`config`, or \
         `configs`/`n-shot`, a hand-saved summary, or a bare task → metrics map)"
    }

    fn import(&self, probe: &Probe<'_>) -> Result<Option<Imported>, FileError> {
        let Some(document) = probe.json else {
            return Ok(None);
        };
        match lm_eval::parse(document)? {
            lm_eval::Outcome::Results {
                shape: Shape::BareResults,
                file,
            } => Ok(Some(Imported::BareResults(file))),
            lm_eval::Outcome::Results { file, .. } => Ok(Some(Imported::Results(file))),
            lm_eval::Outcome::NotLmEval(reason) => Ok(foreign(reason)),
        }
    }
}

/// Formats lm-eval's classifier recognises but no importer reads are
/// skipped with that reason; anything else is left unclaimed.
fn foreign(reason: NotLmEval) -> Option<Imported> {
    match reason {
        // The HELM importer goes first, so these are HELM-like files it did
        // not recognise as any file HELM writes.
        NotLmEval::HelmRun | NotLmEval::HelmSuite => Some(Imported::Skipped(format!(
            "looks like a {}, but not one the HELM importer reads (it reads run folders \
             through their `stats.json`)",
            reason.reason()
        ))),
        NotLmEval::OpenCompassOutput => Some(Imported::Skipped(format!(
            "{}: prompts and predictions without scores; OpenCompass outputs are not \
             imported",
            reason.reason()
        ))),
        // Claimed by their own importers, which ask first.
        NotLmEval::MtebResult
        | NotLmEval::MtebModelMeta
        | NotLmEval::InspectLog
        | NotLmEval::NotAnObject
        | NotLmEval::NoResultsMap
        | NotLmEval::ForeignResults => None,
    }
}

/// Every importer, most specific first: lm-eval accepts bare task maps, so
/// it goes last.
pub const IMPORTERS: &[&dyn Importer] = &[
    &HelmImporter,
    &InspectImporter,
    &MtebImporter,
    &LeaderboardCsvImporter,
    &LmEvalImporter,
];

/// The result of asking every importer.
#[expect(
    clippy::large_enum_variant,
    reason = "built once per file and moved straight to the caller, which unpacks it"
)]
pub enum Claimed {
    By(&'static str, Imported),
    /// No importer claimed the file; the message names what was looked for.
    Unrecognised(String),
}

/// Asks each importer in turn; the first to claim the file reads it.
pub fn import(probe: &Probe<'_>) -> Result<Claimed, FileError> {
    for importer in IMPORTERS {
        if let Some(imported) = importer.import(probe)? {
            return Ok(Claimed::By(importer.name(), imported));
        }
    }
    let looked_for: Vec<String> = IMPORTERS
        .iter()
        .map(|importer| format!("{} ({})", importer.name(), importer.looks_for()))
        .collect();
    Ok(Claimed::Unrecognised(format!(
        "looked for {}",
        looked_for.join("; ")
    )))
}
