//! Reads the real MTEB folder (8 models, up to 11 tasks, all three result
//! generations) and pins what each file becomes, with exact values.

use walkdir::WalkDir;

use crate::ingest::parsed::{Measured, ModelSource, Number, ParsedFile};
use crate::ingest::real_data;
use crate::ingest::source::{Classified, classify};

const RESULTS: &str = "mteb-results/results";

fn parsed(relative: &str) -> ParsedFile {
    match real_data::classified(RESULTS, relative) {
        Classified::Results(file) => file,
        other => panic!("{relative}: expected results, got {other:?}"),
    }
}

fn value(file: &ParsedFile, metric: &str, filter: &str) -> Measured {
    let run = &file.runs[0];
    let result = run
        .results
        .iter()
        .find(|r| r.metric == metric && r.filter == filter);
    result.map_or_else(|| panic!("no `{metric}` under `{filter}`"), |r| r.value)
}

fn finite(value: f64) -> Measured {
    Measured::Present(Number::Finite(value))
}

#[test]
fn every_result_is_one_run_and_every_model_meta_is_skipped() {
    let (mut runs, mut results, mut skipped) = (0, 0, 0);
    for entry in WalkDir::new(real_data::folder(RESULTS)).sort_by_file_name() {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        match classify(entry.path(), &bytes) {
            Classified::Results(file) => {
                assert!(file.model.is_some(), "{}", entry.path().display());
                runs += file.runs.len();
                results += file.runs.iter().map(|r| r.results.len()).sum::<usize>();
            }
            Classified::Skipped(reason) if reason.contains("model_meta.json") => skipped += 1,
            other => panic!("{}: {other:?}", entry.path().display()),
        }
    }
    assert_eq!((runs, results, skipped), (64, 3781, 10));
}

#[test]
fn a_current_file_reads_model_revision_and_main_score() {
    let file = parsed(
        "sentence-transformers__all-MiniLM-L6-v2/8b3219a92973c328a8e22fadcfa821b5dc75636a/\
         STSBenchmark.json",
    );
    let model = file.model.clone().expect("model_meta.json names it");
    assert_eq!(
        model.source,
        ModelSource::Hub("sentence-transformers/all-MiniLM-L6-v2".into())
    );
    assert_eq!(
        model.revision.as_deref(),
        Some("8b3219a92973c328a8e22fadcfa821b5dc75636a")
    );
    let run = &file.runs[0];
    assert_eq!(run.task, "STSBenchmark");
    assert_eq!(
        run.task_version.as_deref(),
        Some("b0fddb56ed78048fa8b90373c8a3cfc37b684831")
    );
    assert_eq!(file.harness_version.as_deref(), Some("1.12.75"));
    assert_eq!(
        value(&file, "main_score", "test/default"),
        finite(0.8203247283076371)
    );
    // `pearson` is a `[r, p]` pair here: raw material, not stored.
    assert!(run.results.iter().all(|r| r.metric != "pearson"));
    assert_eq!(run.results.len(), 7);
}

#[test]
fn subsets_become_filters() {
    let file = parsed(
        "intfloat__multilingual-e5-small/fd1525a9fd15316a2d503bf26ab031a61d056e98/STS22.json",
    );
    let run = &file.runs[0];
    assert_eq!(run.results.len(), 162);
    assert_eq!(value(&file, "main_score", "test/es-en"), finite(0.757522));
    assert_eq!(value(&file, "main_score", "test/ru"), finite(0.660455));
    assert_eq!(file.config["languages"]["es-en"][1], "eng-Latn");
}

#[test]
fn the_oldest_generation_and_odd_revision_folders_are_read() {
    let file = parsed("openai__text-embedding-3-small/1/STSBenchmark.json");
    let model = file.model.clone().expect("model_meta.json names it");
    assert_eq!(
        model.source,
        ModelSource::Hub("openai/text-embedding-3-small".into())
    );
    assert_eq!(model.revision.as_deref(), Some("1"));
    assert_eq!(file.runs[0].task_version, None);
    assert_eq!(file.harness_version, None);
    assert_eq!(
        value(&file, "cos_sim_spearman", "test/default"),
        finite(0.8423906519)
    );
    let by_language =
        parsed("openai__text-embedding-3-small/1/AmazonCounterfactualClassification.json");
    assert_eq!(
        value(&by_language, "accuracy", "test/en"),
        finite(0.7641791045)
    );
    let external = parsed("BAAI__bge-small-en-v1.5/external/SummEval.json");
    let revision = external.model.and_then(|model| model.revision);
    assert_eq!(revision.as_deref(), Some("external"));
}
