//! Per-sample results from the real lm-eval sample logs, on PostgreSQL (COPY
//! into monthly partitions) and SQLite: exact counts and values, filters,
//! idempotency, the link to dataset items by content hash, a two-run
//! per-item comparison with McNemar's test, and a broken line that stores
//! nothing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use backend::ingest::batch::Outcome;
use backend::service::dataset::items::{ItemFormat, read_items};
use backend::service::dataset::{self, NewDataset, version};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tests::pg;

use super::support::{count, data, graphql, ingest, options};

const ASDIV: &str =
    "lm-eval-harness-v0.4-samples/pr2236-asdiv/meta-llama__Meta-Llama-3-8B-Instruct";
const ASDIV_SAMPLES: &str = "samples_asdiv_2024-08-21T03-44-09.494230.jsonl";
const ASDIV_RESULTS: &str = "results_2024-08-21T03-44-09.494230.json";

static COPIES: AtomicUsize = AtomicUsize::new(0);

/// Copies the asdiv run folder to a new temporary folder, passing each file
/// through `edit` (file name, bytes) → new bytes.
fn copy_asdiv(edit: impl Fn(&str, Vec<u8>) -> Vec<u8>) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "yardstick-samples-{}-{}",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    for name in [ASDIV_RESULTS, ASDIV_SAMPLES] {
        let bytes = std::fs::read(pg::data_dir().join(ASDIV).join(name))?;
        std::fs::write(dir.join(name), edit(name, bytes))?;
    }
    Ok(dir)
}

async fn postgres() -> anyhow::Result<DatabaseConnection> {
    let database = pg::fresh_database().await?;
    Ok(backend::db::connect_and_migrate(&database.url).await?)
}

async fn run_of(db: &DatabaseConnection, model: &str, task: &str) -> String {
    let query = format!(
        r#"{{ runs(where: {{model: "{model}", task: "{task}"}}) {{
            nodes {{ id source {{ path }} }} }} }}"#
    );
    data(db, &query).await["runs"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn real_sample_logs_are_stored_with_exact_values() -> anyhow::Result<()> {
    let db = postgres().await?;
    let folder = pg::data_dir().join("lm-eval-harness-v0.4-samples");
    let (summary, recorder) = ingest(&db, std::slice::from_ref(&folder), &options()).await?;
    assert_eq!(summary.samples, 74, "50 asdiv + 24 polymer samples");
    assert!(matches!(
        recorder.outcome_of(ASDIV_SAMPLES),
        Some(Outcome::Stored(stored)) if stored.samples == 50
    ));
    let orphan = recorder.outcome_of("samples_truthfulqa_gen_2025-05-31T14-30-51.983293.jsonl");
    let skipped_alone = matches!(
        &orphan,
        Some(Outcome::Skipped { reason }) if reason.contains("without its results file")
    );
    assert!(skipped_alone, "{orphan:?}");
    assert_eq!(count(&db, "SELECT count(*) FROM sample").await, 74);
    assert_eq!(
        count(&db, "SELECT count(*) FROM sample_default").await,
        0,
        "a month was missing"
    );
    let monthly = count(
        &db,
        "SELECT count(*) FROM sample WHERE tableoid::regclass::text = \
         'sample_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')",
    )
    .await;
    assert_eq!(monthly, 74, "samples are not in this month's partition");

    let run = run_of(&db, "meta-llama/Meta-Llama-3-8B-Instruct", "asdiv").await;
    let page = data(
        &db,
        &format!(
            r#"{{ run(id: "{run}") {{ all: samples(first: 2) {{ totalCount nodes {{ sampleNo docId
            target correct score scoreKind scores filter }} }}
            wrong: samples(where: {{correct: false}}) {{ totalCount nodes {{ docId }} }}
            found: samples(where: {{search: "SEVEN red apples"}}) {{ totalCount nodes {{ docId }} }}
            high: samples(where: {{minScore: 0.5}}) {{ totalCount }} }} }}"#
        ),
    )
    .await;
    let samples = &page["run"];
    assert_eq!(samples["all"]["totalCount"], 50);
    assert_eq!(
        samples["all"]["nodes"][0],
        json!({"sampleNo": 0, "docId": 0, "target": "9", "correct": true, "score": 1.0,
               "scoreKind": "FINITE", "scores": {"acc": 1}, "filter": "none"})
    );
    assert_eq!(samples["wrong"]["totalCount"], 4);
    let wrong: Vec<&Value> = samples["wrong"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| &n["docId"])
        .collect();
    assert_eq!(wrong, [&json!(30), &json!(31), &json!(36), &json!(38)]);
    assert_eq!(samples["found"]["nodes"], json!([{"docId": 0}]));
    // 46 of 50 right: the results file's acc of 0.92, from the samples alone.
    assert_eq!(samples["high"]["totalCount"], 46);

    let polymer = run_of(&db, "gpt-4o-mini", "polymer_tg_prediction").await;
    let page = data(
        &db,
        &format!(
            r#"{{ run(id: "{polymer}") {{ samples(first: 2) {{ totalCount
                nodes {{ score scoreKind scores output correct }} }} }} }}"#
        ),
    )
    .await;
    assert_eq!(
        page["run"]["samples"],
        json!({"totalCount": 24, "nodes": [
            {"score": null, "scoreKind": "POSITIVE_INFINITY", "scores": {"mae": "Infinity"},
             "output": "Tg: 200", "correct": null},
            {"score": 259.6069226, "scoreKind": "FINITE", "scores": {"mae": 259.6069226},
             "output": "303", "correct": null}]})
    );

    // Ingesting again stores nothing new.
    let (again, recorder) = ingest(&db, &[folder], &options()).await?;
    assert_eq!(again.samples, 0);
    assert_eq!(
        recorder.outcome_of(ASDIV_SAMPLES),
        Some(Outcome::AlreadyStored)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM sample").await, 74);
    Ok(())
}

/// Each sample's item hash is the one a dataset item of the same content
/// gets, so a dataset built from the harness's documents links to them.
#[tokio::test]
async fn results_are_re_estimated_from_their_samples() -> anyhow::Result<()> {
    let db = postgres().await?;
    let folder = pg::data_dir().join("lm-eval-harness-v0.4-samples");
    ingest(&db, &[folder], &options()).await?;
    let estimate = |run: String| {
        format!(
            r#"{{ run(id: "{run}") {{ results {{ metric {{ name }} filter value ci95 {{ low high }}
               sampleEstimate {{ n excluded mean ci95 {{ low high }} }} }} }} }}"#
        )
    };

    // asdiv: 46 of 50 right, so the samples' mean is the file's acc of 0.92.
    let asdiv = data(
        &db,
        &estimate(run_of(&db, "meta-llama/Meta-Llama-3-8B-Instruct", "asdiv").await),
    )
    .await;
    let result = &asdiv["run"]["results"][0];
    assert_eq!(result["metric"]["name"], "acc");
    assert_eq!(result["value"], 0.92);
    let sampled = &result["sampleEstimate"];
    assert_eq!(sampled["n"], 50);
    assert_eq!(sampled["excluded"], 0);
    assert_eq!(sampled["mean"], 0.92);
    // The percentile bootstrap (fixed seed) lands on sample means, k/50; it
    // agrees with the file's normal interval at the low end and stays
    // further from 1 at the high end, where the scores end.
    assert_eq!(sampled["ci95"], json!({"low": 0.84, "high": 0.98}));
    let normal = |end: &str| result["ci95"][end].as_f64().unwrap_or(f64::NAN);
    assert!((normal("low") - 0.84).abs() < 0.01, "{result}");
    assert!(normal("high") > 0.98 && normal("high") < 1.0, "{result}");

    // polymer: the file's mae is Infinity because 17 of 24 predictions did
    // not parse (their mae is Infinity); the samples give the mean of the
    // other 7 (checked independently over the raw log) and count the rest.
    let polymer = data(
        &db,
        &estimate(run_of(&db, "gpt-4o-mini", "polymer_tg_prediction").await),
    )
    .await;
    let result = &polymer["run"]["results"][0];
    assert_eq!(result["value"], Value::Null);
    let sampled = &result["sampleEstimate"];
    assert_eq!(
        (&sampled["n"], &sampled["excluded"]),
        (&json!(7), &json!(17))
    );
    assert_eq!(sampled["mean"], 186.89958931642857);
    Ok(())
}

#[tokio::test]
async fn samples_link_to_dataset_items_by_content_hash() -> anyhow::Result<()> {
    let db = postgres().await?;
    ingest(&db, &[pg::data_dir().join(ASDIV)], &options()).await?;
    let log = std::fs::read_to_string(pg::data_dir().join(ASDIV).join(ASDIV_SAMPLES))?;
    let docs: String = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|sample| format!("{}\n", sample["doc"]))
        .collect();
    let items = read_items(docs.as_bytes(), ItemFormat::Jsonl, None)
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    let new = NewDataset {
        name: "asdiv".into(),
        ..NewDataset::default()
    };
    dataset::create(&db, new, "test")
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    version::create(&db, "asdiv", &items, "the 50 documents of the log", "test")
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    let linked = count(
        &db,
        "SELECT count(*) FROM sample s JOIN dataset_item d ON d.content_sha256 = s.item_sha256",
    )
    .await;
    assert_eq!(linked, 50);
    Ok(())
}

#[tokio::test]
async fn two_runs_are_compared_item_by_item() -> anyhow::Result<()> {
    let db = postgres().await?;
    ingest(&db, &[pg::data_dir().join(ASDIV)], &options()).await?;
    // A second run of the same model: the results file differs by a byte
    // (so it is another run), and the log flips three verdicts: docs 0 and 1
    // now wrong, doc 30 now right.
    let copy = copy_asdiv(|name, bytes| {
        if name == ASDIV_RESULTS {
            let mut bytes = bytes;
            bytes.push(b'\n');
            return bytes;
        }
        let text = String::from_utf8_lossy(&bytes).to_string();
        text.lines()
            .map(|line| {
                let mut sample: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                if matches!(sample["doc_id"].as_i64(), Some(0 | 1)) {
                    sample["acc"] = json!(0);
                }
                if sample["doc_id"].as_i64() == Some(30) {
                    sample["acc"] = json!(1);
                }
                format!("{sample}\n")
            })
            .collect::<String>()
            .into_bytes()
    })?;
    let (summary, _) = ingest(&db, std::slice::from_ref(&copy), &options()).await?;
    assert_eq!((summary.stored, summary.samples), (2, 50));
    let runs = data(
        &db,
        r#"{ runs(where: {task: "asdiv"}) { nodes { id source { path } } } }"#,
    )
    .await;
    let nodes = runs["runs"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let id_of = |copied: bool| {
        nodes
            .iter()
            .find(|n| {
                n["source"]["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("yardstick-samples-"))
                    == copied
            })
            .and_then(|n| n["id"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (original, edited) = (id_of(false), id_of(true));
    let comparison = data(
        &db,
        &format!(
            r#"{{ compareSamples(first: "{original}", second: "{edited}") {{ shared onlyInFirst
            onlyInSecond bothCorrect bothWrong differenceCount
            mcnemar {{ onlyFirstCorrect onlySecondCorrect exactP chiSquare chiSquareP }}
            meanScoreDifference {{ mean resamples }}
            differences {{ docId firstCorrect secondCorrect }} }} }}"#
        ),
    )
    .await;
    assert_eq!(
        comparison["compareSamples"],
        json!({"shared": 50, "onlyInFirst": 0, "onlyInSecond": 0, "bothCorrect": 44,
               "bothWrong": 3, "differenceCount": 3,
               // Binomial(3, ½): P(X ≤ 1) = 4/8, doubled and capped at 1;
               // (|2 − 1| − 1)² / 3 = 0.
               "mcnemar": {"onlyFirstCorrect": 2, "onlySecondCorrect": 1, "exactP": 1.0,
                           "chiSquare": 0.0, "chiSquareP": 1.0},
               "meanScoreDifference": {"mean": 0.02, "resamples": 2000},
               "differences": [
                   {"docId": 0, "firstCorrect": true, "secondCorrect": false},
                   {"docId": 1, "firstCorrect": true, "secondCorrect": false},
                   {"docId": 30, "firstCorrect": false, "secondCorrect": true}]})
    );
    // More differences than a page holds is an argument out of range, coded
    // and named like every other `first`.
    let too_many = graphql(
        &db,
        &format!(
            r#"{{ compareSamples(first: "{original}", second: "{edited}") {{
            differences(first: 501) {{ docId }} }} }}"#
        ),
    )
    .await;
    assert_eq!(
        too_many["errors"][0]["extensions"],
        json!({"code": "invalid_argument", "field": "first"}),
        "{too_many}"
    );
    let _ = std::fs::remove_dir_all(copy);
    Ok(())
}

#[tokio::test]
async fn a_broken_line_stores_nothing_and_names_its_line() -> anyhow::Result<()> {
    let db = postgres().await?;
    let copy = copy_asdiv(|name, bytes| {
        if name != ASDIV_SAMPLES {
            return bytes;
        }
        let text = String::from_utf8_lossy(&bytes).to_string();
        text.lines()
            .enumerate()
            .map(|(index, line)| {
                if index == 6 {
                    format!("{}\n", &line[..line.len() / 2])
                } else {
                    format!("{line}\n")
                }
            })
            .collect::<String>()
            .into_bytes()
    })?;
    let (summary, recorder) = ingest(&db, std::slice::from_ref(&copy), &options()).await?;
    assert_eq!((summary.stored, summary.rejected), (1, 1));
    let Some(Outcome::Rejected(error)) = recorder.outcome_of(ASDIV_SAMPLES) else {
        anyhow::bail!("the broken log was not rejected");
    };
    assert_eq!(
        (error.code.as_str(), error.path.as_str()),
        ("invalid_json", "line 7")
    );
    assert_eq!(count(&db, "SELECT count(*) FROM sample").await, 0);
    let rejected = count(
        &db,
        "SELECT count(*) FROM ingest_event WHERE outcome = 'rejected' AND detail LIKE '%line 7%'",
    )
    .await;
    assert_eq!(rejected, 1);
    let _ = std::fs::remove_dir_all(copy);
    Ok(())
}

#[tokio::test]
async fn sqlite_stores_the_same_samples() -> anyhow::Result<()> {
    let url = pg::sqlite_url()?;
    let db = backend::db::connect_and_migrate(&url).await?;
    let (summary, _) = ingest(&db, &[pg::data_dir().join(ASDIV)], &options()).await?;
    assert_eq!(summary.samples, 50);
    let run = run_of(&db, "meta-llama/Meta-Llama-3-8B-Instruct", "asdiv").await;
    let wrong = data(
        &db,
        &format!(
            r#"{{ run(id: "{run}") {{ samples(where: {{correct: false}}) {{ totalCount }} }} }}"#
        ),
    )
    .await;
    assert_eq!(wrong["run"]["samples"]["totalCount"], 4);
    Ok(())
}
