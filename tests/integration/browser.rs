//! The web app in a real browser: headless Chromium, driven over WebDriver,
//! against `yardstick serve` on a loopback port with the real sample data.
//!
//! It needs `dist/` (built by `trunk build --release`), `chromium` and
//! `chromedriver`; `scripts/test.sh` provides all three. When one is missing
//! the test fails and says how to get it. Screenshots are written under
//! `target/test-output/browser/`.

use std::net::TcpListener;

use anyhow::ensure;
use backend::explorer::ExplorerAssets;
use backend::server::{AppState, serve};
use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::support::browser::{
    connect, dist, profile, repo_root, screenshot, start_driver, text_of,
};
use crate::support::{data, real_postgres};

/// The leaderboard the page must show, as the API returns it.
async fn expected_leaderboard(db: &sea_orm::DatabaseConnection) -> Value {
    let query = r#"{ leaderboard(task: "arc_easy", metric: "acc") {
        configuration { taskVersion nShot filter }
        entries { rank value model { name } run { id } }
    } }"#;
    data(db, query).await["leaderboard"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_app_shows_the_api_s_leaderboard_model_and_run() -> anyhow::Result<()> {
    let dist = dist()?;
    let (db, _) = real_postgres().await?;
    let expected = expected_leaderboard(&db).await;
    let entries = expected["entries"].as_array().cloned().unwrap_or_default();
    ensure!(
        !entries.is_empty(),
        "the API returned no arc_easy × acc entries"
    );

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    let explorer = ExplorerAssets::new(repo_root().join(".tools/explorer/node_modules"));
    let server = tokio::spawn(serve(listener, AppState::new(db, explorer, dist)));
    let driver = start_driver().await?;
    let profile = profile("read")?;
    let client = connect(&driver, &profile).await?;
    let mut outcome = browse(&client, &base, &entries).await;
    if outcome.is_ok() {
        outcome = compare(&client, &base).await;
    }
    let _ = client.close().await;
    server.abort();
    let _ = std::fs::remove_dir_all(&profile);

    outcome
}

async fn browse(client: &Client, base: &str, entries: &[Value]) -> anyhow::Result<()> {
    let top = &entries[0];
    let top_model = top["model"]["name"].as_str().unwrap_or_default();
    let top_value = top["value"].as_f64().unwrap_or(f64::NAN);
    let run_id = top["run"]["id"].as_str().unwrap_or_default();

    client
        .goto(&format!("{base}/leaderboard?task=arc_easy&metric=acc"))
        .await?;
    let configuration = text_of(client, "[data-test=configuration]").await?;
    assert_eq!(configuration, "version 0 · 0-shot · filter none");
    let rows = client.find_all(Locator::Css("table.data tbody tr")).await?;
    assert_eq!(rows.len(), entries.len(), "one table row per API entry");
    assert_eq!(
        text_of(client, "table.data tbody tr td.model a").await?,
        top_model
    );
    assert!(top_value < 1.0, "accuracies are written with four decimals");
    let shown = text_of(client, "table.data tbody tr td.value").await?;
    assert_eq!(shown, format!("{top_value:.4}"));
    assert_eq!(text_of(client, "table.data tbody tr td.rank").await?, "1");
    text_of(client, "figure.chart svg").await?;
    screenshot(client, "leaderboard").await?;

    client
        .find(Locator::Css("table.data tbody tr td.model a"))
        .await?
        .click()
        .await?;
    assert_eq!(
        text_of(client, "h1[data-test=model-name]").await?,
        top_model
    );
    let path = client.current_url().await?.path().to_string();
    assert_eq!(path, format!("/models/{top_model}"));
    screenshot(client, "model").await?;

    client.goto(&format!("{base}/runs/{run_id}")).await?;
    assert_eq!(text_of(client, "h1[data-test=run-id]").await?, run_id);
    text_of(client, "table.data tbody tr td.value").await?;
    screenshot(client, "run").await?;

    client
        .goto(&format!("{base}/models/EleutherAI/pythia-v1.1-160m"))
        .await?;
    let checkpoints = text_of(
        client,
        "#checkpoints-title + .field + figure.chart figcaption",
    )
    .await?;
    assert!(
        checkpoints.starts_with("Over training checkpoints"),
        "{checkpoints}"
    );
    screenshot(client, "model-checkpoints").await?;

    client
        .goto(&format!("{base}/leaderboard?task=no_such_task&metric=acc"))
        .await?;
    let error = text_of(client, ".state.error li").await?;
    assert!(
        error.contains("task_not_found"),
        "the error names its code: {error}"
    );
    screenshot(client, "error").await?;

    client.set_window_size(390, 844).await?;
    client
        .goto(&format!(
            "{base}/leaderboard?task=lambada_openai&metric=perplexity"
        ))
        .await?;
    text_of(client, "table.data tbody tr td.value").await?;
    screenshot(client, "leaderboard-phone").await?;

    Ok(())
}

/// Opens the start page and the comparison of two Pythia sizes, at desktop
/// and at phone width.
async fn compare(client: &Client, base: &str) -> anyhow::Result<()> {
    client.set_window_size(1280, 900).await?;
    client.goto(&format!("{base}/")).await?;
    let current = text_of(client, "nav a[aria-current=page]").await?;
    assert_eq!(current, "Leaderboards", "`/` shows the leaderboards");

    let url = format!(
        "{base}/compare?models=EleutherAI%2Fpythia-v1.1-160m%2CEleutherAI%2Fpythia-v1.1-410m"
    );
    client.goto(&url).await?;
    let first_row = text_of(client, "table.compare tbody tr th.key").await?;
    assert!(!first_row.is_empty(), "each row names its task and metric");
    let heads = client
        .find_all(Locator::Css("table.compare thead th"))
        .await?;
    assert_eq!(heads.len(), 4, "task, two models and one difference");
    let chart = text_of(client, "figure.chart figcaption").await?;
    assert!(
        chart.starts_with("Differences from EleutherAI/pythia-v1.1-160m"),
        "{chart}"
    );
    screenshot(client, "compare").await?;
    let figure = client.find(Locator::Css("figure.chart")).await?;
    let dir = repo_root().join("target/test-output/browser");
    std::fs::write(dir.join("compare-chart.png"), figure.screenshot().await?)?;

    client.set_window_size(390, 844).await?;
    client.refresh().await?;
    text_of(client, "table.compare tbody tr th.key").await?;
    // Scrolled sideways, the task column must stay in view.
    let scroll = "const wrap = document.querySelector('table.compare').parentElement; \
                  wrap.scrollIntoView(); wrap.scrollLeft = 250;";
    client.execute(scroll, vec![]).await?;
    screenshot(client, "compare-phone").await?;

    Ok(())
}
