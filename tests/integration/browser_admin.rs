//! The admin side of the web app in a real browser: signing in with a
//! token, creating a dataset, uploading item files (preview, then draft),
//! and moving versions through their states, all through the forms, against
//! `yardstick serve` on a loopback port.
//!
//! Like `browser.rs`, it needs `dist/`, `chromium` and `chromedriver`, and
//! fails (never skips) when one is missing. Screenshots are written under
//! `target/test-output/browser/`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use backend::explorer::ExplorerAssets;
use backend::server::{AppState, serve};
use backend::service::access::{Role, create_token};
use fantoccini::{Client, Locator};
use sea_orm::DbBackend;
use serde_json::{Value, json};

use crate::support::browser::{
    PATIENCE, connect, dist, profile, repo_root, screenshot, start_driver, text_of,
};
use crate::support::{data, empty, ingest, options, pool_for_server, real};

const DATASET: &str = "asdiv-mini";

/// The lm-eval run whose samples the items come from.
const ASDIV_RUN: &str = "lm-eval-harness-v0.4-samples/pr2236-asdiv";

/// lm-eval's per-sample log of asdiv; each line's `doc` is one real item.
const SAMPLES: &str = "lm-eval-harness-v0.4-samples/pr2236-asdiv/\
    meta-llama__Meta-Llama-3-8B-Instruct/samples_asdiv_2024-08-21T03-44-09.494230.jsonl";

/// Returns the first `count` asdiv items, each keyed `asdiv-<doc_id>`.
fn asdiv_items(count: usize) -> anyhow::Result<Vec<Value>> {
    let text = std::fs::read_to_string(real(SAMPLES)).context("while reading asdiv samples")?;
    let mut items = Vec::new();
    for line in text.lines().take(count) {
        let sample: Value = serde_json::from_str(line)?;
        let mut item = json!({"id": format!("asdiv-{}", sample["doc_id"])});
        let doc = sample["doc"]
            .as_object()
            .context("a sample without a doc")?;
        for (key, value) in doc {
            item[key] = value.clone();
        }
        items.push(item);
    }
    ensure!(
        items.len() == count,
        "the samples file holds fewer than {count} items"
    );
    Ok(items)
}

/// Writes items as JSONL into `dir` and returns the file's absolute path.
fn write_jsonl(dir: &Path, name: &str, items: &[Value]) -> anyhow::Result<PathBuf> {
    let lines: Vec<String> = items.iter().map(Value::to_string).collect();
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n")?;
    Ok(std::fs::canonicalize(path)?)
}

/// Two versions of five real items: the second drops the first item,
/// changes the third, keeps three and adds a sixth.
fn item_files(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let items = asdiv_items(6)?;
    let first = write_jsonl(dir, "asdiv-v1.jsonl", &items[..5])?;
    let mut second = items[1..6].to_vec();
    second[1]["question"] = json!("How many oranges are there in all?");
    let second = write_jsonl(dir, "asdiv-v2.jsonl", &second)?;
    Ok((first, second))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_signs_in_creates_a_dataset_and_publishes_an_upload() -> anyhow::Result<()> {
    let dist = dist()?;
    let driver = start_driver().await?;
    let db = empty(DbBackend::Postgres).await?;
    let admin = create_token(&db, "browser-admin", Role::Admin, "test")
        .await
        .map_err(|error| anyhow::anyhow!(error.message()))?;
    ingest(&db, &[real(ASDIV_RUN)], &options()).await?;
    let runs = data(&db, "{ runs(first: 1) { nodes { id } } }").await;
    let run_id = runs["runs"]["nodes"][0]["id"].as_str().unwrap_or_default();
    let files = profile("admin-files")?;
    let (first, second) = item_files(&files)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    let explorer = ExplorerAssets::new(repo_root().join(".tools/explorer/node_modules"));
    let server = tokio::spawn(serve(
        listener,
        AppState::new(pool_for_server(&db), explorer, dist),
    ));
    let browser_profile = profile("admin")?;
    let client = connect(&driver, &browser_profile).await?;
    let admin = Admin {
        base: &base,
        token: &admin.token,
    };
    let outcome = async {
        signed_out(&client, &base).await?;
        sign_in(&client, &base, admin.token).await?;
        first_version(&client, &first).await?;
        pinned_run(&client, &admin, run_id).await?;
        second_version(&client, &base, &second).await?;
        tabs_and_sign_out(&client, &base).await
    }
    .await;
    if outcome.is_err() {
        let _ = screenshot(&client, "admin-failure").await;
    }
    let _ = client.close().await;
    server.abort();
    let _ = std::fs::remove_dir_all(&browser_profile);
    let _ = std::fs::remove_dir_all(&files);
    outcome?;

    let versions = data(
        &db,
        r#"{ dataset(name: "asdiv-mini") { versions { number state itemCount runCount } } }"#,
    )
    .await;
    assert_eq!(
        versions["dataset"]["versions"],
        json!([
            {"number": 2, "state": "DISCARDED", "itemCount": 5, "runCount": 0},
            {"number": 1, "state": "DEPRECATED", "itemCount": 5, "runCount": 1},
        ])
    );
    Ok(())
}

/// Where the server is and the admin token, for calls the browser does not
/// make.
struct Admin<'a> {
    base: &'a str,
    token: &'a str,
}

impl Admin<'_> {
    /// Sends a mutation over HTTP with the token, as a script would.
    async fn mutate(&self, query: &str) -> anyhow::Result<Value> {
        let response: Value = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .bearer_auth(self.token)
            .json(&json!({ "query": query }))
            .send()
            .await?
            .json()
            .await?;
        ensure!(
            response.get("errors").is_none(),
            "mutation failed: {response}"
        );
        Ok(response)
    }
}

async fn fill(client: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    let field = client.find(Locator::Css(css)).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

async fn click(client: &Client, css: &str) -> anyhow::Result<()> {
    let element = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("while waiting for `{css}`"))?;
    element.click().await?;
    Ok(())
}

async fn count(client: &Client, css: &str) -> anyhow::Result<usize> {
    Ok(client.find_all(Locator::Css(css)).await?.len())
}

/// Reads stay open, but no admin form shows before signing in.
async fn signed_out(client: &Client, base: &str) -> anyhow::Result<()> {
    client.goto(&format!("{base}/datasets")).await?;
    // The link shows once the server has said there is no session.
    text_of(client, "[data-test=sign-in-link]").await?;
    text_of(client, ".state.empty").await?;
    assert_eq!(count(client, "[data-test=new-dataset]").await?, 0);
    let current = text_of(client, "nav a[aria-current=page]").await?;
    assert_eq!(current, "Datasets");
    screenshot(client, "admin-signed-out").await?;
    Ok(())
}

async fn sign_in(client: &Client, base: &str, token: &str) -> anyhow::Result<()> {
    click(client, "[data-test=sign-in-link]").await?;
    assert_eq!(text_of(client, "h1").await?, "Sign in");
    fill(client, "#sign-in-token", "ys_not_a_token").await?;
    click(client, "[data-test=sign-in] button[type=submit]").await?;
    let error = text_of(client, "#sign-in-token-error:not(:empty)").await?;
    assert!(
        error.contains("token"),
        "the error sits by the field: {error}"
    );
    screenshot(client, "admin-sign-in-error").await?;

    fill(client, "#sign-in-token", token).await?;
    click(client, "[data-test=sign-in] button[type=submit]").await?;
    let account = text_of(client, "[data-test=account]").await?;
    assert!(
        account.starts_with("Signed in as browser-admin"),
        "{account}"
    );
    let url = client.current_url().await?;
    assert_eq!(
        url.as_str(),
        format!("{base}/datasets"),
        "back where sign-in began"
    );

    click(client, "[data-test=new-dataset] summary").await?;
    fill(client, "#new-dataset-name", DATASET).await?;
    fill(client, "#new-dataset-key", "id").await?;
    fill(client, "#new-dataset-tags", "math, word problems").await?;
    fill(
        client,
        "#new-dataset-description",
        "Five ASDiv word problems.",
    )
    .await?;
    click(client, "[data-test=new-dataset] button[type=submit]").await?;
    assert_eq!(
        text_of(client, "h1[data-test=dataset-name]").await?,
        DATASET
    );
    text_of(client, "[data-test=upload-version]").await?;
    Ok(())
}

/// Reads the four diff counts of the preview on screen.
async fn diff_counts(client: &Client) -> anyhow::Result<[String; 4]> {
    Ok([
        text_of(client, "[data-test=diff-added]").await?,
        text_of(client, "[data-test=diff-removed]").await?,
        text_of(client, "[data-test=diff-changed]").await?,
        text_of(client, "[data-test=diff-unchanged]").await?,
    ])
}

/// Opens the upload form and chooses `file` in it.
async fn choose_file(client: &Client, file: &Path) -> anyhow::Result<()> {
    click(client, "[data-test=upload-version] summary").await?;
    let input = client.find(Locator::Css("#upload-file")).await?;
    input.send_keys(&file.display().to_string()).await?;
    Ok(())
}

/// Saves the preview alone, in a window tall enough to hold all of it.
async fn preview_screenshot(client: &Client, name: &str) -> anyhow::Result<()> {
    client.set_window_size(1280, 3000).await?;
    let preview = client.find(Locator::Css("[data-test=preview]")).await?;
    let dir = repo_root().join("target/test-output/browser");
    std::fs::write(dir.join(format!("{name}.png")), preview.screenshot().await?)?;
    client.set_window_size(1280, 900).await?;
    Ok(())
}

async fn first_version(client: &Client, file: &Path) -> anyhow::Result<()> {
    choose_file(client, file).await?;
    assert_eq!(text_of(client, "[data-test=preview-items]").await?, "5");
    assert_eq!(text_of(client, "[data-test=preview-new-items]").await?, "5");
    assert_eq!(diff_counts(client).await?, ["5", "0", "0", "0"]);
    let first_rows = count(client, "table[aria-label='First rows'] tbody tr").await?;
    assert_eq!(first_rows, 5);
    preview_screenshot(client, "admin-preview-first").await?;

    fill(client, "#upload-note", "Five items from ASDiv").await?;
    click(client, "[data-action=create-version]").await?;
    text_of(client, "tr[data-version='1'] .badge.draft").await?;
    click(client, "tr[data-version='1'] button[data-action=publish]").await?;
    let state = text_of(client, "tr[data-version='1'] .badge.published").await?;
    assert_eq!(state, "PUBLISHED");
    assert_eq!(
        text_of(client, "[data-test=notice]").await?,
        "Version 1 published."
    );
    screenshot(client, "admin-published").await?;
    Ok(())
}

/// Pins the asdiv run to version 1 over the API; its page then names the
/// version and lists the pin in its history.
async fn pinned_run(client: &Client, admin: &Admin<'_>, run_id: &str) -> anyhow::Result<()> {
    let pin = format!(
        r#"mutation {{ pinRunToDatasetVersion(run: "{run_id}", dataset: "{DATASET}",
            number: 1) {{ id }} }}"#
    );
    admin.mutate(&pin).await?;
    client
        .goto(&format!("{}/runs/{run_id}", admin.base))
        .await?;
    let pinned = text_of(client, "[data-test=pinned-version]").await?;
    assert_eq!(pinned, format!("{DATASET} v1"));
    let history = text_of(client, "table[aria-label='Run history'] tbody").await?;
    assert!(history.contains("source_file.ingest"), "{history}");
    assert!(history.contains("run.pin_dataset_version"), "{history}");
    let scroll = "document.getElementById('history-title').scrollIntoView()";
    client.execute(scroll, vec![]).await?;
    screenshot(client, "admin-run-history").await?;
    Ok(())
}

async fn second_version(client: &Client, base: &str, file: &Path) -> anyhow::Result<()> {
    client.goto(&format!("{base}/datasets/{DATASET}")).await?;
    let runs = text_of(client, "tr[data-version='1'] td:nth-child(7)").await?;
    assert_eq!(runs, "1", "the pinned run counts on version 1");
    choose_file(client, file).await?;
    assert_eq!(text_of(client, "[data-test=preview-items]").await?, "5");
    // The added item and the changed one; the other three are stored.
    assert_eq!(text_of(client, "[data-test=preview-new-items]").await?, "2");
    assert_eq!(diff_counts(client).await?, ["1", "1", "1", "3"]);
    let changes = count(client, "table[aria-label='Changed items'] tbody tr").await?;
    assert_eq!(changes, 3);
    preview_screenshot(client, "admin-preview-second").await?;

    click(client, "[data-action=create-version]").await?;
    text_of(client, "tr[data-version='2'] .badge.draft").await?;
    click(client, "tr[data-version='2'] button[data-action=discard]").await?;
    click(client, "tr[data-version='2'] button[data-action=confirm]").await?;
    text_of(client, "tr[data-version='2'] .badge.discarded").await?;

    click(client, "tr[data-version='1'] button[data-action=deprecate]").await?;
    click(client, "tr[data-version='1'] button[data-action=confirm]").await?;
    let error = text_of(client, "#deprecate-reason-1-error:not(:empty)").await?;
    assert!(
        error.starts_with("Say why"),
        "a reason is required: {error}"
    );
    fill(
        client,
        "#deprecate-reason-1",
        "Superseded by the full ASDiv",
    )
    .await?;
    click(client, "tr[data-version='1'] button[data-action=confirm]").await?;
    text_of(client, "tr[data-version='1'] .badge.deprecated").await?;
    Ok(())
}

async fn tabs_and_sign_out(client: &Client, base: &str) -> anyhow::Result<()> {
    client
        .goto(&format!("{base}/datasets/{DATASET}?tab=items&version=1"))
        .await?;
    text_of(client, "table[aria-label=Items] tbody tr").await?;
    assert_eq!(count(client, "table[aria-label=Items] tbody tr").await?, 5);

    click(client, "nav.tabs a[href*='tab=history']").await?;
    text_of(client, "table[aria-label='Dataset history'] tbody tr").await?;
    let events = count(client, "table[aria-label='Dataset history'] tbody tr").await?;
    // Created, two versions uploaded, published, discarded, deprecated.
    assert!(
        events >= 6,
        "every change is in the history: {events} events"
    );
    screenshot(client, "admin-history").await?;

    click(client, "[data-test=account] button").await?;
    text_of(client, "[data-test=sign-in-link]").await?;
    assert_eq!(count(client, "[data-test=upload-version]").await?, 0);
    assert_eq!(count(client, "[data-test=edit-dataset]").await?, 0);
    Ok(())
}
