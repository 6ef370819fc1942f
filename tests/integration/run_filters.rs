//! Run filters that compose: `and` and `or` over tags, projects, models,
//! model tags (families) and time, on PostgreSQL and SQLite alike, with
//! the size of a filter bounded.

use backend::ingest::batch::IngestOptions;
use backend::ingest::store::Attachments;
use sea_orm::{DatabaseConnection, DbBackend};
use serde_json::{Value, json};

use crate::support::{data, empty, graphql, ingest, options, real};

/// 78 runs of Qwen2.5-3B tagged `qwen` in project `baselines`, its model
/// tagged `family:qwen`, dated 2025-03-03; 85 undated runs of bloom-560m.
async fn two_models(backend: DbBackend) -> anyhow::Result<DatabaseConnection> {
    let db = empty(backend).await?;
    let tagged = IngestOptions {
        attachments: Attachments {
            projects: vec!["baselines".into()],
            tags: vec!["qwen".into()],
            model_tags: vec!["family:qwen".into()],
        },
        ..options()
    };
    let qwen = real("lm-eval-harness-v0.4-pr2809/results/Qwen__Qwen2.5-3B");
    ingest(&db, &[qwen], &tagged).await?;
    let bloom = real("lm-eval-harness-v0.3-results/bloom/bloom-560m");
    ingest(&db, &[bloom], &options()).await?;
    Ok(db)
}

/// Counts the runs matching `filter`, written as a GraphQL input object.
async fn count(db: &DatabaseConnection, filter: &str) -> Value {
    let found = data(db, &format!("{{ runs(where: {filter}) {{ totalCount }} }}")).await;
    found["runs"]["totalCount"].clone()
}

#[tokio::test]
async fn and_or_compose_over_every_field() -> anyhow::Result<()> {
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        let db = two_models(backend).await?;
        let bloom = r#"{model: "bigscience/bloom-560m"}"#;
        let either = format!(r#"{{or: [{{tag: "qwen"}}, {bloom}]}}"#);
        assert_eq!(count(&db, &either).await, json!(78 + 85), "{backend:?}");

        let arc = count(&db, r#"{tag: "qwen", task: "arc_easy"}"#).await;
        let hellaswag = count(&db, r#"{tag: "qwen", task: "hellaswag"}"#).await;
        let both = r#"{and: [{project: "baselines"},
            {or: [{task: "arc_easy"}, {task: "hellaswag"}]}]}"#;
        let expected = arc.as_i64().unwrap_or(-1) + hellaswag.as_i64().unwrap_or(-1);
        assert!(expected >= 2, "{backend:?}: {arc} + {hellaswag}");
        assert_eq!(count(&db, both).await, json!(expected), "{backend:?}");

        let family = r#"{modelTag: "family:qwen"}"#;
        assert_eq!(count(&db, family).await, json!(78), "{backend:?}");
        let march = r#"{from: "2025-03-03T00:00:00Z", to: "2025-03-04T00:00:00Z"}"#;
        let not_march =
            format!(r#"{{or: [{{modelTag: "no-such-family"}}, {bloom}], and: [{march}]}}"#);
        assert_eq!(count(&db, &not_march).await, json!(0), "{backend:?}");
        let unknown_branch = format!(r#"{{or: [{{tag: "no-such-tag"}}, {bloom}]}}"#);
        assert_eq!(count(&db, &unknown_branch).await, json!(85), "{backend:?}");
        assert_eq!(count(&db, "{or: []}").await, json!(78 + 85), "{backend:?}");
    }
    Ok(())
}

/// Nests `inner` in `levels` levels of `and`.
fn nested(levels: usize, inner: &str) -> String {
    (0..levels).fold(inner.to_string(), |filter, _| {
        format!("{{and: [{filter}]}}")
    })
}

#[tokio::test]
async fn oversized_or_inverted_filters_are_refused_whole() -> anyhow::Result<()> {
    let db = two_models(DbBackend::Sqlite).await?;
    let wide = format!("{{or: [{}]}}", vec![r#"{tag: "qwen"}"#; 33].join(", "));
    let inverted = r#"{from: "2025-03-04T00:00:00Z", to: "2025-03-03T00:00:00Z"}"#;
    let refused = [
        (
            "wide",
            wide,
            "invalid `where`: at most 32 nested filters are allowed",
        ),
        (
            "deep",
            nested(5, "{}"),
            "invalid `where`: filters may nest at most 4 deep",
        ),
        (
            "inverted",
            nested(2, inverted),
            "invalid `where`: `from` must be earlier than `to`",
        ),
    ];
    for (name, filter, message) in refused {
        let query = format!("{{ runs(where: {filter}) {{ totalCount }} }}");
        let response = graphql(&db, &query).await;
        assert_eq!(
            response["errors"][0]["extensions"],
            json!({"code": "invalid_argument", "field": "where"}),
            "{name}"
        );
        assert_eq!(response["errors"][0]["message"], message, "{name}");
    }
    assert_eq!(count(&db, &nested(4, r#"{tag: "qwen"}"#)).await, json!(78));
    Ok(())
}
