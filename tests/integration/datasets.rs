//! Dataset versions on real PostgreSQL over real HTTP, built from the real
//! items inside the HELM and Inspect logs of the sample folder: dedup of
//! unchanged items, exact diff counts, immutability down to SQL, lifecycle
//! rules, "as of" reads, run pinning and audit events written with their
//! change.

use std::path::Path;

use backend::server::ReadAccess;
use backend::service::access::Role;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tests::pg;

use super::http::{Auth, Server, error_code, start};
use super::support::{count, ingest, options};

const DATASET: &str = "bbq-and-inspect";

fn read_json(path: &Path) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

/// The two BBQ instances HELM evaluated (the same in every run folder).
fn helm_items() -> anyhow::Result<Vec<Value>> {
    let runs = pg::data_dir().join("helm-safety-v3-bbq/runs/v3");
    let mut folders: Vec<_> = std::fs::read_dir(&runs)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("instances.json").is_file())
        .collect();
    folders.sort();
    let first = folders
        .first()
        .ok_or_else(|| anyhow::anyhow!("no HELM run folder"))?;
    let instances = read_json(&first.join("instances.json"))?;
    Ok(instances
        .as_array()
        .into_iter()
        .flatten()
        .map(|instance| {
            let references: Vec<&Value> = instance["references"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| &r["output"]["text"])
                .collect();
            let correct = instance["references"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| {
                    r["tags"]
                        .as_array()
                        .is_some_and(|t| t.contains(&json!("correct")))
                })
                .map(|r| r["output"]["text"].clone());
            json!({
                "id": instance["id"],
                "input": instance["input"]["text"],
                "references": references,
                "target": correct,
                "source": "helm/bbq",
            })
        })
        .collect())
}

/// The samples of an Inspect log, keyed `<task>-<sample id>`.
fn inspect_items(file: &str) -> anyhow::Result<Vec<Value>> {
    let log = read_json(
        &pg::data_dir()
            .join("inspect-ai-logs/tests/analysis/test_logs")
            .join(file),
    )?;
    let task = log["eval"]["task"].as_str().unwrap_or_default().to_string();
    Ok(log["samples"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|sample| {
            json!({
                "id": format!("{task}-{}", sample["id"]),
                "input": sample["input"],
                "target": sample["target"],
                "source": format!("inspect/{task}"),
            })
        })
        .collect())
}

fn jsonl(items: &[Value]) -> Vec<u8> {
    items
        .iter()
        .map(|item| format!("{item}\n"))
        .collect::<String>()
        .into_bytes()
}

const PREVIEW: &str = "mutation($dataset: String!, $file: Upload!) {
    previewDatasetVersion(dataset: $dataset, file: $file) {
        itemCount newItemCount keyField parentNumber
        diff { added removed changed unchanged } } }";
const CREATE: &str = "mutation($dataset: String!, $file: Upload!, $note: String!) {
    createDatasetVersion(dataset: $dataset, file: $file, note: $note) {
        number state itemCount parentNumber contentSha256 } }";

async fn run_sql(server: &Server, sql: &str) -> Result<(), String> {
    let statement = Statement::from_string(DbBackend::Postgres, sql);
    server
        .db
        .execute_raw(statement)
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
}

async fn step(server: &Server, admin: &Auth, mutation: &str, args: &str) -> anyhow::Result<Value> {
    let query = format!("mutation {{ {mutation}({args}) {{ number state stateReason note }} }}");
    let (_, body) = server.graphql(admin, &query, json!({})).await?;
    Ok(body)
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_of_real_items_share_unchanged_items_and_diff_exactly() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let admin = Auth::token(&server.token("curator", Role::Admin).await?);
    let helm = helm_items()?;
    let popularity = inspect_items("2025-05-12T20-28-13-04-00_popularity.json")?;
    let security = inspect_items("2025-05-12T20-28-26-04-00_security-guide.json")?;
    assert_eq!((helm.len(), popularity.len(), security.len()), (2, 3, 3));

    let create = format!(
        r#"mutation {{ createDataset(input: {{name: "{DATASET}",
        description: "BBQ and Inspect items", tags: ["real", "safety"]}}) {{
        name tags keyField }} }}"#
    );
    let (_, body) = server.graphql(&admin, &create, json!({})).await?;
    assert_eq!(
        body["data"]["createDataset"],
        json!({"name": DATASET, "tags": ["real", "safety"], "keyField": null})
    );

    let first: Vec<Value> = helm.iter().chain(&popularity).cloned().collect();
    let vars = json!({"dataset": DATASET, "note": "HELM BBQ and Inspect popularity"});
    let preview = server
        .upload(&admin, PREVIEW, vars.clone(), "v1.jsonl", &jsonl(&first))
        .await?;
    assert_eq!(
        preview["data"]["previewDatasetVersion"],
        json!({"itemCount": 5, "newItemCount": 5, "keyField": "id", "parentNumber": null,
               "diff": {"added": 5, "removed": 0, "changed": 0, "unchanged": 0}})
    );
    assert_eq!(
        count(&server.db, "SELECT count(*) FROM dataset_item").await,
        0,
        "preview stored items"
    );

    let v1 = server
        .upload(&admin, CREATE, vars, "v1.jsonl", &jsonl(&first))
        .await?;
    let v1 = &v1["data"]["createDatasetVersion"];
    assert_eq!(
        (
            &v1["number"],
            &v1["state"],
            &v1["itemCount"],
            &v1["parentNumber"]
        ),
        (&json!(1), &json!("DRAFT"), &json!(5), &Value::Null)
    );
    let published = step(
        &server,
        &admin,
        "publishDatasetVersion",
        &format!(r#"dataset: "{DATASET}", number: 1"#),
    )
    .await?;
    assert_eq!(
        published["data"]["publishDatasetVersion"]["state"],
        "PUBLISHED"
    );

    // Version 2: one HELM instance dropped, one Inspect target corrected, the
    // security-guide samples added.
    let mut second: Vec<Value> = vec![helm[0].clone()];
    second.extend(popularity.iter().cloned());
    second[2]["target"] = json!(format!(
        "{} (reviewed)",
        second[2]["target"].as_str().unwrap_or_default()
    ));
    second.extend(security.iter().cloned());
    let vars =
        json!({"dataset": DATASET, "note": "drop one BBQ instance, fix a target, add security"});
    let preview = server
        .upload(&admin, PREVIEW, vars.clone(), "v2.jsonl", &jsonl(&second))
        .await?;
    assert_eq!(
        preview["data"]["previewDatasetVersion"],
        json!({"itemCount": 7, "newItemCount": 4, "keyField": "id", "parentNumber": 1,
               "diff": {"added": 3, "removed": 1, "changed": 1, "unchanged": 3}})
    );
    let v2 = server
        .upload(&admin, CREATE, vars, "v2.jsonl", &jsonl(&second))
        .await?;
    assert_eq!(v2["data"]["createDatasetVersion"]["parentNumber"], 1);
    // 5 items, then 4 new ones: unchanged items are stored once.
    assert_eq!(
        count(&server.db, "SELECT count(*) FROM dataset_item").await,
        9
    );
    assert_eq!(
        count(&server.db, "SELECT count(*) FROM dataset_version_item").await,
        12
    );

    let diff_query = format!(
        r#"{{ dataset(name: "{DATASET}") {{ version(number: 2) {{ diff {{ fromNumber toNumber
        added removed changed unchanged entries {{ key change before after }} }} }} }} }}"#
    );
    let (_, body) = server
        .graphql(&Auth::none(), &diff_query, json!({}))
        .await?;
    let diff = &body["data"]["dataset"]["version"]["diff"];
    assert_eq!(
        (
            &diff["added"],
            &diff["removed"],
            &diff["changed"],
            &diff["unchanged"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(3))
    );
    let changed = diff["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["change"] == "CHANGED")
        .cloned()
        .unwrap_or_default();
    assert_eq!(changed["key"], popularity[1]["id"]);
    assert_eq!(changed["before"]["target"], popularity[1]["target"]);
    assert_eq!(changed["after"]["target"], second[2]["target"]);
    let removed: Vec<&Value> = diff["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["change"] == "REMOVED")
        .map(|entry| &entry["key"])
        .collect();
    assert_eq!(removed, [&helm[1]["id"]]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn published_versions_never_change_and_lifecycles_only_go_forward() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let admin = Auth::token(&server.token("curator", Role::Admin).await?);
    let items = inspect_items("2025-05-12T20-28-13-04-00_popularity.json")?;
    let create =
        format!(r#"mutation {{ createDataset(input: {{name: "{DATASET}"}}) {{ name }} }}"#);
    server.graphql(&admin, &create, json!({})).await?;
    let vars = json!({"dataset": DATASET, "note": "first"});
    server
        .upload(&admin, CREATE, vars.clone(), "a.jsonl", &jsonl(&items))
        .await?;
    server
        .upload(&admin, CREATE, vars, "b.jsonl", &jsonl(&items[..2]))
        .await?;
    let v1 = format!(r#"dataset: "{DATASET}", number: 1"#);
    let v2 = format!(r#"dataset: "{DATASET}", number: 2"#);

    // Drafts may change their note; a draft is not deprecated or archived.
    let noted = step(
        &server,
        &admin,
        "updateDatasetVersionNote",
        &format!(r#"{v1}, note: "edited""#),
    )
    .await?;
    assert_eq!(noted["data"]["updateDatasetVersionNote"]["note"], "edited");
    for mutation in ["archiveDatasetVersion"] {
        assert_eq!(
            error_code(&step(&server, &admin, mutation, &v1).await?),
            "invalid_state"
        );
    }
    let before_publish = chrono::Utc::now();
    step(&server, &admin, "publishDatasetVersion", &v1).await?;

    // Published: nothing of it changes, through the API or through SQL.
    let body = step(
        &server,
        &admin,
        "updateDatasetVersionNote",
        &format!(r#"{v1}, note: "late""#),
    )
    .await?;
    assert_eq!(error_code(&body), "invalid_state");
    assert_eq!(
        error_code(&step(&server, &admin, "publishDatasetVersion", &v1).await?),
        "invalid_state"
    );
    for sql in [
        "UPDATE dataset_version SET note = 'sneaky' WHERE number = 1",
        "UPDATE dataset_version SET content_sha256 = 'x' WHERE number = 1",
        "UPDATE dataset_version SET state = 'draft' WHERE number = 1",
        "DELETE FROM dataset_version WHERE number = 1",
        "UPDATE dataset_item SET content = '{}'",
        "DELETE FROM dataset_version_item",
        "UPDATE audit_event SET actor = 'someone else'",
    ] {
        let refused = run_sql(&server, sql).await;
        assert!(
            refused.as_ref().is_err_and(|e| {
                ["never", "immutable", "cannot go from"]
                    .iter()
                    .any(|w| e.contains(w))
            }),
            "`{sql}` was not refused: {refused:?}"
        );
    }
    // A draft's note may still change by SQL: the guard is about published content.
    run_sql(
        &server,
        "UPDATE dataset_version SET note = 'draft note' WHERE number = 2",
    )
    .await
    .map_err(|e| anyhow::anyhow!(e))?;

    // Deprecation needs a reason, named as the field at fault.
    let (_, body) = server
        .graphql(
            &admin,
            &format!(r#"mutation {{ deprecateDatasetVersion({v1}, reason: " ") {{ state }} }}"#),
            json!({}),
        )
        .await?;
    assert_eq!(
        (
            error_code(&body).as_str(),
            body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("invalid_argument", Some("reason"))
    );
    let deprecated = step(
        &server,
        &admin,
        "deprecateDatasetVersion",
        &format!(r#"{v1}, reason: "label leak""#),
    )
    .await?;
    assert_eq!(
        (
            &deprecated["data"]["deprecateDatasetVersion"]["state"],
            &deprecated["data"]["deprecateDatasetVersion"]["stateReason"]
        ),
        (&json!("DEPRECATED"), &json!("label leak"))
    );
    let archived = step(&server, &admin, "archiveDatasetVersion", &v1).await?;
    assert_eq!(
        archived["data"]["archiveDatasetVersion"]["state"],
        "ARCHIVED"
    );
    let back = run_sql(
        &server,
        "UPDATE dataset_version SET state = 'published' WHERE number = 1",
    )
    .await;
    assert!(back.is_err(), "an archived version went back to published");

    step(&server, &admin, "discardDatasetVersion", &v2).await?;
    assert_eq!(
        error_code(&step(&server, &admin, "publishDatasetVersion", &v2).await?),
        "invalid_state"
    );

    // As of a moment before publication, version 1 was a draft and version 2
    // did not exist; now the first is archived and the second discarded.
    let as_of = |time: String| {
        format!(
            r#"{{ dataset(name: "{DATASET}") {{ asOf(time: "{time}") {{ name
                versions {{ number state }} }} }} }}"#
        )
    };
    let (_, then) = server
        .graphql(
            &Auth::none(),
            &as_of(before_publish.to_rfc3339()),
            json!({}),
        )
        .await?;
    assert_eq!(
        then["data"]["dataset"]["asOf"]["versions"],
        json!([{"number": 2, "state": "DRAFT"}, {"number": 1, "state": "DRAFT"}])
    );
    let (_, now) = server
        .graphql(
            &Auth::none(),
            &as_of(chrono::Utc::now().to_rfc3339()),
            json!({}),
        )
        .await?;
    assert_eq!(
        now["data"]["dataset"]["asOf"]["versions"],
        json!([{"number": 2, "state": "DISCARDED"}, {"number": 1, "state": "ARCHIVED"}])
    );
    let (_, before_all) = server
        .graphql(
            &Auth::none(),
            &as_of("2000-01-01T00:00:00Z".into()),
            json!({}),
        )
        .await?;
    assert_eq!(before_all["data"]["dataset"]["asOf"], Value::Null);

    let history = format!(
        r#"{{ dataset(name: "{DATASET}") {{ history(first: 20) {{
            nodes {{ action actor }} }} }} }}"#
    );
    let (_, body) = server.graphql(&Auth::none(), &history, json!({})).await?;
    let actions: Vec<&str> = body["data"]["dataset"]["history"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "dataset_version.discard",
            "dataset_version.archive",
            "dataset_version.deprecate",
            "dataset_version.publish",
            "dataset_version.edit_note",
            "dataset_version.create",
            "dataset_version.create",
            "dataset.create",
        ]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_change_leaves_no_trace_and_a_good_one_leaves_one_event() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let admin = Auth::token(&server.token("curator", Role::Admin).await?);
    let create =
        format!(r#"mutation {{ createDataset(input: {{name: "{DATASET}"}}) {{ name }} }}"#);
    server.graphql(&admin, &create, json!({})).await?;
    let (_, duplicate) = server.graphql(&admin, &create, json!({})).await?;
    assert_eq!(
        (
            error_code(&duplicate).as_str(),
            duplicate["errors"][0]["extensions"]["field"].as_str()
        ),
        ("dataset_exists", Some("name"))
    );
    let tables = [
        "audit_event",
        "dataset_item",
        "dataset_version",
        "dataset_version_item",
    ];
    let snapshot = |server: &Server| {
        let db = server.db.clone();
        async move {
            let mut counts = Vec::new();
            for table in tables {
                counts.push(count(&db, &format!("SELECT count(*) FROM {table}")).await);
            }
            counts
        }
    };
    let before = snapshot(&server).await;
    assert_eq!(
        before,
        [2, 0, 0, 0],
        "token and dataset creation are one event each"
    );

    let items = inspect_items("2025-05-12T20-28-13-04-00_popularity.json")?;
    let mut broken = jsonl(&items[..2]);
    broken.extend_from_slice(b"{\"id\": \"truncated\", \"input\": \"Is\n");
    let vars = json!({"dataset": DATASET, "note": "broken"});
    let body = server
        .upload(&admin, CREATE, vars.clone(), "broken.jsonl", &broken)
        .await?;
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(
        (
            extensions["code"].as_str(),
            extensions["field"].as_str(),
            extensions["line"].as_u64()
        ),
        (Some("invalid_argument"), Some("file"), Some(3)),
        "{body}"
    );
    let csv = b"id,input\n1,a\n2,b,c\n";
    let body = server
        .upload(&admin, CREATE, vars.clone(), "bad.csv", csv)
        .await?;
    assert_eq!(body["errors"][0]["extensions"]["line"], 3, "{body}");
    let body = server
        .upload(&admin, CREATE, vars.clone(), "items.txt", b"{}")
        .await?;
    assert_eq!(body["errors"][0]["extensions"]["field"], "file", "{body}");
    assert_eq!(
        snapshot(&server).await,
        before,
        "a rejected upload stored something"
    );

    let good = server
        .upload(&admin, CREATE, vars, "good.jsonl", &jsonl(&items))
        .await?;
    assert_eq!(good["data"]["createDatasetVersion"]["number"], 1, "{good}");
    assert_eq!(snapshot(&server).await, [3, 3, 1, 3]);
    let events = count(
        &server.db,
        "SELECT count(*) FROM audit_event WHERE action = 'dataset_version.create' \
         AND actor = 'curator' AND after->>'itemCount' = '3' AND after->>'newItems' = '3'",
    )
    .await;
    assert_eq!(events, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_pinned_to_a_version_get_their_own_leaderboard_configuration() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let admin = Auth::token(&server.token("curator", Role::Admin).await?);
    let file = pg::data_dir()
        .join("pythia-evals-v0.3/pythia-70m-deduped/zero-shot/70m-deduped_step143000.json");
    ingest(&server.db, &[file], &options()).await?;
    let create =
        format!(r#"mutation {{ createDataset(input: {{name: "{DATASET}"}}) {{ name }} }}"#);
    server.graphql(&admin, &create, json!({})).await?;
    let items = inspect_items("2025-05-12T20-28-13-04-00_popularity.json")?;
    let vars = json!({"dataset": DATASET, "note": "v1"});
    server
        .upload(&admin, CREATE, vars, "v1.jsonl", &jsonl(&items))
        .await?;

    let (_, runs) = server
        .graphql(
            &Auth::none(),
            r#"{ runs(where: {task: "arc_easy"}) { nodes { id history { action actor } } } }"#,
            json!({}),
        )
        .await?;
    let run = runs["data"]["runs"]["nodes"][0].clone();
    assert_eq!(
        run["history"],
        json!([{"action": "source_file.ingest", "actor": "cli:test"}])
    );
    let run_id = run["id"].as_str().unwrap_or_default().to_string();
    let pin = format!(
        r#"mutation {{ pinRunToDatasetVersion(run: "{run_id}", dataset: "{DATASET}", number: 1) {{
            datasetVersion {{ dataset number }} }} }}"#
    );
    let (_, body) = server.graphql(&admin, &pin, json!({})).await?;
    assert_eq!(error_code(&body), "invalid_state", "a draft accepted a pin");
    step(
        &server,
        &admin,
        "publishDatasetVersion",
        &format!(r#"dataset: "{DATASET}", number: 1"#),
    )
    .await?;
    let (_, body) = server.graphql(&admin, &pin, json!({})).await?;
    assert_eq!(
        body["data"]["pinRunToDatasetVersion"]["datasetVersion"],
        json!({"dataset": DATASET, "number": 1})
    );
    let (_, again) = server.graphql(&admin, &pin, json!({})).await?;
    assert_eq!(
        error_code(&again),
        "invalid_state",
        "a run was pinned twice"
    );

    let board = |version: &str| {
        format!(
            r#"{{ leaderboard(task: "arc_easy", metric: "acc"{version}) {{
            configuration {{ datasetVersion models }}
            otherConfigurations {{ datasetVersion }} entries {{ run {{ id }} }} }} }}"#
        )
    };
    let (_, pinned) = server
        .graphql(
            &Auth::none(),
            &board(&format!(r#", datasetVersion: "{DATASET}@1""#)),
            json!({}),
        )
        .await?;
    assert_eq!(
        pinned["data"]["leaderboard"]["configuration"],
        json!({"datasetVersion": format!("{DATASET}@1"), "models": 1})
    );
    assert_eq!(
        pinned["data"]["leaderboard"]["entries"][0]["run"]["id"],
        run_id.as_str()
    );
    let (_, other) = server
        .graphql(
            &Auth::none(),
            &board(r#", datasetVersion: "other@1""#),
            json!({}),
        )
        .await?;
    assert_eq!(other["data"]["leaderboard"]["configuration"], Value::Null);
    assert_eq!(other["data"]["leaderboard"]["entries"], json!([]));
    let (_, history) = server
        .graphql(
            &Auth::none(),
            &format!(r#"{{ run(id: "{run_id}") {{ history {{ action }} }} }}"#),
            json!({}),
        )
        .await?;
    assert_eq!(
        history["data"]["run"]["history"],
        json!([{"action": "source_file.ingest"}, {"action": "run.pin_dataset_version"}])
    );
    Ok(())
}
