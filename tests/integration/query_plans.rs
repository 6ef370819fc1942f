//! The hot reads use indexes: on real PostgreSQL, with the real folder plus
//! enough generated rows that the planner prefers an index where one fits,
//! every statement the services issue for them is explained and no big table
//! is read by a sequential scan.
//!
//! The statements are the ones the services really send, captured through
//! sea-orm's metric callback, explained with their values inlined (the custom
//! plan PostgreSQL uses for a prepared statement's first executions).

use std::sync::{Arc, Mutex};

use backend::service::keyset::KeysetRequest;
use backend::service::leaderboard::{self, LeaderboardQuery};
use backend::service::run::{self, RunWhere};
use backend::service::samples::{self, SampleWhere};
use backend::service::{catalog, model_profile};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::Value;

use super::support::{count, real_postgres};

/// Tables that grow with the data; a dimension may be scanned whole.
const BIG: &[&str] = &[
    "run",
    "run_result",
    "run_tag",
    "run_project",
    "sample",
    "leaderboard_entry",
    "leaderboard_board",
];

/// Generated facts beside the real ones: 60,000 runs of 2,000 new models
/// spread over every real task, four results each, 200 tags, and 40 samples
/// for each of 5,000 runs: a store where one model, tag or run is a small
/// share of the whole, as in production.
const GENERATE: &str = "
INSERT INTO tag (name, created_at)
    SELECT 'plan-tag-' || g, now() FROM generate_series(1, 200) g;
INSERT INTO ml_model (name, is_local_path, created_at)
    SELECT 'plan-model-' || g, false, now() FROM generate_series(1, 2000) g;
INSERT INTO run (id, model_id, task_id, n_shot, harness, config, config_hash,
        source_path, source_sha256, ingested_at, effective_at, truncated)
    SELECT gen_random_uuid(), m.ids[1 + g % cardinality(m.ids)],
        t.ids[1 + (g * 7919) % cardinality(t.ids)], 0, 'generated', '{}'::jsonb,
        'generated', 'generated/' || g, md5(g::text), now(),
        timestamptz '2020-01-01' + g * interval '7 minutes', false
    FROM generate_series(1, 60000) g,
        (SELECT array_agg(id ORDER BY id) AS ids FROM ml_model
         WHERE name LIKE 'plan-model-%') m,
        (SELECT array_agg(id ORDER BY id) AS ids FROM task) t;
INSERT INTO run_result (run_id, metric_id, filter, value, value_kind, stderr, stderr_kind)
    SELECT r.id, mt.ids[1 + k], 'none', random(), 'finite', NULL, 'missing'
    FROM run r, generate_series(0, 3) k,
        (SELECT array_agg(id ORDER BY id) AS ids FROM metric) mt
    WHERE r.harness = 'generated';
INSERT INTO run_tag (run_id, tag_id)
    SELECT r.id, tg.ids[1 + abs(hashtext(r.id::text)) % cardinality(tg.ids)]
    FROM run r, (SELECT array_agg(id) AS ids FROM tag WHERE name LIKE 'plan-tag-%') tg
    WHERE r.harness = 'generated';
INSERT INTO sample (run_id, sample_no, run_ingested_at, doc_id, filter, input,
        scores, score, score_kind, correct)
    SELECT r.id, s, r.ingested_at, s, 'none', 'question ' || s, '{}'::jsonb, 1,
        'finite', true
    FROM (SELECT id, ingested_at FROM run WHERE harness = 'generated'
          ORDER BY id LIMIT 5000) r, generate_series(0, 39) s;
DELETE FROM leaderboard_entry;
DELETE FROM leaderboard_board;";

/// One plan node: its type, the relation it reads and the index it uses.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    kind: String,
    relation: Option<String>,
    index: Option<String>,
}

fn nodes(plan: &Value, into: &mut Vec<Node>) {
    let text = |key: &str| plan.get(key).and_then(Value::as_str).map(str::to_string);
    into.push(Node {
        kind: text("Node Type").unwrap_or_default(),
        relation: text("Relation Name"),
        index: text("Index Name"),
    });
    for child in plan
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        nodes(child, into);
    }
}

/// Explains `sql` and returns its plan's nodes.
async fn explain(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Vec<Node>> {
    let statement =
        Statement::from_string(DbBackend::Postgres, format!("EXPLAIN (FORMAT JSON) {sql}"));
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| anyhow::anyhow!("EXPLAIN returned nothing"))?;
    let plan: Value = row.try_get_by_index(0)?;
    let mut found = Vec::new();
    nodes(&plan[0]["Plan"], &mut found);
    Ok(found)
}

/// Whether `relation` is a big table or one of the sample partitions.
fn is_big(relation: &str) -> bool {
    BIG.contains(&relation) || relation.starts_with("sample_")
}

/// Statements seen by the connection since the last `take`.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut seen| std::mem::take(&mut *seen))
            .unwrap_or_default()
    }
}

/// Explains every read statement captured for `query` and returns the
/// indexes they use; fails on a sequential scan of a big table.
async fn check(
    db: &DatabaseConnection,
    captured: &Captured,
    query: &str,
) -> anyhow::Result<Vec<String>> {
    let statements = captured.take();
    assert!(!statements.is_empty(), "{query}: no statement captured");
    let mut indexes = Vec::new();
    for sql in statements.iter().filter(|sql| sql.starts_with("SELECT")) {
        let plan = explain(db, sql).await?;
        for node in &plan {
            let relation = node.relation.as_deref().unwrap_or_default();
            assert!(
                !(node.kind == "Seq Scan" && is_big(relation)),
                "{query}: sequential scan of `{relation}` in\n{sql}\n{plan:#?}"
            );
            if let Some(index) = &node.index {
                // A read that never visits the table is told apart.
                let only = if node.kind == "Index Only Scan" {
                    "only:"
                } else {
                    ""
                };
                indexes.push(format!("{only}{index}"));
            }
        }
    }
    captured.take();
    Ok(indexes)
}

fn service(error: backend::error::ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{}", error.message())
}

#[tokio::test(flavor = "multi_thread")]
async fn hot_reads_use_indexes_on_big_tables() -> anyhow::Result<()> {
    let (mut db, _) = real_postgres().await?;
    db.execute_unprepared(GENERATE).await?;
    migration::rebuild_leaderboard_read_model(&db, migration::Rebuild::All).await?;
    // As autovacuum would after the load: statistics, and the visibility
    // map that lets a covering index answer without the table.
    db.execute_unprepared("VACUUM ANALYZE").await?;
    assert!(count(&db, "SELECT count(*) FROM run").await > 60_000);
    let captured = Captured::default();
    let sink = captured.clone();
    db.set_metric_callback(move |info| {
        if let Ok(mut seen) = sink.0.lock() {
            seen.push(info.statement.to_string());
        }
    });
    let page = KeysetRequest::new(None, None).map_err(service)?;
    let mut used = Vec::new();

    let board = LeaderboardQuery {
        task: "arc_easy".into(),
        metric: "acc".into(),
        ..LeaderboardQuery::default()
    };
    leaderboard::leaderboard(&db, &board)
        .await
        .map_err(service)?;
    used.push(("leaderboard", check(&db, &captured, "leaderboard").await?));

    let model = "huggyllama/llama-7b";
    let filters = [
        (
            "runs by model",
            RunWhere {
                model: Some(model.into()),
                ..RunWhere::default()
            },
        ),
        (
            "runs by task",
            RunWhere {
                task: Some("arc_easy".into()),
                ..RunWhere::default()
            },
        ),
        (
            "runs by tag",
            RunWhere {
                tag: Some("plan-tag-7".into()),
                ..RunWhere::default()
            },
        ),
        (
            "runs by time",
            RunWhere {
                from: chrono::DateTime::from_timestamp(1_578_000_000, 0),
                to: chrono::DateTime::from_timestamp(1_578_086_400, 0),
                ..RunWhere::default()
            },
        ),
    ];
    for (name, filter) in &filters {
        run::list(&db, filter, &page).await.map_err(service)?;
        used.push((name, check(&db, &captured, name).await?));
    }

    let found = catalog::find_model(&db, model).await.map_err(service)?;
    let model_id = found
        .map(|m| m.id)
        .ok_or_else(|| anyhow::anyhow!("no {model}"))?;
    captured.take();
    model_profile::scores(&db, model_id, false)
        .await
        .map_err(service)?;
    model_profile::revisions(&db, model_id)
        .await
        .map_err(service)?;
    used.push((
        "model profile",
        check(&db, &captured, "model profile").await?,
    ));

    let run_id = first_sampled_run(&db).await?;
    captured.take();
    samples::list(&db, run_id, &SampleWhere::default(), &page)
        .await
        .map_err(service)?;
    used.push(("samples of a run", check(&db, &captured, "samples").await?));

    let expected: [(&str, &[&str]); 7] = [
        ("leaderboard", &["only:ix_leaderboard_entry_board"]),
        ("runs by model", &["ix_run_model"]),
        ("runs by task", &["ix_run_leaderboard"]),
        ("runs by tag", &["ix_run_tag_tag", "run_pkey"]),
        ("runs by time", &["ix_run_effective_at"]),
        ("model profile", &["ix_run_model", "run_result_pkey"]),
        ("samples of a run", &["run_pkey"]),
    ];
    for ((query, indexes), (name, wanted)) in used.iter().zip(expected) {
        assert_eq!(*query, name);
        for index in wanted {
            let used = |i: &String| i == index || i.strip_prefix("only:") == Some(index);
            assert!(indexes.iter().any(used), "{query}: {indexes:?}");
        }
    }
    // The run's ingest time prunes the samples to one month's partition.
    let sample_indexes = used
        .last()
        .map(|(_, indexes)| indexes.clone())
        .unwrap_or_default();
    let partitions: std::collections::BTreeSet<_> = sample_indexes
        .iter()
        .filter_map(|index| index.trim_start_matches("only:").strip_prefix("sample_"))
        .filter_map(|rest| rest.get(..7))
        .collect();
    assert_eq!(partitions.len(), 1, "samples read from {sample_indexes:?}");
    Ok(())
}

async fn first_sampled_run(db: &DatabaseConnection) -> anyhow::Result<uuid::Uuid> {
    let statement = Statement::from_string(
        DbBackend::Postgres,
        "SELECT run_id FROM sample WHERE filter = 'none' ORDER BY run_id LIMIT 1",
    );
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no samples"))?;
    Ok(row.try_get_by_index(0)?)
}
