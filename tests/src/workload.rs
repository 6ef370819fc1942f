//! The seeded evaluation workload of the MLflow peer benchmark, bit for bit:
//! models × tasks = runs, each with five metric values, drawn from SplitMix64
//! streams with IEEE-754 arithmetic only, so every implementation of the
//! definition produces the same `workload_sha256`.
//!
//! The definition (streams, model and task tables, the formulas, the
//! checksum lines) is the peer benchmark's; this is a port, checked against
//! the checksums and lines it publishes.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const GOLDEN64: u64 = 0x9E37_79B9_7F4A_7C15;
/// 2^-53, exact.
const TWO_POW_MINUS_53: f64 = 1.0 / 9_007_199_254_740_992.0;
/// The double nearest to sqrt(3).
const SQRT3: f64 = 1.732_050_807_568_877_2;

const FAMILIES: [(&str, f64); 8] = [
    ("llama", 0.3),
    ("mistral", 0.2),
    ("qwen", 0.4),
    ("gemma", 0.1),
    ("phi", 0.0),
    ("falcon", -0.3),
    ("olmo", -0.1),
    ("pythia", -0.6),
];
const SIZES: [(&str, f64, &str); 10] = [
    ("0.5b", -1.6, "<3b"),
    ("1b", -1.2, "<3b"),
    ("2b", -0.9, "<3b"),
    ("3b", -0.6, "3-10b"),
    ("7b", -0.2, "3-10b"),
    ("8b", 0.0, "3-10b"),
    ("13b", 0.3, "10-50b"),
    ("34b", 0.7, "10-50b"),
    ("70b", 1.1, ">50b"),
    ("405b", 1.6, ">50b"),
];
/// Base task names and their answer choices (0: generative, chance 0).
const BASE_TASKS: [(&str, u32); 20] = [
    ("arc_challenge", 4),
    ("arc_easy", 4),
    ("hellaswag", 4),
    ("mmlu", 4),
    ("truthfulqa_mc1", 4),
    ("winogrande", 2),
    ("gsm8k", 0),
    ("boolq", 2),
    ("piqa", 2),
    ("siqa", 3),
    ("openbookqa", 4),
    ("lambada", 0),
    ("race", 4),
    ("copa", 2),
    ("rte", 2),
    ("wic", 2),
    ("mathqa", 5),
    ("logiqa", 4),
    ("sciq", 4),
    ("commonsense_qa", 5),
];
const N_SHOTS: [i32; 4] = [0, 5, 10, 25];
/// The projects runs are spread over; Q2 asks for `PROJECTS[k % 4]`.
pub const PROJECTS: [&str; 4] = [
    "open-llm-leaderboard",
    "internal-sweep",
    "safety-evals",
    "release-candidates",
];
const HARNESS_VERSIONS: [&str; 4] = ["0.4.0", "0.4.1", "0.4.2", "0.4.3"];
/// 2025-01-01T00:00:00Z in milliseconds.
pub const T0_MS: i64 = 1_735_689_600_000;
const DAY_MS: i64 = 86_400_000;
const TASK_SLOT_MS: i64 = 300_000;

/// The checksums the peer benchmark publishes, by (seed, models, tasks).
pub const PUBLISHED: [((u64, usize, usize), &str); 2] = [
    (
        (42, 50, 20),
        "840609ad0b7b02693ff23c96e1e3ec8f74e6b6015aabc5a9951758077fb0e799",
    ),
    (
        (42, 200, 60),
        "38328190106359ef96e41f5d86deadf9cc69b0380ac0cd33c2dcb17d3edcd369",
    ),
];

/// The SplitMix64 finaliser.
pub fn mix64(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A SplitMix64 stream keyed by (seed, domain, i, j).
pub struct Rng {
    state: u64,
}

impl Rng {
    /// Opens the stream; `i` and `j` must be below 2^24 (the caller's sizes
    /// are checked by [`generate`]).
    pub fn new(seed: u64, domain: u64, i: u64, j: u64) -> Self {
        Self {
            state: mix64(seed) ^ (domain << 48) ^ (i << 24) ^ j,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN64);
        mix64(self.state)
    }

    /// A double in [0, 1) from 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * TWO_POW_MINUS_53
    }

    pub fn below(&mut self, k: u64) -> u64 {
        self.next_u64() % k
    }

    /// Irwin-Hall(4) rescaled to mean 0 and variance 1, summed left to right.
    pub fn normal(&mut self) -> f64 {
        let mut sum = self.uniform();
        sum += self.uniform();
        sum += self.uniform();
        sum += self.uniform();
        (sum - 2.0) * SQRT3
    }
}

/// A generated model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub name: String,
    pub family: &'static str,
    pub size_bucket: &'static str,
    pub skill: f64,
}

/// A generated task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: String,
    pub chance: f64,
    pub difficulty: f64,
    pub n_examples: u64,
    pub n_shot: i32,
    pub dataset_version: String,
}

/// A generated run: one model on one task.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub m: usize,
    pub t: usize,
    pub model: String,
    pub task: String,
    pub dataset_version: String,
    pub n_shot: i32,
    pub harness_version: &'static str,
    pub project: &'static str,
    pub family: &'static str,
    pub size_bucket: &'static str,
    /// Milliseconds since the epoch.
    pub start_ms: i64,
    pub end_ms: i64,
    pub acc: f64,
    pub acc_norm: f64,
    pub acc_stderr: f64,
    pub acc_norm_stderr: f64,
    pub f1: f64,
}

/// The whole workload, runs in m-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub seed: u64,
    pub models: Vec<Model>,
    pub tasks: Vec<Task>,
    pub runs: Vec<Run>,
}

fn model(seed: u64, m: usize) -> Model {
    let (family, family_skill) = FAMILIES[m % FAMILIES.len()];
    let (size, size_skill, bucket) = SIZES[(m / FAMILIES.len()) % SIZES.len()];
    let mut rng = Rng::new(seed, 1, m as u64, 0);
    Model {
        name: format!("{family}-{size}-{m:04}"),
        family,
        size_bucket: bucket,
        skill: family_skill + size_skill + 0.5 * rng.normal(),
    }
}

fn task(seed: u64, t: usize) -> Task {
    let (base, choices) = BASE_TASKS[t % BASE_TASKS.len()];
    let name = if t < BASE_TASKS.len() {
        base.to_string()
    } else {
        format!("{base}_{}", t / BASE_TASKS.len())
    };
    let mut rng = Rng::new(seed, 2, t as u64, 0);
    let difficulty = rng.normal();
    let n_examples = 200 + rng.below(9801);
    let n_shot = N_SHOTS[rng.below(4) as usize];
    let major = 1 + rng.below(3);
    let minor = rng.below(10);
    Task {
        name,
        chance: if choices > 0 {
            1.0 / f64::from(choices)
        } else {
            0.0
        },
        difficulty,
        n_examples,
        n_shot,
        dataset_version: format!("v{major}.{minor}"),
    }
}

fn n_correct(chance: f64, x: f64, n: u64) -> u64 {
    let p = chance + (1.0 - chance) * (0.5 + 0.5 * x / (1.0 + x.abs()));
    // floor of a non-negative double below 2^53 is exact as an integer.
    let correct = (p * n as f64).floor() as u64;
    correct.min(n)
}

fn run(seed: u64, m: usize, t: usize, model: &Model, task: &Task) -> Run {
    let mut rng = Rng::new(seed, 3, m as u64, t as u64);
    let e = 0.35 * rng.normal();
    let e_norm = 0.25 * rng.normal();
    let u_fp = rng.uniform();
    let u_fn = rng.uniform();
    let project = PROJECTS[rng.below(4) as usize];
    let harness_version = HARNESS_VERSIONS[rng.below(4) as usize];
    let jitter = rng.below(60_000) as i64;
    let duration = 30_000 + rng.below(3_570_000) as i64;

    let n = task.n_examples;
    let x = model.skill - task.difficulty + e;
    let correct = n_correct(task.chance, x, n);
    let correct_norm = n_correct(task.chance, x + 0.15 + e_norm, n);
    let acc = correct as f64 / n as f64;
    let acc_norm = correct_norm as f64 / n as f64;
    let wrong = (n - correct) as f64;
    let fp = (wrong * u_fp).floor();
    let fn_ = (wrong * u_fn).floor();
    let f1 = if correct > 0 {
        let twice = 2.0 * correct as f64;
        twice / (twice + fp + fn_)
    } else {
        0.0
    };
    let start_ms = T0_MS + m as i64 * DAY_MS + t as i64 * TASK_SLOT_MS + jitter;
    Run {
        m,
        t,
        model: model.name.clone(),
        task: task.name.clone(),
        dataset_version: task.dataset_version.clone(),
        n_shot: task.n_shot,
        harness_version,
        project,
        family: model.family,
        size_bucket: model.size_bucket,
        start_ms,
        end_ms: start_ms + duration,
        acc,
        acc_norm,
        acc_stderr: (acc * (1.0 - acc) / (n - 1) as f64).sqrt(),
        acc_norm_stderr: (acc_norm * (1.0 - acc_norm) / (n - 1) as f64).sqrt(),
        f1,
    }
}

/// Generates `models` × `tasks` runs from `seed`; `None` when a size is 0
/// or not below 2^24, which the stream keys cannot hold.
pub fn generate(seed: u64, models: usize, tasks: usize) -> Option<Workload> {
    let limit = 1 << 24;
    if models == 0 || tasks == 0 || models >= limit || tasks >= limit {
        return None;
    }
    let model_list: Vec<Model> = (0..models).map(|m| model(seed, m)).collect();
    let task_list: Vec<Task> = (0..tasks).map(|t| task(seed, t)).collect();
    let mut runs = Vec::with_capacity(models * tasks);
    for (m, model) in model_list.iter().enumerate() {
        for (t, task) in task_list.iter().enumerate() {
            runs.push(run(seed, m, t, model, task));
        }
    }
    Some(Workload {
        seed,
        models: model_list,
        tasks: task_list,
        runs,
    })
}

/// Writes a moment in milliseconds as RFC 3339 UTC, e.g.
/// `2025-01-01T00:00:37.107Z`; `null` outside chrono's range.
pub fn rfc3339_ms(ms: i64) -> Value {
    DateTime::from_timestamp_millis(ms)
        .map(|t| Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

/// The run as a `RecordRunInput` of the GraphQL API: the three tags become a
/// project and two `key:value` tags, `dataset_version` the task version, and
/// the five metric values three results (acc and acc_norm with their
/// stderr, f1 without one).
pub fn record_input(run: &Run) -> Value {
    json!({
        "model": run.model,
        "task": run.task,
        "taskVersion": run.dataset_version,
        "nShot": run.n_shot,
        "harness": "lm-evaluation-harness",
        "harnessVersion": run.harness_version,
        "projects": [run.project],
        "tags": [format!("family:{}", run.family), format!("size_bucket:{}", run.size_bucket)],
        "startedAt": rfc3339_ms(run.start_ms),
        "finishedAt": rfc3339_ms(run.end_ms),
        "results": [
            {"metric": "acc", "value": run.acc, "stderr": run.acc_stderr},
            {"metric": "acc_norm", "value": run.acc_norm, "stderr": run.acc_norm_stderr},
            {"metric": "f1", "value": run.f1},
        ],
    })
}

/// The run's checksum line, without its newline.
pub fn canonical_line(run: &Run) -> String {
    let mut line = [
        run.model.as_str(),
        &run.task,
        &run.dataset_version,
        &run.n_shot.to_string(),
        run.harness_version,
        run.project,
        run.family,
        run.size_bucket,
        &run.start_ms.to_string(),
        &run.end_ms.to_string(),
    ]
    .join("\t");
    for value in [
        run.acc,
        run.acc_norm,
        run.acc_stderr,
        run.acc_norm_stderr,
        run.f1,
    ] {
        let _ = write!(line, "\t{:016x}", value.to_bits());
    }
    line
}

impl Workload {
    /// SHA-256 of every run's checksum line, each ending in a newline.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for run in &self.runs {
            hasher.update(canonical_line(run).as_bytes());
            hasher.update(b"\n");
        }
        hex::encode(hasher.finalize())
    }

    /// Returns the published checksum for this seed and size, if there is one.
    pub fn published_sha256(&self) -> Option<&'static str> {
        let key = (self.seed, self.models.len(), self.tasks.len());
        PUBLISHED
            .iter()
            .find(|(published, _)| *published == key)
            .map(|(_, sha)| *sha)
    }

    /// Q2's window `[T0 + floor(M/4) days, T0 + floor(M/2) days)`, in ms.
    pub fn window_ms(&self) -> (i64, i64) {
        let m = self.models.len() as i64;
        (T0_MS + (m / 4) * DAY_MS, T0_MS + (m / 2) * DAY_MS)
    }

    /// The answers every query must return.
    pub fn answers(&self) -> Answers {
        let mut by_task: HashMap<&str, Vec<f64>> = HashMap::new();
        let mut by_model: HashMap<String, HashMap<String, f64>> = HashMap::new();
        for run in &self.runs {
            by_task.entry(&run.task).or_default().push(run.acc);
            by_model
                .entry(run.model.clone())
                .or_default()
                .insert(run.task.clone(), run.acc);
        }
        let top20 = by_task
            .into_iter()
            .map(|(task, mut values)| {
                values.sort_by(|a, b| b.total_cmp(a));
                values.truncate(20);
                (task.to_string(), values)
            })
            .collect();
        let (lo, hi) = self.window_ms();
        let q2_count = PROJECTS
            .iter()
            .map(|project| {
                let count = self
                    .runs
                    .iter()
                    .filter(|r| r.project == *project && lo <= r.start_ms && r.start_ms < hi)
                    .count();
                (project.to_string(), count)
            })
            .collect();
        let mean_acc = self
            .models
            .iter()
            .map(|model| {
                let accs = &by_model[&model.name];
                let mut sum = 0.0;
                for task in &self.tasks {
                    sum += accs[&task.name];
                }
                (model.name.clone(), sum / self.tasks.len() as f64)
            })
            .collect();
        Answers {
            top20,
            q2_count,
            acc_by_model: by_model,
            mean_acc,
        }
    }
}

/// What the four queries must answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    /// Per task, its 20 largest acc values, descending.
    pub top20: HashMap<String, Vec<f64>>,
    /// Per project, how many runs started inside the Q2 window.
    pub q2_count: HashMap<String, usize>,
    /// Per model, task → acc.
    pub acc_by_model: HashMap<String, HashMap<String, f64>>,
    /// Per model, the sum of its acc over tasks in task order, divided by T.
    pub mean_acc: HashMap<String, f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix64_gives_the_published_check_values() {
        assert_eq!(mix64(0x9E37_79B9_7F4A_7C15), 0xE220_A839_7B1D_CDAF);
        assert_eq!(mix64(42), 0xA759_EA27_D472_7622);
    }

    #[test]
    fn the_first_and_last_lines_match_the_published_ones() {
        let Some(workload) = generate(42, 200, 60) else {
            panic!("200 × 60 is a valid size");
        };
        let first = "llama-0.5b-0000\tarc_challenge\tv1.5\t10\t0.4.1\topen-llm-leaderboard\t\
                     llama\t<3b\t1735689637107\t1735692531475\t3fd7bcfdad5d678a\t\
                     3fd7f9ce4e6970d5\t3f773347b109bf0d\t3f773f49ff7b9c9d\t3fe4ffa854edb9b4";
        let last = "pythia-7b-0199\tcommonsense_qa_2\tv1.9\t25\t0.4.3\topen-llm-leaderboard\t\
                    pythia\t3-10b\t1752900941157\t1752903675455\t3fda37eeca37eeca\t\
                    3fda7cc5ea7cc5ea\t3f971b068f09c260\t3f9724161a12fad0\t3fe07153fbf3db93";
        assert_eq!(
            workload.runs.first().map(canonical_line).as_deref(),
            Some(first)
        );
        assert_eq!(
            workload.runs.last().map(canonical_line).as_deref(),
            Some(last)
        );
    }

    #[test]
    fn both_published_sizes_reproduce_their_checksums() {
        for ((seed, models, tasks), sha) in PUBLISHED {
            let workload = generate(seed, models, tasks);
            assert_eq!(workload.map(|w| w.sha256()).as_deref(), Some(sha));
        }
    }

    #[test]
    fn the_q2_window_holds_what_the_peer_reports() {
        let Some(workload) = generate(42, 200, 60) else {
            panic!("200 × 60 is a valid size");
        };
        let counts = workload.answers().q2_count;
        assert!(
            counts.values().all(|&n| (735..=764).contains(&n)),
            "{counts:?}"
        );
        assert_eq!(
            workload.window_ms(),
            (T0_MS + 50 * DAY_MS, T0_MS + 100 * DAY_MS)
        );
    }

    #[test]
    fn sizes_the_stream_keys_cannot_hold_are_refused() {
        assert!(generate(42, 0, 5).is_none());
        assert!(generate(42, 1 << 24, 1).is_none());
    }
}
