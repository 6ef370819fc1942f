//! What `yardstick ingest` shows a person: a progress bar over the files, one
//! line per rejected file (with its error), the skipped files by reason, and
//! a summary. Files stored before are only counted, and skips sharing a
//! reason (the nine files of each HELM run folder read with its `stats.json`)
//! are one line, unless `--verbose` asks for every file: a re-run over a
//! large folder would otherwise print a line for each.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::ingest::batch::{Outcome, Progress, Summary};

/// A terminal progress bar; hidden automatically when output is not a terminal.
pub struct ProgressReport {
    bar: ProgressBar,
    verbose: bool,
    /// Skipped files by reason, in the order the reasons were first met;
    /// printed at the end when not `verbose`.
    skipped: Mutex<Vec<(String, Vec<String>)>>,
}

impl Default for ProgressReport {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressReport {
    /// Creates a bar that is drawn once the number of files is known.
    pub fn new() -> Self {
        let bar = ProgressBar::hidden();
        Self {
            bar,
            verbose: false,
            skipped: Mutex::new(Vec::new()),
        }
    }

    /// Whether every file stored before or skipped gets a line of its own
    /// (`--verbose`).
    pub fn listing_every_file(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Clears the bar and prints the skipped files by reason, then the summary.
    pub fn finish(&self, summary: &Summary) {
        self.bar.finish_and_clear();
        let skipped = self.skipped.lock().map(|mut s| std::mem::take(&mut *s));
        for (reason, paths) in skipped.unwrap_or_default() {
            eprintln!("{}", skipped_line(&reason, &paths));
        }
        eprintln!("{}", summary_text(summary));
        tracing::debug!(
            files = summary.files,
            stored = summary.stored,
            already_stored = summary.already_stored,
            duplicates = summary.duplicates,
            skipped = summary.skipped,
            rejected = summary.rejected,
            dropped_rows = summary.dropped_rows,
            runs = summary.runs,
            results = summary.results,
            duration_ms = summary.elapsed.as_millis() as u64,
            "ingest finished"
        );
    }
}

impl Progress for ProgressReport {
    fn start(&self, files: usize) {
        self.bar.set_length(files as u64);
        self.bar
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed} {wide_msg}")
        {
            self.bar.set_style(style);
        }
    }

    fn finished(&self, path: &str, outcome: &Outcome) {
        self.bar.inc(1);
        if !self.verbose {
            match outcome {
                Outcome::AlreadyStored => return,
                Outcome::Skipped { reason } => {
                    if let Ok(mut skipped) = self.skipped.lock() {
                        match skipped.iter_mut().find(|(known, _)| known == reason) {
                            Some((_, paths)) => paths.push(path.to_string()),
                            None => skipped.push((reason.clone(), vec![path.to_string()])),
                        }
                    }
                    return;
                }
                _ => {}
            }
        }
        if let Some(line) = outcome_line(path, outcome) {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }
}

/// Returns the line printed for a file, or `None` for a stored file.
pub fn outcome_line(path: &str, outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Stored(stored) if stored.dropped_rows > 0 => Some(format!(
            "stored {path}: dropped {} repeated rows of a model listed before (the first \
             listing is kept; the ingest event names them)",
            stored.dropped_rows
        )),
        Outcome::Stored(_) => None,
        Outcome::AlreadyStored => Some(format!("already stored {path}: nothing new")),
        Outcome::Duplicate { of } => Some(format!("skipped {path}: same as {of}")),
        Outcome::Skipped { reason } => Some(format!("skipped {path}: {reason}")),
        Outcome::Rejected(error) => Some(format!(
            "error[{}] {path}{}: {}",
            error.code,
            location(&error.path),
            error.message
        )),
    }
}

/// Writes the line of the files skipped for one reason: the file itself
/// when it is alone, else how many and the first of them.
fn skipped_line(reason: &str, paths: &[String]) -> String {
    match paths {
        [path] => format!("skipped {path}: {reason}"),
        [first, ..] => format!(
            "skipped {} files: {reason} (the first: {first}; --verbose lists them)",
            paths.len()
        ),
        [] => String::new(),
    }
}

/// Writes where in a file an error is, as `: at <where>` after the file's
/// name; nothing when the error is about the whole file (`$`, the JSON path
/// of the document itself).
pub fn location(path: &str) -> String {
    match path {
        "" | "$" => String::new(),
        path => format!(": at {path}"),
    }
}

/// Formats the end-of-ingest summary.
pub fn summary_text(summary: &Summary) -> String {
    let dropped = match summary.dropped_rows {
        0 => String::new(),
        rows => format!(
            " ({} dropped)",
            count(rows, "repeated table row", "repeated table rows")
        ),
    };
    format!(
        "{} in {:.2} s: {} stored{dropped}, {} already stored, {}, {} skipped, {} rejected; \
         {}, {} and {} stored ({:.1} files/s, {:.0} results/s)",
        count(summary.files, "file", "files"),
        summary.elapsed.as_secs_f64(),
        summary.stored,
        summary.already_stored,
        count(summary.duplicates, "duplicate", "duplicates"),
        summary.skipped,
        summary.rejected,
        count(summary.runs, "run", "runs"),
        count(summary.results, "result", "results"),
        count(summary.samples, "sample", "samples"),
        summary.files_per_second(),
        summary.results_per_second(),
    )
}

/// Writes a count with its noun, in the singular for one.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Formats `yardstick quality`: counts per rule, then findings per file.
pub fn quality_text(findings: &[crate::service::quality::Finding]) -> String {
    let mut text = String::new();
    for (rule, count) in crate::service::quality::counts(findings) {
        text.push_str(&format!("{:<22} {count}\n", rule.code()));
    }
    let mut by_file: std::collections::BTreeMap<&str, Vec<_>> = Default::default();
    for finding in findings {
        by_file
            .entry(&finding.source_path)
            .or_default()
            .push(finding);
    }
    for (file, findings) in by_file {
        text.push_str(&format!("\n{file}\n"));
        for finding in findings {
            text.push_str(&format!(
                "  {} run {}: {}\n",
                finding.rule.code(),
                finding.run_id,
                finding.detail
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::file_error::{ErrorCode, FileError};

    fn rejected(path: &str) -> Outcome {
        Outcome::Rejected(FileError {
            code: ErrorCode::InvalidJson,
            path: path.into(),
            message: "The file ends inside a string.".into(),
        })
    }

    #[test]
    fn files_skipped_for_one_reason_share_a_line() {
        let one = ["a/stats.json".to_string()];
        assert_eq!(skipped_line("HELM", &one), "skipped a/stats.json: HELM");
        let two = ["a/x.json".to_string(), "b/x.json".to_string()];
        assert_eq!(
            skipped_line("HELM", &two),
            "skipped 2 files: HELM (the first: a/x.json; --verbose lists them)"
        );
    }

    #[test]
    fn skips_are_kept_by_reason_unless_every_file_is_asked_for() {
        let skip = |reason: &str| Outcome::Skipped {
            reason: reason.into(),
        };
        let report = ProgressReport::new();
        report.finished("a/x.json", &skip("read with stats.json"));
        report.finished("notes.md", &skip("documentation"));
        report.finished("b/x.json", &skip("read with stats.json"));
        let kept = report.skipped.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(
            kept,
            [
                (
                    "read with stats.json".into(),
                    vec!["a/x.json".into(), "b/x.json".into()]
                ),
                ("documentation".into(), vec!["notes.md".into()]),
            ]
        );
        let verbose = ProgressReport::new().listing_every_file(true);
        verbose.finished("a/x.json", &skip("read with stats.json"));
        assert!(verbose.skipped.lock().is_ok_and(|s| s.is_empty()));
    }

    #[test]
    fn a_whole_file_error_names_no_place_inside_it() {
        assert_eq!(
            outcome_line("a.json", &rejected("$")).as_deref(),
            Some("error[invalid_json] a.json: The file ends inside a string.")
        );
        assert_eq!(
            outcome_line("a.json", &rejected("$.results")).as_deref(),
            Some("error[invalid_json] a.json: at $.results: The file ends inside a string.")
        );
    }
}
