//! The HTTP side of the benchmark: Yardstick served in process on a loopback
//! port, and a GraphQL client asking the benchmark's queries as a user's
//! program would.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use backend::explorer::ExplorerAssets;
use backend::server::{AppState, serve};
use backend::service::access::{self, Role};
use chrono::DateTime;
use serde_json::{Value, json};
use tests::pg;
use tests::workload::rfc3339_ms;

/// Yardstick serving a fresh database; stops when dropped.
pub struct Server {
    pub base: String,
    /// An admin token, for `recordRuns`.
    pub token: String,
    /// The database's URL, for the statistics step between the phases.
    pub database_url: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the server on `database_url`, or on a new database of the test
/// cluster, migrated.
pub async fn start_server(database_url: Option<&str>) -> anyhow::Result<Server> {
    let (url, name) = match database_url {
        Some(url) => (url.to_string(), backend::db::redact(url)),
        None => {
            let database = pg::fresh_database().await?;
            (database.url, database.name)
        }
    };
    let db = backend::db::connect_and_migrate(&url).await?;
    // Named by the time, so a reused database takes one more.
    let token_name = format!("benchmark-{}", chrono::Utc::now().timestamp_micros());
    let created = access::create_token(&db, &token_name, Role::Admin, "cli:benchmark")
        .await
        .map_err(|error| anyhow::anyhow!("creating a token failed: {}", error.message()))?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(
        db,
        ExplorerAssets::new("/nonexistent"),
        "/nonexistent".into(),
    );
    let task = tokio::spawn(serve(listener, state));
    eprintln!("Yardstick on {base}, database {name}");
    Ok(Server {
        base,
        token: created.token,
        database_url: url,
        task,
    })
}

/// Counts the runs `database_url` holds.
pub async fn stored_runs(database_url: &str) -> anyhow::Result<u64> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(database_url).await?;
    let statement = Statement::from_string(db.get_database_backend(), "SELECT count(*) FROM run");
    let count: i64 = match db.query_one_raw(statement).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    db.close().await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Gathers the planner's statistics, as autovacuum does about a minute after
/// a bulk load; returns the seconds it took.
pub async fn analyze(database_url: &str) -> anyhow::Result<f64> {
    let started = std::time::Instant::now();
    let db = sea_orm::Database::connect(database_url).await?;
    sea_orm::ConnectionTrait::execute_unprepared(&db, "ANALYZE").await?;
    db.close().await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Waits until the server has ranked every board after the last write, as
/// it does by itself within seconds of a board going quiet; returns the
/// seconds waited. Leaderboards are answered meanwhile, only slower.
pub async fn wait_for_rankings(client: &Client) -> anyhow::Result<f64> {
    const STATUS: &str = "{ readModel { boards rankedBoards } }";
    let started = std::time::Instant::now();
    let mut reported = 0.0;
    loop {
        let data = client.read(STATUS, json!({})).await?;
        let boards = data["readModel"]["boards"].as_u64().unwrap_or(0);
        let ranked = data["readModel"]["rankedBoards"].as_u64().unwrap_or(0);
        let waited = started.elapsed().as_secs_f64();
        if ranked == boards {
            return Ok(waited);
        }
        if waited - reported >= 10.0 {
            eprintln!("[ranking] {ranked}/{boards} boards ranked after {waited:.0} s");
            reported = waited;
        }
        if waited > 3600.0 {
            anyhow::bail!("the server ranked {ranked} of {boards} boards in an hour");
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// A GraphQL client over one keep-alive connection pool.
pub struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
    /// Server-side microseconds (the `Server-Timing` header) of the
    /// responses since the last `take_server_ms`.
    server_us: AtomicU64,
}

impl Client {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: format!("{base}/graphql"),
            token: token.to_string(),
            server_us: AtomicU64::new(0),
        }
    }

    /// Returns the server-side milliseconds of the responses since the last
    /// call (a paged query sums its pages), and starts counting afresh.
    pub fn take_server_ms(&self) -> f64 {
        self.server_us.swap(0, Ordering::Relaxed) as f64 / 1000.0
    }

    /// Sends a request with the admin token; returns `data` or fails on errors.
    pub async fn admin(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.send(query, variables, true).await
    }

    /// Sends a request without credentials, as any reader may.
    pub async fn read(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.send(query, variables, false).await
    }

    async fn send(&self, query: &str, variables: Value, admin: bool) -> anyhow::Result<Value> {
        let mut request = self.http.post(&self.url);
        if admin {
            request = request.bearer_auth(&self.token);
        }
        let body = json!({ "query": query, "variables": variables });
        let response = request.json(&body).send().await?;
        let status = response.status();
        if let Some(ms) = server_ms(response.headers()) {
            self.server_us
                .fetch_add((ms * 1000.0).round() as u64, Ordering::Relaxed);
        }
        let mut body: Value = response.json().await.context("while reading a response")?;
        if !status.is_success() || body.get("errors").is_some() {
            bail!("the server answered {status}: {body}");
        }
        Ok(body["data"].take())
    }
}

/// Reads `app;dur=…` from a `Server-Timing` header.
fn server_ms(headers: &reqwest::header::HeaderMap) -> Option<f64> {
    let value = headers.get("server-timing")?.to_str().ok()?;
    value
        .split(',')
        .filter_map(|metric| metric.trim().strip_prefix("app;"))
        .flat_map(|params| params.split(';'))
        .find_map(|param| param.trim().strip_prefix("dur="))
        .and_then(|ms| ms.parse().ok())
}

/// Q1: the top 20 acc values of a task's leaderboard, best first.
pub async fn top20(client: &Client, task: &str) -> anyhow::Result<Vec<f64>> {
    const Q1: &str = "query($task: String!) { leaderboard(task: $task, metric: \"acc\") {
        entries(first: 20) { rank value stderr model { name } run { id } } } }";
    let data = client.read(Q1, json!({ "task": task })).await?;
    Ok(data["leaderboard"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["value"].as_f64())
        .collect())
}

/// What Q2 and Q3 ask of every run: about what MLflow returns of one.
const RUN_FIELDS: &str = "id model { name } task { name version } nShot harnessVersion
    startedAt finishedAt projects tags results { metric { name } value stderr }";

/// A run as Q2 checks it.
pub struct WindowRun {
    projects: Vec<String>,
    started_ms: Option<i64>,
}

impl WindowRun {
    /// Tells whether the run belongs in the answer to Q2.
    pub fn in_window(&self, project: &str, lo: i64, hi: i64) -> bool {
        self.projects.iter().any(|p| p == project)
            && self.started_ms.is_some_and(|t| lo <= t && t < hi)
    }
}

/// Fetches every page of `runs(where:)`; returns the nodes and the page count.
async fn all_pages(
    client: &Client,
    filter: &str,
    mut variables: Value,
    page_size: usize,
) -> anyhow::Result<(Vec<Value>, usize)> {
    let query = format!(
        "query($first: Int!, $after: String, {filter}) {{
            runs(where: {{{}}}, first: $first, after: $after) {{
                pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {RUN_FIELDS} }} }} }} }}",
        where_fields(filter)
    );
    let mut nodes = Vec::new();
    let mut pages = 0;
    variables["first"] = json!(page_size);
    loop {
        let mut data = client.read(&query, variables.clone()).await?;
        pages += 1;
        let runs = data["runs"].take();
        if let Some(edges) = runs["edges"].as_array() {
            nodes.extend(edges.iter().map(|edge| edge["node"].clone()));
        }
        if runs["pageInfo"]["hasNextPage"] != json!(true) {
            return Ok((nodes, pages));
        }
        variables["after"] = runs["pageInfo"]["endCursor"].clone();
    }
}

/// Turns `$project: String!, $from: DateTime!` into `project: $project, from: $from`.
fn where_fields(declarations: &str) -> String {
    declarations
        .split(',')
        .filter_map(|declaration| {
            let name = declaration.trim().strip_prefix('$')?.split(':').next()?;
            Some(format!("{name}: ${name}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Q2: every run of `project` that started in `[lo, hi)`, all pages.
pub async fn window(
    client: &Client,
    project: &str,
    lo: i64,
    hi: i64,
    page_size: usize,
) -> anyhow::Result<(Vec<WindowRun>, usize)> {
    let filter = "$project: String!, $from: DateTime!, $to: DateTime!";
    let variables = json!({ "project": project, "from": rfc3339_ms(lo), "to": rfc3339_ms(hi) });
    let (nodes, pages) = all_pages(client, filter, variables, page_size).await?;
    let runs = nodes
        .iter()
        .map(|node| WindowRun {
            projects: node["projects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect(),
            started_ms: node["startedAt"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis()),
        })
        .collect();
    Ok((runs, pages))
}

/// Q3: one model's runs, as task → acc.
pub async fn model_runs(
    client: &Client,
    model: &str,
    page_size: usize,
) -> anyhow::Result<(HashMap<String, f64>, usize)> {
    let variables = json!({ "model": model });
    let (nodes, pages) = all_pages(client, "$model: String!", variables, page_size).await?;
    let accs = nodes
        .iter()
        .filter_map(|node| {
            let task = node["task"]["name"].as_str()?.to_string();
            let acc = node["results"]
                .as_array()?
                .iter()
                .find(|r| r["metric"]["name"] == "acc")?["value"]
                .as_f64()?;
            Some((task, acc))
        })
        .collect();
    Ok((accs, pages))
}

/// Q4: every model's mean acc over `tasks`, computed by the server.
pub async fn mean_acc(client: &Client, tasks: &[&str]) -> anyhow::Result<HashMap<String, f64>> {
    const Q4: &str = "query($tasks: [String!]!) {
        compositeRanking(metric: \"acc\", tasks: $tasks) {
            entries { model { name } meanScore tasksMissing } } }";
    let data = client.read(Q4, json!({ "tasks": tasks })).await?;
    Ok(data["compositeRanking"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["tasksMissing"] == json!(0))
        .filter_map(|entry| {
            let name = entry["model"]["name"].as_str()?.to_string();
            Some((name, entry["meanScore"].as_f64()?))
        })
        .collect())
}
