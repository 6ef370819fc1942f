//! Ranked boards: every real board ranked ahead serves exactly the board
//! computed from the facts; a board changed since its ranking is ranked on
//! request (its stale ranking never served) until ranked again; and a
//! running server ranks changed boards by itself and reports how far it is.

use std::time::Duration;

use anyhow::Context;
use backend::error::ServiceError;
use backend::server::ReadAccess;
use backend::service::access::Role;
use backend::service::leaderboard::ranked::{self, Pace, Progress};
use backend::service::leaderboard::{self, LeaderboardQuery};
use entity::metric;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    TransactionTrait,
};
use serde_json::json;
use tests::pg;

use super::http::{Auth, start};
use super::read_model::{assert_composite_equals_the_facts, boards, both_ways, rerun_file};
use super::support::{self, count, options, real_postgres};

async fn metric_row(db: &DatabaseConnection, name: &str) -> anyhow::Result<metric::Model> {
    metric::Entity::find()
        .filter(metric::Column::Name.eq(name))
        .one(db)
        .await?
        .with_context(|| format!("no metric {name}"))
}

/// Turns a service error into a test failure that carries its message.
fn service<T>(result: Result<T, ServiceError>) -> anyhow::Result<T> {
    result.map_err(|error| anyhow::anyhow!("{}", error.message()))
}

fn default_query(task: &str, metric: &str) -> LeaderboardQuery {
    LeaderboardQuery {
        task: task.into(),
        metric: metric.into(),
        ..LeaderboardQuery::default()
    }
}

/// Ranks every board, then checks each is served from its ranking and
/// equals the board computed from the facts.
async fn rank_and_compare_all(db: &DatabaseConnection) -> anyhow::Result<usize> {
    let pairs = boards(db).await?;
    let before = service(ranked::progress(db).await)?;
    assert_eq!(before.boards, pairs.len(), "one board per task × metric");

    let ranked_now = service(ranked::rank_changed(db, Pace::NOW).await)?;
    assert_eq!(ranked_now, pairs.len() - before.ranked);
    let all = Progress {
        boards: pairs.len(),
        ranked: pairs.len(),
    };
    assert_eq!(service(ranked::progress(db).await)?, all);
    assert_eq!(
        service(ranked::rank_changed(db, Pace::NOW).await)?,
        0,
        "nothing left"
    );

    for (task, metric) in &pairs {
        let row = metric_row(db, metric).await?;
        let served = service(ranked::read(db, std::slice::from_ref(task), &row).await)?;
        assert!(
            served.contains_key(task),
            "{task} × {metric} not served ranked"
        );
        let (stored, reference) = both_ways(db, &default_query(task, metric)).await?;
        assert_eq!(stored, reference, "{task} × {metric}");
    }
    Ok(pairs.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_ranked_real_board_equals_the_board_computed_from_the_facts() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    let compared = rank_and_compare_all(&db).await?;
    assert!(compared > 500, "only {compared} boards");

    // A composite of ranked boards equals one computed from the facts.
    assert_composite_equals_the_facts(&db).await
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_serves_ranked_boards_equal_to_the_facts() -> anyhow::Result<()> {
    let db = support::empty(DbBackend::Sqlite).await?;
    let folder = pg::data_dir().join("lm-eval-harness-v0.4-pr2809");
    support::ingest(&db, &[folder], &options()).await?;
    let compared = rank_and_compare_all(&db).await?;
    assert!(compared > 20, "only {compared} boards");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_board_is_ranked_on_request_until_ranked_again() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    service(ranked::rank_changed(&db, Pace::NOW).await)?;
    let acc = metric_row(&db, "acc").await?;
    let arc = vec!["arc_easy".to_string()];
    let before = service(ranked::read(&db, &arc, &acc).await)?
        .remove("arc_easy")
        .context("arc_easy was not ranked")?;

    support::ingest(&db, &[rerun_file()?], &options()).await?;

    assert!(
        service(ranked::read(&db, &arc, &acc).await)?.is_empty(),
        "a ranking older than its board was served"
    );
    let query = default_query("arc_easy", "acc");
    let (stored, reference) = both_ways(&db, &query).await?;
    assert_eq!(stored, reference);
    // The rerun lands in another configuration than the default one.
    let runs = |c: &[leaderboard::ConfigurationSummary]| c.iter().map(|c| c.runs).sum::<usize>();
    assert_eq!(
        runs(&reference.other_configurations),
        runs(&before.other_configurations) + 1,
        "the rerun added no run to arc_easy"
    );

    // A ranker that waits for boards to be quiet leaves a board that just
    // changed alone; one that does not wait ranks it.
    let patient = Pace {
        quiet: Duration::from_secs(3600),
        max_age: Duration::from_secs(3600),
        batch: 10,
    };
    assert_eq!(service(ranked::rank_changed(&db, patient).await)?, 0);
    assert!(service(ranked::rank_changed(&db, Pace::NOW).await)? >= 1);
    let after = service(ranked::read(&db, &arc, &acc).await)?
        .remove("arc_easy")
        .context("arc_easy was not ranked again")?;
    assert_eq!(after.entries, reference.entries);
    assert_eq!(after.configuration, reference.configuration);

    // Rankings made under a metric's earlier direction are stale.
    db.execute_unprepared("UPDATE metric SET direction = 'lower' WHERE name = 'acc'")
        .await?;
    let acc = metric_row(&db, "acc").await?;
    assert!(service(ranked::read(&db, &arc, &acc).await)?.is_empty());
    let (stored, reference) = both_ways(&db, &query).await?;
    assert_eq!(stored, reference);
    let values: Vec<f64> = stored.entries.iter().filter_map(|e| e.value).collect();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "not ranked lowest first"
    );
    Ok(())
}

const RECORD: &str = "mutation($runs: [RecordRunInput!]!) { recordRuns(runs: $runs) { stored } }";
const STATUS: &str = "{ readModel { boards rankedBoards } }";

#[tokio::test(flavor = "multi_thread")]
async fn a_running_server_ranks_changed_boards_by_itself() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let admin = Auth::token(&server.token("recorder", Role::Admin).await?);
    let runs: Vec<_> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, model)| {
            json!({
                "model": format!("ranked-{model}"), "task": "ranked_task", "nShot": 0,
                "startedAt": "2025-01-01T00:00:00Z",
                "results": [{"metric": "acc", "value": 0.5 + i as f64 / 10.0, "stderr": 0.01}],
            })
        })
        .collect();
    let (_, body) = server
        .graphql(&admin, RECORD, json!({ "runs": runs }))
        .await?;
    assert_eq!(body["data"]["recordRuns"]["stored"], 3, "{body}");

    // The server ranks a board it never ranked at once, a changed one once
    // it has been quiet for two seconds.
    let mut status = json!(null);
    for _ in 0..120 {
        let (_, body) = server.graphql(&Auth::none(), STATUS, json!({})).await?;
        status = body["data"]["readModel"].clone();
        if status["boards"] == 1 && status["rankedBoards"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, json!({"boards": 1, "rankedBoards": 1}));
    let acc = metric_row(&server.db, "acc").await?;
    let task = vec!["ranked_task".to_string()];
    let board = service(ranked::read(&server.db, &task, &acc).await)?
        .remove("ranked_task")
        .context("not ranked")?;
    let names: Vec<&str> = board
        .entries
        .iter()
        .map(|e| e.model.name.as_str())
        .collect();
    assert_eq!(names, ["ranked-c", "ranked-b", "ranked-a"]);
    Ok(())
}

/// Refuses to store the ranking of arc_easy, as a failure confined to one
/// board would.
const REFUSE_ARC_EASY: &str = "
CREATE FUNCTION refuse_arc_easy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.task_name = 'arc_easy' THEN
        RAISE EXCEPTION 'ranking refused for the test';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ranking_refused BEFORE INSERT OR UPDATE ON leaderboard_ranked
    FOR EACH ROW EXECUTE FUNCTION refuse_arc_easy();";

#[tokio::test(flavor = "multi_thread")]
async fn a_board_that_cannot_be_ranked_holds_up_no_other() -> anyhow::Result<()> {
    let (db, _) = real_postgres().await?;
    db.execute_unprepared(REFUSE_ARC_EASY).await?;
    let boards = service(ranked::progress(&db).await)?.boards;
    let arc_easy_boards = count(
        &db,
        "SELECT count(*) FROM leaderboard_board WHERE task_name = 'arc_easy'",
    )
    .await;
    assert!(arc_easy_boards > 0);

    // As the server's ranker does it: one pass in a transaction.
    let ranked_now = service(ranked::rank_changed_alone(&db, Pace::NOW).await)?;
    assert_eq!(
        ranked_now.map(|n| n as i64),
        Some(boards as i64 - arc_easy_boards)
    );
    let acc = metric_row(&db, "acc").await?;
    let tasks = vec!["arc_easy".to_string(), "arc_challenge".to_string()];
    let served = service(ranked::read(&db, &tasks, &acc).await)?;
    assert!(served.contains_key("arc_challenge") && !served.contains_key("arc_easy"));
    // The unranked board is still answered, from the read model.
    let (stored, reference) = both_ways(&db, &default_query("arc_easy", "acc")).await?;
    assert_eq!(stored, reference);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_rankers_on_one_database_take_turns() -> anyhow::Result<()> {
    let db = &support::empty(DbBackend::Postgres).await?;
    // Another server's ranker in the middle of a pass holds the lock.
    let other = db.begin().await?;
    let lock = format!("SELECT pg_advisory_xact_lock({})", ranked::RANKER_LOCK);
    other.execute_unprepared(&lock).await?;
    assert_eq!(
        service(ranked::rank_changed_alone(db, Pace::NOW).await)?,
        None
    );
    other.rollback().await?;
    assert_eq!(
        service(ranked::rank_changed_alone(db, Pace::NOW).await)?,
        Some(0)
    );
    Ok(())
}
