//! The `yardstick` binary as a user runs it: exit codes, error lines, the
//! summary, and the printed schema.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GOOD: &str = r#"{"results": {"arc_easy": {"acc": 0.5, "acc_stderr": 0.01}},
  "versions": {"arc_easy": 0},
  "config": {"model_args": "pretrained=org/good-model", "num_fewshot": 0}}"#;

/// A fresh folder under the target directory, removed and recreated per test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn yardstick(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot run yardstick: {e}"))
}

#[test]
fn ingest_exits_zero_when_files_are_only_stored_or_skipped() {
    let dir = scratch("cli-clean");
    std::fs::write(dir.join("data/good.json"), GOOD).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("data/notes.csv"), "a,b\n1,2\n").unwrap_or_else(|e| panic!("{e}"));

    let first = yardstick(&dir, &["ingest", "data"]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped data/notes.csv: CSV leaderboard"),
        "{stderr}"
    );
    assert!(stderr.contains("2 files in"), "{stderr}");
    assert!(
        stderr.contains(
            "1 stored, 0 already stored, 0 duplicates, 1 skipped, 0 rejected; \
                             1 runs, 1 results and 0 samples stored"
        ),
        "{stderr}"
    );
    assert!(
        dir.join("yardstick.db").is_file(),
        "the default database is yardstick.db"
    );

    let second = yardstick(&dir, &["ingest", "data"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("already stored data/good.json: nothing new"),
        "{stderr}"
    );
    assert!(stderr.contains("0 stored, 1 already stored"), "{stderr}");
}

#[test]
fn ingest_exits_non_zero_and_names_the_problem_when_a_file_is_rejected() {
    let dir = scratch("cli-rejected");
    std::fs::write(dir.join("data/good.json"), GOOD).unwrap_or_else(|e| panic!("{e}"));
    let bad = r#"{"results": {"arc_easy": {"acc,none": "high"}}, "model_name": "org/m",
                  "config": {}, "configs": {}}"#;
    std::fs::write(dir.join("data/bad.json"), bad).unwrap_or_else(|e| panic!("{e}"));

    let output = yardstick(&dir, &["ingest", "data"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error[")).collect();
    assert_eq!(error_lines.len(), 1, "{stderr}");
    assert!(
        error_lines[0].starts_with(
            r#"error[invalid_field] data/bad.json: at $.results.arc_easy["acc,none"]:"#
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 stored, 0 already stored, 0 duplicates, 0 skipped, 1 rejected"),
        "{stderr}"
    );
}

#[test]
fn schema_prints_the_checked_in_sdl() {
    let dir = scratch("cli-schema");
    let output = yardstick(&dir, &["schema"]);
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
            .unwrap_or_default();
    assert_eq!(String::from_utf8_lossy(&output.stdout), checked_in);
}
