//! The generated per-sample data: runs of one task whose items every run
//! shares, each run right on a seeded share of them, and the bulk writer that
//! puts their samples into the `sample` table.
//!
//! Samples go in by `COPY` in the rows the ingest path writes (same columns,
//! item hashes, score kinds), not through the JSONL reader: filling a hundred
//! million rows through the reader would take most of an hour, and how fast
//! the reader stores a log is `samples_copy`'s measurement, not this one's.

use std::fmt::Write as _;

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tests::workload::mix64;
use uuid::Uuid;

/// The task every generated run evaluates.
pub const TASK: &str = "synthetic_addition";
/// The metric whose per-sample scores the samples carry.
pub const METRIC: &str = "exact_match";
/// Rows sent per `COPY` statement (one transaction each).
const ROWS_PER_COPY: usize = 1_000_000;

/// The deterministic data of one benchmark: `samples_per_run` items, and
/// any number of runs over them.
pub struct Generator {
    pub seed: u64,
    pub samples_per_run: usize,
    items: Vec<Item>,
}

/// One item of the task, the same in every run.
pub struct Item {
    pub a: u64,
    pub b: u64,
    pub sha256: String,
}

impl Item {
    pub fn input(&self) -> String {
        format!("Question: What is {} plus {}?\nAnswer:", self.a, self.b)
    }
}

/// A run as stored: its id and ingest time, the partition key of its samples.
#[derive(Clone, Copy)]
pub struct StoredRun {
    pub index: usize,
    pub id: Uuid,
    pub ingested_at: DateTime<Utc>,
}

impl Generator {
    pub fn new(seed: u64, samples_per_run: usize) -> Self {
        let items = (0..samples_per_run as u64)
            .map(|i| {
                let key = mix64(seed ^ 0xA5A5_0000_0000_0000 ^ i);
                Item {
                    a: key % 1000,
                    b: (key >> 20) % 1000,
                    sha256: format!(
                        "{:016x}{:016x}{:016x}{:016x}",
                        mix64(key),
                        mix64(key ^ 1),
                        mix64(key ^ 2),
                        mix64(key ^ 3)
                    ),
                }
            })
            .collect();
        Self {
            seed,
            samples_per_run,
            items,
        }
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Whether run `run` answered item `item` right: a seeded coin whose
    /// bias is the run's ability, between 0.35 and 0.90.
    pub fn correct(&self, run: usize, item: usize) -> bool {
        let run_key = mix64(self.seed ^ (run as u64).wrapping_mul(0x9E37_79B9));
        let ability = 350_000 + run_key % 550_000;
        mix64(run_key ^ item as u64) % 1_000_000 < ability
    }

    /// How many items run `run` answered right.
    pub fn right_answers(&self, run: usize) -> usize {
        (0..self.samples_per_run)
            .filter(|&item| self.correct(run, item))
            .count()
    }

    /// The `recordRuns` input of run `run`: its exact-match share, with the
    /// binomial standard error, as a harness would report it.
    pub fn record_input(&self, run: usize) -> Value {
        let n = self.samples_per_run as f64;
        let value = self.right_answers(run) as f64 / n;
        let stderr = (value * (1.0 - value) / (n - 1.0).max(1.0)).sqrt();
        json!({
            "model": format!("bench/sampler-{run:06}"),
            "task": TASK,
            "nShot": 0,
            "samples": self.samples_per_run,
            "results": [{
                "metric": METRIC,
                "value": value,
                "stderr": stderr,
                "higherIsBetter": true,
            }],
        })
    }

    /// Appends run `run`'s samples in COPY's text format.
    fn copy_rows(&self, run: &StoredRun, out: &mut String) {
        let at = run.ingested_at.to_rfc3339();
        for (no, item) in self.items.iter().enumerate() {
            let right = self.correct(run.index, no);
            let sum = item.a + item.b;
            let answer = if right { sum } else { sum + 1 };
            let score = u8::from(right);
            let verdict = if right { 't' } else { 'f' };
            // Infallible: writing to a String.
            let _ = writeln!(
                out,
                "{}\t{no}\t{at}\t{no}\tnone\t{}\tQuestion: What is {} plus {}?\\nAnswer:\t\
                 {sum}\t{answer}\t{{\"{METRIC}\": {score}.0}}\t{score}\tfinite\t{verdict}\t1",
                run.id, item.sha256, item.a, item.b
            );
        }
    }
}

/// Writes the samples of `runs` by `COPY`, a million rows per transaction;
/// returns the rows written.
pub async fn write_samples(
    db: &DatabaseConnection,
    generator: &Generator,
    runs: &[StoredRun],
) -> anyhow::Result<u64> {
    const COPY: &str = "COPY sample (run_id, sample_no, run_ingested_at, doc_id, filter, \
        item_sha256, input, target, output, scores, score, score_kind, correct, epoch) \
        FROM STDIN";
    let pool = db.get_postgres_connection_pool();
    let runs_per_copy = (ROWS_PER_COPY / generator.samples_per_run).max(1);
    let mut written = 0u64;
    let mut batch = String::with_capacity(1 << 21);
    for group in runs.chunks(runs_per_copy) {
        let mut connection = pool.acquire().await?;
        let mut copy = connection.copy_in_raw(COPY).await?;
        for run in group {
            generator.copy_rows(run, &mut batch);
            if batch.len() >= 1 << 20 {
                copy.send(batch.as_bytes()).await?;
                batch.clear();
            }
        }
        copy.send(batch.as_bytes()).await?;
        batch.clear();
        let rows = copy.finish().await.context("while copying samples")?;
        let expected = (group.len() * generator.samples_per_run) as u64;
        ensure!(rows == expected, "COPY stored {rows} samples of {expected}");
        written += rows;
    }
    Ok(written)
}
