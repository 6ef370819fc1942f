//! Data quality: rules that judge what was stored, reported per run and per
//! source file. Nothing here changes data; findings are computed on demand.
//!
//! The rules: a value outside its metric's known range; a NaN or infinite
//! value; a missing stderr; a samples log that holds a different number of
//! samples than the results claim; the same item twice in one run's samples;
//! one model and task under an identical configuration with different
//! results; and a run whose results are bit-identical to another model's run
//! (a likely copy error).

use std::collections::{BTreeMap, HashMap, HashSet};

use entity::{metric, run, run_result, sample};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::error::{ServiceError, ServiceResult};
use crate::service::catalog;

/// A quality rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    OutOfRange,
    NonFinite,
    NegativeStderr,
    MissingStderr,
    IncompleteSamples,
    DuplicateSamples,
    ConflictingResults,
    CopiedResults,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 8] = [
        Rule::OutOfRange,
        Rule::NonFinite,
        Rule::NegativeStderr,
        Rule::MissingStderr,
        Rule::IncompleteSamples,
        Rule::DuplicateSamples,
        Rule::ConflictingResults,
        Rule::CopiedResults,
    ];

    /// The rule's stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::OutOfRange => "out_of_range",
            Self::NonFinite => "non_finite",
            Self::NegativeStderr => "negative_stderr",
            Self::MissingStderr => "missing_stderr",
            Self::IncompleteSamples => "incomplete_samples",
            Self::DuplicateSamples => "duplicate_samples",
            Self::ConflictingResults => "conflicting_results",
            Self::CopiedResults => "copied_results",
        }
    }
}

/// One thing a rule found about one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: Rule,
    pub run_id: Uuid,
    pub source_path: String,
    /// One sentence naming the metric, values or other run involved.
    pub detail: String,
}

/// A run's results keyed by (metric, filter), for comparing runs.
type Fingerprint = BTreeMap<(i64, String), (String, Option<u64>, String, Option<u64>)>;

fn fingerprint(results: &[&run_result::Model]) -> Fingerprint {
    results
        .iter()
        .map(|r| {
            (
                (r.metric_id, r.filter.clone()),
                (
                    r.value_kind.clone(),
                    r.value.map(f64::to_bits),
                    r.stderr_kind.clone(),
                    r.stderr.map(f64::to_bits),
                ),
            )
        })
        .collect()
}

/// Checks every run, or only `run_id` (compared with the runs of its task).
pub async fn check<C: ConnectionTrait>(
    db: &C,
    run_id: Option<Uuid>,
) -> ServiceResult<Vec<Finding>> {
    let mut runs_query = run::Entity::find();
    if let Some(id) = run_id {
        let Some(target) = run::Entity::find_by_id(id).one(db).await? else {
            return Err(ServiceError::not_found("run", id.to_string()));
        };
        runs_query = runs_query.filter(run::Column::TaskId.eq(target.task_id));
    }
    let runs = runs_query.all(db).await?;
    let task_ids: Vec<i64> = runs.iter().map(|r| r.task_id).collect();
    let mut results_query = run_result::Entity::find().inner_join(run::Entity);
    if run_id.is_some() {
        results_query = results_query.filter(run::Column::TaskId.is_in(task_ids));
    }
    let results = results_query.all(db).await?;
    let metrics = catalog::metrics_by_id(db).await?;
    let mut by_run: HashMap<Uuid, Vec<&run_result::Model>> = HashMap::new();
    for result in &results {
        by_run.entry(result.run_id).or_default().push(result);
    }

    let with_stderr = stderr_reported(&runs, &results);
    let mut findings = Vec::new();
    for run in &runs {
        let rows = by_run.get(&run.id).map(Vec::as_slice).unwrap_or_default();
        let context = ValueContext {
            metrics: &metrics,
            with_stderr: &with_stderr,
        };
        value_findings(run, rows, &context, &mut findings);
    }
    same_config_findings(&runs, &by_run, &mut findings);
    copy_findings(&runs, &by_run, &mut findings);
    sample_findings(db, &runs, &mut findings).await?;
    if let Some(id) = run_id {
        findings.retain(|finding| finding.run_id == id);
    }
    findings.sort_by(|a, b| {
        (a.rule, &a.source_path, &a.detail).cmp(&(b.rule, &b.source_path, &b.detail))
    });
    Ok(findings)
}

fn metric_label(metrics: &HashMap<i64, metric::Model>, result: &run_result::Model) -> String {
    let name = metrics
        .get(&result.metric_id)
        .map_or("?", |m| m.name.as_str());
    format!("{name},{}", result.filter)
}

/// The (task, metric) pairs some run reports a finite stderr for.
///
/// A missing stderr is only a finding where comparable runs have one: MTEB
/// and most leaderboard tables never report any, and flagging every one of
/// their values would bury the runs that really lost theirs.
fn stderr_reported(runs: &[run::Model], results: &[run_result::Model]) -> HashSet<(i64, i64)> {
    let task_of: HashMap<Uuid, i64> = runs.iter().map(|run| (run.id, run.task_id)).collect();
    results
        .iter()
        .filter(|result| result.stderr_kind == "finite")
        .filter_map(|result| Some((*task_of.get(&result.run_id)?, result.metric_id)))
        .collect()
}

/// What the per-value rules compare a run's values with.
struct ValueContext<'a> {
    metrics: &'a HashMap<i64, metric::Model>,
    with_stderr: &'a HashSet<(i64, i64)>,
}

fn value_findings(
    run: &run::Model,
    rows: &[&run_result::Model],
    context: &ValueContext<'_>,
    findings: &mut Vec<Finding>,
) {
    let metrics = context.metrics;
    let mut push = |rule, detail: String| {
        findings.push(Finding {
            rule,
            run_id: run.id,
            source_path: run.source_path.clone(),
            detail,
        });
    };
    for result in rows {
        let label = metric_label(metrics, result);
        if let ("finite", Some(value)) = (result.value_kind.as_str(), result.value)
            && let Some(metric) = metrics.get(&result.metric_id)
            && (metric.range_min.is_some_and(|min| value < min)
                || metric.range_max.is_some_and(|max| value > max))
        {
            push(
                Rule::OutOfRange,
                format!(
                    "`{label}` is {value}, outside [{}, {}]",
                    metric.range_min.map_or("-∞".into(), |v| v.to_string()),
                    metric.range_max.map_or("∞".into(), |v| v.to_string())
                ),
            );
        }
        for (what, kind) in [
            ("value", &result.value_kind),
            ("stderr", &result.stderr_kind),
        ] {
            if NON_FINITE.contains(&kind.as_str()) {
                let kind = kind.replace('_', " ");
                push(
                    Rule::NonFinite,
                    format!("the {what} of `{label}` is {kind}"),
                );
            }
        }
        if let ("finite", Some(stderr)) = (result.stderr_kind.as_str(), result.stderr)
            && stderr < 0.0
        {
            push(
                Rule::NegativeStderr,
                format!("the stderr of `{label}` is {stderr}, below 0"),
            );
        }
        if result.value_kind == "finite"
            && result.stderr_kind == "missing"
            && context
                .with_stderr
                .contains(&(run.task_id, result.metric_id))
        {
            push(
                Rule::MissingStderr,
                format!("`{label}` has no stderr, though other runs of this task report one"),
            );
        }
    }
}

/// Stored kinds of numbers that are not finite.
const NON_FINITE: [&str; 3] = ["nan", "positive_infinity", "negative_infinity"];

/// Model, task, n-shot, configuration hash and revision: what must match for
/// two runs to be expected to agree.
type ConfigKey<'a> = (i64, i64, Option<i32>, &'a str, Option<&'a str>);

/// A source file's runs, each as its task and fingerprint, in task order.
type FilePrint = Vec<(i64, Fingerprint)>;

fn same_config_findings(
    runs: &[run::Model],
    by_run: &HashMap<Uuid, Vec<&run_result::Model>>,
    findings: &mut Vec<Finding>,
) {
    let mut groups: HashMap<ConfigKey<'_>, Vec<&run::Model>> = HashMap::new();
    for run in runs {
        let key = (
            run.model_id,
            run.task_id,
            run.n_shot,
            run.config_hash.as_str(),
            run.revision.as_deref(),
        );
        groups.entry(key).or_default().push(run);
    }
    for group in groups.values().filter(|g| g.len() > 1) {
        let prints: Vec<Fingerprint> = group
            .iter()
            .map(|run| fingerprint(by_run.get(&run.id).map(Vec::as_slice).unwrap_or_default()))
            .collect();
        for (index, run) in group.iter().enumerate() {
            let differing: Vec<String> = group
                .iter()
                .zip(&prints)
                .filter(|(other, print)| other.id != run.id && **print != prints[index])
                .map(|(other, _)| other.source_path.clone())
                .collect();
            if let Some(first) = differing.first() {
                findings.push(Finding {
                    rule: Rule::ConflictingResults,
                    run_id: run.id,
                    source_path: run.source_path.clone(),
                    detail: format!(
                        "same model, task and configuration as {first} \
                         ({} run(s) in all), with different results",
                        differing.len()
                    ),
                });
            }
        }
    }
}

/// Finite numbers a file must hold before identical results mean a copy:
/// on a task where every model answers alike (a majority-class guess) two
/// models' acc and stderr coincide honestly, so one task is never enough.
const COPY_MIN_NUMBERS: usize = 8;

fn copy_findings(
    runs: &[run::Model],
    by_run: &HashMap<Uuid, Vec<&run_result::Model>>,
    findings: &mut Vec<Finding>,
) {
    // Compared per source file: a copy error copies a whole file.
    let mut files: BTreeMap<&str, (i64, Vec<&run::Model>)> = BTreeMap::new();
    for run in runs {
        let entry = files
            .entry(run.source_path.as_str())
            .or_insert((run.model_id, Vec::new()));
        entry.1.push(run);
    }
    let mut by_print: HashMap<FilePrint, Vec<(&str, i64)>> = HashMap::new();
    for (path, (model_id, file_runs)) in &files {
        let mut numbers = 0;
        let mut print: FilePrint = file_runs
            .iter()
            .map(|run| {
                let rows = by_run.get(&run.id).map(Vec::as_slice).unwrap_or_default();
                numbers += rows
                    .iter()
                    .map(|r| usize::from(r.value.is_some()) + usize::from(r.stderr.is_some()))
                    .sum::<usize>();
                (run.task_id, fingerprint(rows))
            })
            .collect();
        if numbers < COPY_MIN_NUMBERS {
            continue;
        }
        print.sort();
        by_print.entry(print).or_default().push((path, *model_id));
    }
    for group in by_print.values() {
        for (path, model_id) in group {
            let Some((other, _)) = group.iter().find(|(_, other)| other != model_id) else {
                continue;
            };
            for run in files
                .get(path)
                .map(|(_, runs)| runs.as_slice())
                .unwrap_or_default()
            {
                findings.push(Finding {
                    rule: Rule::CopiedResults,
                    run_id: run.id,
                    source_path: run.source_path.clone(),
                    detail: format!(
                        "every result of the file is bit-identical to another model's \
                         file ({other})"
                    ),
                });
            }
        }
    }
}

async fn sample_findings<C: ConnectionTrait>(
    db: &C,
    runs: &[run::Model],
    findings: &mut Vec<Finding>,
) -> ServiceResult<()> {
    let counts: Vec<(Uuid, i64)> = sample::Entity::find()
        .select_only()
        .column(sample::Column::RunId)
        .column_as(
            Expr::expr(Func::count(Expr::col(sample::Column::SampleNo))),
            "samples",
        )
        .group_by(sample::Column::RunId)
        .into_tuple()
        .all(db)
        .await?;
    let duplicates: Vec<(Uuid, i64)> = sample::Entity::find()
        .select_only()
        .column(sample::Column::RunId)
        .column_as(
            Expr::expr(Func::count(Expr::col(sample::Column::SampleNo))),
            "samples",
        )
        .filter(sample::Column::ItemSha256.is_not_null())
        .group_by(sample::Column::RunId)
        .group_by(sample::Column::ItemSha256)
        .group_by(sample::Column::Filter)
        .group_by(sample::Column::Epoch)
        .having(Expr::expr(Func::count(Expr::col(sample::Column::SampleNo))).gt(1))
        .into_tuple()
        .all(db)
        .await?;
    let by_id: HashMap<Uuid, &run::Model> = runs.iter().map(|r| (r.id, r)).collect();
    for (run_id, stored) in counts {
        let Some(run) = by_id.get(&run_id) else {
            continue;
        };
        if let Some(claimed) = run.samples_effective.filter(|claimed| *claimed != stored) {
            findings.push(Finding {
                rule: Rule::IncompleteSamples,
                run_id,
                source_path: run.source_path.clone(),
                detail: format!("{stored} samples stored, the results claim {claimed}"),
            });
        }
    }
    let mut repeated: HashMap<Uuid, i64> = HashMap::new();
    for (run_id, copies) in duplicates {
        *repeated.entry(run_id).or_default() += copies - 1;
    }
    for (run_id, extra) in repeated {
        let Some(run) = by_id.get(&run_id) else {
            continue;
        };
        findings.push(Finding {
            rule: Rule::DuplicateSamples,
            run_id,
            source_path: run.source_path.clone(),
            detail: format!("{extra} sample(s) repeat an item already in the run"),
        });
    }
    Ok(())
}

/// Counts findings per rule, every rule listed.
pub fn counts(findings: &[Finding]) -> Vec<(Rule, usize)> {
    Rule::ALL
        .iter()
        .map(|rule| (*rule, findings.iter().filter(|f| f.rule == *rule).count()))
        .collect()
}
