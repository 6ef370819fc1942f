//! Comparing two or more models on the tasks they share: each model's value,
//! and each model's difference from the first with whether it exceeds the
//! combined standard error, as a table and as a dot plot.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiError, Direction, Score};
use crate::chart::{DotChart, DotRow};
use crate::components::{Empty, Loading, error_fallback};
use crate::format::{self, Num};
use crate::url_state::{encode, leaderboard_href, model_href, split_list, task_href};

/// A comparison worth opening from the empty page.
const EXAMPLE: &str =
    "/compare?models=EleutherAI%2Fpythia-v1.1-160m%2CEleutherAI%2Fpythia-v1.1-410m";

/// How many rows the difference chart draws at most.
const CHART_LIMIT: usize = 40;

/// What makes two scores comparable: task, version, n-shot, filter, metric.
type ScoreKey = (String, Option<String>, Option<i64>, String, String);

/// Each model's value and stderr under one key, `None` where it has none.
type Column = (Direction, Vec<Option<(Num, Num)>>);

/// One shared task configuration and metric, with every model's score.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    key: ScoreKey,
    direction: Direction,
    scores: Vec<(Num, Num)>,
}

/// The difference of one model from the first on one row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Difference {
    delta: f64,
    /// √(se₁² + se₂²); `None` when either stderr is not a finite number.
    combined: Option<f64>,
}

impl Difference {
    fn of(first: (Num, Num), other: (Num, Num)) -> Option<Self> {
        let delta = other.0.finite()? - first.0.finite()?;
        let combined = first.1.finite().zip(other.1.finite());
        let combined = combined.map(|(a, b)| (a * a + b * b).sqrt());
        Some(Self { delta, combined })
    }

    /// True when |Δ| is larger than the combined stderr; `None` when unknown.
    fn exceeds(&self) -> Option<bool> {
        self.combined.map(|combined| self.delta.abs() > combined)
    }

    /// Returns Δ in combined stderrs, positive when the other model is
    /// better; `None` without a stderr above zero or a better direction.
    fn standardized(&self, direction: Direction) -> Option<f64> {
        let combined = self.combined.filter(|c| *c > 0.0)?;
        let sign = match direction {
            Direction::Higher => 1.0,
            Direction::Lower => -1.0,
            Direction::Ideal | Direction::Unknown => return None,
        };
        Some(sign * self.delta / combined)
    }
}

/// The dot plot's rows: each row's standardized differences from the first
/// model, in table order; rows with none are left out, and past
/// `CHART_LIMIT` only the rows with the largest differences are kept.
fn chart_rows(rows: &[Row]) -> Vec<DotRow> {
    let mut dots: Vec<(usize, f64, DotRow)> = rows
        .iter()
        .enumerate()
        .filter_map(|(index, row)| {
            let dot = dot_row(row)?;
            let largest = dot
                .values
                .iter()
                .flatten()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            Some((index, largest, dot))
        })
        .collect();
    dots.sort_by(|a, b| b.1.total_cmp(&a.1));
    dots.truncate(CHART_LIMIT);
    dots.sort_by_key(|(index, _, _)| *index);
    dots.into_iter().map(|(_, _, dot)| dot).collect()
}

fn dot_row(row: &Row) -> Option<DotRow> {
    let first = *row.scores.first()?;
    let values: Vec<Option<f64>> = row.scores[1..]
        .iter()
        .map(|other| Difference::of(first, *other)?.standardized(row.direction))
        .collect();
    let (task, _, n_shot, _, metric) = &row.key;
    let label = format!("{task} · {metric} ({})", format::n_shot(*n_shot));
    values
        .iter()
        .any(Option::is_some)
        .then_some(DotRow { label, values })
}

fn key_of(score: &Score) -> ScoreKey {
    let task = score.task.clone();
    let version = score.version.clone();
    (
        task,
        version,
        score.n_shot,
        score.filter.clone(),
        score.metric.clone(),
    )
}

/// Joins the models' scores on the keys all of them have.
fn shared_rows(models: &[(String, Vec<Score>)]) -> Vec<Row> {
    let mut table: BTreeMap<ScoreKey, Column> = BTreeMap::new();
    for (index, (_, scores)) in models.iter().enumerate() {
        for score in scores {
            let entry = table
                .entry(key_of(score))
                .or_insert_with(|| (score.direction, vec![None; models.len()]));
            if let Some(slot) = entry.1.get_mut(index) {
                *slot = Some((score.value, score.stderr));
            }
        }
    }
    table
        .into_iter()
        .filter_map(|(key, (direction, scores))| {
            let scores: Option<Vec<_>> = scores.into_iter().collect();
            Some(Row {
                key,
                direction,
                scores: scores?,
            })
        })
        .collect()
}

/// The comparison page, at `/compare?models=a,b`.
#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let names = Memo::new(move |_| split_list(&query.read().get("models").unwrap_or_default()));
    let data = LocalResource::new(move || {
        let names = names.get();
        async move {
            let mut models = Vec::new();
            for name in names {
                match api::model_scores(name.clone()).await? {
                    Some(model) => models.push(model),
                    None => return Err(not_found(&name)),
                }
            }
            Ok::<_, ApiError>(models)
        }
    });
    let navigate = use_navigate();
    let on_change = move |ev: leptos::ev::Event| {
        let list = split_list(&event_target_value(&ev)).join(",");
        navigate(
            &format!("/compare?models={}", encode(&list)),
            Default::default(),
        );
    };
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Compare models"</h1>
                <p class="lede">"Two or more models side by side on the tasks they share. "
                    "Differences are taken from the first model."</p>
            </header>
            <form class="controls inline" on:submit=|ev| ev.prevent_default()>
                <div class="field wide">
                    <label for="compare-models">"Models, separated by commas"</label>
                    <input id="compare-models" type="text"
                        placeholder="e.g. EleutherAI/pythia-v1.1-160m, EleutherAI/pythia-v1.1-410m"
                        prop:value=move || names.get().join(", ") on:change=on_change />
                </div>
            </form>
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        data.await.map(|models| view! { <Comparison models /> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError {
        message: format!("model `{name}` was not found"),
        code: "model_not_found".into(),
        field: None,
        line: None,
    }
}

#[component]
fn Comparison(models: Vec<(String, Vec<Score>)>) -> impl IntoView {
    if models.len() < 2 {
        return view! {
            <Empty title="Name two or more models">
                <p>"Type model names above, separated by commas; for example "
                    <a href=EXAMPLE>"two Pythia sizes"</a>"."</p>
            </Empty>
        }
        .into_any();
    }
    let rows = shared_rows(&models);
    if rows.is_empty() {
        return view! {
            <Empty title="No shared tasks">
                <p>"These models have no task, configuration and metric in common."</p>
            </Empty>
        }
        .into_any();
    }
    let names: Vec<String> = models.iter().map(|(name, _)| name.clone()).collect();
    let heads = names
        .iter()
        .map(|n| {
            view! { <th scope="col" class="num name"><a href=model_href(n)>{n.clone()}</a></th> }
        })
        .collect_view();
    let diff_heads = names
        .iter()
        .skip(1)
        .map(|n| view! { <th scope="col" class="num name">{format!("Δ {n}")}</th> })
        .collect_view();
    let count = rows.len();
    let dots = chart_rows(&rows);
    let chart = (!dots.is_empty()).then(|| {
        let shown = if dots.len() < count {
            format!(" ({} of {count} rows, the largest differences)", dots.len())
        } else {
            String::new()
        };
        let title = format!(
            "Differences from {}, in combined standard errors{shown}",
            names[0]
        );
        view! {
            <div class="chart-box">
                <DotChart title axis_label="Δ ÷ √(se₁² + se₂²); right is better, \
                    outside the band exceeds the combined stderr"
                    series=names[1..].to_vec() rows=dots band=1.0 />
            </div>
        }
    });
    let body = rows.into_iter().map(row_view).collect_view();
    view! {
        <p class="muted">{format!("{count} shared task configurations and metrics. \
            Δ is marked ✓ when it exceeds √(se₁² + se₂²).")}</p>
        {chart}
        <div class="table-wrap">
            <table class="data compare" aria-label="Comparison">
                <thead><tr>
                    <th scope="col">"Task · metric"</th>{heads}{diff_heads}
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn row_view(row: Row) -> impl IntoView {
    let (task, version, n_shot, filter, metric) = row.key.clone();
    let values = row
        .scores
        .iter()
        .map(
            |(value, stderr)| view! { <td class="num">{format::with_stderr(*value, *stderr)}</td> },
        )
        .collect_view();
    let first = row.scores.first().copied();
    let diffs = row
        .scores
        .iter()
        .skip(1)
        .map(|other| {
            let difference = first.and_then(|first| Difference::of(first, *other));
            let Some(difference) = difference else {
                return view! { <td class="num muted">"—"</td> }.into_any();
            };
            let better = match row.direction {
                Direction::Higher => difference.delta > 0.0,
                Direction::Lower => difference.delta < 0.0,
                _ => false,
            };
            let (mark, title) = match difference.exceeds() {
                Some(true) => ("✓", "exceeds the combined stderr"),
                Some(false) => ("", "within the combined stderr"),
                None => ("?", "no stderr to judge by"),
            };
            view! {
                <td class="num" class:better=better class:significant=mark == "✓" title=title>
                    {format::signed(difference.delta)}" "{mark}
                </td>
            }
            .into_any()
        })
        .collect_view();
    let config = format!(
        "{} · {} · {filter}",
        format::version(version.as_deref()),
        format::n_shot(n_shot)
    );
    view! {
        <tr>
            <th scope="row" class="key">
                <a href=task_href(&task)>{task.clone()}</a>" · "
                <a href=leaderboard_href(&task, &metric)>{metric.clone()}" "
                    {row.direction.arrow()}</a>
                <div class="config">{config}</div>
            </th>
            {values}
            {diffs}
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Kind;

    fn score(task: &str, value: f64, stderr: f64) -> Score {
        Score {
            task: task.into(),
            version: None,
            n_shot: Some(0),
            revision: None,
            run_id: "r".into(),
            metric: "acc".into(),
            direction: Direction::Higher,
            filter: "none".into(),
            value: Num::new(Some(value), Kind::Finite),
            stderr: Num::new(Some(stderr), Kind::Finite),
        }
    }

    #[test]
    fn only_tasks_every_model_has_are_compared() {
        let models = vec![
            (
                "a".to_string(),
                vec![score("arc", 0.5, 0.01), score("piqa", 0.6, 0.01)],
            ),
            ("b".to_string(), vec![score("arc", 0.55, 0.01)]),
        ];
        let rows = shared_rows(&models);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].key.0, "arc");
    }

    #[test]
    fn a_difference_counts_only_beyond_the_combined_stderr() {
        let first = (
            Num::new(Some(0.50), Kind::Finite),
            Num::new(Some(0.03), Kind::Finite),
        );
        let near = (
            Num::new(Some(0.54), Kind::Finite),
            Num::new(Some(0.04), Kind::Finite),
        );
        let far = (
            Num::new(Some(0.60), Kind::Finite),
            Num::new(Some(0.04), Kind::Finite),
        );
        let nan = (Num::new(None, Kind::Nan), Num::new(None, Kind::Missing));
        assert_eq!(
            Difference::of(first, near).and_then(|d| d.exceeds()),
            Some(false)
        );
        assert_eq!(
            Difference::of(first, far).and_then(|d| d.exceeds()),
            Some(true)
        );
        assert_eq!(Difference::of(first, nan), None);
    }

    #[test]
    fn standardized_differences_point_towards_the_better_model() {
        let difference = Difference {
            delta: -0.2,
            combined: Some(0.1),
        };
        assert_eq!(difference.standardized(Direction::Higher), Some(-2.0));
        assert_eq!(difference.standardized(Direction::Lower), Some(2.0));
        assert_eq!(difference.standardized(Direction::Unknown), None);
        let no_stderr = Difference {
            delta: 0.1,
            combined: Some(0.0),
        };
        assert_eq!(no_stderr.standardized(Direction::Higher), None);
    }
}
