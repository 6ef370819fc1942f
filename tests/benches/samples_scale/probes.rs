//! The timed per-sample reads, each answer checked against the generator:
//! what the web app's Samples tab, its compare view and a result's sample
//! estimate ask the API for.

use anyhow::{bail, ensure};
use serde_json::{Value, json};

use crate::client::Client;
use crate::fill::{Generator, METRIC, StoredRun};
use crate::stats::Stats;

/// Rows a samples page asks for, as the web app does.
const PAGE: usize = 50;
/// The input search: items whose second addend is 7 (about one in a
/// thousand), found by scanning the run's inputs.
const SEARCH: &str = "plus 7?";

const FIRST_PAGE: &str = "query($id: UUID!, $first: Int!) { run(id: $id) {
    samples(first: $first) { totalCount nodes { sampleNo docId correct } } } }";
const WRONG_PAGE: &str = "query($id: UUID!, $first: Int!) { run(id: $id) {
    samples(first: $first, where: { correct: false }) { totalCount nodes { sampleNo } } } }";
const SEARCHED: &str = "query($id: UUID!, $first: Int!, $search: String!) { run(id: $id) {
    samples(first: $first, where: { search: $search }) { totalCount nodes { sampleNo } } } }";
const COMPARED: &str = "query($first: UUID!, $second: UUID!) {
    compareSamples(first: $first, second: $second) {
        shared onlyInFirst onlyInSecond bothCorrect bothWrong differenceCount
        mcnemar { onlyFirstCorrect onlySecondCorrect exactP } } }";
const ESTIMATED: &str = "query($id: UUID!) { run(id: $id) {
    results { value metric { name } sampleEstimate { n excluded mean ci95 { low high } } } } }";

/// The probes by name, in the order they are timed and printed.
pub const NAMES: [&str; 5] = [
    "S1 first page",
    "S2 wrong answers",
    "S3 input search",
    "S4 compare two runs",
    "S5 sample estimate",
];

/// Times every probe `warmup + repeats` times, each call on another run
/// (spread over the whole table, so no single run's pages stay hot), and
/// returns one report per probe.
pub async fn time_all(
    client: &Client,
    generator: &Generator,
    runs: &[StoredRun],
    warmup: usize,
    repeats: usize,
) -> anyhow::Result<Vec<Value>> {
    let mut reports = Vec::new();
    for (probe, name) in NAMES.iter().enumerate() {
        let mut stats = Stats::new(name, warmup);
        client.take_server_ms();
        for call in 0..warmup + repeats {
            let run = &runs[spread(call + probe * 131, runs.len())];
            let other = &runs[spread(call + probe * 131 + 1, runs.len())];
            let started = stats.start();
            let answer = ask(client, probe, run, other).await?;
            stats.stop(started, client.take_server_ms());
            check(generator, probe, run, other, &answer)?;
        }
        reports.push(stats.report(json!({ "probe": name })));
    }
    Ok(reports)
}

/// The `call`-th run of `count`, visiting them in a scattered order.
fn spread(call: usize, count: usize) -> usize {
    (call.wrapping_mul(7919) + call / count) % count
}

async fn ask(
    client: &Client,
    probe: usize,
    run: &StoredRun,
    other: &StoredRun,
) -> anyhow::Result<Value> {
    let id = run.id.to_string();
    match probe {
        0 => {
            client
                .read(FIRST_PAGE, json!({ "id": id, "first": PAGE }))
                .await
        }
        1 => {
            client
                .read(WRONG_PAGE, json!({ "id": id, "first": PAGE }))
                .await
        }
        2 => {
            let variables = json!({ "id": id, "first": PAGE, "search": SEARCH });
            client.read(SEARCHED, variables).await
        }
        3 => {
            let variables = json!({ "first": id, "second": other.id.to_string() });
            client.read(COMPARED, variables).await
        }
        _ => client.read(ESTIMATED, json!({ "id": id })).await,
    }
}

/// Fails unless `answer` is what the generator wrote for `run` (and `other`).
fn check(
    generator: &Generator,
    probe: usize,
    run: &StoredRun,
    other: &StoredRun,
    answer: &Value,
) -> anyhow::Result<()> {
    let n = generator.samples_per_run;
    let r = run.index;
    match probe {
        0 => {
            let page = &answer["run"]["samples"];
            let expected: Vec<Value> = (0..PAGE.min(n))
                .map(|no| {
                    let correct = generator.correct(r, no);
                    json!({ "sampleNo": no, "docId": no, "correct": correct })
                })
                .collect();
            ensure!(
                page["totalCount"] == json!(n),
                "S1 run {r}: {}",
                page["totalCount"]
            );
            ensure!(
                page["nodes"] == json!(expected),
                "S1 run {r}: wrong first page"
            );
        }
        1 => {
            let wrong: Vec<usize> = (0..n).filter(|&no| !generator.correct(r, no)).collect();
            let page = &answer["run"]["samples"];
            ensure!(
                page["totalCount"] == json!(wrong.len()),
                "S2 run {r}: wrong count"
            );
            ensure!(
                sample_numbers(page) == wrong[..PAGE.min(wrong.len())],
                "S2 run {r}: not the first wrong answers"
            );
        }
        2 => {
            let found: Vec<usize> = generator
                .items()
                .iter()
                .enumerate()
                .filter(|(_, item)| item.input().contains(SEARCH))
                .map(|(no, _)| no)
                .collect();
            let page = &answer["run"]["samples"];
            ensure!(
                page["totalCount"] == json!(found.len()),
                "S3 run {r}: wrong count"
            );
            ensure!(
                sample_numbers(page) == found[..PAGE.min(found.len())],
                "S3 run {r}: not the matching items"
            );
        }
        3 => check_comparison(generator, run, other, &answer["compareSamples"])?,
        _ => {
            let results = answer["run"]["results"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(result) = results.iter().find(|r| r["metric"]["name"] == METRIC) else {
                bail!("S5 run {r}: no {METRIC} result");
            };
            let estimate = &result["sampleEstimate"];
            let mean = estimate["mean"].as_f64().unwrap_or(f64::NAN);
            let value = result["value"].as_f64().unwrap_or(f64::NAN);
            ensure!(estimate["n"] == json!(n), "S5 run {r}: n {}", estimate["n"]);
            ensure!(
                (mean - value).abs() < 1e-12,
                "S5 run {r}: mean {mean} ≠ value {value}"
            );
        }
    }
    Ok(())
}

fn check_comparison(
    generator: &Generator,
    run: &StoredRun,
    other: &StoredRun,
    answer: &Value,
) -> anyhow::Result<()> {
    let (mut both_right, mut both_wrong, mut first_only, mut second_only) = (0, 0, 0, 0);
    for item in 0..generator.samples_per_run {
        match (
            generator.correct(run.index, item),
            generator.correct(other.index, item),
        ) {
            (true, true) => both_right += 1,
            (false, false) => both_wrong += 1,
            (true, false) => first_only += 1,
            (false, true) => second_only += 1,
        }
    }
    let expected = json!({
        "shared": generator.samples_per_run,
        "onlyInFirst": 0,
        "onlyInSecond": 0,
        "bothCorrect": both_right,
        "bothWrong": both_wrong,
        "differenceCount": first_only + second_only,
    });
    for (field, value) in expected.as_object().into_iter().flatten() {
        ensure!(
            &answer[field] == value,
            "S4 runs {} and {}: {field} {} ≠ {value}",
            run.index,
            other.index,
            answer[field]
        );
    }
    let mcnemar = &answer["mcnemar"];
    ensure!(
        mcnemar["onlyFirstCorrect"] == json!(first_only)
            && mcnemar["onlySecondCorrect"] == json!(second_only),
        "S4 runs {} and {}: McNemar counts {mcnemar}",
        run.index,
        other.index
    );
    Ok(())
}

fn sample_numbers(page: &Value) -> Vec<usize> {
    page["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|node| node["sampleNo"].as_u64())
        .map(|no| no as usize)
        .collect()
}
