//! Bad input: every kind of broken file gets one coded error naming the file
//! and the location (a JSON path, or a CSV line and column), the other files
//! are still stored, re-ingesting stores nothing new, and a file that fails
//! half-way leaves no rows.

use backend::ingest::batch::Outcome;
use backend::ingest::file_error::{ErrorCode, FileError};
use sea_orm::{DatabaseConnection, DbBackend};

use crate::support::{Recorder, count, empty, ingest, options, real, scratch_files};

const GOOD: &[u8] = br#"{"results": {"arc_easy": {"acc": 0.5, "acc_stderr": 0.01}},
  "versions": {"arc_easy": 0},
  "config": {"model": "hf-causal", "model_args": "pretrained=org/good-model", "num_fewshot": 0}}"#;

/// A line longer than any leaderboard row, in an otherwise good board.
fn huge_line_board() -> Vec<u8> {
    let mut board = b",win_rate,standard_error\nm,50.0,1.0\n".to_vec();
    board.extend(std::iter::repeat_n(b'9', 100_000));
    board.extend(b",1.0,1.0\n");
    board
}

fn rejection(recorder: &Recorder, file: &str) -> FileError {
    match recorder.outcome_of(file) {
        Some(Outcome::Rejected(error)) => error,
        other => panic!("expected `{file}` to be rejected, got {other:?}"),
    }
}

async fn check_bad_inputs(db: &DatabaseConnection) -> anyhow::Result<()> {
    let folder = scratch_files(&[
        ("good.json", GOOD),
        ("truncated.json", br#"{"results": {"arc_easy": {"acc": 0.5"#),
        (
            "wrong_type.json",
            br#"{"results": {"arc_easy": {"acc,none": {"oops": 1}}}, "configs": {},
                "model_name": "org/m", "config": {}}"#,
        ),
        (
            "no_model.json",
            br#"{"results": {"arc_easy": {"acc": 0.5}}, "versions": {}, "config": {}}"#,
        ),
        (
            "latin1.json",
            b"{\"results\": {\"caf\xe9\": {\"acc\": 0.5}}}",
        ),
        ("notes.txt", b"not json at all"),
        (
            "truncated_mteb.json",
            br#"{"task_name": "STS12", "scores": {"test": [{"hf_subset": "default", "#,
        ),
        (
            "wrong_type_mteb.json",
            br#"{"task_name": "STS12", "mteb_version": "1.12.0",
                "scores": {"test": [{"hf_subset": "default", "main_score": "high"}]}}"#,
        ),
        (
            "board_latin1.csv",
            b",win_rate,standard_error\nmod\xe8le,50.0,1.0\n",
        ),
        ("board_huge_line.csv", &huge_line_board()),
        (
            "board_ragged.csv",
            b",win_rate,standard_error\na,50.0,1.0\nb,40.0\n",
        ),
        (
            "board_unterminated.csv",
            b",win_rate,standard_error,mode\na,50.0,1.0,\"minimal\nb,40.0,1.0,dev\n",
        ),
        (
            "board_wrong_type.csv",
            b"Model,ARC (25-shot),URL\norg/x,high,https://example.org\n",
        ),
        ("unknown.csv", b"id,text\n1,hello\n"),
    ])?;
    let (summary, recorder) = ingest(db, &[folder], &options()).await?;
    assert_eq!(
        (summary.stored, summary.skipped, summary.rejected),
        (1, 0, 13)
    );

    let truncated = rejection(&recorder, "truncated.json");
    assert_eq!(
        (truncated.code, truncated.path.as_str()),
        (ErrorCode::InvalidJson, "$")
    );
    assert!(
        truncated.message.contains("line 1"),
        "{}",
        truncated.message
    );
    let wrong_type = rejection(&recorder, "wrong_type.json");
    assert_eq!(wrong_type.code, ErrorCode::InvalidField);
    assert_eq!(wrong_type.path, r#"$.results.arc_easy["acc,none"]"#);
    assert!(
        wrong_type.message.contains(r#"`{"oops":1}`"#),
        "{}",
        wrong_type.message
    );
    let no_model = rejection(&recorder, "no_model.json");
    assert_eq!(no_model.code, ErrorCode::ModelUnresolved);
    assert_eq!(
        rejection(&recorder, "latin1.json").code,
        ErrorCode::InvalidJson
    );
    check_malformed_mteb_and_csv(&recorder);
    // Nothing of the rejected files reached the database.
    assert_eq!(count(db, "SELECT count(*) FROM run").await, 1);
    assert_eq!(count(db, "SELECT count(*) FROM run_result").await, 1);
    assert_eq!(count(db, "SELECT count(*) FROM ml_model").await, 1);
    assert_eq!(count(db, "SELECT count(*) FROM task").await, 1);
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM ingest_event WHERE outcome = 'rejected'"
        )
        .await,
        13
    );
    assert_eq!(count(db, "SELECT count(*) FROM quarantine").await, 13);

    Ok(())
}

/// Each broken MTEB file or leaderboard table is refused with its code and
/// location; an unknown file says what was looked for.
fn check_malformed_mteb_and_csv(recorder: &Recorder) {
    let expected = [
        ("truncated_mteb.json", ErrorCode::InvalidJson, "$"),
        (
            "wrong_type_mteb.json",
            ErrorCode::InvalidField,
            "$.scores.test[0].main_score",
        ),
        (
            "board_latin1.csv",
            ErrorCode::InvalidCsv,
            "line 2, column 1",
        ),
        ("board_huge_line.csv", ErrorCode::InvalidCsv, "line 3"),
        ("board_ragged.csv", ErrorCode::InvalidCsv, "line 3"),
        ("board_unterminated.csv", ErrorCode::InvalidCsv, "line 2"),
        (
            "board_wrong_type.csv",
            ErrorCode::InvalidField,
            r#"line 2, column "ARC (25-shot)""#,
        ),
    ];
    for (file, code, path) in expected {
        let error = rejection(recorder, file);
        assert_eq!((error.code, error.path.as_str()), (code, path), "{file}");
    }
    let ragged = rejection(recorder, "board_ragged.csv");
    assert_eq!(
        ragged.message,
        "The row has 2 fields where the header has 3."
    );
    // A table says what each importer looked for; a text file, what is read.
    for (unknown, path, words) in [
        ("unknown.csv", "line 1", "looked for"),
        ("notes.txt", "$", "results are read from JSON files"),
    ] {
        let error = rejection(recorder, unknown);
        assert_eq!(
            (error.code, error.path.as_str()),
            (ErrorCode::UnrecognisedFormat, path)
        );
        assert!(error.message.contains(words), "{}", error.message);
    }
}

#[tokio::test]
async fn bad_files_are_rejected_with_codes_on_postgres() -> anyhow::Result<()> {
    check_bad_inputs(&empty(DbBackend::Postgres).await?).await
}

#[tokio::test]
async fn bad_files_are_rejected_with_codes_on_sqlite() -> anyhow::Result<()> {
    check_bad_inputs(&empty(DbBackend::Sqlite).await?).await
}

#[tokio::test]
async fn reingesting_stores_nothing_new_and_copies_are_skipped() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    let folder = real("lm-eval-harness-v0.4-pr2809/results/Qwen__Qwen2.5-3B");

    let (first, _) = ingest(&db, std::slice::from_ref(&folder), &options()).await?;
    let runs = count(&db, "SELECT count(*) FROM run").await;
    let results = count(&db, "SELECT count(*) FROM run_result").await;
    assert_eq!((first.stored, first.runs), (1, 78));
    assert_eq!(runs, 78);

    let (second, _) = ingest(&db, std::slice::from_ref(&folder), &options()).await?;
    assert_eq!(
        (second.stored, second.already_stored, second.runs),
        (0, 1, 0)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM run").await, runs);
    assert_eq!(count(&db, "SELECT count(*) FROM run_result").await, results);

    let original = std::fs::read_dir(&folder)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "json"))
        .ok_or_else(|| anyhow::anyhow!("no results file in {}", folder.display()))?;
    let copy = scratch_files(&[("copy.json", &std::fs::read(&original)?)])?;
    let (third, recorder) = ingest(&db, &[copy], &options()).await?;
    assert_eq!(third.duplicates, 1);
    let Some(Outcome::Duplicate { of }) = recorder.outcome_of("copy.json") else {
        panic!("the copy was not reported as a duplicate");
    };
    assert_eq!(of, original.display().to_string());
    assert_eq!(count(&db, "SELECT count(*) FROM run").await, runs);

    Ok(())
}

#[tokio::test]
async fn a_file_refused_half_way_leaves_no_rows() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    // PostgreSQL refuses NUL in text; the second task's name has one, so the
    // first task's run is inserted and then must be rolled back.
    let half_bad = br#"{"results": {"arc_easy": {"acc": 0.5}, "bad\u0000task": {"acc": 0.1}},
      "versions": {"arc_easy": 0, "bad\u0000task": 0},
      "config": {"model_args": "pretrained=org/half", "num_fewshot": 0}}"#;
    let folder = scratch_files(&[("half.json", half_bad), ("good.json", GOOD)])?;

    let (summary, recorder) = ingest(&db, &[folder], &options()).await?;
    assert_eq!((summary.stored, summary.rejected), (1, 1));
    assert_eq!(
        rejection(&recorder, "half.json").code,
        ErrorCode::StoreFailed
    );
    assert_eq!(count(&db, "SELECT count(*) FROM run").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM run_result").await, 1);
    assert_eq!(
        count(&db, "SELECT count(*) FROM ml_model WHERE name = 'org/half'").await,
        0
    );

    Ok(())
}

#[tokio::test]
async fn one_bad_argument_never_hides_the_others() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let folder = scratch_files(&[
        ("good.json", GOOD),
        (
            "v03_label.json",
            br#"{"results": {"arc_easy": {"acc": "high"}}, "versions": {},
            "config": {"model_args": "pretrained=org/m"}}"#,
        ),
        (
            "empty.json",
            br#"{"results": {}, "versions": {}, "config": {}}"#,
        ),
    ])?;
    let missing = folder.join("no-such-folder");
    let (summary, recorder) = ingest(&db, &[missing, folder.clone()], &options()).await?;
    assert_eq!(
        (
            summary.files,
            summary.stored,
            summary.skipped,
            summary.rejected
        ),
        (4, 1, 1, 2)
    );
    assert_eq!(
        rejection(&recorder, "no-such-folder").code,
        ErrorCode::Unreadable
    );
    let label = rejection(&recorder, "v03_label.json");
    assert_eq!(
        (label.code, label.path.as_str()),
        (ErrorCode::InvalidField, "$.results.arc_easy.acc")
    );
    let Some(Outcome::Skipped { reason }) = recorder.outcome_of("empty.json") else {
        panic!("an empty results map is not stored");
    };
    assert!(reason.contains("empty"), "{reason}");

    // The same file by another relative spelling is the same source.
    let dotted = folder.join(".").join("good.json");
    let (again, _) = ingest(&db, &[dotted], &options()).await?;
    assert_eq!((again.already_stored, again.duplicates), (1, 0));

    Ok(())
}

#[tokio::test]
async fn model_names_the_local_path_model_but_never_renames_a_hub_model() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let local = br#"{"results": {"arc_easy": {"acc": 0.7}}, "versions": {"arc_easy": 0},
        "config": {"model_args": "pretrained=/cluster/llama/7B", "num_fewshot": 0}}"#;
    let other_local = br#"{"results": {"arc_easy": {"acc": 0.6}}, "versions": {"arc_easy": 0},
        "config": {"model_args": "pretrained=/cluster/mistral/7B", "num_fewshot": 0}}"#;
    let folder = scratch_files(&[("hub.json", GOOD), ("local.json", local)])?;
    let named = backend::ingest::batch::IngestOptions {
        model: Some("meta/llama-7b".into()),
        ..options()
    };
    ingest(&db, &[folder], &named).await?;
    ingest(
        &db,
        &[scratch_files(&[("other.json", other_local)])?],
        &options(),
    )
    .await?;

    let names = "SELECT count(*) FROM ml_model WHERE name IN \
                 ('org/good-model', 'meta/llama-7b', '/cluster/mistral/7B')";
    assert_eq!(count(&db, names).await, 3);
    assert_eq!(count(&db, "SELECT count(*) FROM ml_model").await, 3);

    Ok(())
}
