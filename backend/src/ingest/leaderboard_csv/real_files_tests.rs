//! Reads the real AlpacaEval boards and Open LLM Leaderboard snapshots and
//! pins what each file becomes, with exact values.

use walkdir::WalkDir;

use crate::ingest::parsed::{Measured, Number, ParsedFile, ParsedTable};
use crate::ingest::real_data;
use crate::ingest::source::{Classified, classify};

fn classified(relative: &str) -> Classified {
    real_data::classified("", relative)
}

fn table(relative: &str) -> ParsedTable {
    match classified(relative) {
        Classified::Table(table) => table,
        other => panic!("{relative}: expected a table, got {other:?}"),
    }
}

fn row<'a>(table: &'a ParsedTable, model: &str) -> &'a ParsedFile {
    let found = table
        .rows
        .iter()
        .find(|row| row.table_row.as_deref() == Some(model));
    found.unwrap_or_else(|| panic!("no row of `{model}`"))
}

fn finite(value: f64) -> Measured {
    Measured::Present(Number::Finite(value))
}

/// Counts (files, runs, results, dropped rows) over the tables under `folder`.
fn totals(folder: &str) -> (usize, usize, usize, usize) {
    let mut totals = (0, 0, 0, 0);
    for entry in WalkDir::new(real_data::folder(folder)).sort_by_file_name() {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        let Classified::Table(table) = classify(entry.path(), &bytes) else {
            continue;
        };
        let runs = table.rows.iter().flat_map(|row| &row.runs);
        totals.0 += 1;
        totals.1 += table.rows.iter().map(|row| row.runs.len()).sum::<usize>();
        totals.2 += runs.map(|run| run.results.len()).sum::<usize>();
        totals.3 += table.dropped.len();
    }
    totals
}

#[test]
fn every_model_board_is_read_and_the_others_skipped() {
    assert_eq!(totals("alpaca-eval"), (9, 403, 2622, 0));
    assert_eq!(
        totals("open-llm-leaderboard-v1-snapshots"),
        (3, 5344, 5344, 113)
    );
    let evaluators = classified(
        "alpaca-eval/src/alpaca_eval/leaderboards/evaluators/evaluators_leaderboard.csv",
    );
    assert!(
        matches!(&evaluators, Classified::Skipped(reason) if reason.contains("judge")),
        "{evaluators:?}"
    );
    let report = classified(
        "opencompass-subjective-corev2/20231208_194351/summary/20231208_194351/report.csv",
    );
    assert!(
        matches!(&report, Classified::Skipped(reason) if reason.contains("OpenCompass")),
        "{report:?}"
    );
}

#[test]
fn alpaca_eval_rows_keep_win_rate_stderr_annotator_and_mode() {
    let board = table(
        "alpaca-eval/src/alpaca_eval/leaderboards/data_AlpacaEval_2/\
         weighted_alpaca_eval_gpt4_turbo_leaderboard.csv",
    );
    assert_eq!((board.rows.len(), board.dropped.len()), (223, 0));
    let null_model = row(&board, "NullModel");
    let run = &null_model.runs[0];
    assert_eq!(
        (run.task.as_str(), run.task_version.as_deref(), run.n_shot),
        ("alpaca_eval", Some("2.0"), None)
    );
    assert_eq!(run.samples_effective, Some(805));
    let win_rate = &run.results[0];
    assert_eq!(
        (win_rate.metric.as_str(), win_rate.filter.as_str()),
        ("win_rate", "weighted_alpaca_eval_gpt4_turbo")
    );
    assert_eq!(win_rate.value, finite(76.91979180386511));
    assert_eq!(win_rate.stderr, finite(0.9090102449662572));
    assert_eq!(null_model.config["mode"], "community");
    assert_eq!(
        null_model.config["annotator"],
        "weighted_alpaca_eval_gpt4_turbo"
    );
}

#[test]
fn open_llm_snapshots_read_shots_in_both_header_spellings_and_drop_repeats() {
    let early = table("open-llm-leaderboard-v1-snapshots/assets/20230523/20230523.csv");
    let llama = row(&early, "llama-65b");
    let tasks: Vec<_> = llama
        .runs
        .iter()
        .map(|run| (run.task.as_str(), run.n_shot))
        .collect();
    assert_eq!(
        tasks,
        [
            ("ARC", Some(25)),
            ("HellaSwag", Some(10)),
            ("MMLU", Some(5)),
            ("TruthfulQA", Some(0))
        ]
    );
    assert_eq!(llama.runs[0].results[0].value, finite(57.8));
    assert_eq!(llama.runs[0].results[0].metric, "score");
    // An empty URL cell is left out of the configuration.
    assert_eq!(llama.config.get("url"), None);

    let late = table("open-llm-leaderboard-v1-snapshots/assets/20231031/20231031.csv");
    assert_eq!((late.rows.len(), late.dropped.len()), (95, 14));
    let sheep = row(&late, "Riiid/sheep-duck-llama-2");
    assert_eq!(sheep.runs[0].results[0].value, finite(72.4));
    let repeat = &late.dropped[0];
    assert_eq!(
        (repeat.line, repeat.kept_line, repeat.identical),
        (11, 10, false)
    );
    let snapshot = table("open-llm-leaderboard-v1-snapshots/assets/20230904/20230904.csv");
    let identical = snapshot.dropped.iter().filter(|row| row.identical).count();
    assert_eq!((snapshot.dropped.len(), identical), (99, 9));
}
