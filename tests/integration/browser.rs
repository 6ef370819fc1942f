//! The web app in a real browser: headless Chromium, driven over WebDriver,
//! against `yardstick serve` on a loopback port with the real sample data.
//!
//! It needs `dist/` (built by `trunk build --release`), `chromium` and
//! `chromedriver`; `scripts/test.sh` provides all three. When one is missing
//! the test fails and says how to get it. Screenshots are written under
//! `target/test-output/browser/`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use backend::explorer::ExplorerAssets;
use backend::server::{AppState, serve};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::support::{data, real_postgres};

/// How long the page may take to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Finds an executable on `PATH`, or fails saying how to install it.
fn executable(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    found.with_context(|| {
        format!(
            "`{name}` is not on PATH; the browser test needs Debian's `chromium` and \
             `chromium-driver` packages (scripts/setup.sh installs them)"
        )
    })
}

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn start_driver(chromedriver: &Path) -> anyhow::Result<Driver> {
    let port = free_port()?;
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("while starting `{}`", chromedriver.display()))?;
    let driver = Driver { child, port };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        ensure!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not listen on port {port} within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(driver)
}

async fn connect(driver: &Driver, chromium: &Path, profile: &Path) -> anyhow::Result<Client> {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ];
    let mut args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chromium, "args": args}),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await?;
    Ok(client)
}

/// Waits for `css` and returns its text.
async fn text_of(client: &Client, css: &str) -> anyhow::Result<String> {
    let element = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("while waiting for `{css}`"))?;
    Ok(element.text().await?)
}

async fn screenshot(client: &Client, name: &str) -> anyhow::Result<()> {
    let dir = repo_root().join("target/test-output/browser");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.png")), client.screenshot().await?)?;
    Ok(())
}

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
    let dist = repo_root().join("dist");
    if !dist.join("index.html").is_file() {
        bail!(
            "`{}` is missing: build the web app with `scripts/setup.sh` and then \
             `TRUNK_SKIP_VERSION_CHECK=true trunk build --release` (scripts/test.sh does both)",
            dist.join("index.html").display()
        );
    }
    let chromium = executable("chromium")?;
    let chromedriver = executable("chromedriver")?;
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
    let driver = start_driver(&chromedriver).await?;
    let profile = tempdir()?;
    let client = connect(&driver, &chromium, &profile).await?;
    let mut outcome = browse(&client, &base, &entries).await;
    if outcome.is_ok() {
        outcome = compare(&client, &base).await;
    }
    let _ = client.close().await;
    server.abort();
    let _ = std::fs::remove_dir_all(&profile);

    outcome
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("yardstick-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
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
    assert_eq!(configuration, "v0 · 0-shot · filter none");
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
