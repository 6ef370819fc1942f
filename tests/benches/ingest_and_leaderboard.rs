//! Measures ingest throughput and leaderboard latency on the real sample data,
//! on PostgreSQL (the private test cluster) and on SQLite.
//!
//! Run with `cargo bench -p tests --bench ingest_and_leaderboard`; set
//! `BENCH_ITERATIONS` to change how many timed queries each pair gets. The
//! figures are printed as a table; docs/BENCHMARKS.md says how to read them.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use async_graphql::{Request, Variables};
use backend::graphql::{YardstickSchema, build_schema, loader::loaders};
use backend::ingest::batch::{IngestOptions, Outcome, Progress, Summary, ingest_paths};
use backend::service::leaderboard::{LeaderboardQuery, leaderboard, on_request};
use sea_orm::DatabaseConnection;
use tests::pg;

/// Timed queries per task × metric pair and path, unless overridden.
const DEFAULT_ITERATIONS: usize = 200;
const ITERATIONS_VAR: &str = "BENCH_ITERATIONS";

/// Task × metric pairs with many comparable runs in the real data.
const PAIRS: &[(&str, &str)] = &[
    ("arc_easy", "acc"),
    ("lambada_openai", "ppl"),
    ("hellaswag", "acc_norm"),
    ("mmlu", "acc"),
];

/// What a leaderboard page asks for.
const LEADERBOARD_QUERY: &str = "
query Leaderboard($task: String!, $metric: String!) {
  leaderboard(task: $task, metric: $metric) {
    task
    metric { name direction }
    configuration { taskVersion nShot filter models runs }
    otherConfigurations { taskVersion nShot filter models runs }
    ranked
    unrankedReason
    truncatedRuns
    entries {
      rank value valueKind stderr stderrKind revision
      model { name }
      run { id nShot harnessVersion }
    }
  }
}";

/// Ignores per-file outcomes; only the summary is reported.
struct Silent;

impl Progress for Silent {
    fn start(&self, _files: usize) {}
    fn finished(&self, _path: &str, _outcome: &Outcome) {}
}

/// Latency of one query on one backend and path.
struct Latency {
    backend: &'static str,
    pair: String,
    path: &'static str,
    entries: usize,
    samples: Vec<Duration>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let iterations = iterations()?;
    let mut summaries = Vec::new();
    let mut latencies = Vec::new();

    let postgres = pg::fresh_database().await?;
    let db = backend::db::connect_and_migrate(&postgres.url).await?;
    summaries.push(("postgres", ingest(&db).await?));
    latencies.extend(measure(&db, "postgres", iterations).await?);
    db.close().await?;
    postgres.drop_database().await?;

    let db = backend::db::connect_and_migrate(&pg::sqlite_url()?).await?;
    summaries.push(("sqlite", ingest(&db).await?));
    latencies.extend(measure(&db, "sqlite", iterations).await?);
    db.close().await?;

    print_ingest(&summaries);
    print_latencies(&latencies, iterations);

    Ok(())
}

fn iterations() -> anyhow::Result<usize> {
    let Ok(value) = std::env::var(ITERATIONS_VAR) else {
        return Ok(DEFAULT_ITERATIONS);
    };
    let iterations: usize = value
        .parse()
        .with_context(|| format!("while reading {ITERATIONS_VAR}=`{value}`"))?;
    if iterations == 0 {
        bail!("{ITERATIONS_VAR} must be at least 1");
    }

    Ok(iterations)
}

async fn ingest(db: &DatabaseConnection) -> anyhow::Result<Summary> {
    let options = IngestOptions {
        actor: "benchmark".into(),
        ..IngestOptions::default()
    };
    let summary = ingest_paths(db, &[pg::data_dir()], &options, &Silent)
        .await
        .context("while ingesting the real sample data")?;

    Ok(summary)
}

/// Times every pair through the service function (from the read model and
/// from the facts) and through the schema.
async fn measure(
    db: &DatabaseConnection,
    backend: &'static str,
    iterations: usize,
) -> anyhow::Result<Vec<Latency>> {
    let schema = build_schema(db.clone());
    let warm_up = (iterations / 10).clamp(5, 20);
    let mut latencies = Vec::new();
    for (task, metric) in PAIRS {
        let query = LeaderboardQuery {
            task: task.to_string(),
            metric: metric.to_string(),
            ..LeaderboardQuery::default()
        };
        let pair = format!("{task}/{metric}");
        for (path, from_facts) in [("service", false), ("facts", true)] {
            let entries = service_entries(db, &query, from_facts).await?;
            let run = || service_entries(db, &query, from_facts);
            let samples = time(warm_up, iterations, run).await?;
            latencies.push(Latency {
                backend,
                pair: pair.clone(),
                path,
                entries,
                samples,
            });
        }

        let entries = graphql_entries(&schema, db, task, metric).await?;
        let run = || graphql_entries(&schema, db, task, metric);
        let samples = time(warm_up, iterations, run).await?;
        latencies.push(Latency {
            backend,
            pair,
            path: "graphql",
            entries,
            samples,
        });
    }

    Ok(latencies)
}

/// Runs `query` `warm_up` times untimed, then `iterations` times timed.
async fn time<F, Fut>(warm_up: usize, iterations: usize, query: F) -> anyhow::Result<Vec<Duration>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    for _ in 0..warm_up {
        query().await?;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        query().await?;
        samples.push(started.elapsed());
    }

    Ok(samples)
}

/// Builds one board through the service: from the read model, or from the
/// facts as a board narrowed by `where` is (`from_facts`).
async fn service_entries(
    db: &DatabaseConnection,
    query: &LeaderboardQuery,
    from_facts: bool,
) -> anyhow::Result<usize> {
    let board = if from_facts {
        on_request(db, query).await
    } else {
        leaderboard(db, query).await
    };
    // The service error is deliberately not `Display`; its code and cause
    // are what a failed benchmark needs.
    let board = board.map_err(|error| {
        let (task, metric) = (&query.task, &query.metric);
        anyhow::anyhow!("the {task}/{metric} leaderboard failed: {error:?}")
    })?;
    Ok(board.entries.len())
}

/// Executes the leaderboard query as the server would, loaders included.
async fn graphql_entries(
    schema: &YardstickSchema,
    db: &DatabaseConnection,
    task: &str,
    metric: &str,
) -> anyhow::Result<usize> {
    let variables = serde_json::json!({ "task": task, "metric": metric });
    let request = Request::new(LEADERBOARD_QUERY)
        .variables(Variables::from_json(variables))
        .data(loaders(db.clone()));
    let response = schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        bail!(
            "the {task}/{metric} leaderboard query failed: {}",
            error.message
        );
    }
    let data = response
        .data
        .into_json()
        .context("while reading the GraphQL response")?;
    let entries = data["leaderboard"]["entries"]
        .as_array()
        .map_or(0, Vec::len);

    Ok(entries)
}

fn print_ingest(summaries: &[(&str, Summary)]) {
    println!("\nIngest of the real sample folder (fresh database, migrations excluded)\n");
    println!(
        "{:<9} {:>6} {:>7} {:>5} {:>8} {:>5} {:>7} {:>9} {:>8} {:>8} {:>7} {:>10}",
        "backend",
        "files",
        "stored",
        "dups",
        "skipped",
        "rej",
        "runs",
        "results",
        "elapsed_s",
        "files/s",
        "runs/s",
        "results/s"
    );
    for (backend, summary) in summaries {
        let seconds = summary.elapsed.as_secs_f64();
        let runs_per_second = if seconds > 0.0 {
            summary.runs as f64 / seconds
        } else {
            0.0
        };
        println!(
            "{:<9} {:>6} {:>7} {:>5} {:>8} {:>5} {:>7} {:>9} {:>8.2} {:>8.1} {:>7.1} {:>10.0}",
            backend,
            summary.files,
            summary.stored,
            summary.duplicates + summary.already_stored,
            summary.skipped,
            summary.rejected,
            summary.runs,
            summary.results,
            seconds,
            summary.files_per_second(),
            runs_per_second,
            summary.results_per_second(),
        );
    }
}

fn print_latencies(latencies: &[Latency], iterations: usize) {
    println!("\nLeaderboard latency, {iterations} timed queries each after a warm-up (ms)\n");
    println!(
        "{:<9} {:<20} {:<8} {:>7} {:>8} {:>8} {:>8}",
        "backend", "task/metric", "path", "entries", "p50", "p95", "max"
    );
    for latency in latencies {
        let mut samples = latency.samples.clone();
        samples.sort();
        println!(
            "{:<9} {:<20} {:<8} {:>7} {:>8.2} {:>8.2} {:>8.2}",
            latency.backend,
            latency.pair,
            latency.path,
            latency.entries,
            milliseconds(percentile(&samples, 50)),
            milliseconds(percentile(&samples, 95)),
            milliseconds(samples.last().copied().unwrap_or_default()),
        );
    }
}

/// Returns the nearest-rank percentile of sorted `samples`.
fn percentile(samples: &[Duration], percent: usize) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let rank = (samples.len() * percent).div_ceil(100).max(1);
    samples[rank - 1]
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
