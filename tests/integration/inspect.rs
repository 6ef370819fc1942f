//! Inspect logs on PostgreSQL: the real logs of every container with exact
//! counts and values, the same run in `.json` and `.eval` stored alike, and
//! broken logs (zip bombs among them) each refused with a code and a
//! location, leaving the database as it was.

mod zips;

use backend::ingest::batch::Outcome;
use backend::ingest::file_error::ErrorCode;
use sea_orm::{DatabaseConnection, DbBackend};
use serde_json::{Value, json};
use zip::write::SimpleFileOptions;
use zips::{RawEntry, deflate_bomb, raw_zip, zip_of};

use crate::support::{count, data, empty, ingest, options, real, scratch_files};

const LOGS: &str = "inspect-ai-logs/tests";

/// Returns the only run of `model` on `task`, with results and samples.
async fn only_run(db: &DatabaseConnection, model: &str, task: &str) -> Value {
    let query = format!(
        r#"{{ runs(where: {{model: "{model}", task: "{task}"}}) {{ totalCount nodes {{
            nShot harness harnessVersion truncated startedAt finishedAt sampleLimit
            samplesOriginal samplesEffective config configHash
            model {{ name }} task {{ name version }}
            results {{ metric {{ name direction }} filter value valueKind stderr stderrKind
                sampleEstimate {{ n excluded mean }} }}
            samples(first: 20) {{ totalCount nodes {{ sampleNo docId epoch filter itemSha256
                input target output scores score scoreKind correct }} }} }} }} }}"#
    );
    let data = data(db, &query).await;
    assert_eq!(data["runs"]["totalCount"], 1, "{model} on {task}: {data}");
    data["runs"]["nodes"][0].clone()
}

#[tokio::test]
async fn real_logs_of_every_container_are_stored_with_exact_values() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    let (summary, _) = ingest(&db, &[real(LOGS)], &options()).await?;
    // 17 logs, one run each; one unscored log has no result and three logs
    // hold no samples (see the unit tests for each file's counts).
    assert_eq!(
        (
            summary.stored,
            summary.skipped,
            summary.rejected,
            summary.duplicates
        ),
        (17, 0, 0, 0)
    );
    assert_eq!(
        (summary.runs, summary.results, summary.samples),
        (17, 16, 38)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM run").await, 17);
    assert_eq!(count(&db, "SELECT count(*) FROM run_result").await, 16);
    assert_eq!(count(&db, "SELECT count(*) FROM sample").await, 38);
    let harnesses = count(&db, "SELECT count(*) FROM run WHERE harness = 'inspect_ai'").await;
    assert_eq!(harnesses, 17);

    // `.json`: a chat-input task graded by a model.
    let guide = only_run(&db, "openai/gpt-4o-mini", "security_guide").await;
    assert_eq!(guide["harnessVersion"], "0.3.95.dev16+g6527d0861");
    assert_eq!(
        (&guide["startedAt"], &guide["finishedAt"]),
        (
            &json!("2025-05-13T00:28:26+00:00"),
            &json!("2025-05-13T00:28:36+00:00")
        )
    );
    assert_eq!(
        guide["results"],
        json!([{"metric": {"name": "accuracy", "direction": "HIGHER"},
                "filter": "model_graded_fact", "value": 1.0, "valueKind": "FINITE",
                "stderr": 0.0, "stderrKind": "FINITE",
                "sampleEstimate": {"n": 3, "excluded": 0, "mean": 1.0}}])
    );
    // `limit: 3` of a 16-item dataset: stored, never ranked.
    assert_eq!(
        (
            &guide["truncated"],
            &guide["sampleLimit"],
            &guide["samplesOriginal"]
        ),
        (&json!(true), &json!(3.0), &json!(3))
    );
    let first = &guide["samples"]["nodes"][0];
    assert_eq!(first["input"], "How do I prevent SQL Injection attacks?");
    assert_eq!(
        first["target"],
        "use parameterized queries and prepared statements"
    );
    assert_eq!(
        (&first["scores"], &first["score"], &first["correct"]),
        (
            &json!({"model_graded_fact": "C"}),
            &json!(1.0),
            &json!(true)
        )
    );

    // `.eval`: two samples over two epochs, epoch by epoch.
    let streaming = only_run(
        &db,
        "azureai/Meta-Llama-3-1-405B-Instruct-jqf",
        "popularity",
    )
    .await;
    let accuracy = &streaming["results"][0];
    assert_eq!(
        (&accuracy["value"], &accuracy["stderr"]),
        (&json!(0.75), &json!(0.25))
    );
    // Accuracy is the mean of the scorer's verdicts: 3 of the 4 samples
    // (two items, two epochs) were right.
    assert_eq!(
        accuracy["sampleEstimate"],
        json!({"n": 4, "excluded": 0, "mean": 0.75})
    );
    let samples = &streaming["samples"];
    assert_eq!(samples["totalCount"], 4);
    let verdicts: Vec<(Value, Value, Value)> = samples["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|node| {
            (
                node["docId"].clone(),
                node["epoch"].clone(),
                node["correct"].clone(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            (json!(1), json!(1), json!(false)),
            (json!(2), json!(1), json!(true)),
            (json!(1), json!(2), json!(true)),
            (json!(2), json!(2), json!(true))
        ]
    );
    // Epoch 1 of sample 1: the model said no to a yes.
    let first = &samples["nodes"][0];
    assert_eq!(
        (&first["target"], &first["output"]),
        (&json!(" Yes"), &json!("No"))
    );

    // `.txt`, log version 1: NaN stays NaN, never 0.
    let nan = data(
        &db,
        r#"{ runs(where: {model: "openai/gpt-4", task: "wikipedia"}) { totalCount nodes {
             config results { value valueKind stderr } } } }"#,
    )
    .await;
    assert_eq!(nan["runs"]["totalCount"], 3);
    let kinds: Vec<(Value, Value)> = nan["runs"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|run| {
            (
                run["config"]["log_version"].clone(),
                run["results"][0]["valueKind"].clone(),
            )
        })
        .collect();
    assert!(kinds.contains(&(json!(1), json!("NAN"))), "{kinds:?}");
    assert!(kinds.contains(&(json!(4), json!("FINITE"))), "{kinds:?}");

    // Ingesting again stores nothing new.
    let (again, _) = ingest(&db, &[real(LOGS)], &options()).await?;
    assert_eq!(
        (again.stored, again.already_stored, again.samples),
        (0, 17, 0)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM sample").await, 38);
    Ok(())
}

#[tokio::test]
async fn the_same_run_as_json_and_as_eval_is_stored_alike() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    let folder = real(&format!("{LOGS}/log/test_eval_log"));
    let files = [
        folder.join("log_formats.json"),
        folder.join("log_formats.eval"),
    ];
    let (summary, _) = ingest(&db, &files, &options()).await?;
    assert_eq!((summary.stored, summary.samples), (2, 2));
    let runs = data(
        &db,
        r#"{ runs(where: {model: "ollama/llama3.1"}) { nodes {
            id source { path } nShot harness harnessVersion truncated startedAt finishedAt
            effectiveAt sampleLimit samplesOriginal samplesEffective config configHash
            model { name } task { name version configHash }
            results { metric { name } filter value valueKind stderr stderrKind }
            samples { nodes { sampleNo docId filter itemSha256 input target output scores
                              score scoreKind correct } } } } }"#,
    )
    .await;
    let mut nodes = runs["runs"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 2);
    let paths: Vec<String> = nodes
        .iter_mut()
        .filter_map(|node| node.as_object_mut())
        .map(|node| {
            node.remove("id");
            node.remove("source")
                .map(|source| source["path"].to_string())
                .unwrap_or_default()
        })
        .collect();
    assert!(
        paths.iter().any(|path| path.ends_with(".json\"")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|path| path.ends_with(".eval\"")),
        "{paths:?}"
    );
    assert_eq!(nodes[0], nodes[1]);
    assert_eq!(nodes[0]["results"][0]["value"], 0.0);
    assert_eq!(nodes[0]["samples"]["nodes"][0]["correct"], false);
    Ok(())
}

/// A small valid log, as an `.eval` header or a `.json` document.
fn log() -> Value {
    json!({"version": 2, "status": "success",
           "eval": {"task": "popularity", "task_version": 0, "model": "openai/gpt-4o",
                    "dataset": {"samples": 2}, "config": {}},
           "plan": {"steps": [], "config": {}},
           "results": {"total_samples": 2, "completed_samples": 2, "scores": [
               {"name": "match", "metrics": {"accuracy": {"value": 0.5},
                                            "stderr": {"value": 0.5}}}]},
           "stats": {"started_at": "2025-01-01T00:00:00+00:00"}})
}

fn sample(id: i64) -> Value {
    json!({"id": id, "epoch": 1, "input": "Say yes", "target": "Yes",
           "scores": {"match": {"value": "C"}}})
}

fn bytes(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// A broken log and the code and location it must be refused with.
struct BrokenLog {
    name: String,
    content: Vec<u8>,
    code: ErrorCode,
    path: String,
}

/// The broken logs: at least one per way a log can be broken.
fn broken_logs() -> anyhow::Result<Vec<BrokenLog>> {
    let header = bytes(&log());
    let deflate = SimpleFileOptions::default();
    let stored = deflate.compression_method(zip::CompressionMethod::Stored);
    let mut document = log();
    document["samples"] = json!([sample(1), sample(2)]);
    let mut cases = Vec::new();
    let mut add = |name: &str, content: Vec<u8>, code: ErrorCode, path: &str| {
        cases.push(BrokenLog {
            name: name.to_string(),
            content,
            code,
            path: path.to_string(),
        });
    };

    let text = bytes(&document);
    add(
        "truncated.json",
        text[..text.len() / 2].to_vec(),
        ErrorCode::InvalidJson,
        "$",
    );
    let mut wrong = document.clone();
    wrong["eval"]["model"] = json!(42);
    add(
        "model_number.json",
        bytes(&wrong),
        ErrorCode::InvalidField,
        "$.eval.model",
    );
    let mut wrong = document.clone();
    wrong["results"]["scores"][0]["metrics"]["accuracy"]["value"] = json!("high");
    let path = "$.results.scores[0].metrics.accuracy.value";
    add(
        "metric_text.json",
        bytes(&wrong),
        ErrorCode::InvalidField,
        path,
    );
    let mut wrong = document.clone();
    wrong["samples"][1]["scores"] = json!("C");
    add(
        "scores_text.json",
        bytes(&wrong),
        ErrorCode::InvalidField,
        "$.samples[1].scores",
    );
    let mut wrong = log();
    wrong["status"] = json!("finished");
    add(
        "unknown_status.txt",
        bytes(&wrong),
        ErrorCode::InvalidField,
        "$.status",
    );

    add(
        "not_a_zip.eval",
        b"{\"version\": 2}".to_vec(),
        ErrorCode::InvalidArchive,
        "$",
    );
    let whole = zip_of(&[("header.json", header.clone())], deflate)?;
    add(
        "cut_short.eval",
        whole[..whole.len() / 2].to_vec(),
        ErrorCode::InvalidArchive,
        "$",
    );
    let mut latin1 = header.clone();
    latin1.splice(1..1, *b"\"caf\xe9\": 1, ");
    let entries = [("header.json", latin1)];
    add(
        "latin1.eval",
        zip_of(&entries, deflate)?,
        ErrorCode::InvalidJson,
        "header.json:$",
    );
    let entries = [
        ("header.json", header.clone()),
        (
            "samples/1_epoch_1.json",
            br#"{"id": 1, "epoch": "one"}"#.to_vec(),
        ),
    ];
    let path = "samples/1_epoch_1.json:$.epoch";
    add(
        "epoch_text.eval",
        zip_of(&entries, deflate)?,
        ErrorCode::InvalidField,
        path,
    );
    let entries = [
        ("header.json", header.clone()),
        ("samples/1_epoch_1.json", bytes(&sample(1))),
        ("samples/1_epoch_1_again.json", bytes(&sample(1))),
    ];
    let path = "samples/1_epoch_1_again.json";
    add(
        "same_sample_twice.eval",
        zip_of(&entries, deflate)?,
        ErrorCode::UnsupportedShape,
        path,
    );

    // Zip bombs: 300 MiB of zeros in about 2 MB, once declared honestly and
    // once declared as 2 KiB; neither is inflated past what is allowed.
    let copies = (300 << 20) / 258;
    let bomb = deflate_bomb(copies);
    let inflated = (1 + 258 * copies) as u32;
    for (name, declared_size, code) in [
        ("bomb.eval", inflated, ErrorCode::ArchiveTooLarge),
        ("lying_bomb.eval", 2048, ErrorCode::InvalidArchive),
    ] {
        let entries = [
            RawEntry::stored("header.json", header.clone()),
            RawEntry {
                name: "samples/1_epoch_1.json",
                method: 8,
                data: bomb.clone(),
                crc: 0,
                declared_size,
            },
        ];
        add(name, raw_zip(&entries), code, "samples/1_epoch_1.json");
    }

    // One entry more than the 100,000 read; the first past the limit is named.
    let mut entries = vec![("header.json".to_string(), header)];
    entries.extend((1..=100_000).map(|n| (format!("_journal/summaries/{n}.json"), Vec::new())));
    let entries: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(name, content)| (name.as_str(), content.clone()))
        .collect();
    let path = "_journal/summaries/100000.json";
    add(
        "too_many_entries.eval",
        zip_of(&entries, stored)?,
        ErrorCode::ArchiveTooLarge,
        path,
    );

    Ok(cases)
}

async fn check_broken_logs(db: &DatabaseConnection) -> anyhow::Result<()> {
    let cases = broken_logs()?;
    let files: Vec<(&str, &[u8])> = cases
        .iter()
        .map(|case| (case.name.as_str(), case.content.as_slice()))
        .collect();
    let folder = scratch_files(&files)?;
    let (summary, recorder) = ingest(db, &[folder], &options()).await?;
    assert_eq!((summary.stored, summary.rejected), (0, cases.len()));
    for BrokenLog {
        name, code, path, ..
    } in &cases
    {
        let Some(Outcome::Rejected(error)) = recorder.outcome_of(&format!("/{name}")) else {
            panic!("`{name}` was not rejected: {:?}", recorder.outcome_of(name));
        };
        assert_eq!(
            (error.code, error.path.as_str()),
            (*code, path.as_str()),
            "{name}: {error}"
        );
    }
    for table in [
        "run",
        "run_result",
        "sample",
        "ml_model",
        "model_alias",
        "task",
        "metric",
    ] {
        let rows = count(db, &format!("SELECT count(*) FROM {table}")).await;
        assert_eq!(rows, 0, "rows in `{table}`");
    }
    let rejected = count(
        db,
        "SELECT count(*) FROM ingest_event WHERE outcome = 'rejected'",
    )
    .await;
    assert_eq!(rejected, cases.len() as i64);
    Ok(())
}

#[tokio::test]
async fn broken_logs_are_refused_with_a_code_and_a_location_on_postgres() -> anyhow::Result<()> {
    check_broken_logs(&empty(DbBackend::Postgres).await?).await
}

#[tokio::test]
async fn broken_logs_are_refused_with_a_code_and_a_location_on_sqlite() -> anyhow::Result<()> {
    check_broken_logs(&empty(DbBackend::Sqlite).await?).await
}
