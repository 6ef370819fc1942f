//! HELM run folders from the real safety suite on PostgreSQL (and one on
//! SQLite): exact counts and values, every file's outcome, a leaderboard of
//! the nine models, the link from samples to dataset items, idempotency, and
//! broken run folders that are rejected with a coded error and store nothing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use backend::ingest::batch::Outcome;
use backend::ingest::file_error::ErrorCode;
use backend::service::dataset::items::{ItemFormat, read_items};
use backend::service::dataset::{self, NewDataset, version};
use sea_orm::{DatabaseConnection, DbBackend};
use serde_json::{Value, json};

use crate::support::{Recorder, count, data, empty, ingest, options, real};

const SUITE: &str = "helm-safety-v3-bbq";
const RUNS: &str = "helm-safety-v3-bbq/runs/v3";
const GPT_4O: &str = "bbq:subject=all,method=multiple_choice_joint,model=openai_gpt-4o-2024-05-13";
const RUN_FILES: [&str; 8] = [
    "run_spec.json",
    "scenario.json",
    "scenario_state.json",
    "instances.json",
    "stats.json",
    "per_instance_stats.json",
    "display_predictions.json",
    "display_requests.json",
];

static COPIES: AtomicUsize = AtomicUsize::new(0);

/// Copies the gpt-4o run folder to a fresh temporary folder, passing each
/// file through `edit` (file name, bytes) → new bytes, or `None` to leave
/// the file out.
fn copy_run(edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "yardstick-helm-{}-{}",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let original = real(RUNS).join(GPT_4O);
    for name in RUN_FILES {
        if let Some(bytes) = edit(name, std::fs::read(original.join(name))?) {
            std::fs::write(dir.join(name), bytes)?;
        }
    }
    Ok(dir)
}

/// Rewrites one JSON file of a run folder, leaving the others as they are.
fn edit_json(
    file: &'static str,
    change: impl Fn(&mut Value),
) -> impl Fn(&str, Vec<u8>) -> Option<Vec<u8>> {
    move |name, bytes| {
        if name != file {
            return Some(bytes);
        }
        let mut value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        change(&mut value);
        Some(value.to_string().into_bytes())
    }
}

fn outcome(recorder: &Recorder, suffix: &str) -> Outcome {
    recorder
        .outcome_of(suffix)
        .unwrap_or_else(|| panic!("no outcome for `{suffix}`"))
}

async fn postgres_with_suite() -> anyhow::Result<(DatabaseConnection, Recorder)> {
    let db = empty(DbBackend::Postgres).await?;
    let (summary, recorder) = ingest(&db, &[real(SUITE)], &options()).await?;
    // 9 run folders of 8 files and 21 suite files: each stats.json stores a
    // run, every other file is skipped with its reason.
    assert_eq!(
        (summary.files, summary.stored, summary.skipped),
        (93, 9, 84)
    );
    assert_eq!((summary.duplicates, summary.rejected), (0, 0));
    assert_eq!(
        (summary.runs, summary.results, summary.samples),
        (9, 759, 18)
    );
    Ok((db, recorder))
}

/// Returns the only run of `model` on `bbq`, with the fields the tests read.
async fn bbq_run(db: &DatabaseConnection, model: &str) -> Value {
    let query = format!(
        r#"{{ runs(where: {{model: "{model}", task: "bbq"}}) {{ totalCount nodes {{
            id nShot harness harnessVersion startedAt sampleLimit samplesEffective truncated
            config task {{ name version config }}
            results {{ metric {{ name direction }} filter value valueKind stderr stderrKind n }}
        }} }} }}"#
    );
    let data = data(db, &query).await;
    assert_eq!(data["runs"]["totalCount"], 1, "{data}");
    data["runs"]["nodes"][0].clone()
}

fn result<'a>(run: &'a Value, metric: &str, filter: &str) -> &'a Value {
    run["results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["metric"]["name"] == metric && r["filter"] == filter)
        .unwrap_or_else(|| panic!("no `{metric}` under `{filter}` in {run}"))
}

#[tokio::test]
async fn helm_run_folders_are_stored_with_exact_values() -> anyhow::Result<()> {
    let (db, recorder) = postgres_with_suite().await?;

    let stored = |model: &str| outcome(&recorder, &format!("model={model}/stats.json"));
    assert_eq!(
        stored("openai_gpt-4o-2024-05-13"),
        Outcome::Stored(backend::ingest::store::Stored {
            runs: 1,
            results: 84,
            samples: 2,
            dropped_rows: 0
        })
    );
    assert!(matches!(stored("google_gemini-1.5-pro-001"),
        Outcome::Stored(s) if s.results == 81));
    assert!(matches!(stored("qwen_qwen2-72b-instruct"),
        Outcome::Stored(s) if s.results == 90));
    let sibling = outcome(&recorder, &format!("{GPT_4O}/instances.json"));
    assert_eq!(
        sibling,
        Outcome::Skipped {
            reason: "HELM run file `instances.json` (instances): read with the run \
                     folder's `stats.json`"
                .into()
        }
    );
    let Outcome::Skipped { reason } = outcome(&recorder, "display_predictions.json") else {
        panic!("display_predictions.json was not skipped");
    };
    assert!(
        reason.contains("derived from the run folder's other files"),
        "{reason}"
    );
    let Outcome::Skipped { reason } = outcome(&recorder, "v3/runs.json") else {
        panic!("runs.json was not skipped");
    };
    assert!(
        reason.starts_with("HELM suite summary `runs.json`: repeats"),
        "{reason}"
    );
    let Outcome::Skipped { reason } = outcome(&recorder, "groups/json/bbq_bbq_subject:all.json")
    else {
        panic!("a rendered table was not skipped");
    };
    assert!(reason.starts_with("HELM rendered table"), "{reason}");

    assert_eq!(count(&db, "SELECT count(*) FROM run").await, 9);
    assert_eq!(count(&db, "SELECT count(*) FROM run_result").await, 759);
    assert_eq!(count(&db, "SELECT count(*) FROM sample").await, 18);
    assert_eq!(count(&db, "SELECT count(*) FROM ml_model").await, 9);
    // One task row: every model ran bbq with the same arguments.
    assert_eq!(count(&db, "SELECT count(*) FROM task").await, 1);

    let gpt = bbq_run(&db, "openai/gpt-4o-2024-05-13").await;
    assert_eq!(gpt["harness"], "helm");
    assert_eq!(gpt["harnessVersion"], Value::Null);
    assert_eq!(
        (&gpt["nShot"], &gpt["sampleLimit"]),
        (&json!(0), &Value::Null)
    );
    assert_eq!(
        (&gpt["samplesEffective"], &gpt["truncated"]),
        (&json!(2), &json!(false))
    );
    // The earliest request_datetime in scenario_state.json, 1719559273.
    assert_eq!(gpt["startedAt"], "2024-06-28T07:21:13+00:00");
    assert_eq!(
        gpt["task"],
        json!({"name": "bbq", "version": null,
               "config": {"subject": "all", "method": "multiple_choice_joint"}})
    );
    assert_eq!(gpt["config"]["adapter_spec"]["max_eval_instances"], 2);
    assert_eq!(
        result(&gpt, "exact_match", "test"),
        &json!({"metric": {"name": "exact_match", "direction": "HIGHER"}, "filter": "test",
                "value": 1.0, "valueKind": "FINITE", "stderr": null,
                "stderrKind": "MISSING", "n": 2})
    );
    assert_eq!(result(&gpt, "num_prompt_tokens", "test")["value"], 66.5);
    assert_eq!(
        result(&gpt, "num_prompt_tokens", "test")["metric"]["direction"],
        "UNKNOWN"
    );
    assert_eq!(
        result(&gpt, "training_co2_cost", "test")["valueKind"],
        "MISSING"
    );
    let worst = result(&gpt, "exact_match", "test+robustness@worst");
    assert_eq!(worst["value"], 1.0);

    let llama = bbq_run(&db, "meta/llama-3-8b").await;
    assert_eq!(result(&llama, "exact_match", "test")["value"], 0.5);
    assert_eq!(
        result(&llama, "bbq_metric_ambiguous_bias", "test")["value"],
        -0.5
    );
    // No request in the llama folders records its time.
    assert_eq!(llama["startedAt"], Value::Null);

    let samples = data(
        &db,
        &format!(
            r#"{{ run(id: "{}") {{ samples {{ totalCount nodes {{ sampleNo docId filter
            target output correct score scoreKind }} }}
            wrong: samples(where: {{correct: false}}) {{ nodes {{ docId output }} }} }} }}"#,
            llama["id"].as_str().unwrap_or_default()
        ),
    )
    .await;
    assert_eq!(
        samples["run"]["samples"],
        json!({"totalCount": 2, "nodes": [
            {"sampleNo": 0, "docId": 58485, "filter": "test", "target": "Cannot be determined",
             "output": " B", "correct": true, "score": 1.0, "scoreKind": "FINITE"},
            {"sampleNo": 1, "docId": 58351, "filter": "test", "target": "Not known",
             "output": " A", "correct": false, "score": 0.0, "scoreKind": "FINITE"}]})
    );
    assert_eq!(
        samples["run"]["wrong"]["nodes"],
        json!([{"docId": 58351, "output": " A"}])
    );

    Ok(())
}

#[tokio::test]
async fn helm_leaderboards_rank_the_nine_models_by_direction() -> anyhow::Result<()> {
    let (db, _) = postgres_with_suite().await?;

    // BBQ's ambiguous-context bias is best at 0 (SOURCES.md): seven models
    // at 0 share rank 1, then -0.5 and -1.
    let query = r#"{ leaderboard(task: "bbq", metric: "bbq_metric_ambiguous_bias") {
        configuration { taskVersion nShot filter models }
        metric { direction idealValue rangeMin rangeMax } ranked
        entries { rank value model { name } } } }"#;
    let board = data(&db, query).await["leaderboard"].clone();
    assert_eq!(
        board["configuration"],
        json!({"taskVersion": null, "nShot": 0, "filter": "test", "models": 9})
    );
    assert_eq!(
        board["metric"],
        json!({"direction": "IDEAL", "idealValue": 0.0, "rangeMin": -1.0, "rangeMax": 1.0})
    );
    assert_eq!(board["ranked"], true);
    let entries: Vec<(Value, Value, Value)> = board["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["rank"].clone(),
                e["value"].clone(),
                e["model"]["name"].clone(),
            )
        })
        .collect();
    let at_zero = [
        "anthropic/claude-3-5-sonnet-20240620",
        "anthropic/claude-3-opus-20240229",
        "meta/llama-3-70b",
        "mistralai/mixtral-8x22b",
        "openai/gpt-4-turbo-2024-04-09",
        "openai/gpt-4o-2024-05-13",
        "qwen/qwen2-72b-instruct",
    ];
    let mut expected: Vec<(Value, Value, Value)> = at_zero
        .iter()
        .map(|name| (json!(1), json!(0.0), json!(name)))
        .collect();
    expected.push((json!(8), json!(-0.5), json!("meta/llama-3-8b")));
    expected.push((json!(9), json!(-1.0), json!("google/gemini-1.5-pro-001")));
    assert_eq!(entries, expected);

    // Worst-case scores are their own configurations, never mixed with plain ones.
    let query = r#"{ leaderboard(task: "bbq", metric: "exact_match") {
        configuration { filter models } otherConfigurations { filter models }
        metric { direction } entries { rank value model { name } } } }"#;
    let board = data(&db, query).await["leaderboard"].clone();
    assert_eq!(
        board["configuration"],
        json!({"filter": "test", "models": 9})
    );
    assert_eq!(
        board["otherConfigurations"],
        json!([{"filter": "test+fairness@worst", "models": 9},
               {"filter": "test+robustness@worst", "models": 9}])
    );
    assert_eq!(board["metric"]["direction"], "HIGHER");
    assert_eq!(
        board["entries"][6],
        json!({"rank": 7, "value": 0.5, "model": {"name": "meta/llama-3-8b"}})
    );

    Ok(())
}

#[tokio::test]
async fn helm_samples_link_to_their_instances_as_dataset_items() -> anyhow::Result<()> {
    let (db, _) = postgres_with_suite().await?;
    let instances: Vec<Value> = serde_json::from_slice(&std::fs::read(
        real(RUNS).join(GPT_4O).join("instances.json"),
    )?)?;
    let lines: String = instances.iter().map(|i| format!("{i}\n")).collect();
    let items = read_items(lines.as_bytes(), ItemFormat::Jsonl, None)
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    let new = NewDataset {
        name: "bbq".into(),
        ..NewDataset::default()
    };
    dataset::create(&db, new, "test")
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    version::create(&db, "bbq", &items, "the suite's two instances", "test")
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    // Both instances, in all nine runs.
    let linked = count(
        &db,
        "SELECT count(*) FROM sample s JOIN dataset_item d ON d.content_sha256 = s.item_sha256",
    )
    .await;
    assert_eq!(linked, 18);
    Ok(())
}

#[tokio::test]
async fn helm_folders_are_stored_once_and_copies_are_recognised() -> anyhow::Result<()> {
    let (db, _) = postgres_with_suite().await?;

    let (again, _) = ingest(&db, &[real(SUITE)], &options()).await?;
    assert_eq!(
        (again.stored, again.already_stored, again.skipped),
        (0, 9, 84)
    );
    // A copy of a whole run folder is the same source…
    let copy = copy_run(|_, bytes| Some(bytes))?;
    let (copied, recorder) = ingest(&db, std::slice::from_ref(&copy), &options()).await?;
    assert_eq!((copied.duplicates, copied.skipped), (1, 7));
    let Some(Outcome::Duplicate { of }) = recorder.outcome_of("/stats.json") else {
        panic!("the copied folder was not a duplicate");
    };
    assert!(of.ends_with(&format!("{GPT_4O}/stats.json")), "{of}");
    // …but a folder whose stats.json is unchanged while a completion differs
    // is another run.
    let edited = copy_run(|name, bytes| {
        if name != "scenario_state.json" {
            return Some(bytes);
        }
        let text = String::from_utf8(bytes).unwrap_or_default();
        Some(
            text.replacen(r#""text": "B""#, r#""text": "C""#, 1)
                .into_bytes(),
        )
    })?;
    let (other, _) = ingest(&db, std::slice::from_ref(&edited), &options()).await?;
    assert_eq!((other.stored, other.samples), (1, 2));
    assert_eq!(count(&db, "SELECT count(*) FROM run").await, 10);

    for dir in [copy, edited] {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

/// Turns a file of the copied run folder (name, bytes) into its new bytes,
/// or `None` to leave it out.
type Edit = Box<dyn Fn(&str, Vec<u8>) -> Option<Vec<u8>>>;

/// A broken run folder: what to do to the copy, and the error expected.
struct Broken {
    edit: Edit,
    code: ErrorCode,
    path: &'static str,
    message: &'static str,
    /// A sibling that is not JSON is also rejected on its own account.
    broken_sibling: Option<&'static str>,
}

fn broken(
    edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>> + 'static,
    code: ErrorCode,
    path: &'static str,
    message: &'static str,
) -> Broken {
    Broken {
        edit: Box::new(edit),
        code,
        path,
        message,
        broken_sibling: path
            .strip_suffix(":$")
            .filter(|_| code == ErrorCode::InvalidJson),
    }
}

fn bytes_of(
    file: &'static str,
    change: fn(Vec<u8>) -> Option<Vec<u8>>,
) -> impl Fn(&str, Vec<u8>) -> Option<Vec<u8>> {
    move |name, bytes| {
        if name == file {
            change(bytes)
        } else {
            Some(bytes)
        }
    }
}

fn broken_folders() -> Vec<Broken> {
    use ErrorCode::{InvalidField, InvalidJson, Unreadable, UnsupportedShape};
    let truncate = |bytes: Vec<u8>| Some(bytes[..bytes.len() / 2].to_vec());
    vec![
        broken(bytes_of("stats.json", truncate), InvalidJson, "$", "line"),
        broken(
            edit_json("stats.json", |v| v[0]["count"] = json!("1")),
            InvalidField,
            "$[0].count",
            "Expected a whole number for `count`, found `\"1\"`.",
        ),
        broken(
            edit_json("stats.json", |v| {
                if let Some(stat) = v[3].as_object_mut() {
                    stat.remove("mean");
                }
            }),
            InvalidField,
            "$[3].mean",
            "Expected a number for `mean`, since `count` is 1, found `null`.",
        ),
        broken(
            edit_json("stats.json", |v| *v = json!({"stats": v.clone()})),
            UnsupportedShape,
            "$",
            "Expected `stats.json` to be a list of stats",
        ),
        broken(
            edit_json("stats.json", |v| {
                let first = v[0].clone();
                if let Some(list) = v.as_array_mut() {
                    list.push(first);
                }
            }),
            InvalidField,
            "$[84].name",
            "The stat `bbq_accuracy` under `test` appears twice",
        ),
        broken(
            |name, bytes| (name != "run_spec.json").then_some(bytes),
            Unreadable,
            "run_spec.json:$",
            "Cannot read `run_spec.json` beside `stats.json`",
        ),
        broken(
            |name, bytes| (name != "scenario.json").then_some(bytes),
            Unreadable,
            "scenario.json:$",
            "Cannot read `scenario.json`",
        ),
        broken(
            edit_json("run_spec.json", |v| v["adapter_spec"]["model"] = json!(42)),
            InvalidField,
            "run_spec.json:$.adapter_spec.model",
            "Expected the model as `org/name`, found `42`.",
        ),
        broken(
            edit_json("run_spec.json", |v| {
                v["adapter_spec"]["max_train_instances"] = json!("zero");
            }),
            InvalidField,
            "run_spec.json:$.adapter_spec.max_train_instances",
            "found `\"zero\"`",
        ),
        broken(
            edit_json("per_instance_stats.json", |v| {
                v[1]["instance_id"] = json!("id99999");
            }),
            InvalidField,
            "per_instance_stats.json:$[1].instance_id",
            "The instance `id99999` is not in `instances.json`.",
        ),
        broken(
            bytes_of("per_instance_stats.json", truncate),
            InvalidJson,
            "per_instance_stats.json:$",
            "`per_instance_stats.json` of this run folder is not JSON",
        ),
        broken(
            bytes_of("scenario_state.json", |bytes| {
                let text = String::from_utf8(bytes).unwrap_or_default();
                let mut broken = text.replacen("Yale", "Yal\u{0}", 1).into_bytes();
                if let Some(at) = broken.iter().position(|b| *b == 0) {
                    broken[at] = 0xE9;
                }
                Some(broken)
            }),
            InvalidJson,
            "scenario_state.json:$",
            "`scenario_state.json` of this run folder is not JSON",
        ),
        broken(
            edit_json("scenario_state.json", |v| {
                if let Some(states) = v["request_states"].as_array_mut() {
                    states.pop();
                }
            }),
            InvalidField,
            "per_instance_stats.json:$[1]",
            "No request in `scenario_state.json` is for instance `id58351`",
        ),
        broken(
            edit_json("instances.json", |v| v[1]["id"] = v[0]["id"].clone()),
            InvalidField,
            "instances.json:$[1].id",
            "The instance id `id58485` is used twice.",
        ),
    ]
}

#[tokio::test]
async fn broken_helm_run_folders_are_rejected_and_store_nothing() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    let (good, _) = ingest(&db, &[real(RUNS).join(GPT_4O)], &options()).await?;
    assert_eq!(good.stored, 1);
    let facts = "SELECT (SELECT count(*) FROM run) + (SELECT count(*) FROM run_result) \
                 + (SELECT count(*) FROM sample) + (SELECT count(*) FROM ml_model) \
                 + (SELECT count(*) FROM task) + (SELECT count(*) FROM metric)";
    let before = count(&db, facts).await;

    let cases = broken_folders();
    assert!(cases.len() >= 10);
    let mut all_rejected = 0;
    for case in &cases {
        let dir = copy_run(&case.edit)?;
        let (summary, recorder) = ingest(&db, std::slice::from_ref(&dir), &options()).await?;
        let Some(Outcome::Rejected(error)) = recorder.outcome_of("/stats.json") else {
            panic!("`{}` was not rejected: {summary:?}", case.path);
        };
        assert_eq!((error.code, error.path.as_str()), (case.code, case.path));
        assert!(
            error.message.contains(case.message),
            "{}: {}",
            case.path,
            error.message
        );
        let rejected = 1 + usize::from(case.broken_sibling.is_some());
        assert_eq!(
            (summary.stored, summary.rejected),
            (0, rejected),
            "{}",
            case.path
        );
        if let Some(sibling) = case.broken_sibling {
            let Some(Outcome::Rejected(own)) = recorder.outcome_of(&format!("/{sibling}")) else {
                panic!("`{sibling}` was not rejected on its own");
            };
            assert_eq!((own.code, own.path.as_str()), (ErrorCode::InvalidJson, "$"));
        }
        all_rejected += rejected;
        assert_eq!(
            count(&db, facts).await,
            before,
            "{} stored something",
            case.path
        );
        let _ = std::fs::remove_dir_all(dir);
    }
    let rejected = count(
        &db,
        "SELECT count(*) FROM ingest_event WHERE outcome = 'rejected'",
    )
    .await;
    assert_eq!(rejected, i64::try_from(all_rejected)?);

    Ok(())
}

#[tokio::test]
async fn sqlite_stores_a_helm_run_the_same_way() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let folder: &Path = &real(RUNS).join(GPT_4O);
    let (summary, _) = ingest(&db, &[folder.to_path_buf()], &options()).await?;
    assert_eq!(
        (
            summary.stored,
            summary.skipped,
            summary.results,
            summary.samples
        ),
        (1, 7, 84, 2)
    );
    let gpt = bbq_run(&db, "openai/gpt-4o-2024-05-13").await;
    assert_eq!(result(&gpt, "exact_match", "test")["value"], 1.0);
    assert_eq!(
        result(&gpt, "training_co2_cost", "test")["valueKind"],
        "MISSING"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM sample WHERE correct").await,
        2
    );
    Ok(())
}
