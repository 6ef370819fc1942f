//! Yardstick's side of the MLflow peer benchmark: the same seeded workload,
//! the same four queries, timed the same way, but against Yardstick's
//! GraphQL API over HTTP on loopback.
//!
//! The program starts Yardstick in process on a fresh database of the
//! private PostgreSQL cluster (durable commits unless `--fast-pg`), records
//! the workload with `recordRuns` as an admin (Phase A), gathers the
//! planner's statistics (`ANALYZE`, untimed, unless `--no-analyze`), then
//! times Q1 to Q4 from a client on its own thread (Phase B) and checks every
//! answer against the generator. With `--peer FILE` (the MLflow summary
//! `peer_mlflow.py` writes) it prints the ratios. With `--load-seconds S`
//! it then puts `--load-clients` (200) concurrent clients on the server for
//! S seconds through `wrk` and prints throughput, latency and errors.
//! docs/BENCHMARKS.md has the commands and the figures.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tests::workload::{self, Answers, PROJECTS, Workload, record_input};

mod client;
mod load;
mod stats;

use client::Client;
use stats::{Stats, cpu_seconds};

const USAGE: &str = "usage: peer_mlflow [--models M] [--tasks T] [--seed S] [--repeats N]
    [--agg-repeats N] [--warmup N] [--batch RUNS] [--page-size N] [--fast-pg] [--no-analyze]
    [--peer MLFLOW_SUMMARY.json] [--out FILE] [--load-seconds S] [--load-clients N]
    [--database-url URL] [--only q1,q3,...]";

/// What the command line asks for; the defaults are the peer's.
#[derive(Debug, Clone)]
struct Args {
    models: usize,
    tasks: usize,
    seed: u64,
    repeats: usize,
    agg_repeats: usize,
    warmup: usize,
    /// Runs per `recordRuns` request; one model's runs (T) by default.
    batch: Option<usize>,
    page_size: usize,
    fast_pg: bool,
    /// Skips gathering the planner's statistics between the phases.
    no_analyze: bool,
    peer: Option<PathBuf>,
    out: Option<PathBuf>,
    /// Seconds of the concurrent load run after Phase B; 0 skips it.
    load_seconds: u64,
    load_clients: usize,
    /// A database to serve instead of a fresh one of the private cluster;
    /// when it already holds this workload's runs, Phase A is skipped, so
    /// the queries of a large size can be timed again without re-recording.
    database_url: Option<String>,
    /// The queries to time (`q1` .. `q4`); all when empty.
    only: Vec<String>,
}

impl Args {
    /// Whether `query` is to be timed.
    fn wants(&self, query: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|q| q == query)
    }

    fn parse(mut words: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut args = Self {
            models: 200,
            tasks: 60,
            seed: 42,
            repeats: 20,
            agg_repeats: 5,
            warmup: 2,
            batch: None,
            page_size: 1000,
            fast_pg: false,
            no_analyze: false,
            peer: None,
            out: None,
            load_seconds: 0,
            load_clients: 200,
            database_url: None,
            only: Vec::new(),
        };
        while let Some(word) = words.next() {
            let mut value = || {
                words
                    .next()
                    .with_context(|| format!("{word} needs a value"))
            };
            match word.as_str() {
                "--models" => args.models = value()?.parse()?,
                "--tasks" => args.tasks = value()?.parse()?,
                "--seed" => args.seed = value()?.parse()?,
                "--repeats" => args.repeats = value()?.parse()?,
                "--agg-repeats" => args.agg_repeats = value()?.parse()?,
                "--warmup" => args.warmup = value()?.parse()?,
                "--batch" => args.batch = Some(value()?.parse()?),
                "--page-size" => args.page_size = value()?.parse()?,
                "--peer" => args.peer = Some(value()?.into()),
                "--out" => args.out = Some(value()?.into()),
                "--load-seconds" => args.load_seconds = value()?.parse()?,
                "--load-clients" => args.load_clients = value()?.parse()?,
                "--database-url" => args.database_url = Some(value()?),
                "--only" => {
                    args.only = value()?.split(',').map(str::to_string).collect();
                    if let Some(bad) = args
                        .only
                        .iter()
                        .find(|q| !["q1", "q2", "q3", "q4"].contains(&q.as_str()))
                    {
                        bail!("--only takes q1, q2, q3 and q4, not `{bad}`");
                    }
                }
                "--fast-pg" => args.fast_pg = true,
                "--no-analyze" => args.no_analyze = true,
                // `cargo bench` passes `--bench` to every benchmark binary.
                "--bench" => {}
                other => bail!("unknown argument `{other}`\n{USAGE}"),
            }
        }
        if args.repeats == 0 || args.agg_repeats == 0 || args.batch == Some(0) {
            bail!("--repeats, --agg-repeats and --batch must be at least 1");
        }
        Ok(args)
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    let started = Instant::now();
    let workload = Arc::new(
        workload::generate(args.seed, args.models, args.tasks)
            .context("--models and --tasks must be in 1 .. 2^24-1")?,
    );
    let sha256 = workload.sha256();
    let generate_s = started.elapsed().as_secs_f64();
    match workload.published_sha256() {
        Some(published) if published != sha256 => {
            bail!("workload_sha256 {sha256} differs from the published {published}")
        }
        Some(_) => eprintln!("workload_sha256 {sha256} matches the published value"),
        None => eprintln!("workload_sha256 {sha256} (no published value for this size)"),
    }
    let durable = !args.fast_pg && tests::pg::request_durable_cluster();

    let runtime = tokio::runtime::Runtime::new()?;
    let server = runtime.block_on(client::start_server(args.database_url.as_deref()))?;
    let base = server.base.clone();
    let token = server.token.clone();
    let database_url = server.database_url.clone();
    let client_args = args.clone();
    let client_workload = Arc::clone(&workload);
    // The client gets a thread of its own, so its CPU time is measurable
    // apart from the server's, which runs in this process too.
    let client = std::thread::spawn(move || -> anyhow::Result<Value> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let target = Target {
            base: &base,
            token: &token,
            database_url: &database_url,
        };
        runtime.block_on(run_client(&client_args, &client_workload, &target))
    });
    let outcome = client
        .join()
        .map_err(|_| anyhow::anyhow!("the client thread panicked"))??;
    let load = if args.load_seconds > 0 {
        let plan = load::LoadPlan {
            seconds: args.load_seconds,
            clients: args.load_clients,
        };
        load::run(&plan, &server.base, &workload)?
    } else {
        Value::Null
    };
    drop(server);

    let mut summary = summary(&args, &sha256, generate_s, durable, outcome);
    let load_failed = load["errors"].as_f64().is_some_and(|errors| errors > 0.0);
    summary["load_clients"] = json!(args.load_clients);
    summary["load_run"] = load;
    let text = serde_json::to_string_pretty(&summary)?;
    println!("{text}");
    if let Some(out) = &args.out {
        std::fs::write(out, format!("{text}\n"))
            .with_context(|| format!("while writing {}", out.display()))?;
    }
    print_table(&summary);
    if let Some(peer) = &args.peer {
        let peer: Value = serde_json::from_str(
            &std::fs::read_to_string(peer)
                .with_context(|| format!("while reading {}", peer.display()))?,
        )?;
        print_ratios(&summary, &peer)?;
    }
    if summary["validation"]["ok"] != json!(true) || load_failed {
        std::process::exit(2);
    }
    Ok(())
}

/// Where the client sends its requests.
struct Target<'a> {
    base: &'a str,
    token: &'a str,
    database_url: &'a str,
}

/// Runs both phases from the client thread and returns their reports.
async fn run_client(
    args: &Args,
    workload: &Workload,
    target: &Target<'_>,
) -> anyhow::Result<Value> {
    let client = Client::new(target.base, target.token);
    // Untimed, as the peer's 20 search_experiments: connections opened, the
    // admin token verified once (later requests hit the server's memo).
    for _ in 0..20 {
        client.admin("{ viewer { signedIn } }", json!({})).await?;
    }
    let load_before = stats::loadavg();
    let present = client::stored_runs(target.database_url).await?;
    let phase_a = if present == 0 {
        ingest(args, workload, &client).await?
    } else if present == workload.runs.len() as u64 {
        eprintln!("[A] skipped: the database already holds the workload's {present} runs");
        json!({ "skipped": true, "runs_present": present })
    } else {
        bail!(
            "the database holds {present} runs, not this workload's {}",
            workload.runs.len()
        );
    };
    // Not timed: the peer's ingest runs for minutes, long enough for
    // autovacuum to gather statistics; ours ends before its first round.
    let analyze_s = if args.no_analyze {
        None
    } else {
        Some(round3(client::analyze(target.database_url).await?))
    };
    let ranking_s = round3(client::wait_for_rankings(&client).await?);
    eprintln!("[ranking] every board ranked {ranking_s} s after the writes and ANALYZE");
    let answers = workload.answers();
    let mut errors = Vec::new();
    let phase_b = queries(args, workload, &answers, &client, &mut errors).await?;
    Ok(json!({
        "load_before": load_before,
        "analyze_s": analyze_s,
        "ranking_s": ranking_s,
        "phase_a": phase_a,
        "phase_b": phase_b,
        "errors": errors,
    }))
}

/// Phase A: every run through `recordRuns`, in m-major order.
async fn ingest(args: &Args, workload: &Workload, client: &Client) -> anyhow::Result<Value> {
    const RECORD: &str = "mutation($runs: [RecordRunInput!]!) {
        recordRuns(runs: $runs) { stored alreadyStored results } }";
    let runs = &workload.runs;
    let batch = args.batch.unwrap_or(args.tasks);
    let tenth = (runs.len() / 10).max(1);
    let mut progress = Vec::new();
    let (mut done, mut requests, mut next_mark) = (0, 0, tenth);
    eprintln!("[A] recording {} runs, {batch} per request ...", runs.len());
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    for chunk in runs.chunks(batch) {
        let inputs: Vec<Value> = chunk.iter().map(record_input).collect();
        let data = client.admin(RECORD, json!({ "runs": inputs })).await?;
        let stored = data["recordRuns"]["stored"].as_u64().unwrap_or(0);
        if stored != chunk.len() as u64 {
            bail!(
                "a request stored {stored} of {} new runs: {data}",
                chunk.len()
            );
        }
        done += chunk.len();
        requests += 1;
        while done >= next_mark {
            let elapsed = started.elapsed().as_secs_f64();
            progress.push(json!([done, round3(elapsed)]));
            eprintln!("[A]   {done}/{} runs, {elapsed:.2} s", runs.len());
            next_mark += tenth;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let client_cpu = cpu_seconds() - cpu_before;
    let total: u64 = client.read("{ runs { totalCount } }", json!({})).await?["runs"]["totalCount"]
        .as_u64()
        .unwrap_or(0);
    if total != runs.len() as u64 {
        bail!("{total} runs stored, {} sent", runs.len());
    }
    let rate = |count: usize| round2(count as f64 / seconds);
    let mut report = json!({
        "seconds": round3(seconds),
        "runs_per_s": rate(runs.len()),
        "metric_values_per_s": rate(runs.len() * 5),
        "all_values_per_s": rate(runs.len() * 13),
        "http_requests": requests,
        "requests_per_s": rate(requests),
        "runs_per_request": batch,
        "client_cpu_s": round3(client_cpu),
        "calls_per_run": "recordRuns, one request per batch of runs",
        "progress_runs_seconds": progress,
    });
    if let (Some(first), Some(last)) = (progress.first(), progress.last())
        && progress.len() >= 3
    {
        let at = |point: &Value, i: usize| point[i].as_f64().unwrap_or(0.0);
        let steady = (at(last, 0) - at(first, 0)) / (at(last, 1) - at(first, 1));
        report["steady_runs_per_s_after_first_tenth"] = json!(round2(steady));
    }
    eprintln!("[A] {} runs/s", report["runs_per_s"]);
    Ok(report)
}

/// Phase B: Q1 to Q4, each `warmup` untimed then `repeats` timed calls.
async fn queries(
    args: &Args,
    workload: &Workload,
    answers: &Answers,
    client: &Client,
    errors: &mut Vec<String>,
) -> anyhow::Result<Value> {
    let mut report = serde_json::Map::new();
    let (warmup, repeats, agg) = (args.warmup, args.repeats, args.agg_repeats);
    // Phase A's responses are not a query's.
    client.take_server_ms();
    if args.wants("q1") {
        let mut timings = Stats::new("q1", warmup);
        for k in 0..warmup + repeats {
            let task = &workload.tasks[k % workload.tasks.len()].name;
            let started = timings.start();
            let got = client::top20(client, task).await?;
            timings.stop(started, client.take_server_ms());
            if got != answers.top20[task] {
                errors.push(format!(
                    "q1 k={k} task={task}: got {:?}",
                    &got[..got.len().min(3)]
                ));
            }
        }
        report.insert("q1_leaderboard_top20".into(), timings.report(json!({})));
    }

    if args.wants("q2") {
        let (lo, hi) = workload.window_ms();
        let mut timings = Stats::new("q2", warmup);
        let mut last = json!({});
        for k in 0..warmup + repeats {
            let project = PROJECTS[k % PROJECTS.len()];
            let started = timings.start();
            let (runs, pages) = client::window(client, project, lo, hi, args.page_size).await?;
            timings.stop(started, client.take_server_ms());
            let want = answers.q2_count[project];
            if runs.len() != want || !runs.iter().all(|r| r.in_window(project, lo, hi)) {
                errors.push(format!("q2 k={k}: got {} runs, want {want}", runs.len()));
            }
            last = json!({ "rows_last": runs.len(), "pages_last": pages });
        }
        report.insert("q2_project_and_time_range".into(), timings.report(last));
    }

    if args.wants("q3") {
        let mut timings = Stats::new("q3", warmup);
        let mut last = json!({});
        for k in 0..warmup + repeats {
            let model = &workload.models[k % workload.models.len()].name;
            let started = timings.start();
            let (accs, pages) = client::model_runs(client, model, args.page_size).await?;
            timings.stop(started, client.take_server_ms());
            if accs != answers.acc_by_model[model] {
                errors.push(format!(
                    "q3 k={k} model={model}: {} tasks differ",
                    accs.len()
                ));
            }
            last = json!({ "rows_last": accs.len(), "pages_last": pages });
        }
        report.insert("q3_one_model_all_tasks".into(), timings.report(last));
    }

    if args.wants("q4") {
        let tasks: Vec<&str> = workload.tasks.iter().map(|t| t.name.as_str()).collect();
        let mut timings = Stats::new("q4", warmup);
        for k in 0..warmup + agg {
            let started = timings.start();
            let means = client::mean_acc(client, &tasks).await?;
            timings.stop(started, client.take_server_ms());
            let bad = answers
                .mean_acc
                .iter()
                .filter(|(model, want)| {
                    means
                        .get(*model)
                        .is_none_or(|got| (got - *want).abs() > 1e-9)
                })
                .count();
            if bad > 0 || means.len() != answers.mean_acc.len() {
                errors.push(format!("q4 k={k}: {bad} of {} means differ", means.len()));
            }
        }
        let last = json!({ "rows_last": workload.models.len(), "server_side": true });
        report.insert("q4_mean_acc_per_model".into(), timings.report(last));
    }

    Ok(Value::Object(report))
}

fn summary(args: &Args, sha256: &str, generate_s: f64, durable: bool, outcome: Value) -> Value {
    let errors = outcome["errors"].as_array().cloned().unwrap_or_default();
    let backend = if durable {
        "postgres (private cluster, fsync and synchronous_commit on)"
    } else {
        "postgres (private cluster, fsync and synchronous_commit off)"
    };
    json!({
        "system": "yardstick",
        "yardstick_version": env!("CARGO_PKG_VERSION"),
        "backend": backend,
        "transport": "GraphQL over HTTP/1.1 on 127.0.0.1, one client thread",
        "host": {
            "cpus": std::thread::available_parallelism().map_or(0, usize::from),
            "loadavg_before_ingest": outcome["load_before"],
            "loadavg_end": stats::loadavg(),
        },
        "workload": {
            "seed": args.seed,
            "models": args.models,
            "tasks": args.tasks,
            "runs": args.models * args.tasks,
            "metrics_per_run": 5,
            "workload_sha256": sha256,
            "generate_s": round3(generate_s),
        },
        "phase_a_ingest": outcome["phase_a"],
        "analyze_between_phases_s": outcome["analyze_s"],
        "boards_ranked_after_s": outcome["ranking_s"],
        "phase_b_queries": outcome["phase_b"],
        "query_params": {
            "warmup": args.warmup,
            "repeats": args.repeats,
            "agg_repeats": args.agg_repeats,
            "page_size": args.page_size,
        },
        "validation": {
            "ok": errors.is_empty(),
            "n_errors": errors.len(),
            "errors": errors.iter().take(20).collect::<Vec<_>>(),
        },
    })
}

const QUERIES: [(&str, &str); 4] = [
    ("Q1 top 20", "q1_leaderboard_top20"),
    ("Q2 project + window", "q2_project_and_time_range"),
    ("Q3 one model", "q3_one_model_all_tasks"),
    ("Q4 mean acc per model", "q4_mean_acc_per_model"),
];

fn print_table(summary: &Value) {
    let a = &summary["phase_a_ingest"];
    eprintln!(
        "\nPhase A: {} runs in {} s: {} runs/s, {} metric values/s, {} requests/s \
         ({} runs per request), client CPU {} s",
        summary["workload"]["runs"],
        a["seconds"],
        a["runs_per_s"],
        a["metric_values_per_s"],
        a["requests_per_s"],
        a["runs_per_request"],
        a["client_cpu_s"],
    );
    eprintln!(
        "Boards ranked by the server {} s after the writes (not part of the ingest rate)",
        summary["boards_ranked_after_s"]
    );
    eprintln!("\nPhase B (ms)        median      p95      min      max   server median      p95");
    for (label, key) in QUERIES {
        let q = &summary["phase_b_queries"][key];
        let ms = |field: &str| q[field].as_f64().unwrap_or(f64::NAN);
        eprintln!(
            "{label:<22} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>15.2} {:>8.2}",
            ms("median_ms"),
            ms("p95_ms"),
            ms("min_ms"),
            ms("max_ms"),
            ms("server_median_ms"),
            ms("server_p95_ms")
        );
    }
    let load = &summary["load_run"];
    if !load.is_null() {
        eprintln!(
            "\nLoad run: {} clients for {} s: {} requests/s, p50 {} ms, p99 {} ms, \
             max {} ms, errors {}",
            summary["load_clients"],
            load["seconds"],
            load["requests_per_s"],
            load["p50_ms"],
            load["p99_ms"],
            load["max_ms"],
            load["errors"],
        );
    }
}

/// Prints how many times faster Yardstick was than the peer's summary.
fn print_ratios(ours: &Value, peer: &Value) -> anyhow::Result<()> {
    if peer["workload"]["workload_sha256"] != ours["workload"]["workload_sha256"] {
        bail!("the peer summary is of another workload");
    }
    let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let ingest = number(&ours["phase_a_ingest"]["runs_per_s"])
        / number(&peer["phase_a_ingest"]["runs_per_s"]);
    eprintln!("\nYardstick vs MLflow {}:", peer["mlflow_version"]);
    eprintln!("  ingest runs/s            {ingest:>10.1}x");
    let peer_keys = [
        "q1_leaderboard_top20",
        "q2_project_and_time_range",
        "q3_one_model_all_tasks",
        "q4_mean_acc_per_model_client_side",
    ];
    for ((label, ours_key), peer_key) in QUERIES.iter().zip(peer_keys) {
        let ratio = number(&peer["phase_b_queries"][peer_key]["median_ms"])
            / number(&ours["phase_b_queries"][ours_key]["median_ms"]);
        eprintln!("  {label:<24} {ratio:>10.1}x  (p50, peer / ours)");
    }
    let paged = &peer["phase_b_queries"]["q4_mean_acc_per_model_client_side_page50000"];
    if !paged.is_null() {
        let ratio = number(&paged["median_ms"])
            / number(&ours["phase_b_queries"]["q4_mean_acc_per_model"]["median_ms"]);
        eprintln!("  Q4 vs one 50,000-run page {ratio:>9.1}x");
    }
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
