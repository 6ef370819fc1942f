//! Reads a CSV file into its header and rows, each row with the line it
//! starts on, and refuses what the `csv` crate would otherwise read
//! leniently: a quote never closed (read as a field running to the end of
//! the file) and lines longer than any real table has.
//!
//! Errors are `invalid_csv`, located as `line N` or `line N, column "c"`.

use csv::{ByteRecord, ErrorKind, ReaderBuilder, StringRecord};

use crate::ingest::file_error::{ErrorCode, FileError};

/// The longest line read, in bytes. Real leaderboard rows are a few hundred
/// bytes; a line beyond this is a broken or hostile file, not a table.
pub(super) const MAX_LINE_BYTES: usize = 64 * 1024;

const BOM: &[u8] = b"\xef\xbb\xbf";

/// A parsed table: trimmed header names and each row's cells.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

/// One record and the line it starts on (the header is line 1).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

/// Reads only the header, for recognising a layout; `None` for an empty
/// file. Fails when the first line is not UTF-8 text.
pub(super) fn header(bytes: &[u8]) -> Result<Option<Vec<String>>, FileError> {
    let mut reader = reader(bytes);
    let mut record = ByteRecord::new();
    let has_header = reader
        .read_byte_record(&mut record)
        .map_err(|error| located(&error, &[]))?;
    if !has_header {
        return Ok(None);
    }
    let header = StringRecord::from_byte_record(record).map_err(|error| {
        let message = "The header is not UTF-8; save the file as UTF-8.".to_owned();
        csv_error(cell_location(1, &[], error.utf8_error().field()), message)
    })?;
    Ok(Some(names(&header)))
}

/// Reads the whole table; fails with the line (and column) of the first
/// problem.
pub(super) fn read(bytes: &[u8]) -> Result<Table, FileError> {
    check_line_lengths(bytes)?;
    if let Some(line) = unclosed_quote(bytes) {
        let message = "A quoted field opened on this line is never closed.".to_owned();
        return Err(csv_error(format!("line {line}"), message));
    }
    let mut reader = reader(bytes);
    let mut records = reader.records();
    let header = match records.next() {
        Some(record) => names(&record.map_err(|error| located(&error, &[]))?),
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|error| located(&error, &header))?;
        let line = record.position().map_or(0, csv::Position::line);
        let cells = record.iter().map(|cell| cell.trim().to_owned()).collect();
        rows.push(Row { line, cells });
    }

    Ok(Table { header, rows })
}

fn reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(bytes.strip_prefix(BOM).unwrap_or(bytes))
}

fn names(header: &StringRecord) -> Vec<String> {
    header
        .iter()
        .map(|name| name.trim_start_matches('\u{feff}').trim().to_owned())
        .collect()
}

fn located(error: &csv::Error, header: &[String]) -> FileError {
    let line = error.position().map_or(0, csv::Position::line);
    match error.kind() {
        ErrorKind::Utf8 { err, .. } => {
            let message = "The cell is not UTF-8; save the file as UTF-8.".to_owned();
            csv_error(cell_location(line, header, err.field()), message)
        }
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            let message = format!("The row has {len} fields where the header has {expected_len}.");
            csv_error(format!("line {line}"), message)
        }
        _ => csv_error(format!("line {line}"), format!("Not CSV: `{error}`.")),
    }
}

/// Locates a cell as `line N, column "name"`, or by the column's position
/// (`column 1`) when its header is empty or unread.
pub(super) fn cell_location(line: u64, header: &[String], index: usize) -> String {
    match header.get(index) {
        Some(name) if !name.is_empty() => format!("line {line}, column {name:?}"),
        _ => format!("line {line}, column {}", index + 1),
    }
}

fn check_line_lengths(bytes: &[u8]) -> Result<(), FileError> {
    let long = bytes
        .split(|byte| *byte == b'\n')
        .enumerate()
        .find(|(_, line)| line.len() > MAX_LINE_BYTES);
    let Some((index, line)) = long else {
        return Ok(());
    };
    let message = format!(
        "The line is {} bytes long; no leaderboard row is longer than {MAX_LINE_BYTES}.",
        line.len()
    );
    Err(csv_error(format!("line {}", index + 1), message))
}

/// Returns the line of a quoted field that is never closed, if any: the
/// `csv` crate would read it as a field running to the end of the file.
fn unclosed_quote(bytes: &[u8]) -> Option<u64> {
    let (mut line, mut opened_on) = (1_u64, None);
    let mut at_field_start = true;
    let mut iter = bytes.iter().peekable();
    while let Some(&byte) = iter.next() {
        match (opened_on, byte) {
            (None, b'"') if at_field_start => opened_on = Some(line),
            (Some(_), b'"') if iter.peek() == Some(&&b'"') => {
                iter.next();
            }
            (Some(_), b'"') => opened_on = None,
            _ => {}
        }
        if byte == b'\n' {
            line += 1;
        }
        at_field_start = opened_on.is_none() && matches!(byte, b',' | b'\n' | b'\r');
    }
    opened_on
}

fn csv_error(path: String, message: String) -> FileError {
    FileError {
        code: ErrorCode::InvalidCsv,
        path,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(bytes: &[u8]) -> Option<(ErrorCode, String)> {
        read(bytes).err().map(|error| (error.code, error.path))
    }

    #[test]
    fn rows_keep_their_lines_and_the_bom_is_dropped() {
        let table = read(b"\xef\xbb\xbfModel,\"A, b\"\nx,\"1\n2\"\ny,3\n").ok();
        let table = table.expect("a well-formed table");
        assert_eq!(table.header, ["Model", "A, b"]);
        assert_eq!(table.rows[1].line, 4);
        assert_eq!(table.rows[0].cells, ["x", "1\n2"]);
    }

    #[test]
    fn broken_tables_name_their_line() {
        let invalid = |line: &str| Some((ErrorCode::InvalidCsv, line.to_owned()));
        assert_eq!(error(b"a,b\n1,2\n3\n"), invalid("line 3"));
        assert_eq!(error(b"a,b\n1,\"2\n3,4\n"), invalid("line 2"));
        assert_eq!(error(b"a,b\n1,caf\xe9\n"), invalid("line 2, column \"b\""));
        let long = format!("a,b\n1,2\n3,{}\n", "9".repeat(MAX_LINE_BYTES));
        assert_eq!(error(long.as_bytes()), invalid("line 3"));
    }

    #[test]
    fn a_header_that_is_not_utf8_is_refused() {
        let error = header(b"Model,caf\xe9\nx,1\n").err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::InvalidCsv, "line 1, column 2".into()))
        );
        assert_eq!(header(b""), Ok(None));
    }

    #[test]
    fn quotes_inside_fields_are_not_openings() {
        assert_eq!(unclosed_quote(b"a,b\n5\" tall,\"x \"\"y\"\"\"\n"), None);
        assert_eq!(unclosed_quote(b"a\n\"open\n"), Some(2));
    }
}
