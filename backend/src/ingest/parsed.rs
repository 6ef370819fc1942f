//! The format-neutral shape every importer produces and the store consumes.
//!
//! Importers only read bytes and build these values; they never touch the
//! database. Everything the store needs to decide identity (run ids, model
//! aliases, task rows) is here, already translated into Yardstick's terms
//! (see the glossary: model, revision, task, metric, filter, n-shot).

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A number as the source wrote it; non-finite values are kept, never turned into 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Finite(f64),
    NaN,
    PositiveInfinity,
    NegativeInfinity,
}

/// A measured quantity (a metric value or its stderr) and why it may be absent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measured {
    Present(Number),
    /// The source wrote the string `"N/A"` (lm-eval does this for group stderrs)
    /// or `null`: the key is there, the value is not.
    NotAvailable,
    /// The source has no such key at all (v0.3 `em`/`f1` carry no stderr).
    Missing,
}

/// Where a model's identity was found, which decides how it is normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A hub id such as `Qwen/Qwen2.5-7B` (also `gpt2`, `gpt-4o-mini`).
    Hub(String),
    /// A filesystem path such as `/workspace/RWKV-x070-Pile-1.47B-…`.
    LocalPath(String),
}

/// The model a run evaluated, as identified inside the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    pub source: ModelSource,
    /// A weights snapshot (`step143000`, a commit); `None` when the file names none
    /// or names the default branch (`main`).
    pub revision: Option<String>,
}

/// One metric value of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedResult {
    pub metric: String,
    /// lm-eval's post-processing variant; v0.3 files count as `none`.
    pub filter: String,
    pub value: Measured,
    pub stderr: Measured,
    /// The file's own statement of the metric's direction, when it has one.
    pub higher_is_better: Option<bool>,
}

/// One evaluation of one model on one task, as read from a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRun {
    /// The task key exactly as the file names it (`arc_easy`, `hendrycksTest-anatomy`).
    pub task: String,
    /// The task version as text (`0`, `1`, `0.1`, `Yaml`); integral numbers lose
    /// their fraction so `1` and `1.0` compare equal. `None` for groups without one.
    pub task_version: Option<String>,
    /// The task's own configuration block (v0.4 `configs[task]`), if present.
    pub task_config: Option<Value>,
    /// The subtasks when this task is a group (v0.4 `group_subtasks`), else empty.
    pub subtasks: Vec<String>,
    pub n_shot: Option<i32>,
    /// `--limit` as the harness recorded it; a run with a limit is truncated.
    pub limit: Option<f64>,
    /// `n-samples` original / effective counts, when recorded.
    pub samples_original: Option<i64>,
    pub samples_effective: Option<i64>,
    pub results: Vec<ParsedResult>,
    /// The importer's own verdict on whether the run covers less than its
    /// task's whole dataset, when the sample counts cannot tell: Inspect
    /// counts only the samples it planned after `--limit`, and a cancelled
    /// run is partial whatever its counts say. `None` leaves the decision to
    /// the counts and the limit.
    pub truncated: Option<bool>,
}

/// Which generation of which harness produced a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    LmEvalV03,
    LmEvalV04,
    /// A Stanford HELM run folder.
    Helm,
    /// A UK AISI Inspect log (`.json`, legacy `.txt`, or `.eval` zip).
    Inspect,
    /// An AlpacaEval leaderboard CSV.
    AlpacaEval,
    /// A scraped Open LLM Leaderboard (v1) CSV snapshot.
    OpenLlmLeaderboard,
    /// An MTEB result file (any of its three generations).
    Mteb,
}

impl SourceFormat {
    /// Returns the harness name stored on every run of this format.
    pub fn harness(self) -> &'static str {
        match self {
            Self::LmEvalV03 | Self::LmEvalV04 => "lm-evaluation-harness",
            Self::Helm => "helm",
            Self::Inspect => "inspect_ai",
            Self::Mteb => "mteb",
            Self::AlpacaEval => "alpaca_eval",
            Self::OpenLlmLeaderboard => "open_llm_leaderboard",
        }
    }
}

/// Everything one results file holds: one run per task, sharing a model and config.
///
/// Runs given as structured input through the API take the same shape, one
/// `ParsedFile` per run, so they are stored by the same code as files.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFile {
    /// The file format the runs were read from; `None` for runs given as
    /// structured input, which have no file.
    pub format: Option<SourceFormat>,
    /// The harness that produced the results, stored on every run.
    pub harness: String,
    /// The harness version when the file says it (`lm_eval_version`), else `None`;
    /// v0.3 files record `0.3` here since the generation is certain.
    pub harness_version: Option<String>,
    /// `None` only when the file carries no model identity at all; the caller may
    /// then supply one (`ingest --model`) or reject the file.
    pub model: Option<ModelRef>,
    /// The run-level configuration block as JSON (v0.3/v0.4 `config`; for
    /// Inspect, the settings gathered from the log's header), verbatim apart
    /// from non-finite numbers, which are written as strings.
    pub config: Value,
    /// When the evaluation ran (v0.4 `date`, a unix timestamp; Inspect
    /// `stats.started_at`); v0.3 has none.
    pub evaluated_at: Option<DateTime<Utc>>,
    /// Seconds the evaluation took: `total_evaluation_time_seconds`, else
    /// `end_time - start_time` (monotonic-clock readings, not epochs, so only
    /// their difference means anything).
    pub duration_seconds: Option<f64>,
    /// When the evaluation finished, when the source states it as a moment;
    /// it wins over `evaluated_at + duration_seconds`.
    pub finished_at: Option<DateTime<Utc>>,
    /// The git commit of the harness when recorded.
    pub harness_commit: Option<String>,
    pub runs: Vec<ParsedRun>,
    /// Per-sample results a format embeds in the same file (Inspect, HELM),
    /// by task; empty for lm-eval, whose samples come in separate logs.
    pub samples: Vec<ParsedSamples>,
    /// The SHA-256 that identifies a source spanning several files (a HELM
    /// run folder), used for run ids and duplicate detection in place of the
    /// claimed file's own hash; `None` when that file alone is the source.
    pub folder_sha256: Option<String>,
    /// The row a leaderboard table's runs come from, as the model's spelling
    /// in it; `None` for every other source. A table holds many models'
    /// runs of the same tasks, so its run ids derive from the file's hash,
    /// the row and the task together (see [`ParsedFile::run_key`]).
    pub table_row: Option<String>,
}

impl ParsedFile {
    /// Returns a file of `format` holding `runs`, and nothing else: no
    /// model, an empty configuration, no times, no samples.
    pub fn of(format: SourceFormat, runs: Vec<ParsedRun>) -> Self {
        Self {
            format: Some(format),
            harness: format.harness().to_owned(),
            harness_version: None,
            model: None,
            config: Value::Object(serde_json::Map::new()),
            evaluated_at: None,
            duration_seconds: None,
            finished_at: None,
            harness_commit: None,
            runs,
            samples: Vec::new(),
            folder_sha256: None,
            table_row: None,
        }
    }

    /// Returns what a run's id derives from besides the source's hash: the
    /// task key, prefixed by the table row for a leaderboard table's row.
    pub fn run_key(&self, task: &str) -> String {
        match &self.table_row {
            Some(row) => format!("{row}\n{task}"),
            None => task.to_owned(),
        }
    }
}

/// A leaderboard table: one source per model, every row from the same file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedTable {
    /// One source per distinct model, in the file's order.
    pub rows: Vec<ParsedFile>,
    /// Rows left out because an earlier row names the same model.
    pub dropped: Vec<DroppedRow>,
}

/// A table row left out as a repeat of an earlier row's model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedRow {
    /// The line it starts on (the header is line 1).
    pub line: u64,
    pub model: String,
    /// The line of the row that was kept.
    pub kept_line: u64,
    /// Whether every cell repeats the kept row's; otherwise the model was
    /// listed twice with other numbers, and the first listing wins.
    pub identical: bool,
}

/// The samples of one task's run, embedded in a results file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSamples {
    /// The task key of the run they belong to (as in [`ParsedRun::task`]).
    pub task: String,
    pub rows: Vec<super::samples::SampleRow>,
}
