//! Leaderboard tables on PostgreSQL: the real AlpacaEval boards and Open
//! LLM Leaderboard snapshots with exact counts and values, repeated rows
//! dropped and reported, and a second ingest that stores nothing new.

use sea_orm::DbBackend;
use serde_json::{Value, json};

use crate::support::{assert_reingest_stores_nothing, count, data, empty, ingest, options, real};

/// Finds `model`'s entry on a leaderboard response.
fn entry<'a>(board: &'a Value, model: &str) -> &'a Value {
    let entries = board["leaderboard"]["entries"].as_array();
    let found =
        entries.and_then(|entries| entries.iter().find(|entry| entry["model"]["name"] == model));
    found.unwrap_or_else(|| panic!("no entry of `{model}` in {board}"))
}

#[tokio::test]
async fn alpaca_eval_boards_are_stored_by_annotator() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    let folder = real("alpaca-eval");
    let (first, recorder) = ingest(&db, std::slice::from_ref(&folder), &options()).await?;
    // Nine model boards; the evaluators board ranks judges, not models.
    assert_eq!(
        (first.files, first.stored, first.skipped, first.rejected),
        (10, 9, 1, 0)
    );
    assert_eq!(
        (first.runs, first.results, first.dropped_rows),
        (403, 2622, 0)
    );
    assert!(matches!(
        recorder.outcome_of("evaluators_leaderboard.csv"),
        Some(backend::ingest::batch::Outcome::Skipped { reason }) if reason.contains("judge")
    ));
    let harness = "SELECT count(*) FROM run WHERE harness = 'alpaca_eval'";
    assert_eq!(count(&db, harness).await, 403);

    let board = data(
        &db,
        r#"{ leaderboard(task: "alpaca_eval", metric: "win_rate",
                         filter: "weighted_alpaca_eval_gpt4_turbo") {
              configuration { taskVersion filter models }
              entries { rank value stderr model { name } } } }"#,
    )
    .await;
    let configuration = &board["leaderboard"]["configuration"];
    assert_eq!(
        configuration,
        &json!({"taskVersion": "2.0", "filter": "weighted_alpaca_eval_gpt4_turbo",
                "models": 223})
    );
    let null_model = entry(&board, "NullModel");
    assert_eq!(null_model["value"], json!(76.91979180386511));
    assert_eq!(null_model["stderr"], json!(0.9090102449662572));

    assert_reingest_stores_nothing(&db, &[folder], 9).await?;

    Ok(())
}

#[tokio::test]
async fn open_llm_snapshots_drop_repeated_rows_and_keep_shots() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    let folder = real("open-llm-leaderboard-v1-snapshots");
    let (first, _) = ingest(&db, std::slice::from_ref(&folder), &options()).await?;
    // 49 + 1,192 + 95 models, four task columns each; 99 + 14 rows repeat a
    // model listed before and are dropped.
    assert_eq!((first.stored, first.rejected), (3, 0));
    assert_eq!(
        (first.runs, first.results, first.dropped_rows),
        (5344, 5344, 113)
    );
    let event = "SELECT count(*) FROM ingest_event WHERE outcome = 'stored' \
                 AND detail LIKE 'dropped 14 repeated rows (0 identical)%'";
    assert_eq!(count(&db, event).await, 1);

    // `ARC (25-shot)` (May) and `ARC(25-shot)` (September) are one task at
    // one n-shot; llama-65b is in both snapshots, and the later one counts.
    let board = data(
        &db,
        r#"{ leaderboard(task: "ARC", metric: "score", nShot: 25) {
              configuration { nShot filter }
              entries { value model { name } } } }"#,
    )
    .await;
    assert_eq!(
        board["leaderboard"]["configuration"],
        json!({"nShot": 25, "filter": "none"})
    );
    assert_eq!(entry(&board, "llama-65b")["value"], json!(63.5));
    assert_eq!(
        entry(&board, "Riiid/sheep-duck-llama-2")["value"],
        json!(72.4)
    );
    let runs = data(
        &db,
        r#"{ runs(where: {model: "llama-65b", task: "ARC"}) { totalCount } }"#,
    )
    .await;
    assert_eq!(runs["runs"]["totalCount"], 2);

    assert_reingest_stores_nothing(&db, &[folder], 3).await?;

    Ok(())
}
