//! Reads published leaderboard tables (CSV): AlpacaEval's boards and the
//! scraped Open LLM Leaderboard (v1) snapshots, one source per model row.
//!
//! How a table maps onto the glossary:
//!
//! - each row's first cell is the **model**, as the board spells it;
//! - an AlpacaEval board is the task `alpaca_eval` (version `1.0` or `2.0`
//!   from the repository's `data_AlpacaEval[_2]` folder, else none), and its
//!   annotator, named by the file (`alpaca_eval_gpt4_leaderboard.csv`), is
//!   the results' **filter**: the judge decides the scores, so boards of
//!   two judges are never ranked together. Its numeric columns are metrics
//!   (`win_rate` with `standard_error` as its stderr);
//! - an Open LLM Leaderboard column `ARC(25-shot)` is the task `ARC` at
//!   **n-shot** 25, with the board's percentage as the metric `score`;
//! - what each other column becomes, or why it is left out, is in
//!   `columns`.
//!
//! A table carries no provenance per row beyond its file, so its runs'
//! ids derive from the file's content hash, the row's model and the task:
//! the same bytes ingested again store nothing. Files that look like
//! tables but are not model leaderboards are recognised and skipped.

mod columns;
mod rows;
mod table;

#[cfg(test)]
mod real_files_tests;

use std::path::Path;

use self::columns::Layout;
use self::rows::Board;
use super::file_error::FileError;
use super::importer::{Imported, Importer, Probe};
use super::parsed::SourceFormat;

/// What a recognised table is.
enum Recognised {
    Board(Layout),
    Skip(&'static str),
}

/// AlpacaEval and Open LLM Leaderboard tables.
pub struct LeaderboardCsvImporter;

impl Importer for LeaderboardCsvImporter {
    fn name(&self) -> &'static str {
        "leaderboard-csv"
    }

    fn looks_for(&self) -> &'static str {
        "leaderboard CSV (AlpacaEval: a nameless first column beside `win_rate`; Open LLM \
         Leaderboard: `Model` beside `<Task>(<n>-shot)` columns)"
    }

    fn import(&self, probe: &Probe<'_>) -> Result<Option<Imported>, FileError> {
        if !is_csv(probe.path) {
            return Ok(None);
        }
        let Some(header) = table::header(probe.bytes)? else {
            return Ok(None);
        };
        let layout = match recognise(&header) {
            None => return Ok(None),
            Some(Recognised::Skip(reason)) => return Ok(Some(Imported::Skipped(reason.into()))),
            Some(Recognised::Board(layout)) => layout,
        };
        let table = table::read(probe.bytes)?;
        let roles = columns::roles(layout, &table.header)?;
        let parsed = rows::read(&table, &roles, &board(layout, probe.path))?;
        tracing::debug!(
            file = %probe.path.display(),
            rows = table.rows.len(),
            models = parsed.rows.len(),
            dropped = parsed.dropped.len(),
            "read a leaderboard table"
        );

        Ok(Some(Imported::Table(parsed)))
    }
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"))
}

/// Recognises a table by its header, never by its file name.
fn recognise(header: &[String]) -> Option<Recognised> {
    let first = header.first()?;
    let has = |name: &str| header.iter().any(|column| column == name);
    let has_shot_columns = || {
        header
            .iter()
            .any(|column| columns::task_and_shots(column).1.is_some())
    };
    if first.is_empty() && has("win_rate") {
        return Some(Recognised::Board(Layout::AlpacaEval));
    }
    if first.is_empty() && has("Human agreement") {
        return Some(Recognised::Skip(
            "AlpacaEval's evaluators board: it ranks judge configurations by their \
             agreement with human preferences (with price and time), not models",
        ));
    }
    if first.eq_ignore_ascii_case("model") && has_shot_columns() {
        return Some(Recognised::Board(Layout::OpenLlmLeaderboard));
    }
    if is_pairwise_report(first) {
        return Some(Recognised::Skip(
            "OpenCompass subjective report: a transposed pivot of one model pair's \
             win and draw rates per capability, with no metric or task names to store",
        ));
    }
    None
}

/// OpenCompass names its pairwise report's first column `<a>_vs_<b>`.
fn is_pairwise_report(first: &str) -> bool {
    first
        .split_once("_vs_")
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
}

fn board(layout: Layout, path: &Path) -> Board {
    match layout {
        Layout::AlpacaEval => Board {
            format: SourceFormat::AlpacaEval,
            task: "alpaca_eval",
            task_version: alpaca_eval_version(path),
            filter: annotator(path),
        },
        Layout::OpenLlmLeaderboard => Board {
            format: SourceFormat::OpenLlmLeaderboard,
            task: "",
            task_version: None,
            filter: "none".into(),
        },
    }
}

/// AlpacaEval keeps each version's boards in their own folder.
fn alpaca_eval_version(path: &Path) -> Option<String> {
    path.components()
        .rev()
        .find_map(|part| match part.as_os_str().to_str()? {
            "data_AlpacaEval_2" => Some("2.0".to_owned()),
            "data_AlpacaEval" => Some("1.0".to_owned()),
            _ => None,
        })
}

/// AlpacaEval names a board's file after its annotator:
/// `<annotator>_leaderboard.csv`.
fn annotator(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    let annotator = stem.strip_suffix("_leaderboard").unwrap_or(stem);
    if annotator.is_empty() {
        "none".to_owned()
    } else {
        annotator.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::columns::header as names;
    use super::*;

    #[test]
    fn tables_are_recognised_by_their_header() {
        let layout = |header: &[&str]| match recognise(&names(header)) {
            Some(Recognised::Board(layout)) => Some(layout),
            _ => None,
        };
        assert_eq!(
            layout(&["", "win_rate", "standard_error"]),
            Some(Layout::AlpacaEval)
        );
        assert_eq!(
            layout(&["Model", "Average", "ARC (25-shot)"]),
            Some(Layout::OpenLlmLeaderboard)
        );
        assert_eq!(layout(&["Model", "Average"]), None);
        assert!(matches!(
            recognise(&names(&["a-chat_vs_b-chat", "x"])),
            Some(Recognised::Skip(reason)) if reason.contains("OpenCompass")
        ));
        assert!(recognise(&names(&["id", "text"])).is_none());
    }

    #[test]
    fn annotator_and_version_come_from_the_path() {
        let path =
            Path::new("leaderboards/data_AlpacaEval_2/claude_3_opus_ranking_leaderboard.csv");
        assert_eq!(annotator(path), "claude_3_opus_ranking");
        assert_eq!(alpaca_eval_version(path).as_deref(), Some("2.0"));
        assert_eq!(alpaca_eval_version(Path::new("board.csv")), None);
    }
}
