//! Timing as the peer benchmark reports it: median, p95 by nearest rank,
//! min, max and mean of the timed calls, and the client thread's CPU time.

use std::sync::OnceLock;
use std::time::Instant;

use serde_json::{Value, json};

/// The samples of one query.
pub struct Stats {
    name: &'static str,
    warmup: usize,
    calls: usize,
    samples_ms: Vec<f64>,
    /// The server's own share of each kept call (`Server-Timing`).
    server_samples_ms: Vec<f64>,
    cpu_start: f64,
}

impl Stats {
    pub fn new(name: &'static str, warmup: usize) -> Self {
        Self {
            name,
            warmup,
            calls: 0,
            samples_ms: Vec::new(),
            server_samples_ms: Vec::new(),
            cpu_start: cpu_seconds(),
        }
    }

    pub fn start(&self) -> Instant {
        Instant::now()
    }

    /// Ends a call that the server says took `server_ms` of its own time;
    /// calls before the first `warmup` are not kept.
    pub fn stop(&mut self, started: Instant, server_ms: f64) {
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if self.calls >= self.warmup {
            self.samples_ms.push(elapsed_ms);
            self.server_samples_ms.push(server_ms);
        }
        self.calls += 1;
    }

    /// Summarises the timed calls, with `extra` fields appended.
    pub fn report(&self, extra: Value) -> Value {
        let mut sorted = self.samples_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let mut server = self.server_samples_ms.clone();
        server.sort_by(f64::total_cmp);
        let n = sorted.len();
        let cpu_ms = (cpu_seconds() - self.cpu_start) * 1000.0 / self.calls.max(1) as f64;
        let mut report = json!({
            "n": n,
            "median_ms": round3(median(&sorted)),
            "p95_ms": round3(nearest_rank(&sorted, 0.95)),
            "min_ms": round3(sorted.first().copied().unwrap_or(f64::NAN)),
            "max_ms": round3(sorted.last().copied().unwrap_or(f64::NAN)),
            "mean_ms": round3(sorted.iter().sum::<f64>() / n.max(1) as f64),
            "client_cpu_ms_per_call": round3(cpu_ms),
            "server_median_ms": round3(median(&server)),
            "server_p95_ms": round3(nearest_rank(&server, 0.95)),
        });
        if let (Some(report), Value::Object(extra)) = (report.as_object_mut(), extra) {
            report.extend(extra);
        }
        eprintln!(
            "[B] {}: median {} ms, p95 {} ms (server side: median {} ms, p95 {} ms)",
            self.name,
            report["median_ms"],
            report["p95_ms"],
            report["server_median_ms"],
            report["server_p95_ms"]
        );
        report
    }
}

/// The middle value, or the mean of the two middle ones, of sorted samples.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The ceil(q·n)-th smallest of sorted samples.
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Returns the CPU seconds (user + system) this thread has used, from
/// `/proc/thread-self/stat`; 0 where that cannot be read.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    // The command name in parentheses may hold spaces; fields count from after it.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line; 3 is the first here.
    (ticks(11) + ticks(12)) / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The 1, 5 and 15 minute load averages, as the peer records them.
pub fn loadavg() -> Value {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let values: Vec<f64> = text
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect();
    json!(values)
}
