//! A model's page: its aliases and tags, its scores across tasks (table and
//! chart) and, for models with checkpoints, a metric over training steps.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::{self, Score, model_page::ModelPageModel};
use crate::chart::{Bar, BarChart, LineChart, Point, Series};
use crate::components::{Empty, Fact, Loading, error_fallback};
use crate::format;
use crate::url_state::{decode, encode, leaderboard_href, run_href, task_href};

/// How many bars the score chart draws at most.
const CHART_LIMIT: usize = 30;

/// A series of one task × metric × filter × n-shot over checkpoints.
#[derive(Debug, Clone, PartialEq)]
struct Curve {
    label: String,
    points: Vec<Point>,
}

/// Groups checkpoint scores into curves over training steps; a curve needs at
/// least two checkpoints with a step to be drawn.
fn curves(scores: &[Score], steps: &BTreeMap<String, i64>) -> Vec<Curve> {
    let mut groups: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    for score in scores {
        let step = score.revision.as_ref().and_then(|r| steps.get(r));
        let (Some(step), Some(value)) = (step, score.value.finite()) else {
            continue;
        };
        let label = format!(
            "{} · {} ({}, {}, filter {})",
            score.task,
            score.metric,
            format::version(score.version.as_deref()),
            format::n_shot(score.n_shot),
            score.filter
        );
        groups.entry(label).or_default().push(Point {
            x: *step as f64,
            y: value,
            stderr: score.stderr.finite(),
        });
    }
    groups
        .into_iter()
        .filter(|(_, points)| points.len() >= 2)
        .map(|(label, mut points)| {
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            Curve { label, points }
        })
        .collect()
}

/// The metrics a model has scores on, most scores first.
fn metric_counts(scores: &[Score]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for score in scores {
        *counts.entry(&score.metric).or_default() += 1;
    }
    let mut counts: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(m, c)| (m.to_string(), c))
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

/// The model page, at `/models/<name>`.
#[component]
pub fn ModelPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| decode(&params.read().get("name").unwrap_or_default()));
    let model = LocalResource::new(move || api::model_page(name.get()));
    view! {
        <section class="page">
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        model.await.map(|model| match model {
                            Some(model) => view! { <Profile model /> }.into_any(),
                            None => view! {
                                <Empty title="Model not found">
                                    <p>"No model is known as "<code>{name.get()}</code>". See the "
                                        <a href="/models">"model list"</a>"."</p>
                                </Empty>
                            }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn Profile(model: ModelPageModel) -> impl IntoView {
    let scores = api::model_scores_of(&model, false);
    let checkpoints = api::model_scores_of(&model, true);
    let steps: BTreeMap<String, i64> = model
        .revisions
        .iter()
        .filter_map(|r| Some((r.name.clone(), r.step?)))
        .collect();
    let aliases = model
        .aliases
        .iter()
        .filter(|a| **a != model.name)
        .cloned()
        .collect::<Vec<_>>();
    let tags = model.tags.join(", ");
    let revisions = model.revisions.len();
    let runs_href = format!("/runs?model={}", encode(&model.name));
    let compare_href = format!("/compare?models={}", encode(&model.name));
    let local = model.is_local_path.then(|| {
        view! {
            <p class="notice warn">"Known only by a local path's last folder name; ingest with "
                <code>"--model"</code>" to give it a proper name."</p>
        }
    });
    let tasks = scores
        .iter()
        .map(|s| s.task.as_str())
        .collect::<std::collections::BTreeSet<_>>();
    let (task_count, score_count) = (tasks.len(), scores.len());
    view! {
        <header class="page-head">
            <span class="eyebrow">"Model"</span>
            <h1 data-test="model-name">{model.name.clone()}</h1>
            <dl class="facts">
                <Fact term="Tasks">{task_count}</Fact>
                <Fact term="Scores">{score_count}</Fact>
                <Fact term="Revisions">{revisions}</Fact>
                <Fact term="Also known as">
                    {if aliases.is_empty() { "—".to_string() } else { aliases.join(", ") }}
                </Fact>
                <Fact term="Tags">{if tags.is_empty() { "—".to_string() } else { tags }}</Fact>
            </dl>
            <p class="actions">
                <a class="button" href=runs_href>"All runs of this model"</a>
                <a class="button" href=compare_href>"Compare with other models"</a>
            </p>
            {local}
        </header>
        <Checkpoints checkpoints steps />
        <Scores scores />
    }
}

#[component]
fn Checkpoints(checkpoints: Vec<Score>, steps: BTreeMap<String, i64>) -> impl IntoView {
    let curves = curves(&checkpoints, &steps);
    if curves.is_empty() {
        return ().into_any();
    }
    let default = curves
        .iter()
        .position(|c| c.label.starts_with("lambada_openai · acc "))
        .unwrap_or(0);
    let chosen = RwSignal::new(default);
    let options = curves
        .iter()
        .enumerate()
        .map(|(index, c)| {
            view! {
                <option value=index.to_string() selected=index == default>{c.label.clone()}</option>
            }
        })
        .collect_view();
    let count = curves.len();
    let chart = move || {
        let curve = curves.get(chosen.get()).cloned();
        curve.map(|curve| {
            let y_label = curve
                .label
                .split(" (")
                .next()
                .unwrap_or_default()
                .to_string();
            let series = vec![Series {
                label: curve.label.clone(),
                points: curve.points,
            }];
            view! {
                <LineChart title=format!("Over training checkpoints: {}", curve.label)
                    x_label="training step (log scale)" y_label series />
            }
        })
    };
    view! {
        <section class="panel" aria-labelledby="checkpoints-title">
            <h2 id="checkpoints-title">"Checkpoints"</h2>
            <div class="field">
                <label for="curve">
                    {format!("Task and metric ({count} with two or more checkpoints)")}
                </label>
                <select id="curve" on:change=move |ev| {
                    if let Ok(index) = event_target_value(&ev).parse() {
                        chosen.set(index);
                    }
                }>{options}</select>
            </div>
            {chart}
        </section>
    }
    .into_any()
}

#[component]
fn Scores(scores: Vec<Score>) -> impl IntoView {
    if scores.is_empty() {
        return view! {
            <Empty title="No scores yet"><p>"This model has no stored results."</p></Empty>
        }
        .into_any();
    }
    let metrics = metric_counts(&scores);
    let first_metric = metrics.first().map(|(m, _)| m.clone()).unwrap_or_default();
    let metric = RwSignal::new(first_metric);
    let search = RwSignal::new(String::new());
    let scores = StoredValue::new(scores);
    let shown = Memo::new(move |_| {
        let needle = search.get().to_lowercase();
        scores.with_value(|all| {
            all.iter()
                .filter(|s| needle.is_empty() || s.task.to_lowercase().contains(&needle))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let chart = move || {
        let metric = metric.get();
        let mut chosen: Vec<Score> = shown
            .get()
            .into_iter()
            .filter(|s| s.metric == metric)
            .collect();
        chosen.sort_by(|a, b| {
            b.value
                .finite()
                .unwrap_or(f64::MIN)
                .total_cmp(&a.value.finite().unwrap_or(f64::MIN))
        });
        let total = chosen.len();
        let bars: Vec<Bar> = chosen
            .iter()
            .take(CHART_LIMIT)
            .map(|s| Bar {
                label: format!("{} ({})", s.task, format::n_shot(s.n_shot)),
                value: s.value.finite(),
                stderr: s.stderr.finite(),
                note: format::num(s.value),
            })
            .collect();
        let title = if total > CHART_LIMIT {
            format!("{metric} across tasks — first {CHART_LIMIT} of {total}, best first")
        } else {
            format!("{metric} across {total} task configurations, best first")
        };
        view! { <BarChart title axis_label=metric.clone() bars /> }
    };
    let metric_options = metrics
        .into_iter()
        .map(|(m, count)| view! { <option value=m.clone()>{format!("{m} ({count})")}</option> })
        .collect_view();
    let rows = move || {
        shown
            .get()
            .into_iter()
            .map(|s| {
                view! {
                    <tr>
                        <td><a href=task_href(&s.task)>{s.task.clone()}</a></td>
                        <td>{format::version(s.version.as_deref())}</td>
                        <td>{format::n_shot(s.n_shot)}</td>
                        <td><a href=leaderboard_href(&s.task, &s.metric)
                            title="Open this task × metric leaderboard">
                            {s.metric.clone()}" "{s.direction.arrow()}</a></td>
                        <td>{s.filter.clone()}</td>
                        <td class="num">{format::with_stderr(s.value, s.stderr)}</td>
                        <td><a class="mono" href=run_href(&s.run_id)>
                            {s.run_id.chars().take(8).collect::<String>()}</a></td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel" aria-labelledby="scores-title">
            <h2 id="scores-title">"Scores across tasks"</h2>
            <div class="controls inline">
                <div class="field">
                    <label for="score-search">"Task contains"</label>
                    <input id="score-search" type="search" placeholder="e.g. mmlu"
                        on:input=move |ev| search.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="chart-metric">"Chart metric"</label>
                    <select id="chart-metric"
                        on:change=move |ev| metric.set(event_target_value(&ev))>
                        {metric_options}
                    </select>
                </div>
            </div>
            <div class="chart-box">{chart}</div>
            <div class="table-wrap">
                <table class="data" aria-label="Scores across tasks">
                    <thead><tr>
                        <th scope="col">"Task"</th><th scope="col">"Version"</th>
                        <th scope="col">"N-shot"</th><th scope="col">"Metric"</th>
                        <th scope="col">"Filter"</th>
                        <th scope="col" class="num">"Value ± stderr"</th>
                        <th scope="col">"Run"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Direction;
    use crate::format::{Kind, Num};

    fn score(revision: &str, value: f64) -> Score {
        Score {
            task: "lambada_openai".into(),
            version: Some("0".into()),
            n_shot: Some(0),
            revision: Some(revision.into()),
            run_id: "r".into(),
            metric: "acc".into(),
            direction: Direction::Higher,
            filter: "none".into(),
            value: Num::new(Some(value), Kind::Finite),
            stderr: Num::new(None, Kind::Missing),
        }
    }

    #[test]
    fn checkpoint_curves_follow_training_steps() {
        let steps = BTreeMap::from([
            ("step1000".to_string(), 1000),
            ("step3000".to_string(), 3000),
        ]);
        let scores = vec![
            score("step3000", 0.4),
            score("step1000", 0.2),
            score("main", 0.5),
        ];
        let curves = curves(&scores, &steps);
        assert_eq!(curves.len(), 1);
        let xs: Vec<f64> = curves[0].points.iter().map(|p| p.x).collect();
        assert_eq!(xs, vec![1000.0, 3000.0]);
        assert!(curves[0].label.starts_with("lambada_openai · acc "));
    }

    #[test]
    fn a_single_checkpoint_draws_no_curve() {
        let steps = BTreeMap::from([("step1000".to_string(), 1000)]);
        assert!(curves(&[score("step1000", 0.2)], &steps).is_empty());
    }
}
