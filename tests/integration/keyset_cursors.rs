//! Keyset cursors: paging runs, models, tasks and samples visits every row
//! once in order, rows stored between two pages do not shift the next page,
//! and cursors that this API did not issue for the list are refused with
//! `invalid_cursor`.

use async_graphql::connection::{CursorType, OpaqueCursor};
use sea_orm::{DatabaseConnection, DbBackend};
use serde_json::{Value, json};
use tests::pg;

use super::support::{data, empty, graphql, ingest, options, real};

/// Reads every node of the connection `field` (a top-level list, or one
/// reached through `path`), `first` at a time, and returns their `key`s.
async fn page_through(
    db: &DatabaseConnection,
    query: &dyn Fn(&str) -> String,
    path: &[&str],
    key: &str,
) -> Vec<Value> {
    let mut keys = Vec::new();
    let mut after = String::new();
    loop {
        let mut page = data(db, &query(&after)).await;
        for step in path {
            page = page[*step].clone();
        }
        let nodes = page["nodes"].as_array().cloned().unwrap_or_default();
        keys.extend(nodes.iter().map(|node| node[key].clone()));
        let end = page["pageInfo"]["endCursor"].as_str().unwrap_or_default();
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return keys;
        }
        after = format!(r#", after: "{end}""#);
    }
}

/// Returns `field` of every node of a connection.
fn field_of(connection: &Value, field: &str) -> Vec<Value> {
    let nodes = connection["nodes"].as_array().into_iter().flatten();
    nodes.map(|node| node[field].clone()).collect()
}

async fn runs_in_order(db: &DatabaseConnection) -> Vec<Value> {
    let all = data(db, "{ runs(first: 1000) { nodes { id } } }").await;
    field_of(&all["runs"], "id")
}

/// Returns a SQLite database holding a thousand-odd real runs.
async fn with_runs() -> anyhow::Result<DatabaseConnection> {
    let db = empty(DbBackend::Sqlite).await?;
    let folder = pg::data_dir().join("lm-eval-harness-v0.4-pr2809");
    ingest(&db, &[folder], &options()).await?;
    Ok(db)
}

#[tokio::test]
async fn paging_visits_every_row_once_in_order() -> anyhow::Result<()> {
    let db = with_runs().await?;
    let samples = "lm-eval-harness-v0.4-samples/pr2236-asdiv";
    ingest(&db, &[real(samples)], &options()).await?;

    let runs = |after: &str| {
        format!("{{ runs(first: 50{after}) {{ nodes {{ key: effectiveAt id }} {INFO} }} }}")
    };
    let times = page_through(&db, &runs, &["runs"], "key").await;
    let ids = page_through(&db, &runs, &["runs"], "id").await;
    let total = data(&db, "{ runs { totalCount } }").await;
    assert!(ids.len() > 60, "only {} runs", ids.len());
    assert_eq!(json!(ids.len()), total["runs"]["totalCount"]);
    let keys: Vec<(String, String)> = times
        .iter()
        .zip(&ids)
        .map(|(at, id)| (at.to_string(), id.to_string()))
        .collect();
    // RFC 3339 times in UTC compare in time order as text.
    let newest_first = keys.windows(2).all(|pair| {
        let ((at, id), (next_at, next_id)) = (&pair[0], &pair[1]);
        at > next_at || (at == next_at && id < next_id)
    });
    assert!(newest_first, "runs out of order");

    let models = |after: &str| format!("{{ models(first: 2{after}) {{ {PAGE_NAMES} }} }}");
    let names = page_through(&db, &models, &["models"], "name").await;
    let all = data(&db, "{ models(first: 1000) { nodes { name } } }").await;
    let every: Vec<Value> = field_of(&all["models"], "name");
    assert!(names.len() > 2);
    assert!(names == every, "paged {names:?}, listed {every:?}");

    let tasks = |after: &str| format!("{{ tasks(first: 3{after}) {{ {PAGE} }} }}");
    let task_ids = page_through(&db, &tasks, &["tasks"], "id").await;
    let all = data(&db, "{ tasks(first: 1000) { totalCount } }").await;
    assert_eq!(json!(task_ids.len()), all["tasks"]["totalCount"]);

    let sampled = data(&db, r#"{ runs(where: {task: "asdiv"}) { nodes { id } } }"#).await;
    let run = sampled["runs"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let samples = |after: &str| {
        format!(r#"{{ run(id: "{run}") {{ samples(first: 4{after}) {{ {PAGE_NUMBERS} }} }} }}"#)
    };
    let numbers = page_through(&db, &samples, &["run", "samples"], "sampleNo").await;
    assert!(numbers.len() > 4, "only {} samples", numbers.len());
    let expected: Vec<Value> = (0..numbers.len()).map(|n| json!(n)).collect();
    assert_eq!(numbers, expected);
    Ok(())
}

const INFO: &str = "pageInfo { hasNextPage endCursor }";
const PAGE: &str = "nodes { id } pageInfo { hasNextPage endCursor }";
const PAGE_NAMES: &str = "nodes { name } pageInfo { hasNextPage endCursor }";
const PAGE_NUMBERS: &str = "nodes { sampleNo } pageInfo { hasNextPage endCursor }";

#[tokio::test]
async fn runs_stored_between_pages_do_not_shift_the_next_page() -> anyhow::Result<()> {
    let db = with_runs().await?;
    let first = data(&db, &format!("{{ runs(first: 5) {{ {PAGE} }} }}")).await;
    let seen: Vec<Value> = field_of(&first["runs"], "id");
    let end = first["runs"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap_or_default();

    // v0.3 files carry no date: their runs take the ingest time, the newest
    // of all, and sort before every row already seen.
    let undated = "lm-eval-harness-v0.3-results/bloom/bloom-1b1";
    ingest(&db, &[real(undated)], &options()).await?;
    let next = data(
        &db,
        &format!(r#"{{ runs(first: 5, after: "{end}") {{ {PAGE} }} }}"#),
    )
    .await;
    let next: Vec<Value> = field_of(&next["runs"], "id");

    let now = runs_in_order(&db).await;
    let last_seen = now.iter().position(|id| Some(id) == seen.last());
    let Some(last_seen) = last_seen else {
        anyhow::bail!("the first page's last run is gone");
    };
    assert!(
        last_seen >= 5 + 5,
        "the new runs did not sort before the first page"
    );
    assert_eq!(next, now[last_seen + 1..last_seen + 6].to_vec());
    Ok(())
}

/// Encodes `value` the way this API's cursors are encoded.
fn cursor(value: Value) -> String {
    OpaqueCursor(value).encode_cursor()
}

#[tokio::test]
async fn crafted_cursors_are_refused_with_a_code() -> anyhow::Result<()> {
    let db = with_runs().await?;
    let models = data(&db, "{ models(first: 1) { pageInfo { endCursor } } }").await;
    let of_models = models["models"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap_or_default();
    let crafted = [
        of_models.to_string(),
        "garbage!".to_string(),
        cursor(json!(17)),
        cursor(json!({"list": "runs", "key": [{"Text": "x"}]})),
        cursor(json!({"list": "runs", "key": [{"Time": "yesterday"}, {"Id": "x"}]})),
        cursor(json!({"list": "runs", "key": []})),
        cursor(json!({"list": "runs", "key": [{"Number": 1}, {"Number": 2}, {"Number": 3}]})),
    ];
    for after in crafted {
        let response = graphql(
            &db,
            &format!(r#"{{ runs(after: "{after}") {{ totalCount }} }}"#),
        )
        .await;
        assert_eq!(
            response["errors"][0]["extensions"],
            json!({"code": "invalid_cursor", "field": "after"}),
            "{after}"
        );
        assert_eq!(response["data"], Value::Null, "{after}");
    }
    Ok(())
}
