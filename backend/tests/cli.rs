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
    std::fs::write(dir.join("data/baseline.yaml"), "model: 1\n").unwrap_or_else(|e| panic!("{e}"));

    let first = yardstick(&dir, &["ingest", "data"]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped data/baseline.yaml: YAML file"),
        "{stderr}"
    );
    assert!(stderr.contains("2 files in"), "{stderr}");
    assert!(
        stderr.contains(
            "1 stored, 0 already stored, 0 duplicates, 1 skipped, 0 rejected; \
                             1 run, 1 result and 0 samples stored"
        ),
        "{stderr}"
    );
    assert!(
        dir.join("yardstick.db").is_file(),
        "the default database is yardstick.db"
    );

    // A re-run counts the files stored before; --verbose also lists them.
    let second = yardstick(&dir, &["ingest", "data"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("already stored data/good.json"),
        "{stderr}"
    );
    assert!(stderr.contains("0 stored, 1 already stored"), "{stderr}");
    let third = yardstick(&dir, &["ingest", "--verbose", "data"]);
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(
        stderr.contains("already stored data/good.json: nothing new"),
        "{stderr}"
    );
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
fn a_failure_prints_one_error_line_without_a_backtrace() {
    let dir = scratch("cli-failure");
    std::fs::write(dir.join("not-a-folder"), "").unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["admin", "list-tokens"])
        .current_dir(&dir)
        .env("DATABASE_URL", "sqlite://not-a-folder/yardstick.db")
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot run yardstick: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let opening = "error: while opening the database sqlite://not-a-folder/yardstick.db: ";
    assert!(lines[0].starts_with(opening), "{stderr}");
    assert_eq!(
        lines[0].matches("unable to open database file").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn a_database_that_cannot_be_reached_or_named_says_why_at_once() {
    let dir = scratch("cli-unreachable");
    let cases = [
        // Nothing listens on port 1 of loopback: refused at once, not after
        // the pool's 30 s, and said so.
        (
            "postgres://nobody:secret@127.0.0.1:1/db",
            "Connection refused",
        ),
        ("yardstick.db", "is not a database URL: write sqlite://FILE"),
    ];
    for (url, words) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_yardstick"))
            .args(["admin", "list-tokens"])
            .current_dir(&dir)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap_or_else(|e| panic!("cannot run yardstick: {e}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
        assert!(
            !stderr.contains("secret"),
            "the password is hidden: {stderr}"
        );
        assert!(!stderr.contains("pool timed out"), "{stderr}");
    }
}

#[tokio::test]
async fn an_ingest_while_another_writer_holds_sqlite_says_so_in_words() {
    use sea_orm::sqlx::{Connection, SqliteConnection};
    let dir = scratch("cli-busy");
    std::fs::write(dir.join("data/good.json"), GOOD).unwrap_or_else(|e| panic!("{e}"));
    let first = yardstick(&dir, &["ingest", "data"]);
    assert_eq!(first.status.code(), Some(0), "{:?}", first);
    // Another writer: an open write transaction on the same file.
    let url = format!("sqlite://{}", dir.join("yardstick.db").display());
    let mut writer = SqliteConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for statement in ["BEGIN IMMEDIATE", "CREATE TABLE held (x integer)"] {
        sea_orm::sqlx::query(statement)
            .execute(&mut writer)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let other = GOOD.replace("good-model", "other-model");
    std::fs::write(dir.join("data/other.json"), other).unwrap_or_else(|e| panic!("{e}"));

    let output = yardstick(&dir, &["ingest", "data"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: the SQLite database is busy: another program"),
        "{stderr}"
    );
    drop(writer);
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

/// Reads a process's peak resident memory (`VmHWM`) in KiB while it runs.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A samples log far larger than the memory the ingest may use: the log is
/// streamed, so the process's peak stays well below the file's size.
#[test]
fn a_large_samples_log_is_stored_in_bounded_memory() {
    const LINES: u64 = 400_000;
    let dir = scratch("cli-large-log");
    let results = r#"{"results": {"big_qa": {"acc,none": 0.5, "acc_stderr,none": 0.001}},
      "versions": {"big_qa": 1}, "n-shot": {"big_qa": 0}, "lm_eval_version": "0.4.8",
      "config": {"model_args": "pretrained=org/big-model"}}"#;
    let stamp = "2026-01-01T00-00-00.000000";
    std::fs::write(dir.join(format!("data/results_{stamp}.json")), results)
        .unwrap_or_else(|e| panic!("{e}"));
    let log = dir.join(format!("data/samples_big_qa_{stamp}.jsonl"));
    let mut text = String::with_capacity(64 << 20);
    let padding = "x".repeat(300);
    let mut file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}"));
    for doc_id in 0..LINES {
        text.push_str(&format!(
            "{{\"doc_id\": {doc_id}, \"doc\": {{\"q\": \"question {doc_id} {padding}\"}}, \
             \"target\": \"{}\", \"arguments\": {{\"gen_args_0\": {{\"arg_0\": \"Q{doc_id}\"}}}}, \
             \"filtered_resps\": [\"{}\"], \"filter\": \"none\", \"metrics\": [\"acc\"], \
             \"acc\": {}}}\n",
            doc_id % 7,
            doc_id % 5,
            u8::from(doc_id % 7 == doc_id % 5)
        ));
        if text.len() > 32 << 20 {
            std::io::Write::write_all(&mut file, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            text.clear();
        }
    }
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    drop(file);
    let size_mib = std::fs::metadata(&log).map_or(0, |m| m.len()) >> 20;
    assert!(size_mib >= 140, "the log is only {size_mib} MiB");

    let mut child = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["ingest", "data"])
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run yardstick: {e}"));
    let mut peak = 0;
    while child.try_wait().ok().flatten().is_none() {
        peak = peak.max(peak_kib(child.id()).unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("400000 samples stored"), "{stderr}");
    let peak_mib = peak >> 10;
    eprintln!("peak memory {peak_mib} MiB while storing a {size_mib} MiB samples log");
    assert!(peak > 0, "no memory reading was taken");
    assert!(
        peak_mib < 100,
        "peak memory {peak_mib} MiB for a {size_mib} MiB log: it is not streamed"
    );
}
