//! MTEB results on PostgreSQL: the real folder's three result generations
//! with exact counts and values, subsets kept apart on leaderboards, and a
//! second ingest that stores nothing new.

use sea_orm::DbBackend;
use serde_json::json;

use crate::support::{assert_reingest_stores_nothing, count, data, empty, ingest, options, real};

const RESULTS: &str = "mteb-results/results";

#[tokio::test]
async fn the_real_results_are_stored_once_with_exact_values() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    let (first, _) = ingest(&db, &[real(RESULTS)], &options()).await?;
    // 64 result files, one run each; the 10 `model_meta.json` are skipped.
    assert_eq!(
        (first.files, first.stored, first.skipped, first.rejected),
        (74, 64, 10, 0)
    );
    assert_eq!((first.runs, first.results), (64, 3781));
    assert_eq!(
        count(&db, "SELECT count(*) FROM run WHERE harness = 'mteb'").await,
        64
    );
    assert_eq!(
        count(&db, "SELECT count(DISTINCT model_id) FROM run").await,
        8
    );
    // 11 task names; the oldest generation records no dataset revision, so
    // its 10 files' tasks are rows of their own (version empty).
    let names = "SELECT count(DISTINCT task.name) FROM run JOIN task ON task.id = run.task_id";
    assert_eq!(count(&db, names).await, 11);
    assert_eq!(
        count(&db, "SELECT count(DISTINCT task_id) FROM run").await,
        11 + 10
    );

    let board = data(
        &db,
        r#"{ leaderboard(task: "STSBenchmark", metric: "main_score", filter: "test/default") {
              configuration { filter models }
              entries { rank value model { name } revision } } }"#,
    )
    .await;
    let board = &board["leaderboard"];
    assert_eq!(board["configuration"]["filter"], "test/default");
    let entries = board["entries"].as_array().cloned().unwrap_or_default();
    let mini_lm = entries
        .iter()
        .find(|entry| entry["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(
        mini_lm.map(|entry| (&entry["value"], &entry["revision"])),
        Some((
            &json!(0.8203247283076371),
            &json!("8b3219a92973c328a8e22fadcfa821b5dc75636a")
        ))
    );
    // Six models have a 1.x STSBenchmark file; the oldest file (OpenAI's)
    // has no `main_score` and no dataset revision, so it is not on this board.
    assert_eq!(entries.len(), 6);

    // STS22's subsets are configurations of one task, never ranked together.
    let spanish = data(
        &db,
        r#"{ leaderboard(task: "STS22", metric: "main_score", filter: "test/es-en") {
              configuration { filter } entries { value model { name } } } }"#,
    )
    .await;
    let entries = spanish["leaderboard"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let e5 = entries
        .iter()
        .find(|entry| entry["model"]["name"] == "intfloat/multilingual-e5-small");
    assert_eq!(e5.map(|entry| &entry["value"]), Some(&json!(0.757522)));

    assert_reingest_stores_nothing(&db, &[real(RESULTS)], 64).await?;

    Ok(())
}
