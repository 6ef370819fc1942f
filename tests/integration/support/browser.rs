//! Driving headless Chromium over WebDriver against the served web app:
//! finding the tools (a missing one fails the test, saying how to get it),
//! starting chromedriver on a free loopback port, waiting for elements and
//! saving screenshots under `target/test-output/browser/`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long the page may take to show what a step waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Returns the built web app's folder, or fails saying how to build it.
pub fn dist() -> anyhow::Result<PathBuf> {
    let dist = repo_root().join("dist");
    if !dist.join("index.html").is_file() {
        bail!(
            "`{}` is missing: build the web app with `scripts/setup.sh` and then \
             `scripts/build-web.sh` (scripts/test.sh does both)",
            dist.join("index.html").display()
        );
    }
    Ok(dist)
}

/// Finds an executable on `PATH`, or fails saying how to install it.
pub fn executable(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    found.with_context(|| {
        format!(
            "`{name}` is not on PATH; the browser tests need Debian's `chromium` and \
             `chromium-driver` packages (scripts/setup.sh installs them)"
        )
    })
}

/// chromedriver on a free loopback port, killed when dropped.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver and waits until it listens.
pub async fn start_driver() -> anyhow::Result<Driver> {
    let chromedriver = executable("chromedriver")?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(&chromedriver)
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

/// A fresh, empty browser profile folder named after `label`.
pub fn profile(label: &str) -> anyhow::Result<PathBuf> {
    let name = format!("yardstick-chromium-{label}-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Opens headless Chromium at desktop size with its own `profile`.
pub async fn connect(driver: &Driver, profile: &Path) -> anyhow::Result<Client> {
    let chromium = executable("chromium")?;
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
pub async fn text_of(client: &Client, css: &str) -> anyhow::Result<String> {
    let element = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("while waiting for `{css}`"))?;
    Ok(element.text().await?)
}

/// Waits until `css` shows exactly `expected` (a page that fetches anew
/// keeps its old text meanwhile), failing with the last text seen.
pub async fn wait_for_text(client: &Client, css: &str, expected: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let shown = text_of(client, css).await?;
        if shown == expected {
            return Ok(());
        }
        ensure!(
            started.elapsed() < PATIENCE,
            "`{css}` shows `{shown}`, not `{expected}`"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves the page as `name.png`.
pub async fn screenshot(client: &Client, name: &str) -> anyhow::Result<()> {
    let dir = repo_root().join("target/test-output/browser");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.png")), client.screenshot().await?)?;
    Ok(())
}
