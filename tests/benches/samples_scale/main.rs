//! How per-sample reads grow with the sample table: the web app's Samples
//! tab (a run's first page, its wrong answers, an input search), the
//! two-run comparison and a result's sample estimate, timed over GraphQL on
//! loopback at growing table sizes (by default 1M, 10M and 100M samples).
//!
//! One database grows in place: for each size the program records the runs
//! it lacks with `recordRuns` (10,000 samples each by default, about an
//! MMLU), writes their samples by `COPY` (see `fill.rs`), gathers the
//! planner's statistics, then times each probe from a client on its own
//! thread, every call on another run, and checks every answer against the
//! generator. Before a size it checks the disk: when the database's
//! filesystem cannot hold the rows to come (at the bytes per sample measured
//! so far), it stops there and says so. docs/BENCHMARKS.md has the figures.
//!
//! `cargo bench -p tests --bench samples_scale -- --sizes 1000000,10000000`

use std::time::Instant;

use anyhow::{Context, bail, ensure};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

// The HTTP client, server start-up and timing of the MLflow peer benchmark.
#[allow(dead_code)]
#[path = "../peer_mlflow/client.rs"]
mod client;
#[allow(dead_code)]
#[path = "../peer_mlflow/stats.rs"]
mod stats;

mod fill;
mod probes;

use client::Client;
use fill::{Generator, StoredRun};

/// Runs recorded per `recordRuns` request.
const RECORD_BATCH: usize = 200;
/// Bytes per sample assumed before any is stored (heap, key and item index).
const FIRST_GUESS_BYTES: f64 = 400.0;
/// Room kept free on the database's filesystem beyond the estimate.
const DISK_MARGIN: f64 = 1.25;

struct Args {
    sizes: Vec<u64>,
    samples_per_run: usize,
    seed: u64,
    warmup: usize,
    repeats: usize,
}

impl Args {
    fn parse(mut words: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut args = Self {
            sizes: vec![1_000_000, 10_000_000, 100_000_000],
            samples_per_run: 10_000,
            seed: 7,
            warmup: 3,
            repeats: 30,
        };
        while let Some(word) = words.next() {
            let mut value = || {
                words
                    .next()
                    .with_context(|| format!("{word} needs a value"))
            };
            match word.as_str() {
                "--sizes" => {
                    args.sizes = value()?
                        .split(',')
                        .map(|size| size.trim().replace('_', "").parse())
                        .collect::<Result<_, _>>()
                        .context("--sizes takes sample counts separated by commas")?;
                }
                "--samples-per-run" => args.samples_per_run = value()?.parse()?,
                "--seed" => args.seed = value()?.parse()?,
                "--warmup" => args.warmup = value()?.parse()?,
                "--repeats" => args.repeats = value()?.parse()?,
                // `cargo bench` passes this to every bench program.
                "--bench" => {}
                other => bail!(
                    "unknown argument `{other}`; expected --sizes, --samples-per-run, \
                     --seed, --warmup or --repeats"
                ),
            }
        }
        ensure!(
            (2..=1_000_000).contains(&args.samples_per_run),
            "--samples-per-run must be between 2 and 1,000,000"
        );
        ensure!(args.repeats > 0, "--repeats must be at least 1");
        ensure!(
            args.sizes.windows(2).all(|pair| pair[0] < pair[1]),
            "--sizes must grow"
        );
        ensure!(
            args.sizes
                .first()
                .is_some_and(|&first| first >= 2 * args.samples_per_run as u64),
            "the first size must hold at least two runs of --samples-per-run samples"
        );
        Ok(args)
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    let durable = tests::pg::request_durable_cluster();
    let runtime = tokio::runtime::Runtime::new()?;
    let server = runtime.block_on(client::start_server(None))?;
    let base = server.base.clone();
    let token = server.token.clone();
    let database_url = server.database_url.clone();
    // The client and the writer get a thread of their own, apart from the
    // server, which runs in this process too.
    let rows = std::thread::spawn(move || -> anyhow::Result<Vec<Value>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(grow_and_time(&args, &base, &token, &database_url))
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the client thread panicked"))??;
    drop(server);
    print_table(&rows, durable);
    Ok(())
}

/// Grows the table through every size and times the probes at each.
async fn grow_and_time(
    args: &Args,
    base: &str,
    token: &str,
    database_url: &str,
) -> anyhow::Result<Vec<Value>> {
    let client = Client::new(base, token);
    let db = sea_orm::Database::connect(database_url).await?;
    let generator = Generator::new(args.seed, args.samples_per_run);
    let mut runs: Vec<StoredRun> = Vec::new();
    let mut rows = Vec::new();
    for &size in &args.sizes {
        let wanted = (size / args.samples_per_run as u64) as usize;
        let stored = (runs.len() * args.samples_per_run) as u64;
        if let Some(refusal) =
            disk_refusal(&db, stored, wanted as u64 * args.samples_per_run as u64).await?
        {
            eprintln!("stopping before {size} samples: {refusal}");
            break;
        }
        let started = Instant::now();
        let new_runs = record_runs(&client, &db, &generator, runs.len()..wanted).await?;
        let record_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let written = write_with_progress(&db, &generator, &new_runs).await?;
        let copy_s = started.elapsed().as_secs_f64();
        runs.extend(new_runs);
        let started = Instant::now();
        db.execute_unprepared("ANALYZE sample").await?;
        let analyze_s = started.elapsed().as_secs_f64();
        let total = (runs.len() * args.samples_per_run) as u64;
        let bytes = sample_bytes(&db).await?;
        eprintln!(
            "[{total} samples] {} runs recorded in {record_s:.1} s, {written} samples \
             copied in {copy_s:.1} s ({:.0}/s), ANALYZE {analyze_s:.1} s, table and \
             indexes {:.2} GB",
            runs.len(),
            written as f64 / copy_s.max(1e-9),
            bytes / 1e9
        );
        let reports =
            probes::time_all(&client, &generator, &runs, args.warmup, args.repeats).await?;
        rows.push(json!({
            "samples": total,
            "runs": runs.len(),
            "gigabytes": bytes / 1e9,
            "copy_samples_per_s": written as f64 / copy_s.max(1e-9),
            "probes": reports,
        }));
    }
    db.close().await?;
    ensure!(!rows.is_empty(), "the disk could not hold the first size");
    Ok(rows)
}

/// Records the runs numbered `range` and returns them as stored.
async fn record_runs(
    client: &Client,
    db: &DatabaseConnection,
    generator: &Generator,
    range: std::ops::Range<usize>,
) -> anyhow::Result<Vec<StoredRun>> {
    const RECORD: &str = "mutation($runs: [RecordRunInput!]!) {
        recordRuns(runs: $runs) { stored runs { id } } }";
    let indexes: Vec<usize> = range.collect();
    let mut runs = Vec::with_capacity(indexes.len());
    for chunk in indexes.chunks(RECORD_BATCH) {
        let inputs: Vec<Value> = chunk.iter().map(|&r| generator.record_input(r)).collect();
        let data = client.admin(RECORD, json!({ "runs": inputs })).await?;
        let ids = data["recordRuns"]["runs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        ensure!(
            data["recordRuns"]["stored"] == json!(chunk.len()) && ids.len() == chunk.len(),
            "recordRuns stored {} of {} new runs",
            data["recordRuns"]["stored"],
            chunk.len()
        );
        for (&index, id) in chunk.iter().zip(&ids) {
            let id: uuid::Uuid = id["id"].as_str().unwrap_or_default().parse()?;
            runs.push(StoredRun {
                index,
                id,
                ingested_at: ingested_at(db, id).await?,
            });
        }
    }
    Ok(runs)
}

async fn ingested_at(
    db: &DatabaseConnection,
    id: uuid::Uuid,
) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT ingested_at FROM run WHERE id = $1",
        [id.into()],
    );
    let row = db
        .query_one_raw(statement)
        .await?
        .with_context(|| format!("run {id} was recorded but is not stored"))?;
    Ok(row.try_get_by_index(0)?)
}

/// Writes the samples of `runs` a hundred runs at a time, printing progress.
async fn write_with_progress(
    db: &DatabaseConnection,
    generator: &Generator,
    runs: &[StoredRun],
) -> anyhow::Result<u64> {
    let started = Instant::now();
    let mut written = 0u64;
    let mut reported = 0.0;
    for group in runs.chunks(100) {
        written += fill::write_samples(db, generator, group).await?;
        let elapsed = started.elapsed().as_secs_f64();
        if elapsed - reported >= 30.0 {
            eprintln!(
                "  {written} of {} samples written, {:.0}/s",
                runs.len() * generator.samples_per_run,
                written as f64 / elapsed
            );
            reported = elapsed;
        }
    }
    Ok(written)
}

/// Bytes the sample table's partitions and their indexes take.
async fn sample_bytes(db: &DatabaseConnection) -> anyhow::Result<f64> {
    let statement = Statement::from_string(
        db.get_database_backend(),
        "SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)::float8 \
         FROM pg_inherits WHERE inhparent = 'sample'::regclass",
    );
    let row = db.query_one_raw(statement).await?.context("no size")?;
    Ok(row.try_get_by_index(0)?)
}

/// Says why the database's disk cannot grow from `stored` to `wanted`
/// samples, or `None` when it can.
async fn disk_refusal(
    db: &DatabaseConnection,
    stored: u64,
    wanted: u64,
) -> anyhow::Result<Option<String>> {
    let per_sample = if stored == 0 {
        FIRST_GUESS_BYTES
    } else {
        sample_bytes(db).await? / stored as f64
    };
    let statement = Statement::from_string(db.get_database_backend(), "SHOW data_directory");
    let row = db
        .query_one_raw(statement)
        .await?
        .context("no data directory")?;
    let directory: String = row.try_get_by_index(0)?;
    let free = free_bytes(&directory)?;
    let needed = wanted.saturating_sub(stored) as f64 * per_sample * DISK_MARGIN;
    Ok((needed > free).then(|| {
        format!(
            "about {:.1} GB more are needed ({per_sample:.0} bytes a sample, with a margin) \
             and the database's filesystem has {:.1} GB free",
            needed / 1e9,
            free / 1e9
        )
    }))
}

/// Free bytes on the filesystem holding `path`, as `df` reports them.
fn free_bytes(path: &str) -> anyhow::Result<f64> {
    let output = std::process::Command::new("df")
        .args(["-Pk", path])
        .output()
        .context("while running df")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let kib: f64 = text
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|field| field.parse().ok())
        .with_context(|| format!("df printed no free space for {path}: {text}"))?;
    Ok(kib * 1024.0)
}

fn print_table(rows: &[Value], durable: bool) {
    let commits = if durable {
        "durable"
    } else {
        "fast (no fsync)"
    };
    eprintln!("\nPer-sample reads over HTTP, {commits} commits; ms: median / p95 (server median)");
    let mut header = format!("{:>12} {:>6} {:>8}", "samples", "GB", "COPY/s");
    for name in probes::NAMES {
        header.push_str(&format!(" | {name:>24}"));
    }
    eprintln!("{header}");
    for row in rows {
        let mut line = format!(
            "{:>12} {:>6.1} {:>8.0}",
            row["samples"],
            row["gigabytes"].as_f64().unwrap_or(f64::NAN),
            row["copy_samples_per_s"].as_f64().unwrap_or(f64::NAN)
        );
        for probe in row["probes"].as_array().into_iter().flatten() {
            let ms = |field: &str| probe[field].as_f64().unwrap_or(f64::NAN);
            line.push_str(&format!(
                " | {:>7.2} / {:>6.2} ({:>6.2})",
                ms("median_ms"),
                ms("p95_ms"),
                ms("server_median_ms")
            ));
        }
        eprintln!("{line}");
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        let ratios: Vec<String> = probes::NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let median = |row: &Value| row["probes"][i]["median_ms"].as_f64().unwrap_or(0.0);
                format!("{name} {:.2}×", median(last) / median(first).max(1e-9))
            })
            .collect();
        eprintln!(
            "median at {} samples / at {}: {}",
            last["samples"],
            first["samples"],
            ratios.join(", ")
        );
    }
    println!("{}", json!(rows));
}
