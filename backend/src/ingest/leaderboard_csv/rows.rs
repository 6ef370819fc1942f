//! Turns a leaderboard table's rows into one source per model: a run per
//! task, a result per score cell.
//!
//! A model listed twice keeps its first row (boards list best first); the
//! repeats are dropped and reported, whether they repeat every cell or give
//! other numbers (the Open LLM Leaderboard lists some models once per
//! evaluation, and the scraped table lost what told them apart).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::columns::Role;
use super::table::{self, Row, Table};
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::parsed::{
    DroppedRow, Measured, ModelRef, ModelSource, Number, ParsedFile, ParsedResult, ParsedRun,
    ParsedTable, SourceFormat,
};
use crate::service::identity;

/// What every row of one board shares.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Board {
    pub format: SourceFormat,
    /// The task of score columns that name none (AlpacaEval's board).
    pub task: &'static str,
    pub task_version: Option<String>,
    /// The filter of every result: AlpacaEval's annotator, else `none`.
    pub filter: String,
}

/// Reads every row; fails on the first cell that cannot be read, in a
/// dropped repeat too (a broken file is refused whole).
pub(super) fn read(table: &Table, roles: &[Role], board: &Board) -> Result<ParsedTable, FileError> {
    let mut kept: HashMap<String, &Row> = HashMap::new();
    let mut parsed = ParsedTable {
        rows: Vec::new(),
        dropped: Vec::new(),
    };
    for row in &table.rows {
        let model = model(row, &table.header)?;
        let key = identity::alias_key(model);
        let source = source(row, &table.header, roles, board)?;
        if let Some(first) = kept.get(&key) {
            parsed.dropped.push(DroppedRow {
                line: row.line,
                model: model.to_owned(),
                kept_line: first.line,
                identical: first.cells == row.cells,
            });
            continue;
        }
        kept.insert(key, row);
        parsed.rows.push(source);
    }

    Ok(parsed)
}

fn model<'a>(row: &'a Row, header: &[String]) -> Result<&'a str, FileError> {
    match row.cells.first().map(String::as_str) {
        Some(name) if !name.is_empty() => Ok(name),
        _ => {
            let message = "The row names no model.".to_owned();
            Err(FileError::invalid_field(
                &cell(row.line, header, 0),
                message,
            ))
        }
    }
}

fn source(
    row: &Row,
    header: &[String],
    roles: &[Role],
    board: &Board,
) -> Result<ParsedFile, FileError> {
    let mut runs: Vec<ParsedRun> = Vec::new();
    // The annotator is configuration: the same model judged by two
    // annotators was evaluated two ways.
    let mut config = Map::new();
    if board.format == SourceFormat::AlpacaEval {
        config.insert("annotator".into(), json!(board.filter));
    }
    let mut samples = None;
    for (index, (role, text)) in roles.iter().zip(&row.cells).enumerate() {
        let path = cell(row.line, header, index);
        match role {
            Role::Score {
                task,
                metric,
                n_shot,
                stderr,
                higher_is_better,
            } => {
                let Some(value) = number(text, &path)? else {
                    continue;
                };
                let stderr = match stderr.and_then(|at| Some((at, row.cells.get(at)?))) {
                    Some((at, text)) => number(text, &cell(row.line, header, at))?,
                    None => None,
                };
                let task = task.as_deref().unwrap_or(board.task);
                let run = run_of(&mut runs, task, *n_shot, board);
                run.results.push(ParsedResult {
                    metric: metric.clone(),
                    filter: board.filter.clone(),
                    value: Measured::Present(value),
                    stderr: stderr.map_or(Measured::Missing, Measured::Present),
                    higher_is_better: *higher_is_better,
                });
            }
            Role::SampleCount => samples = count(text, &path)?,
            Role::Metadata(key) if !text.is_empty() => {
                config.insert((*key).to_owned(), json!(text));
            }
            Role::Model | Role::Stderr | Role::Metadata(_) | Role::Ignored(_) => {}
        }
    }
    for run in &mut runs {
        run.samples_effective = samples;
    }
    let name = row.cells.first().cloned().unwrap_or_default();

    Ok(ParsedFile {
        model: Some(ModelRef {
            source: ModelSource::Hub(name.clone()),
            revision: None,
        }),
        config: Value::Object(config),
        table_row: Some(name),
        ..ParsedFile::of(board.format, runs)
    })
}

fn run_of<'a>(
    runs: &'a mut Vec<ParsedRun>,
    task: &str,
    n_shot: Option<i32>,
    board: &Board,
) -> &'a mut ParsedRun {
    let index = match runs.iter().position(|run| run.task == task) {
        Some(index) => index,
        None => {
            runs.push(ParsedRun {
                task: task.to_owned(),
                task_version: board.task_version.clone(),
                task_config: None,
                subtasks: Vec::new(),
                n_shot,
                limit: None,
                samples_original: None,
                samples_effective: None,
                results: Vec::new(),
                truncated: None,
            });
            runs.len() - 1
        }
    };
    &mut runs[index]
}

fn cell(line: u64, header: &[String], index: usize) -> JsonPath {
    JsonPath::located(&table::cell_location(line, header, index))
}

/// Reads a number cell; an empty cell is no value (the board did not
/// report it for this model).
fn number(text: &str, path: &JsonPath) -> Result<Option<Number>, FileError> {
    if text.is_empty() {
        return Ok(None);
    }
    let Ok(value) = text.parse::<f64>() else {
        return Err(FileError::unexpected(path, "a number", &json!(text)));
    };
    let number = match value {
        value if value.is_nan() => Number::NaN,
        f64::INFINITY => Number::PositiveInfinity,
        f64::NEG_INFINITY => Number::NegativeInfinity,
        value => Number::Finite(value),
    };
    Ok(Some(number))
}

/// Reads a count cell: a whole number, possibly written `805.0`.
fn count(text: &str, path: &JsonPath) -> Result<Option<i64>, FileError> {
    match number(text, path)? {
        None => Ok(None),
        Some(Number::Finite(value)) if value >= 0.0 && value.fract() == 0.0 => {
            Ok(Some(value as i64))
        }
        Some(_) => Err(FileError::unexpected(path, "a whole number", &json!(text))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::file_error::ErrorCode;
    use crate::ingest::leaderboard_csv::columns::{Layout, roles};

    fn board() -> Board {
        Board {
            format: SourceFormat::OpenLlmLeaderboard,
            task: "",
            task_version: None,
            filter: "none".into(),
        }
    }

    fn parse(text: &str) -> Result<ParsedTable, FileError> {
        let table = table::read(text.as_bytes())?;
        let roles = roles(Layout::OpenLlmLeaderboard, &table.header)?;
        read(&table, &roles, &board())
    }

    #[test]
    fn repeats_of_a_model_are_dropped_and_told_apart() -> Result<(), FileError> {
        let parsed =
            parse("Model,ARC (25-shot),URL\nOrg/M,50.5,u\norg/m,50.5,u\nb,1,\nORG/M,49,u\n")?;
        assert_eq!(parsed.rows.len(), 2);
        let lines: Vec<_> = parsed
            .dropped
            .iter()
            .map(|d| (d.line, d.kept_line, d.identical))
            .collect();
        assert_eq!(lines, [(3, 2, false), (5, 2, false)]);
        let run = &parsed.rows[0].runs[0];
        assert_eq!((run.task.as_str(), run.n_shot), ("ARC", Some(25)));
        assert_eq!(parsed.rows[0].config, json!({"url": "u"}));
        assert_eq!(parsed.rows[1].config, json!({}));
        Ok(())
    }

    #[test]
    fn cells_that_are_not_numbers_name_their_line_and_column() {
        let error = parse("Model,ARC(25-shot)\nm,1\nm,oops\n").err();
        assert_eq!(
            error.map(|e| e.path),
            Some(r#"line 3, column "ARC(25-shot)""#.into()),
            "a repeated row is checked before it is dropped"
        );
        let error = parse("Model,ARC(25-shot)\nm,high\n").err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((
                ErrorCode::InvalidField,
                r#"line 2, column "ARC(25-shot)""#.into()
            ))
        );
        let error = parse("Model,ARC(25-shot)\n,1\n").err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::InvalidField, r#"line 2, column "Model""#.into()))
        );
    }
}
