//! Measures how fast a large per-sample log is stored, against the ceiling
//! of PostgreSQL itself: the same number of rows sent by a bare `COPY` into an
//! unindexed, unpartitioned table. Also prints the peak memory of the ingest.
//!
//! Run with `cargo bench -p tests --bench samples_copy`; `BENCH_SAMPLES`
//! sets the log's size (default 5,000,000 lines, about 1.7 GB). The log is
//! generated deterministically into a temporary folder beside a matching
//! lm-eval results file, and removed afterwards.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, ensure};
use backend::ingest::batch::{IngestOptions, Outcome, Progress, ingest_paths};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use tests::pg;

const DEFAULT_SAMPLES: u64 = 5_000_000;
const SAMPLES_VAR: &str = "BENCH_SAMPLES";
const STAMP: &str = "2026-01-01T00-00-00.000000";
const TASK: &str = "synthetic_qa";

/// Ignores per-file outcomes; the summary is what is measured.
struct Silent;

impl Progress for Silent {
    fn start(&self, _files: usize) {}
    fn finished(&self, _path: &str, _outcome: &Outcome) {}
}

/// A deterministic stream of numbers (SplitMix64), so every run writes the
/// same log.
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn write_results(dir: &Path) -> anyhow::Result<()> {
    let results = serde_json::json!({
        "results": {TASK: {"alias": TASK, "acc,none": 0.5, "acc_stderr,none": 0.0002}},
        "versions": {TASK: 1.0},
        "n-shot": {TASK: 0},
        "config": {"model": "hf", "model_args": "pretrained=example/bench-model"},
        "lm_eval_version": "0.4.8",
        "date": 1_767_225_600.0
    });
    std::fs::write(
        dir.join(format!("results_{STAMP}.json")),
        results.to_string(),
    )?;
    Ok(())
}

/// Writes `count` lm-eval-shaped sample lines; returns the file's size.
fn write_log(path: &Path, count: u64) -> anyhow::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut numbers = Numbers(42);
    for doc_id in 0..count {
        let a = numbers.next() % 1000;
        let b = numbers.next() % 1000;
        let right = !numbers.next().is_multiple_of(4);
        let answer = if right { a + b } else { a + b + 1 };
        let line = serde_json::json!({
            "doc_id": doc_id,
            "doc": {"question": format!("What is {a} plus {b}?"), "answer": (a + b).to_string()},
            "target": (a + b).to_string(),
            "arguments": {"gen_args_0": {
                "arg_0": format!("Question: What is {a} plus {b}?\nAnswer:"),
                "arg_1": {"until": ["\n"], "do_sample": false}}},
            "resps": [[answer.to_string()]],
            "filtered_resps": [answer.to_string()],
            "filter": "none",
            "metrics": ["exact_match"],
            "exact_match": if right { 1.0 } else { 0.0 },
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The same rows in COPY's text format, built directly (no parsing).
fn copy_rows(count: u64) -> impl Iterator<Item = String> {
    let mut numbers = Numbers(42);
    (0..count).map(move |doc_id| {
        let a = numbers.next() % 1000;
        let b = numbers.next() % 1000;
        let right = !numbers.next().is_multiple_of(4);
        let answer = if right { a + b } else { a + b + 1 };
        let score = if right { 1 } else { 0 };
        format!(
            "00000000-0000-0000-0000-000000000001\t{doc_id}\t2026-01-01T00:00:00+00:00\t\
             {doc_id}\tnone\t{:064x}\tQuestion: What is {a} plus {b}?\\nAnswer:\t{}\t\
             {answer}\t{{\"exact_match\":{score}.0}}\t{score}\tfinite\t{}\t1\n",
            doc_id,
            a + b,
            if right { "t" } else { "f" }
        )
    })
}

/// Resets the kernel's record of this process's peak memory (Linux).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Returns this process's peak resident memory in MiB since the last reset.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn raw_copy(db: &DatabaseConnection, count: u64) -> anyhow::Result<f64> {
    db.execute_unprepared(
        "CREATE UNLOGGED TABLE IF NOT EXISTS bare_sample (run_id uuid, sample_no bigint, \
         run_ingested_at timestamptz, doc_id bigint, filter text, item_sha256 text, \
         input text, target text, output text, scores jsonb, score double precision, \
         score_kind text, correct boolean, epoch integer)",
    )
    .await?;
    db.execute_unprepared("ALTER TABLE bare_sample SET LOGGED")
        .await?;
    let pool = db.get_postgres_connection_pool();
    let started = Instant::now();
    let mut connection = pool.acquire().await?;
    let mut copy = connection
        .copy_in_raw(
            "COPY bare_sample (run_id, sample_no, run_ingested_at, doc_id, filter, \
             item_sha256, input, target, output, scores, score, score_kind, correct, epoch) \
             FROM STDIN",
        )
        .await?;
    let mut batch = String::with_capacity(1 << 21);
    for row in copy_rows(count) {
        batch.push_str(&row);
        if batch.len() >= 1 << 20 {
            copy.send(batch.as_bytes()).await?;
            batch.clear();
        }
    }
    copy.send(batch.as_bytes()).await?;
    let rows = copy.finish().await?;
    ensure!(rows == count, "COPY stored {rows} rows of {count}");
    Ok(started.elapsed().as_secs_f64())
}

fn samples_wanted() -> anyhow::Result<u64> {
    match std::env::var(SAMPLES_VAR) {
        Ok(value) => value
            .parse()
            .with_context(|| format!("while reading {SAMPLES_VAR}=`{value}`")),
        Err(_) => Ok(DEFAULT_SAMPLES),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count = samples_wanted()?;
    let dir: PathBuf = std::env::temp_dir().join(format!("yardstick-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    write_results(&dir)?;
    let log = dir.join(format!("samples_{TASK}_{STAMP}.jsonl"));
    let started = Instant::now();
    let bytes = write_log(&log, count)?;
    println!(
        "generated {count} samples ({:.0} MiB) in {:.1} s",
        bytes as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64()
    );

    let database = pg::fresh_database().await?;
    let db = backend::db::connect_and_migrate(&database.url).await?;
    let options = IngestOptions {
        actor: "bench".into(),
        ..IngestOptions::default()
    };
    let results = dir.join(format!("results_{STAMP}.json"));
    ingest_paths(&db, &[results], &options, &Silent).await?;
    reset_peak_memory();
    let started = Instant::now();
    let summary = ingest_paths(&db, &[log], &options, &Silent).await?;
    let ingest_seconds = started.elapsed().as_secs_f64();
    let peak = peak_memory_mib();
    ensure!(
        summary.samples as u64 == count,
        "stored {} samples of {count}",
        summary.samples
    );
    let raw_seconds = raw_copy(&db, count).await?;
    let _ = std::fs::remove_dir_all(&dir);
    db.close().await?;
    database.drop_database().await?;

    let rate = |seconds: f64| count as f64 / seconds;
    println!("| path | seconds | samples/s |");
    println!("|---|---:|---:|");
    println!(
        "| yardstick ingest (parse JSONL, hash items, COPY into partitioned `sample`) \
         | {ingest_seconds:.1} | {:.0} |",
        rate(ingest_seconds)
    );
    println!(
        "| raw COPY of the same rows into a bare table | {raw_seconds:.1} | {:.0} |",
        rate(raw_seconds)
    );
    println!(
        "ratio yardstick / raw COPY: {:.2}; peak memory during the ingest: {}",
        raw_seconds / ingest_seconds,
        peak.map_or("unknown".to_string(), |mib| format!("{mib:.0} MiB"))
    );
    Ok(())
}
