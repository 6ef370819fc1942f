//! The load run: many concurrent GraphQL clients for a fixed time, driven by
//! `wrk` (a standard HTTP load tool) in a process of its own, so the clients'
//! CPU is not the server's.
//!
//! The clients ask the two questions people ask most: a task's leaderboard
//! and one model's runs, rotating over every task and model of the workload.
//! A request counts as an error when its status is not 200 or its body holds
//! GraphQL `errors`; wrk's own socket errors and timeouts count too.

use std::fmt::Write as _;
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tests::workload::Workload;

/// How long and how wide the load run is.
pub struct LoadPlan {
    pub seconds: u64,
    pub clients: usize,
}

const LEADERBOARD: &str = "query($task: String!) { leaderboard(task: $task, metric: \"acc\") \
    { entries(first: 20) { rank value stderr model { name } } } }";
const MODEL_RUNS: &str = "query($model: String!) { runs(where: {model: $model}, first: 100) \
    { totalCount edges { node { task { name } results { metric { name } value } } } } }";

/// Runs wrk against `base` and returns its figures as JSON.
pub fn run(plan: &LoadPlan, base: &str, workload: &Workload) -> anyhow::Result<Value> {
    let script = std::env::temp_dir().join(format!("yardstick-load-{}.lua", std::process::id()));
    std::fs::write(&script, lua_script(workload)?)?;
    eprintln!(
        "[load] {} clients for {} s against {base}/graphql ...",
        plan.clients, plan.seconds
    );
    let output = Command::new("wrk")
        .args(["--threads", "2", "--timeout", "10s", "--latency"])
        .arg(format!("--connections={}", plan.clients))
        .arg(format!("--duration={}s", plan.seconds))
        .arg("--script")
        .arg(&script)
        .arg(format!("{base}/graphql"))
        .output();
    // The script is only needed while wrk runs.
    let _ = std::fs::remove_file(&script);
    let output =
        output.context("could not start `wrk`; install it (Debian: apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse_summary(&stdout)
}

/// The Lua script: request bodies rotate over tasks and models; `done`
/// prints one machine-readable line with the totals of every wrk thread.
fn lua_script(workload: &Workload) -> anyhow::Result<String> {
    let mut bodies = Vec::new();
    for (task, model) in workload.tasks.iter().zip(workload.models.iter().cycle()) {
        bodies.push(json!({ "query": LEADERBOARD, "variables": { "task": task.name } }));
        bodies.push(json!({ "query": MODEL_RUNS, "variables": { "model": model.name } }));
    }
    let mut lua = String::from("local bodies = {\n");
    for body in &bodies {
        // A Lua long string needs no escaping as long as it holds no `]==]`.
        let text = serde_json::to_string(body)?;
        if text.contains("]==]") {
            bail!("a request body cannot be quoted for Lua");
        }
        writeln!(lua, "  [==[{text}]==],")?;
    }
    lua.push_str(SCRIPT_BODY);
    Ok(lua)
}

const SCRIPT_BODY: &str = r#"}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  next_body = math.random(#bodies)
  responses = 0
  failures = 0
end
function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
    bodies[next_body])
end
function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
  end
end
function done(summary, latency, requests)
  local seen, failed = 0, 0
  for _, thread in ipairs(threads) do
    seen = seen + thread:get("responses")
    failed = failed + thread:get("failures")
  end
  local e = summary.errors
  io.write(string.format(
    "LOAD requests=%d duration_us=%d responses=%d failed=%d connect=%d read=%d " ..
    "write=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, seen, failed, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
"#;

/// Reads the `LOAD key=value ...` line the script prints.
fn parse_summary(stdout: &str) -> anyhow::Result<Value> {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("LOAD "))
        .with_context(|| format!("wrk printed no summary line:\n{stdout}"))?;
    let mut fields = serde_json::Map::new();
    for pair in line.split_whitespace() {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("unreadable summary field `{pair}`"))?;
        let value: f64 = value
            .parse()
            .with_context(|| format!("unreadable number in `{pair}`"))?;
        fields.insert(key.to_string(), json!(value));
    }
    let number = |key: &str| fields.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let seconds = number("duration_us") / 1e6;
    let errors =
        number("failed") + number("connect") + number("read") + number("write") + number("timeout");
    Ok(json!({
        "requests": number("requests"),
        "seconds": seconds,
        "requests_per_s": (number("requests") / seconds * 10.0).round() / 10.0,
        "p50_ms": number("p50_us") / 1e3,
        "p90_ms": number("p90_us") / 1e3,
        "p99_ms": number("p99_us") / 1e3,
        "max_ms": number("max_us") / 1e3,
        "errors": errors,
        "error_kinds": {
            "status_or_graphql": number("failed"),
            "connect": number("connect"),
            "read": number("read"),
            "write": number("write"),
            "timeout": number("timeout"),
        },
        "responses_checked": number("responses"),
    }))
}
