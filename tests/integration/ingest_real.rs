//! The real sample folder, ingested into PostgreSQL (and a part of it into
//! SQLite): counts, exact values picked from the files, and every lm-eval
//! quirk the sources document.

use sea_orm::DbBackend;
use serde_json::{Value, json};

use crate::support::{count, data, empty, ingest, options, real, real_postgres};

/// Finds the one result of `metric` under `filter` in a run's `results`.
fn result<'a>(run: &'a Value, metric: &str, filter: &str) -> &'a Value {
    let results = run["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    results
        .iter()
        .find(|r| r["metric"]["name"] == metric && r["filter"] == filter)
        .unwrap_or_else(|| panic!("no `{metric},{filter}` in {run}"))
}

/// Returns the only run of `model` on `task`, with its results.
async fn only_run(db: &sea_orm::DatabaseConnection, model: &str, task: &str) -> Value {
    let query = format!(
        r#"{{ runs(where: {{model: "{model}", task: "{task}"}}) {{ totalCount edges {{ node {{
            id nShot revision harnessVersion truncated startedAt finishedAt
            model {{ name }} task {{ name version subtasks }}
            source {{ path sha256 }} config
            results {{ metric {{ name direction directionSource }} filter
                       value valueKind stderr stderrKind }} }} }} }} }}"#
    );
    let data = data(db, &query).await;
    assert_eq!(
        data["runs"]["totalCount"], 1,
        "runs of {model} on {task}: {data}"
    );
    data["runs"]["edges"][0]["node"].clone()
}

#[tokio::test]
async fn the_whole_real_folder_is_stored_skipped_or_deduplicated() -> anyhow::Result<()> {
    let (db, summary) = real_postgres().await?;

    // 314 lm-eval results files: 51 LLaMA-1 files stored first under their
    // `--model` names, then 263 more; the two bare result maps need `--model`.
    // Two of the three per-sample logs are stored with their runs (the third
    // has no results file beside it). The 9 HELM run folders are stored
    // through their `stats.json` (84, 81 or 90 stats and 2 samples each); their
    // 63 other files and the 21 suite files are skipped with reasons, so the
    // only duplicates left are the two mamba files stored under two folders.
    // All 17 Inspect logs are stored, one run each: 16 results (one log is
    // unscored) and 38 embedded samples. The 64 MTEB result files are stored,
    // one run each, and their 10 `model_meta.json` skipped. The 9 AlpacaEval
    // model boards (403 rows, one run each) and the 3 Open LLM Leaderboard
    // snapshots (1,336 models after 113 repeated rows, a run per task column)
    // are stored; AlpacaEval's evaluators board, OpenCompass's report, its 3
    // prediction files and 2 YAML baselines are skipped with reasons.
    assert_eq!(summary.files, 525);
    assert_eq!(summary.stored, 274 + 17 + 64 + 9 + 3);
    assert_eq!(summary.already_stored, 51);
    assert_eq!(summary.duplicates, 2);
    assert_eq!(summary.skipped, 198 - 17 - 64 - 9 - 3);
    assert_eq!(summary.rejected, 0);
    assert_eq!(summary.dropped_rows, 113);
    assert_eq!(
        count(&db, "SELECT count(DISTINCT source_sha256) FROM run").await,
        323 + 17 + 64 + 12
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM run").await,
        9823 + 17 + 64 + 403 + 5344
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM run_result").await,
        16579 + 16 + 3781 + 2622 + 5344
    );
    assert_eq!(summary.samples, 92 + 38);
    assert_eq!(
        count(&db, "SELECT count(*) FROM run WHERE harness = 'inspect_ai'").await,
        17
    );

    Ok(())
}

#[tokio::test]
async fn v03_values_are_stored_exactly_and_missing_stderr_stays_missing() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;

    // bloom-560m_common_sense_reasoning_0-shot.json
    let run = only_run(&db, "bigscience/bloom-560m", "hellaswag").await;
    assert_eq!(run["nShot"], 0);
    assert_eq!(run["harnessVersion"], "0.3");
    assert_eq!(run["task"]["version"], "0");
    assert_eq!(run["startedAt"], Value::Null);
    let acc = result(&run, "acc", "none");
    assert_eq!(acc["value"], json!(0.31557458673571004));
    assert_eq!(acc["stderr"], json!(0.004637944965914592));
    assert_eq!(acc["metric"]["direction"], "HIGHER");
    assert_eq!(acc["metric"]["directionSource"], "builtin");

    let mc_taco = only_run(&db, "bigscience/bloom-560m", "mc_taco").await;
    let em = result(&mc_taco, "em", "none");
    assert_eq!(em["value"], json!(0.17417417417417416));
    assert_eq!(
        (&em["stderr"], &em["stderrKind"]),
        (&Value::Null, &json!("MISSING"))
    );

    Ok(())
}

#[tokio::test]
async fn v04_values_dates_and_groups_are_stored_once() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;

    let run = only_run(&db, "Qwen/Qwen2.5-3B", "arc_challenge").await;
    let acc = result(&run, "acc", "none");
    assert_eq!(acc["value"], json!(0.447098976109215));
    assert_eq!(acc["stderr"], json!(0.014529380160526842));
    // `date` 1740962652.1743073, plus `total_evaluation_time_seconds` 842.69…
    assert_eq!(run["startedAt"], "2025-03-03T00:44:12.174307+00:00");
    assert_eq!(run["finishedAt"], "2025-03-03T00:58:14.873307+00:00");
    assert_eq!(
        run["config"]["model_args"],
        "pretrained=Qwen/Qwen2.5-3B,trust_remote_code=True"
    );

    // `mmlu` sits in both `results` and `groups`; it is one run.
    let mmlu = only_run(&db, "Qwen/Qwen2.5-3B", "mmlu").await;
    assert_eq!(
        result(&mmlu, "acc", "none")["value"],
        json!(0.6504059250818972)
    );
    assert_eq!(mmlu["task"]["version"], "2");
    let subtasks = mmlu["task"]["subtasks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(subtasks.len(), 4);
    assert!(subtasks.contains(&json!("mmlu_humanities")));

    Ok(())
}

#[tokio::test]
async fn nan_infinity_and_not_available_are_kept_distinguishable() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;

    // pr3144 polymer run: `"mae,none": Infinity`, `"mae_stderr,none": NaN`.
    let polymer = only_run(&db, "gpt-4o-mini", "polymer_tg_prediction").await;
    let mae = result(&polymer, "mae", "none");
    assert_eq!(mae["value"], Value::Null);
    assert_eq!(mae["valueKind"], "POSITIVE_INFINITY");
    assert_eq!(mae["stderrKind"], "NAN");
    assert_eq!(mae["metric"]["direction"], "LOWER");
    // `limit: 200` on a task of 24 samples cut nothing, so the run is listed,
    // and its infinite value is shown without a rank.
    assert_eq!(polymer["truncated"], false);
    let query = r#"{ leaderboard(task: "polymer_tg_prediction", metric: "mae") {
        truncatedRuns entries { rank value valueKind model { name } } } }"#;
    assert_eq!(
        data(&db, query).await["leaderboard"],
        json!({"truncatedRuns": 0, "entries": [{"rank": null, "value": null,
               "valueKind": "POSITIVE_INFINITY", "model": {"name": "gpt-4o-mini"}}]})
    );

    // leaderboard-v2 wrapper output: group stderrs are the string "N/A".
    let ifeval = only_run(&db, "Qwen/Qwen3-8B", "leaderboard_ifeval").await;
    let strict = result(&ifeval, "inst_level_strict_acc", "none");
    assert_eq!(strict["value"], json!(0.3333333333333333));
    assert_eq!(strict["stderrKind"], "NOT_AVAILABLE");
    assert_eq!(ifeval["truncated"], true);

    Ok(())
}

#[tokio::test]
async fn model_identity_handles_case_paths_and_revisions() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;

    let query = r#"{
        qwen: model(name: "qwen/qwen2.5-7B") { name }
        rwkv: model(name: "/workspace/RWKV-x070-Pile-1.47B-20241210-ctx4096") {
            name isLocalPath aliases }
        llama: model(name: "huggyllama/llama-7b") { name isLocalPath }
        pythia: model(name: "EleutherAI/pythia-v1.1-160m") { revisions { name step } }
    }"#;
    let data = data(&db, query).await;
    assert_eq!(data["qwen"]["name"], "Qwen/Qwen2.5-7B");
    assert_eq!(
        data["rwkv"]["name"],
        "/workspace/RWKV-x070-Pile-1.47B-20241210-ctx4096"
    );
    assert_eq!(data["rwkv"]["isLocalPath"], true);
    assert_eq!(
        data["rwkv"]["aliases"],
        json!(["/workspace/RWKV-x070-Pile-1.47B-20241210-ctx4096"])
    );
    assert_eq!(data["llama"]["isLocalPath"], false);
    let revisions = data["pythia"]["revisions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(revisions.len(), 27);
    assert_eq!(revisions[0], json!({"name": "step0", "step": 0}));
    assert_eq!(revisions[26], json!({"name": "step143000", "step": 143000}));

    Ok(())
}

#[tokio::test]
async fn leaderboards_rank_by_direction_within_one_configuration() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;

    let query = r#"{ leaderboard(task: "lambada_openai", metric: "ppl") {
        configuration { taskVersion nShot filter models }
        otherConfigurations { taskVersion nShot models }
        ranked metric { direction }
        entries { rank value stderr model { name } revision } } }"#;
    let board = data(&db, query).await["leaderboard"].clone();
    assert_eq!(
        board["configuration"],
        json!({"taskVersion": "0", "nShot": 0, "filter": "none", "models": 29})
    );
    assert_eq!(
        board["otherConfigurations"],
        json!([{"taskVersion": "0", "nShot": 5, "models": 16}])
    );
    assert_eq!(board["metric"]["direction"], "LOWER");
    let entries = board["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 29);
    assert_eq!(
        entries[0],
        json!({"rank": 1, "value": 3.2877565882479303, "stderr": 0.06361523543774811,
               "model": {"name": "facebook/opt-66b"}, "revision": null})
    );
    let values: Vec<f64> = entries.iter().filter_map(|e| e["value"].as_f64()).collect();
    assert!(
        values.windows(2).all(|pair| pair[0] <= pair[1]),
        "ascending: {values:?}"
    );

    Ok(())
}

#[tokio::test]
async fn leaderboards_take_the_final_checkpoint_unless_asked() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;

    let query = r#"{
      final: leaderboard(task: "arc_easy", metric: "acc", nShot: 0,
                         where: {model: "EleutherAI/pythia-v1.1-160m"}) {
        entries { rank value revision } }
      all: leaderboard(task: "arc_easy", metric: "acc", nShot: 0, allRevisions: true,
                       where: {model: "EleutherAI/pythia-v1.1-160m"}) {
        entries { revision } }
      top: leaderboard(task: "arc_easy", metric: "acc") {
        configuration { taskVersion nShot models }
        entries { rank value model { name } } }
    }"#;
    let data = data(&db, query).await;
    // pythia-160m/zero-shot/160m_step143000.json: arc_easy acc
    assert_eq!(
        data["final"]["entries"],
        json!([{"rank": 1, "value": 0.4351851851851852, "revision": "step143000"}])
    );
    assert_eq!(data["all"]["entries"].as_array().map(Vec::len), Some(27));
    assert_eq!(
        data["top"]["configuration"],
        json!({"taskVersion": "0", "nShot": 0, "models": 38})
    );
    assert_eq!(
        data["top"]["entries"][0],
        json!({"rank": 1, "value": 0.7533670033670034, "model": {"name": "huggyllama/llama-30b"}})
    );

    Ok(())
}

#[tokio::test]
async fn runs_truncated_by_limit_are_never_ranked() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;

    let query = r#"{ leaderboard(task: "leaderboard_ifeval", metric: "inst_level_strict_acc") {
        configuration { nShot } truncatedRuns entries { rank } } }"#;
    let board = data(&db, query).await["leaderboard"].clone();
    assert_eq!(board["configuration"], Value::Null);
    assert_eq!(board["truncatedRuns"], 2);
    assert_eq!(board["entries"], json!([]));

    Ok(())
}

#[tokio::test]
async fn sqlite_stores_the_same_values_as_postgres() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let folders = [
        real("lm-eval-harness-v0.4-pr2809/results/Qwen__Qwen2.5-3B"),
        real("lm-eval-harness-v0.4-samples/pr3144-polymer"),
        real("lm-eval-harness-v0.3-results/bloom/bloom-560m"),
    ];
    let (summary, _) = ingest(&db, &folders, &options()).await?;
    // 14 results files and the polymer per-sample log (24 samples).
    assert_eq!(
        (summary.stored, summary.rejected, summary.samples),
        (15, 0, 24)
    );

    let run = only_run(&db, "Qwen/Qwen2.5-3B", "arc_challenge").await;
    assert_eq!(
        result(&run, "acc", "none")["value"],
        json!(0.447098976109215)
    );
    let polymer = only_run(&db, "gpt-4o-mini", "polymer_tg_prediction").await;
    assert_eq!(
        result(&polymer, "mae", "none")["valueKind"],
        "POSITIVE_INFINITY"
    );
    assert_eq!(result(&polymer, "mae", "none")["stderrKind"], "NAN");
    let mc_taco = only_run(&db, "bigscience/bloom-560m", "mc_taco").await;
    assert_eq!(result(&mc_taco, "em", "none")["stderrKind"], "MISSING");

    Ok(())
}
