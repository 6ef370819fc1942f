//! `recordRuns` and `compositeRanking` over real HTTP on real PostgreSQL,
//! with runs from the peer benchmark's seeded workload: exact stored values,
//! idempotent re-sends, all-or-nothing validation, the audit trail, and the
//! per-model means the benchmark's Q4 asks for.

use backend::server::ReadAccess;
use backend::service::access::Role;
use serde_json::{Value, json};
use tests::workload::{self, Workload, record_input};

use super::http::{Auth, Server, error_code, start};
use super::support::count;

const RECORD: &str = "mutation($runs: [RecordRunInput!]!) { recordRuns(runs: $runs) {
    runs { id stored } stored alreadyStored results requestSha256 } }";

const RUN: &str = "query($id: UUID!) { run(id: $id) {
    model { name } task { name version } nShot harness harnessVersion
    startedAt finishedAt effectiveAt projects tags source { path sha256 }
    results { metric { name direction } filter value valueKind stderr stderrKind }
    history { action actor entityKind } } }";

fn generated(models: usize, tasks: usize) -> anyhow::Result<Workload> {
    workload::generate(42, models, tasks).ok_or_else(|| anyhow::anyhow!("bad workload size"))
}

async fn record(server: &Server, auth: &Auth, runs: &[Value]) -> anyhow::Result<Value> {
    let (_, body) = server
        .graphql(auth, RECORD, json!({ "runs": runs }))
        .await?;
    Ok(body)
}

async fn admin(server: &Server) -> anyhow::Result<Auth> {
    Ok(Auth::token(&server.token("recorder", Role::Admin).await?))
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_runs_keep_every_value_exactly() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let auth = admin(&server).await?;
    let workload = generated(2, 3)?;
    let inputs: Vec<Value> = workload.runs.iter().map(record_input).collect();

    let body = record(&server, &auth, &inputs).await?;
    let payload = &body["data"]["recordRuns"];
    assert_eq!(
        (
            &payload["stored"],
            &payload["alreadyStored"],
            &payload["results"]
        ),
        (&json!(6), &json!(0), &json!(18)),
        "{body}"
    );
    let first = &workload.runs[0];
    let id = payload["runs"][0]["id"].clone();
    let (_, body) = server.graphql(&auth, RUN, json!({ "id": id })).await?;
    let run = &body["data"]["run"];
    assert_eq!(
        run["model"]["name"].as_str(),
        Some(first.model.as_str()),
        "{body}"
    );
    assert_eq!(
        run["task"],
        json!({"name": first.task, "version": first.dataset_version})
    );
    assert_eq!(
        (&run["nShot"], &run["harness"], &run["harnessVersion"]),
        (
            &json!(first.n_shot),
            &json!("lm-evaluation-harness"),
            &json!(first.harness_version)
        )
    );
    assert_eq!(run["startedAt"], json!("2025-01-01T00:00:37.107+00:00"));
    assert_eq!(run["finishedAt"], json!("2025-01-01T00:48:51.475+00:00"));
    assert_eq!(run["effectiveAt"], run["startedAt"]);
    assert_eq!(run["projects"], json!([first.project]));
    // A board that exists but matches nothing says which part found nothing.
    let board = "query($task: String!, $nShot: Int) {
        leaderboard(task: $task, metric: \"acc\", nShot: $nShot) {
            emptyReason otherConfigurations { nShot } } }";
    for (n_shot, reason) in [
        (Value::Null, Value::Null),
        (
            json!(99),
            json!(format!(
                "no run of `{}` matches the configuration asked for; 1 other \
                 configuration has results for `acc` (see `otherConfigurations`)",
                first.task
            )),
        ),
    ] {
        let variables = json!({ "task": first.task, "nShot": n_shot });
        let (_, body) = server.graphql(&auth, board, variables).await?;
        assert_eq!(body["data"]["leaderboard"]["emptyReason"], reason, "{body}");
    }
    assert_eq!(run["tags"], json!(["family:llama", "size_bucket:<3b"]));
    let path = run["source"]["path"].as_str().unwrap_or_default();
    let request = payload["requestSha256"].as_str().unwrap_or_default();
    assert_eq!(path, format!("graphql:recordRuns/{request}"));

    let results = run["results"].as_array().cloned().unwrap_or_default();
    let by_metric = |name: &str| {
        results
            .iter()
            .find(|r| r["metric"]["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    // Bit-exact: JSON carries the shortest round-trip form of each double.
    assert_eq!(by_metric("acc")["value"].as_f64(), Some(first.acc));
    assert_eq!(by_metric("acc")["stderr"].as_f64(), Some(first.acc_stderr));
    assert_eq!(
        by_metric("acc_norm")["value"].as_f64(),
        Some(first.acc_norm)
    );
    assert_eq!(
        by_metric("acc_norm")["stderr"].as_f64(),
        Some(first.acc_norm_stderr)
    );
    assert_eq!(
        (
            by_metric("f1")["value"].as_f64(),
            &by_metric("f1")["stderrKind"]
        ),
        (Some(first.f1), &json!("MISSING"))
    );
    assert_eq!(
        (
            &by_metric("acc")["filter"],
            &by_metric("acc")["metric"]["direction"]
        ),
        (&json!("none"), &json!("HIGHER"))
    );
    assert_eq!(
        run["history"],
        json!([{"action": "run_batch.record", "actor": "recorder", "entityKind": "run_batch"}])
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn re_sending_runs_stores_nothing_twice() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let auth = admin(&server).await?;
    let workload = generated(2, 3)?;
    let inputs: Vec<Value> = workload.runs.iter().map(record_input).collect();
    let first = record(&server, &auth, &inputs).await?;

    // The same runs, one of them twice and with its lists reordered.
    let mut again = inputs.clone();
    let mut reordered = inputs[0].clone();
    if let Some(results) = reordered["results"].as_array_mut() {
        results.reverse();
    }
    if let Some(tags) = reordered["tags"].as_array_mut() {
        tags.reverse();
    }
    again.push(reordered);
    let body = record(&server, &auth, &again).await?;
    let payload = &body["data"]["recordRuns"];
    assert_eq!(
        (
            &payload["stored"],
            &payload["alreadyStored"],
            &payload["results"]
        ),
        (&json!(0), &json!(7), &json!(0)),
        "{body}"
    );
    let ids = |body: &Value| -> Vec<Value> {
        body["data"]["recordRuns"]["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|run| run["id"].clone())
            .collect()
    };
    assert_eq!(ids(&body)[..6], ids(&first)[..]);
    assert_eq!(ids(&body)[6], ids(&first)[0]);
    let rows = [
        count(&server.db, "SELECT count(*) FROM run").await,
        count(&server.db, "SELECT count(*) FROM run_result").await,
        count(&server.db, "SELECT count(*) FROM run_tag").await,
        count(&server.db, "SELECT count(*) FROM run_project").await,
        count(&server.db, "SELECT count(*) FROM ml_model").await,
        count(&server.db, "SELECT count(*) FROM task").await,
    ];
    assert_eq!(rows, [6, 18, 12, 6, 2, 3]);
    let events = count(
        &server.db,
        "SELECT count(*) FROM audit_event WHERE action = 'run_batch.record'",
    )
    .await;
    assert_eq!(
        events, 2,
        "every request is audited, even one that stores nothing"
    );

    // A changed value is another run.
    let mut changed = inputs[1].clone();
    changed["results"][0]["value"] = json!(0.123);
    let body = record(&server, &auth, &[changed]).await?;
    assert_eq!(body["data"]["recordRuns"]["stored"], json!(1), "{body}");
    assert_eq!(count(&server.db, "SELECT count(*) FROM run").await, 7);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn one_invalid_run_stores_nothing_and_names_its_field() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let auth = admin(&server).await?;
    let workload = generated(1, 3)?;
    let mut inputs: Vec<Value> = workload.runs.iter().map(record_input).collect();
    inputs[2]["results"][1]["value"] = Value::Null;

    let body = record(&server, &auth, &inputs).await?;
    assert_eq!(
        body["errors"][0]["message"],
        json!("invalid `runs[2].results[1].value`: give a number, or null with its kind")
    );
    assert_eq!(
        body["errors"][0]["extensions"],
        json!({"code": "invalid_argument", "field": "runs[2].results[1].value"})
    );
    inputs[2]["results"][1]["valueKind"] = json!("NAN");
    inputs[1]["model"] = json!(" ");
    let body = record(&server, &auth, &inputs).await?;
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!("runs[1].model")
    );
    assert_eq!(count(&server.db, "SELECT count(*) FROM run").await, 0);
    assert_eq!(
        count(&server.db, "SELECT count(*) FROM audit_event").await,
        1
    );

    let (_, body) = server.graphql(&auth, RECORD, json!({ "runs": [] })).await?;
    assert_eq!(error_code(&body), "invalid_argument");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn composite_rankings_average_each_model_over_the_tasks() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let auth = admin(&server).await?;
    let workload = generated(4, 5)?;
    let inputs: Vec<Value> = workload.runs.iter().map(record_input).collect();
    record(&server, &auth, &inputs).await?;
    // A fifth model evaluated on one task only.
    let mut partial = inputs[0].clone();
    partial["model"] = json!("partial-model");
    record(&server, &auth, &[partial]).await?;

    let tasks: Vec<&str> = workload.tasks.iter().map(|t| t.name.as_str()).collect();
    let query = "query($tasks: [String!]!) { compositeRanking(metric: \"acc\", tasks: $tasks) {
        ranked tasks { name configuration { models } }
        entries { rank model { name } tasksCovered tasksMissing missingTasks
                  meanScore meanRank normalizedMean winRate } } }";
    let (_, body) = server
        .graphql(&Auth::none(), query, json!({ "tasks": tasks }))
        .await?;
    let ranking = &body["data"]["compositeRanking"];
    assert_eq!(ranking["ranked"], json!(true), "{body}");
    assert_eq!(ranking["tasks"][0]["configuration"]["models"], json!(5));
    let entries = ranking["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 5);
    let means = workload.answers().mean_acc;
    for entry in &entries[..4] {
        let name = entry["model"]["name"].as_str().unwrap_or_default();
        let got = entry["meanScore"].as_f64().unwrap_or(f64::NAN);
        assert!((got - means[name]).abs() <= 1e-12, "{name}: {got}");
        assert_eq!(entry["tasksMissing"], json!(0));
    }
    let ranks: Vec<&Value> = entries.iter().map(|e| &e["rank"]).collect();
    assert_eq!(
        ranks,
        [&json!(1), &json!(2), &json!(3), &json!(4), &Value::Null]
    );
    let last = &entries[4];
    assert_eq!(
        (
            &last["model"]["name"],
            &last["tasksCovered"],
            &last["tasksMissing"]
        ),
        (&json!("partial-model"), &json!(1), &json!(4))
    );
    assert_eq!(last["missingTasks"], json!(tasks[1..]));

    let (_, body) = server
        .graphql(
            &Auth::none(),
            "{ compositeRanking(metric: \"acc\", tasks: [\"nope\"]) { ranked } }",
            json!({}),
        )
        .await?;
    assert_eq!(error_code(&body), "task_not_found");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_benchmark_queries_answer_in_one_request_each() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let auth = admin(&server).await?;
    let workload = generated(8, 4)?;
    let inputs: Vec<Value> = workload.runs.iter().map(record_input).collect();
    record(&server, &auth, &inputs).await?;
    let answers = workload.answers();

    let task = &workload.tasks[2].name;
    let top = "query($task: String!) { leaderboard(task: $task, metric: \"acc\") {
        entries(first: 3) { value } } }";
    let (_, body) = server
        .graphql(&Auth::none(), top, json!({ "task": task }))
        .await?;
    let values: Vec<f64> = body["data"]["leaderboard"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["value"].as_f64())
        .collect();
    assert_eq!(values, answers.top20[task][..3]);

    let (lo, hi) = workload.window_ms();
    let window = "query($project: String!, $from: DateTime!, $to: DateTime!) {
        runs(where: {project: $project, from: $from, to: $to}, first: 1000) { totalCount } }";
    for project in workload::PROJECTS {
        let variables = json!({
            "project": project,
            "from": workload::rfc3339_ms(lo),
            "to": workload::rfc3339_ms(hi),
        });
        let (_, body) = server.graphql(&Auth::none(), window, variables).await?;
        assert_eq!(
            body["data"]["runs"]["totalCount"],
            json!(answers.q2_count[project]),
            "{project}: {body}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_metric_learns_its_direction_once() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let auth = admin(&server).await?;
    let run = |task: &str, higher: Value| {
        json!({"model": "m", "task": task, "results": [
            {"metric": "novel_score", "value": 1.0, "higherIsBetter": higher}]})
    };
    let direction = || async {
        let (_, body) = server
            .graphql(
                &Auth::none(),
                "{ metrics { edges { node { name direction } } } }",
                json!({}),
            )
            .await?;
        anyhow::Ok(body["data"]["metrics"]["edges"][0]["node"]["direction"].clone())
    };
    record(&server, &auth, &[run("a", Value::Null)]).await?;
    assert_eq!(direction().await?, json!("UNKNOWN"));
    // In one request: the first statement of a direction wins.
    let body = record(
        &server,
        &auth,
        &[
            run("b", Value::Null),
            run("c", json!(false)),
            run("d", json!(true)),
        ],
    )
    .await?;
    assert_eq!(body["data"]["recordRuns"]["stored"], json!(3), "{body}");
    assert_eq!(direction().await?, json!("LOWER"));
    record(&server, &auth, &[run("e", json!(true))]).await?;
    assert_eq!(direction().await?, json!("LOWER"));
    Ok(())
}
