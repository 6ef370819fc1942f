//! The leaderboard read model on real PostgreSQL: every board of the real
//! folder read from it equals the board computed from the facts, a rebuild
//! from the facts gives the rows the writers maintained, and an ingest whose
//! transaction fails leaves it as it was.

use backend::service::leaderboard::{self, Leaderboard, LeaderboardQuery};
use backend::service::run::RunWhere;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tests::pg;

use backend::server::ReadAccess;
use backend::service::access::Role;
use serde_json::json;

use super::http::{Auth, start};
use super::support::{self, count, options, real_postgres};

/// Every task name × metric that holds a result.
pub(super) async fn boards(db: &DatabaseConnection) -> anyhow::Result<Vec<(String, String)>> {
    let sql = "SELECT DISTINCT t.name, m.name FROM run_result rr \
        JOIN run r ON r.id = rr.run_id JOIN task t ON t.id = r.task_id \
        JOIN metric m ON m.id = rr.metric_id ORDER BY 1, 2";
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let rows = db.query_all_raw(statement).await?;
    let mut pairs = Vec::with_capacity(rows.len());
    for row in rows {
        pairs.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    Ok(pairs)
}

/// The read model's rows in a stable order, as text, without surrogate ids.
async fn snapshot(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let sql = "SELECT concat_ws(' ', slot, run_id, effective_at, value, stderr, runs) \
        FROM leaderboard_entry \
        UNION ALL SELECT concat_ws(' ', 'board', task_name, metric_id, truncated_runs) \
        FROM leaderboard_board ORDER BY 1";
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        lines.push(row.try_get_by_index(0)?);
    }
    Ok(lines)
}

/// Reads `query` both ways and returns them with the stored board's
/// refresh time cleared, which the reference has not.
pub(super) async fn both_ways(
    db: &DatabaseConnection,
    query: &LeaderboardQuery,
) -> anyhow::Result<(Leaderboard, Leaderboard)> {
    let mut stored = leaderboard::leaderboard(db, query)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let reference = leaderboard::on_request(db, query)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    assert!(
        stored.refreshed_at.is_some() || stored.configuration.is_none(),
        "a stored board with entries has a refresh time: {query:?}"
    );
    stored.refreshed_at = None;
    Ok((stored, reference))
}

/// Asks for every configuration the reference lists, one at a time.
fn asked_for(query: &LeaderboardQuery, board: &Leaderboard) -> Vec<LeaderboardQuery> {
    let shown = board.configuration.iter();
    let configurations = shown.chain(&board.other_configurations);
    configurations
        .map(|summary| {
            let configuration = &summary.configuration;
            LeaderboardQuery {
                n_shot: configuration.n_shot,
                task_version: Some(configuration.task_version.clone()),
                filter: Some(configuration.filter.clone()),
                dataset_version: configuration.dataset_version.clone(),
                ..query.clone()
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_real_board_equals_the_board_computed_from_the_facts() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let pairs = boards(&db).await?;
    assert!(pairs.len() > 500, "only {} boards", pairs.len());
    let mut compared = 0;
    for (task, metric) in pairs {
        for all_revisions in [false, true] {
            let query = LeaderboardQuery {
                task: task.clone(),
                metric: metric.clone(),
                all_revisions,
                ..LeaderboardQuery::default()
            };
            let (stored, reference) = both_ways(&db, &query).await?;
            assert_eq!(stored, reference, "{task} × {metric}");
            for asked in asked_for(&query, &reference) {
                let (stored, reference) = both_ways(&db, &asked).await?;
                assert_eq!(stored, reference, "{asked:?}");
                compared += 1;
            }
        }
    }
    assert!(compared > 1000, "only {compared} configurations compared");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn composite_boards_read_from_the_read_model_equal_the_facts() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    assert_composite_equals_the_facts(&db).await
}

/// Checks that a composite of five real tasks read unscoped (stored or
/// ranked boards) equals the one computed from the facts.
pub(super) async fn assert_composite_equals_the_facts(
    db: &DatabaseConnection,
) -> anyhow::Result<()> {
    let tasks: Vec<String> = [
        "arc_easy",
        "arc_challenge",
        "hellaswag",
        "piqa",
        "winogrande",
    ]
    .map(String::from)
    .to_vec();
    // A lower bound before every run narrows nothing but forces the facts.
    let everything = RunWhere {
        from: chrono::DateTime::from_timestamp(0, 0),
        ..RunWhere::default()
    };
    let stored = leaderboard::boards(db, &tasks, "acc", &RunWhere::default()).await;
    let reference = leaderboard::boards(db, &tasks, "acc", &everything).await;
    let (Ok(stored), Ok(reference)) = (stored, reference) else {
        anyhow::bail!("a composite board failed");
    };
    assert!(stored.1.iter().all(|board| board.entries.len() > 2));
    assert_eq!(stored, reference);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rebuild_from_the_facts_gives_the_maintained_rows() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let maintained = snapshot(&db).await?;
    assert!(maintained.len() > 1000, "only {} rows", maintained.len());

    db.execute_unprepared("DELETE FROM leaderboard_entry; DELETE FROM leaderboard_board")
        .await?;
    migration::rebuild_leaderboard_read_model(&db, migration::Rebuild::All).await?;

    assert_eq!(snapshot(&db).await?, maintained);
    Ok(())
}

/// Makes every audit append fail, as a database failure late in an ingest's
/// transaction would: after the results and the read model are written.
const FAIL_AUDIT: &str = "
CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit refused for the test';
END $$;
CREATE TRIGGER audit_event_fails BEFORE INSERT ON audit_event
    FOR EACH ROW EXECUTE FUNCTION fail_audit();";

/// A real results file already stored, under other bytes: ingesting it
/// stores the same results again as new, later runs (arc_easy among them).
pub(super) fn rerun_file() -> anyhow::Result<std::path::PathBuf> {
    let real = support::real(
        "lm-eval-harness-v0.4-pr2809/results-0.4.3/state-spaces__mamba2-1.3b/\
         results_2025-03-03T19-09-21.616741.json",
    );
    let mut bytes = std::fs::read(&real)?;
    bytes.extend_from_slice(b"\n\n");
    let folder = support::scratch_files(&[("rerun.json", &bytes)])?;
    Ok(folder.join("rerun.json"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_ingest_leaves_the_read_model_unchanged() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let file = rerun_file()?;
    let before = snapshot(&db).await?;
    let runs = count(&db, "SELECT count(*) FROM run").await;

    db.execute_unprepared(FAIL_AUDIT).await?;
    let failed = support::ingest(&db, std::slice::from_ref(&file), &options()).await;
    assert!(
        failed.is_err() || count(&db, "SELECT count(*) FROM run").await == runs,
        "the ingest stored runs although its transaction failed"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM run").await, runs);
    assert_eq!(snapshot(&db).await?, before);

    db.execute_unprepared("DROP TRIGGER audit_event_fails ON audit_event")
        .await?;
    support::ingest(&db, &[file], &options()).await?;
    assert!(count(&db, "SELECT count(*) FROM run").await > runs);
    assert_ne!(
        snapshot(&db).await?,
        before,
        "the retried ingest changed no board"
    );
    let query = LeaderboardQuery {
        task: "arc_easy".into(),
        metric: "acc".into(),
        ..LeaderboardQuery::default()
    };
    let (stored, reference) = both_ways(&db, &query).await?;
    assert_eq!(stored, reference);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_reads_the_same_board_as_the_facts() -> anyhow::Result<()> {
    let db = support::empty(DbBackend::Sqlite).await?;
    let folder = pg::data_dir().join("lm-eval-harness-v0.4-pr2809");
    support::ingest(&db, &[folder], &options()).await?;
    let pairs = boards(&db).await?;
    assert!(pairs.len() > 20, "only {} boards", pairs.len());
    for (task, metric) in pairs {
        let query = LeaderboardQuery {
            task,
            metric,
            ..LeaderboardQuery::default()
        };
        let (stored, reference) = both_ways(&db, &query).await?;
        assert_eq!(stored, reference, "{query:?}");
    }
    Ok(())
}

const RECORD: &str = "mutation($runs: [RecordRunInput!]!) { recordRuns(runs: $runs) { stored } }";

/// Five runs of one model on one task and configuration, one per minute
/// from `minute`: every one lands in the same slot.
fn same_slot(minute: u32) -> serde_json::Value {
    let runs: Vec<_> = (minute..minute + 5)
        .map(|minute| {
            json!({
                "model": "slot-model", "task": "slot_task", "taskVersion": "1", "nShot": 0,
                "startedAt": format!("2025-01-01T00:{minute:02}:00Z"),
                "results": [{"metric": "acc", "value": f64::from(minute) / 100.0}],
            })
        })
        .collect();
    json!({ "runs": runs })
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_to_one_slot_lose_no_run() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let admin = Auth::token(&server.token("recorder", Role::Admin).await?);
    // Four requests at once, each its own transaction on the same slot: an
    // overwrite instead of a merge would lose runs whether they overlap or not.
    let send = |minute| server.graphql(&admin, RECORD, same_slot(minute));
    let (a, b, c, d) = tokio::join!(send(0), send(5), send(10), send(15));
    for (_, body) in [a?, b?, c?, d?] {
        assert_eq!(body["data"]["recordRuns"]["stored"], 5, "{body}");
    }

    let query = LeaderboardQuery {
        task: "slot_task".into(),
        metric: "acc".into(),
        ..LeaderboardQuery::default()
    };
    let (stored, reference) = both_ways(&server.db, &query).await?;
    assert_eq!(stored.configuration.as_ref().map(|c| c.runs), Some(20));
    assert_eq!(stored.entries.first().and_then(|e| e.value), Some(0.19));
    assert_eq!(stored, reference);
    Ok(())
}
