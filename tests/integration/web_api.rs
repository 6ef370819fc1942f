//! The API fields added for the web app: `taskSummaries` and `taskSummary`,
//! pinned on the real sample folder.

use serde_json::json;

use crate::support::{data, real_postgres};

#[tokio::test]
async fn a_task_summary_folds_versions_metrics_and_models() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let found = data(
        &db,
        r#"{ taskSummary(name: "lambada_openai") {
            name versions nShots runCount metrics { name direction } models { name }
        } }"#,
    )
    .await;
    let summary = &found["taskSummary"];
    assert_eq!(summary["name"], "lambada_openai");
    assert_eq!(summary["versions"], json!(["0", "1"]));
    assert_eq!(summary["nShots"], json!([0, 5]));
    assert_eq!(summary["runCount"], 134);
    assert_eq!(
        summary["metrics"],
        json!([
            {"name": "acc", "direction": "HIGHER"},
            {"name": "perplexity", "direction": "LOWER"},
            {"name": "ppl", "direction": "LOWER"}
        ])
    );
    let models: Vec<&str> = summary["models"]
        .as_array()
        .map(|models| models.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(models.len(), 51);
    assert!(models.is_sorted(), "models come by name: {models:?}");
    assert!(models.contains(&"EleutherAI/pythia-v1.1-1.4b"));
    assert!(models.contains(&"huggyllama/llama-7b"));

    Ok(())
}

#[tokio::test]
async fn a_group_without_a_version_lists_null_first() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let found = data(
        &db,
        r#"{ taskSummary(name: "mmlu") { versions nShots metrics { name } } }"#,
    )
    .await;
    assert_eq!(
        found["taskSummary"],
        json!({"versions": [null, "2"], "nShots": [null, 0, 5], "metrics": [{"name": "acc"}]})
    );

    Ok(())
}

#[tokio::test]
async fn an_unknown_task_summary_is_null() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let found = data(&db, r#"{ taskSummary(name: "nope") { name } }"#).await;
    assert_eq!(found, json!({"taskSummary": null}));

    Ok(())
}

#[tokio::test]
async fn task_summaries_list_each_name_once_and_page() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let first = data(
        &db,
        "{ taskSummaries(first: 2) { totalCount pageInfo { hasNextPage endCursor } \
           nodes { name } } }",
    )
    .await;
    let page = &first["taskSummaries"];
    // 451 lm-eval task names, HELM's `bbq`, 6 Inspect ones (`popularity`, …)
    // 11 MTEB ones (`STSBenchmark`, …), AlpacaEval's `alpaca_eval` and the
    // Open LLM Leaderboard's 4 (`ARC`, …).
    assert_eq!(page["totalCount"], 451 + 1 + 6 + 11 + 5);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    // Names sort by code point, so capitalised names come first.
    assert_eq!(
        page["nodes"],
        json!([{"name": "ARC"}, {"name": "AmazonCounterfactualClassification"}])
    );
    let cursor = page["pageInfo"]["endCursor"].as_str().unwrap_or_default();
    let next = data(
        &db,
        &format!(r#"{{ taskSummaries(first: 1, after: "{cursor}") {{ nodes {{ name }} }} }}"#),
    )
    .await;
    assert_eq!(next["taskSummaries"]["nodes"], json!([{"name": "ArguAna"}]));
    let searched = data(
        &db,
        r#"{ taskSummaries(search: "ARC_E") { totalCount nodes { name } } }"#,
    )
    .await;
    assert_eq!(
        searched["taskSummaries"],
        json!({"totalCount": 1, "nodes": [{"name": "arc_easy"}]})
    );

    Ok(())
}
