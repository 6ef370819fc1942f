//! The GraphQL API's contract: the checked-in schema, error objects, Relay
//! pagination, run filters, and the HTTP endpoints.

use actix_web::{App, test as actix};
use backend::explorer::ExplorerAssets;
use backend::ingest::store::Attachments;
use backend::server::{AppState, routes};
use sea_orm::DbBackend;
use serde_json::{Value, json};

use crate::support::{data, empty, graphql, ingest, options, real, real_postgres};

#[test]
fn the_checked_in_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../backend/schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == backend::graphql::sdl(),
        "backend/schema.graphql is stale; regenerate it with \
         `cargo run -p backend -- schema > backend/schema.graphql`"
    );
}

#[tokio::test]
async fn unknown_names_give_whole_coded_errors() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let response = graphql(
        &db,
        r#"{ leaderboard(task: "nope", metric: "acc") { task } }"#,
    )
    .await;
    assert_eq!(
        response["errors"],
        json!([{
            "message": "task `nope` was not found",
            "locations": [{"line": 1, "column": 3}],
            "path": ["leaderboard"],
            "extensions": {"code": "task_not_found"}
        }])
    );
    let response = graphql(&db, r#"{ models(after: "garbage") { totalCount } }"#).await;
    assert_eq!(
        response["errors"][0]["extensions"],
        json!({"code": "invalid_cursor", "field": "after"})
    );
    let response = graphql(&db, r#"{ models(first: 1001) { totalCount } }"#).await;
    assert_eq!(
        response["errors"][0]["extensions"],
        json!({"code": "invalid_argument", "field": "first"})
    );
    assert_eq!(
        data(&db, r#"{ model(name: "nobody") { name } }"#).await,
        json!({"model": null})
    );
    let response = graphql(&db, "{ models { edges { node { nosuchfield } } } }").await;
    assert_eq!(
        response["errors"][0]["extensions"],
        json!({"code": "invalid_query"})
    );
    // A syntax error is one sentence with its place, not the parser's diagram.
    let response = graphql(&db, "{ models { totalCount }").await;
    let error = &response["errors"][0];
    assert_eq!(error["extensions"], json!({"code": "invalid_query"}));
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("syntax error at line 1, column 24: expected "),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
    let response = graphql(&db, r#"{ run(id: "not-a-uuid") { id } }"#).await;
    let message = response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.starts_with("not a valid id ("), "{message}");

    Ok(())
}

#[tokio::test]
async fn queries_nested_too_deep_are_refused_before_running() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    // `first: 1` keeps the complexity low, so only the depth limit applies.
    let level = "runs(first: 1) { edges { node { model { ";
    let deep = format!("{{ {} id {} }}", level.repeat(5), "} } } } ".repeat(5));
    let response = graphql(&db, &deep).await;
    assert_eq!(response["data"], Value::Null);
    assert_eq!(
        response["errors"],
        json!([{"message": "Query is nested too deep.", "extensions": {"code": "invalid_query"}}])
    );

    Ok(())
}

#[tokio::test]
async fn connections_page_forward_without_gaps() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let first = data(
        &db,
        "{ models(first: 3) { totalCount pageInfo { hasNextPage endCursor }
        edges { node { name } } } }",
    )
    .await;
    let total = first["models"]["totalCount"].as_u64().unwrap_or_default();
    // 71 models from lm-eval files, 9 from the HELM run folders, 6 from
    // Inspect logs (`openai/gpt-4o-mini`, …), 8 from MTEB results and 1,439
    // new ones from the leaderboard tables.
    assert_eq!(total, 71 + 9 + 6 + 8 + 1439);
    assert_eq!(first["models"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["models"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap_or_default();
    let query =
        format!(r#"{{ models(first: 3, after: "{cursor}") {{ edges {{ node {{ name }} }} }} }}"#);
    let second = data(&db, &query).await;
    let names = |page: &Value| -> Vec<String> {
        let edges = page["models"]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        edges
            .iter()
            .filter_map(|e| e["node"]["name"].as_str().map(str::to_string))
            .collect()
    };
    let (first, second) = (names(&first), names(&second));
    assert_eq!(first.len() + second.len(), 6);
    assert!(first.iter().all(|name| !second.contains(name)));
    assert!(
        first.last() < second.first(),
        "pages are in name order: {first:?} {second:?}"
    );

    Ok(())
}

#[tokio::test]
async fn runs_filter_by_tag_project_model_and_time() -> anyhow::Result<()> {
    let db = empty(DbBackend::Postgres).await?;
    let tagged = backend::ingest::batch::IngestOptions {
        attachments: Attachments {
            projects: vec!["baselines".into()],
            tags: vec!["qwen".into()],
            model_tags: vec!["open-weights".into()],
        },
        ..options()
    };
    ingest(
        &db,
        &[real("lm-eval-harness-v0.4-pr2809/results/Qwen__Qwen2.5-3B")],
        &tagged,
    )
    .await?;
    ingest(
        &db,
        &[real("lm-eval-harness-v0.3-results/bloom/bloom-560m")],
        &options(),
    )
    .await?;

    let query = r#"{
      tagged: runs(where: {tag: "qwen"}) { totalCount }
      project: runs(where: {project: "baselines", task: "arc_easy"}) {
        totalCount edges { node { tags projects model { name } } } }
      bloom: runs(where: {model: "BIGSCIENCE/bloom-560m"}) { totalCount }
      march: runs(where: {from: "2025-03-03T00:00:00Z", to: "2025-03-04T00:00:00Z"}) {
        totalCount }
      none: runs(where: {tag: "no-such-tag"}) { totalCount }
      tags { totalCount edges { node { name } } }
      model(name: "Qwen/Qwen2.5-3B") { tags }
    }"#;
    let data = data(&db, query).await;
    assert_eq!(data["tagged"]["totalCount"], 78);
    assert_eq!(
        data["project"],
        json!({"totalCount": 1, "edges": [{"node": {
            "tags": ["qwen"], "projects": ["baselines"], "model": {"name": "Qwen/Qwen2.5-3B"}}}]})
    );
    assert_eq!(data["bloom"]["totalCount"], 85);
    // Only the v0.4 file carries a date; v0.3 runs fall back to ingest time (now).
    assert_eq!(data["march"]["totalCount"], 78);
    assert_eq!(data["none"]["totalCount"], 0);
    assert_eq!(data["tags"]["totalCount"], 2);
    assert_eq!(data["model"]["tags"], json!(["open-weights"]));
    let inverted = graphql(
        &db,
        r#"{ runs(where: {from: "2025-03-04T00:00:00Z",
        to: "2025-03-03T00:00:00Z"}) { totalCount } }"#,
    )
    .await;
    assert_eq!(
        inverted["errors"][0]["extensions"]["code"],
        "invalid_argument"
    );

    Ok(())
}

#[tokio::test]
async fn a_run_carries_its_provenance() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let file = real("lm-eval-harness-v0.3-results/bloom/bloom-560m/bloom-560m_xcopa_0-shot.json");
    ingest(&db, std::slice::from_ref(&file), &options()).await?;
    let sha256 = backend::service::identity::sha256_hex(&std::fs::read(&file)?);
    let id = backend::service::identity::run_id(&sha256, "xcopa_et");

    let query = format!(
        r#"{{ run(id: "{id}") {{ id harness harnessVersion config source {{ path sha256 }}
            task {{ name }} results {{ metric {{ name }} value }} }} }}"#
    );
    let run = data(&db, &query).await["run"].clone();
    assert_eq!(run["id"], id.to_string());
    assert_eq!(run["harness"], "lm-evaluation-harness");
    assert_eq!(
        run["source"],
        json!({"path": file.display().to_string(), "sha256": sha256})
    );
    assert_eq!(
        run["config"]["model_args"],
        "pretrained=bigscience/bloom-560m"
    );
    assert_eq!(run["task"]["name"], "xcopa_et");

    // A negative `first` on a plain list is refused as on a paged one.
    for list in [
        r#"leaderboard(task: "xcopa_et", metric: "acc") { entries(first: -3) { rank } }"#,
        r#"compositeRanking(metric: "acc", tasks: ["xcopa_et"]) { entries(first: -1) { rank } }"#,
    ] {
        let response = graphql(&db, &format!("{{ {list} }}")).await;
        assert_eq!(
            response["errors"][0]["extensions"],
            json!({"code": "invalid_argument", "field": "first"}),
            "{list}"
        );
    }
    Ok(())
}

#[actix_web::test]
async fn http_serves_graphql_the_placeholder_and_health() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let state = AppState::new(
        db,
        ExplorerAssets::new("/nonexistent"),
        "/nonexistent".into(),
    );
    let app = actix::init_service(App::new().configure(|cfg| routes(cfg, &state))).await;

    let request = actix::TestRequest::post()
        .uri("/graphql")
        .set_json(json!({"query": "{ metrics { totalCount } }"}))
        .to_request();
    let body: Value = actix::call_and_read_body_json(&app, request).await;
    assert_eq!(body, json!({"data": {"metrics": {"totalCount": 0}}}));

    let page = actix::call_and_read_body(&app, actix::TestRequest::get().uri("/").to_request());
    assert!(String::from_utf8_lossy(&page.await).contains("GraphQL explorer"));
    let health = actix::TestRequest::get().uri("/health").to_request();
    assert_eq!(actix::call_and_read_body(&app, health).await, "ok");

    Ok(())
}

#[tokio::test]
async fn cursors_beyond_any_page_are_refused_not_wrapped() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    // base64 of the largest u64 and of i64::MAX: the offset after them overflows.
    for cursor in ["MTg0NDY3NDQwNzM3MDk1NTE2MTU", "OTIyMzM3MjAzNjg1NDc3NTgwNw"] {
        let query = format!(r#"{{ runs(after: "{cursor}") {{ totalCount }} }}"#);
        let response = graphql(&db, &query).await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "invalid_cursor",
            "{cursor}"
        );
    }

    Ok(())
}

#[tokio::test]
async fn nested_lists_count_against_the_complexity_limit() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let heavy = "{ models(first: 500) { edges { node { runs(first: 500) { edges { node {
        model { name } } } } } } } }";
    let response = graphql(&db, heavy).await;
    assert_eq!(
        response["errors"],
        json!([{"message": "Query is too complex.", "extensions": {"code": "invalid_query"}}])
    );
    let light = "{ models(first: 20) { edges { node { runs(first: 20) { totalCount } } } } }";
    assert!(graphql(&db, light).await.get("errors").is_none());

    // Plain lists that lead back into the graph count too: a model's scores
    // reach runs, whose model has scores again. This once ran out of memory.
    let cycle = "{ models(first: 5) { edges { node { scores { run { model { scores { run {
        model { scores { run { id results { value } } } } } } } } } } } } }";
    assert_eq!(
        graphql(&db, cycle).await["errors"],
        json!([{"message": "Query is too complex.", "extensions": {"code": "invalid_query"}}])
    );
    let profile = "{ models(first: 20) { edges { node { name scores { nShot task { name }
        result { value stderr metric { name } } run { id } } } } } }";
    assert!(graphql(&db, profile).await.get("errors").is_none());
    // A run's results lead nowhere further, so a full page of runs with
    // their results (the peer benchmark's filter query) stays allowed.
    let page = "{ runs(first: 1000) { edges { node { id model { name } task { name version }
        nShot startedAt projects tags results { metric { name } value stderr } } } } }";
    assert!(graphql(&db, page).await.get("errors").is_none());
    // A page larger than any allowed is refused with the limit named, however
    // large; a plain list's `first` costs no more than leaving it out.
    for first in [1001, 100_000] {
        let response = graphql(&db, &format!("{{ runs(first: {first}) {{ totalCount }} }}")).await;
        assert_eq!(
            response["errors"][0]["message"], "invalid `first`: must be at most 1000",
            "{response}"
        );
    }
    let board = r#"{ leaderboard(task: "none", metric: "acc") { entries(first: 50000) {
        rank model { name } } } }"#;
    assert_eq!(
        graphql(&db, board).await["errors"][0]["extensions"]["code"],
        "task_not_found"
    );

    Ok(())
}

#[tokio::test]
async fn an_overlong_search_is_an_invalid_argument() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    let long = "a".repeat(60_000);
    for query in [
        format!(r#"{{ models(search: "{long}") {{ totalCount }} }}"#),
        format!(r#"{{ taskSummaries(search: "{long}") {{ totalCount }} }}"#),
        format!(r#"{{ datasets(search: "{long}") {{ totalCount }} }}"#),
    ] {
        let errors = &graphql(&db, &query).await["errors"];
        assert_eq!(
            errors[0]["extensions"]["code"], "invalid_argument",
            "{errors}"
        );
        assert_eq!(errors[0]["extensions"]["field"], "search", "{errors}");
    }
    // Up to the limit a search still runs.
    let fine = format!(
        r#"{{ models(search: "{}") {{ totalCount }} }}"#,
        "a".repeat(1000)
    );
    assert_eq!(graphql(&db, &fine).await["data"]["models"]["totalCount"], 0);
    Ok(())
}

#[tokio::test]
async fn the_explorer_can_introspect_the_schema() -> anyhow::Result<()> {
    let db = empty(DbBackend::Sqlite).await?;
    // The shape of graphql-js 16's introspection query: nine nested `ofType`.
    let mut type_ref = String::from("kind name");
    for _ in 0..9 {
        type_ref = format!("kind name ofType {{ {type_ref} }}");
    }
    let query = format!(
        "{{ __schema {{ queryType {{ name }} types {{ kind name fields(includeDeprecated: true) \
         {{ name args {{ name type {{ {type_ref} }} }} type {{ {type_ref} }} }} }} }} }}"
    );
    let response = graphql(&db, &query).await;
    assert!(response.get("errors").is_none(), "{}", response["errors"]);
    assert_eq!(
        response["data"]["__schema"]["queryType"]["name"],
        "QueryRoot"
    );

    Ok(())
}

#[tokio::test]
async fn model_search_matches_wildcard_characters_literally() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let query = r#"{
        percent: models(search: "%") { totalCount }
        underscore: models(search: "pythia_v1") { totalCount }
        pythia: models(search: "PYTHIA-v1") { totalCount }
    }"#;
    assert_eq!(
        data(&db, query).await,
        json!({"percent": {"totalCount": 0}, "underscore": {"totalCount": 0},
               "pythia": {"totalCount": 16}})
    );

    Ok(())
}
