//! The web app's per-sample views in a real browser, on the real sample
//! data served by `yardstick serve`: a run's quality warnings, its samples
//! tab (count, first row, filters, a row opened in full), a run without
//! samples, and two HELM BBQ runs compared item by item, each checked
//! against what the API returns.

use std::net::TcpListener;

use anyhow::Context;
use backend::explorer::ExplorerAssets;
use backend::server::{AppState, serve};
use fantoccini::{Client, Locator};
use sea_orm::DatabaseConnection;
use serde_json::Value;

use crate::support::browser::{
    connect, dist, profile, repo_root, screenshot, start_driver, text_of, wait_for_text,
};
use crate::support::{data, pool_for_server, real_postgres};

/// The ids of the runs the test opens, found through the API.
struct Runs {
    asdiv: String,
    polymer: String,
    without_samples: String,
    bbq_first: String,
    bbq_second: String,
}

/// What each step of the test works with.
#[derive(Clone, Copy)]
struct Step<'a> {
    client: &'a Client,
    base: &'a str,
    db: &'a DatabaseConnection,
    runs: &'a Runs,
}

async fn run_id(db: &DatabaseConnection, model: &str, task: &str) -> anyhow::Result<String> {
    let query =
        format!(r#"{{ runs(where: {{model: "{model}", task: "{task}"}}) {{ nodes {{ id }} }} }}"#);
    let found = data(db, &query).await["runs"]["nodes"][0]["id"].clone();
    let id = found
        .as_str()
        .with_context(|| format!("no {model} run of {task}"))?;
    Ok(id.to_string())
}

async fn runs(db: &DatabaseConnection) -> anyhow::Result<Runs> {
    Ok(Runs {
        asdiv: run_id(db, "meta-llama/Meta-Llama-3-8B-Instruct", "asdiv").await?,
        polymer: run_id(db, "gpt-4o-mini", "polymer_tg_prediction").await?,
        without_samples: run_id(db, "EleutherAI/pythia-v1.1-160m", "arc_easy").await?,
        bbq_first: run_id(db, "mistralai/mixtral-8x22b", "bbq").await?,
        bbq_second: run_id(db, "meta/llama-3-8b", "bbq").await?,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_app_shows_samples_warnings_and_a_per_item_comparison() -> anyhow::Result<()> {
    let dist = dist()?;
    let (db, _) = real_postgres().await?;
    let runs = runs(&db).await?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    let explorer = ExplorerAssets::new(repo_root().join(".tools/explorer/node_modules"));
    let state = AppState::new(pool_for_server(&db), explorer, dist);
    let server = tokio::spawn(serve(listener, state));
    let driver = start_driver().await?;
    let profile = profile("samples")?;
    let client = connect(&driver, &profile).await?;
    let step = Step {
        client: &client,
        base: &base,
        db: &db,
        runs: &runs,
    };
    let mut outcome = samples_tab(step).await;
    if outcome.is_ok() {
        outcome = warnings(step).await;
    }
    if outcome.is_ok() {
        outcome = comparison(step).await;
    }
    let _ = client.close().await;
    server.abort();
    let _ = std::fs::remove_dir_all(&profile);

    outcome
}

/// The texts of the cells of the samples table's first row.
async fn first_row(client: &Client) -> anyhow::Result<Vec<String>> {
    text_of(client, "table.samples tbody tr td").await?;
    let cells = client
        .find_all(Locator::Css("table.samples tbody tr:first-child td"))
        .await?;
    let mut texts = Vec::new();
    for cell in cells {
        texts.push(cell.text().await?);
    }
    Ok(texts)
}

async fn samples_tab(step: Step<'_>) -> anyhow::Result<()> {
    let (client, base, db, runs) = (step.client, step.base, step.db, step.runs);
    let query = format!(
        r#"{{ run(id: "{}") {{ all: samples(first: 1) {{ totalCount nodes {{ target }} }}
        wrong: samples(where: {{correct: false}}) {{ totalCount }} }} }}"#,
        runs.asdiv
    );
    let api = data(db, &query).await;
    assert_eq!(api["run"]["all"]["totalCount"], 50);
    assert_eq!(api["run"]["wrong"]["totalCount"], 4);

    client.goto(&format!("{base}/runs/{}", runs.asdiv)).await?;
    text_of(client, "table.data tbody tr td.value").await?;
    client
        .find(Locator::Css("nav.tabs a[data-test=samples]"))
        .await?
        .click()
        .await?;
    wait_for_text(client, "[data-test=samples-total]", "50 samples").await?;
    let row = first_row(client).await?;
    let target = api["run"]["all"]["nodes"][0]["target"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(row[0], "0\ndoc 0", "position and doc id");
    assert_eq!(row[2], target);
    assert_eq!(row[4..6], ["1.0000", "✓ right"], "score and verdict");
    screenshot(client, "samples").await?;

    // The verdict filter goes into the URL and starts from the first page.
    let verdict = client.find(Locator::Css("#samples-verdict")).await?;
    verdict.select_by_value("incorrect").await?;
    wait_for_text(client, "[data-test=samples-total]", "4 of 50 samples match").await?;
    let url = client.current_url().await?;
    assert_eq!(url.query(), Some("tab=samples&verdict=incorrect"));
    assert_eq!(first_row(client).await?[5], "✗ wrong");

    client
        .find(Locator::Css("table.samples tbody tr:first-child button"))
        .await?
        .click()
        .await?;
    let full = text_of(client, "table.samples tr.sample-full").await?;
    assert!(
        full.contains("Scores"),
        "the opened row shows everything: {full}"
    );
    screenshot(client, "samples-open").await?;

    let search = format!(
        "{base}/runs/{}?tab=samples&search=SEVEN%20red%20apples",
        runs.asdiv
    );
    client.goto(&search).await?;
    wait_for_text(client, "[data-test=samples-total]", "1 of 50 samples match").await?;

    let empty = format!("{base}/runs/{}?tab=samples", runs.without_samples);
    client.goto(&empty).await?;
    let said = text_of(client, ".state.empty h2").await?;
    assert_eq!(said, "No samples for this run");
    Ok(())
}

async fn warnings(step: Step<'_>) -> anyhow::Result<()> {
    let (client, base, db, runs) = (step.client, step.base, step.db, step.runs);
    let query = format!(
        r#"{{ run(id: "{}") {{ qualityWarnings {{ rule detail }} }} }}"#,
        runs.polymer
    );
    let api = data(db, &query).await["run"]["qualityWarnings"].clone();
    let found = api.as_array().cloned().unwrap_or_default();
    assert!(
        found.len() >= 2,
        "the polymer run has non-finite values: {api}"
    );

    client
        .goto(&format!("{base}/runs/{}", runs.polymer))
        .await?;
    let heading = text_of(client, "[data-test=quality-warnings] h2").await?;
    assert_eq!(heading, format!("⚠ {} data-quality warnings", found.len()));
    let items = client
        .find_all(Locator::Css("[data-test=quality-warnings] li"))
        .await?;
    assert_eq!(items.len(), found.len());
    let first = items[0].text().await?;
    let detail = found[0]["detail"].as_str().unwrap_or_default();
    assert!(first.contains(detail), "{first} names `{detail}`");
    screenshot(client, "run-warnings").await?;

    client.goto(&format!("{base}/runs/{}", runs.asdiv)).await?;
    text_of(client, "table.data tbody tr td.value").await?;
    let boxes = client
        .find_all(Locator::Css("[data-test=quality-warnings]"))
        .await?;
    assert!(
        boxes.is_empty(),
        "a run without findings shows no warning box"
    );
    Ok(())
}

/// The API's comparison of the two BBQ runs.
async fn expected_comparison(db: &DatabaseConnection, runs: &Runs) -> Value {
    let query = format!(
        r#"{{ compareSamples(first: "{}", second: "{}") {{ shared bothCorrect bothWrong
        mcnemar {{ onlyFirstCorrect onlySecondCorrect }}
        differences {{ firstCorrect secondCorrect }} }} }}"#,
        runs.bbq_first, runs.bbq_second
    );
    data(db, &query).await["compareSamples"].clone()
}

async fn comparison(step: Step<'_>) -> anyhow::Result<()> {
    let (client, base, db, runs) = (step.client, step.base, step.db, step.runs);
    let expected = expected_comparison(db, runs).await;
    assert!(expected["shared"].as_i64() > Some(0), "{expected}");

    client
        .goto(&format!("{base}/runs/{}?tab=samples", runs.bbq_first))
        .await?;
    text_of(client, "#compare-with").await?;
    let choice = client.find(Locator::Css("#compare-with")).await?;
    choice.select_by_value(&runs.bbq_second).await?;
    let shared = text_of(client, "[data-test=shared]").await?;
    let url = client.current_url().await?;
    assert_eq!(url.path(), "/compare-samples");
    let query = format!("first={}&second={}", runs.bbq_first, runs.bbq_second);
    assert_eq!(url.query(), Some(query.as_str()));

    let counts = [
        ("shared", &expected["shared"]),
        ("both-right", &expected["bothCorrect"]),
        ("both-wrong", &expected["bothWrong"]),
        ("only-first-right", &expected["mcnemar"]["onlyFirstCorrect"]),
        (
            "only-second-right",
            &expected["mcnemar"]["onlySecondCorrect"],
        ),
    ];
    assert_eq!(shared, expected["shared"].to_string());
    for (key, value) in counts {
        let shown = text_of(client, &format!("[data-test={key}]")).await?;
        assert_eq!(shown, value.to_string(), "{key}");
    }
    text_of(client, "figure.chart svg").await?;
    screenshot(client, "compare-samples").await?;

    let differences = expected["differences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let only_second = differences
        .iter()
        .filter(|d| d["firstCorrect"] == false && d["secondCorrect"] == true)
        .count();
    let choice = client.find(Locator::Css("#diff-show")).await?;
    choice.select_by_value("second").await?;
    let listed = match only_second {
        1 => "1 item".to_string(),
        n => format!("{n} items"),
    };
    wait_for_text(client, "[data-test=differences-total]", &listed).await?;
    Ok(())
}
