//! The leaderboard page: models ranked on one task × metric × configuration,
//! as a sortable table and a bar chart, with every choice kept in the URL.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, Direction, leaderboard as op};
use crate::chart::{Bar, BarChart};
use crate::components::{Empty, Loading, SortHeader, error_fallback};
use crate::format::{self, Kind, Num};
use crate::sort::{Key, Order, SortBy, sort_rows};
use crate::url_state::{LeaderboardState, day_start, leaderboard_href, model_href, run_href};

/// How many bars the chart draws at most; the table lists every entry.
const CHART_LIMIT: usize = 40;

/// A configuration the board can be shown under.
#[derive(Debug, Clone, PartialEq)]
struct Choice {
    version: Option<String>,
    n_shot: Option<i64>,
    filter: String,
    models: i64,
    runs: i64,
}

impl Choice {
    fn label(&self) -> String {
        format!(
            "{} · {} · filter {}",
            format::version(self.version.as_deref()),
            format::n_shot(self.n_shot),
            self.filter
        )
    }

    fn key(&self) -> String {
        let n_shot = self.n_shot.map(|n| n.to_string()).unwrap_or_default();
        let version = self.version.clone().unwrap_or_default();
        format!("{version}|{n_shot}|{}", self.filter)
    }
}

/// One row of the table, flattened from the API's entry.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    rank: Option<i64>,
    model: String,
    revision: Option<String>,
    value: Num,
    stderr: Num,
    run_id: String,
    date: String,
    /// False when the source records no date and `date` is when the run was
    /// stored.
    dated: bool,
    /// Set when the value lies outside the metric's possible range.
    outside: Option<String>,
}

/// Says how a value breaks the metric's range (`outside [0, 1]`); `None`
/// when it is within it, not finite, or the range is unknown.
fn outside_range(value: Option<f64>, min: Option<f64>, max: Option<f64>) -> Option<String> {
    let value = value.filter(|v| v.is_finite())?;
    let below = min.is_some_and(|min| value < min);
    let above = max.is_some_and(|max| value > max);
    let bound = |b: Option<f64>, none: &str| b.map_or(none.to_string(), |b| b.to_string());
    (below || above).then(|| format!("outside [{}, {}]", bound(min, "−∞"), bound(max, "∞")))
}

fn rows_of(board: &op::LeaderboardLeaderboard) -> Vec<Row> {
    let (min, max) = (board.metric.range_min, board.metric.range_max);
    let rows = board.entries.iter().map(|entry| {
        let value = Num::new(entry.value, Kind::from(&entry.value_kind));
        Row {
            rank: entry.rank,
            model: entry.model.name.clone(),
            revision: entry.revision.clone(),
            stderr: Num::new(entry.stderr, Kind::from(&entry.stderr_kind)),
            run_id: entry.run.id.clone(),
            date: entry.run.effective_at.clone(),
            dated: entry.run.started_at.is_some(),
            outside: outside_range(value.finite(), min, max),
            value,
        }
    });
    rows.collect()
}

/// Keeps rows whose model name contains `needle`, ignoring case.
fn keep_model(rows: Vec<Row>, needle: Option<&str>) -> Vec<Row> {
    let Some(needle) = needle.map(str::to_lowercase) else {
        return rows;
    };
    rows.into_iter()
        .filter(|row| row.model.to_lowercase().contains(&needle))
        .collect()
}

/// The value column's natural order: best first.
fn value_order(direction: Direction) -> Order {
    match direction {
        Direction::Lower => Order::Ascending,
        _ => Order::Descending,
    }
}

fn sorted(mut rows: Vec<Row>, sort: Option<&SortBy>) -> Vec<Row> {
    let Some(sort) = sort else {
        return rows;
    };
    let key = |row: &Row| match sort.column.as_str() {
        "model" => Key::Text(row.model.clone()),
        "value" => Key::Number(row.value.finite()),
        "stderr" => Key::Number(row.stderr.finite()),
        "date" => Key::Text(row.date.clone()),
        _ => Key::Number(row.rank.map(|r| r as f64)),
    };
    sort_rows(&mut rows, sort.order, key);
    rows
}

fn variables(state: &LeaderboardState) -> op::Variables {
    op::Variables {
        task: state.task.clone(),
        metric: state.metric.clone(),
        n_shot: state.n_shot,
        task_version: state.version.clone(),
        filter: state.filter.clone(),
        all_revisions: state.all_revisions,
        where_: Some(op::LeaderboardWhere {
            model: None,
            tag: state.tag.clone(),
            project: state.project.clone(),
            from: state.from.as_deref().and_then(day_start),
            to: state.to.as_deref().and_then(day_start),
        }),
    }
}

/// The leaderboard page.
#[component]
pub fn LeaderboardPage() -> impl IntoView {
    let query = use_query_map();
    let state = Memo::new(move |_| query.with(|q| LeaderboardState::from_query(|k| q.get(k))));
    let navigate = use_navigate();
    let go = Callback::new(move |next: LeaderboardState| {
        let options = NavigateOptions {
            scroll: false,
            ..NavigateOptions::default()
        };
        navigate(&format!("/leaderboard?{}", next.to_query()), options);
    });
    let wanted = Memo::new(move |_| {
        let state = state.get();
        (!state.task.is_empty() && !state.metric.is_empty()).then(|| variables(&state))
    });
    let board = LocalResource::new(move || {
        let wanted = wanted.get();
        async move {
            match wanted {
                Some(variables) => api::leaderboard(variables).await.map(Some),
                None => Ok(None),
            }
        }
    });

    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Leaderboards"</h1>
                <p class="lede">
                    "Models ranked on one task and metric, only within one comparable "
                    "configuration (task version, n-shot and filter)."
                </p>
            </header>
            <Controls state go />
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        board.await.map(|board| match board {
                            Some(board) => view! { <Board board state go /> }.into_any(),
                            None => view! { <Pick state /> }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// The task, metric and filter controls.
#[component]
fn Controls(state: Memo<LeaderboardState>, go: Callback<LeaderboardState>) -> impl IntoView {
    let typed = RwSignal::new(state.get_untracked().task);
    let choices = LocalResource::new(move || api::task_choices(typed.get()));
    let task = Memo::new(move |_| state.get().task);
    let metrics = LocalResource::new(move || {
        let task = task.get();
        async move {
            if task.is_empty() {
                return Ok(None);
            }
            api::task_metrics(task).await.map(Some)
        }
    });
    let set = move |change: &dyn Fn(&mut LeaderboardState)| {
        let mut next = state.get_untracked();
        change(&mut next);
        go.run(next);
    };
    let text = |value: String| Some(value.trim().to_string()).filter(|v| !v.is_empty());
    let options = move || {
        let names = choices.get().and_then(Result::ok).unwrap_or_default();
        names
            .into_iter()
            .map(|name| view! { <option value=name.clone()></option> })
            .collect_view()
    };
    let metric_select = move || {
        let data = metrics.get().and_then(Result::ok).flatten();
        let summary = data.as_ref().and_then(|d| d.task_summary.clone());
        let current = state.get().metric;
        let names: Vec<(String, Direction)> = summary
            .map(|s| {
                s.metrics
                    .iter()
                    .map(|m| (m.name.clone(), (&m.direction).into()))
                    .collect()
            })
            .unwrap_or_default();
        let options = names
            .into_iter()
            .map(|(name, direction)| {
                let selected = name == current;
                let label = format!("{name} {}", direction.arrow());
                view! { <option value=name selected=selected>{label}</option> }
            })
            .collect_view();
        view! {
            <select id="metric" on:change=move |ev| {
                let metric = event_target_value(&ev);
                set(&|s| {
                    s.metric = metric.clone();
                    *s = s.clone().without_configuration();
                });
            }>
                <option value="" selected=current.is_empty()>"Choose a metric"</option>
                {options}
            </select>
        }
    };
    let scope_select = move |key: &'static str| {
        let data = metrics.get().and_then(Result::ok).flatten();
        let names: Vec<String> = match (data, key) {
            (Some(d), "tag") => d.tags.nodes.into_iter().map(|t| t.name).collect(),
            (Some(d), _) => d.projects.nodes.into_iter().map(|p| p.name).collect(),
            (None, _) => Vec::new(),
        };
        let current = state.with(|s| {
            if key == "tag" {
                s.tag.clone()
            } else {
                s.project.clone()
            }
        });
        let options = names
            .into_iter()
            .map(|name| {
                let selected = Some(&name) == current.as_ref();
                view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
            })
            .collect_view();
        view! {
            <select id=key on:change=move |ev| {
                    let value = text(event_target_value(&ev));
                    set(&|s| if key == "tag" { s.tag = value.clone() } else {
                        s.project = value.clone()
                    });
                }>
                <option value="" selected=current.is_none()>"Any"</option>
                {options}
            </select>
        }
    };

    view! {
        <form class="controls" on:submit=|ev| ev.prevent_default() aria-label="Leaderboard choices">
            <div class="field wide">
                <label for="task">"Task"</label>
                <input id="task" type="search" list="task-options" placeholder="e.g. arc_easy"
                    autocomplete="off" prop:value=move || state.get().task
                    on:input=move |ev| typed.set(event_target_value(&ev))
                    on:change=move |ev| {
                        let task = event_target_value(&ev).trim().to_string();
                        set(&|s| {
                            s.task = task.clone();
                            s.metric = String::new();
                            *s = s.clone().without_configuration();
                        });
                    } />
                <datalist id="task-options">{options}</datalist>
            </div>
            <div class="field">
                <label for="metric">"Metric"</label>
                {metric_select}
            </div>
            <div class="field">
                <label for="model-filter">"Model family or name"</label>
                <input id="model-filter" type="search" placeholder="e.g. pythia"
                    prop:value=move || state.get().model.unwrap_or_default()
                    on:change=move |ev| {
                        let model = text(event_target_value(&ev));
                        set(&|s| s.model = model.clone());
                    } />
            </div>
            <div class="field">
                <label for="tag">"Tag"</label>
                {move || scope_select("tag")}
            </div>
            <div class="field">
                <label for="project">"Project"</label>
                {move || scope_select("project")}
            </div>
            <div class="field">
                <label for="from">"From"</label>
                <input id="from" type="date" prop:value=move || state.get().from.unwrap_or_default()
                    on:change=move |ev| {
                        let day = text(event_target_value(&ev));
                        set(&|s| s.from = day.clone());
                    } />
            </div>
            <div class="field">
                <label for="to">"Before"</label>
                <input id="to" type="date" prop:value=move || state.get().to.unwrap_or_default()
                    on:change=move |ev| {
                        let day = text(event_target_value(&ev));
                        set(&|s| s.to = day.clone());
                    } />
            </div>
            <div class="field check">
                <input id="revisions" type="checkbox" prop:checked=move || state.get().all_revisions
                    on:change=move |ev| {
                        let all = event_target_checked(&ev);
                        set(&|s| s.all_revisions = all);
                    } />
                <label for="revisions">"Every revision (checkpoint)"</label>
            </div>
        </form>
    }
}

/// Shown before a task and metric are chosen.
#[component]
fn Pick(state: Memo<LeaderboardState>) -> impl IntoView {
    let task = state.get_untracked().task;
    if task.is_empty() {
        return view! {
            <Empty title="Choose a task">
                <p>"Type a task name above (suggestions appear as you type), or try "
                    <a href=leaderboard_href("arc_easy", "acc")>"arc_easy · acc"</a>", "
                    <a href=leaderboard_href("hellaswag", "acc_norm")>"hellaswag · acc_norm"</a>
                    " or "
                    <a href=leaderboard_href("lambada_openai", "perplexity")>
                        "lambada_openai · perplexity"</a>"."</p>
                <p>"Or browse the "<a href="/tasks">"task list"</a>"."</p>
            </Empty>
        }
        .into_any();
    }
    view! {
        <Empty title="Choose a metric">
            <p>"Pick one of the metrics measured on "<strong>{task}</strong>" above."</p>
        </Empty>
    }
    .into_any()
}

/// The chosen configuration, the notices, the chart and the table.
#[component]
fn Board(
    board: op::LeaderboardLeaderboard,
    state: Memo<LeaderboardState>,
    go: Callback<LeaderboardState>,
) -> impl IntoView {
    let direction = Direction::from(&board.metric.direction);
    let shown = board.configuration.as_ref().map(|c| Choice {
        version: c.task_version.clone(),
        n_shot: c.n_shot,
        filter: c.filter.clone(),
        models: c.models,
        runs: c.runs,
    });
    let others: Vec<Choice> = board
        .other_configurations
        .iter()
        .map(|c| Choice {
            version: c.task_version.clone(),
            n_shot: c.n_shot,
            filter: c.filter.clone(),
            models: c.models,
            runs: c.runs,
        })
        .collect();
    let all_rows = rows_of(&board);
    let outside = all_rows.iter().filter(|row| row.outside.is_some()).count();
    let title = format!("{} · {}", board.task, board.metric.name);
    let Some(shown) = shown else {
        return view! {
            <Empty title="No comparable runs">
                <p>"No run of "<strong>{board.task.clone()}</strong>" measured "
                    <strong>{board.metric.name.clone()}</strong>
                    " under these choices. Clear a filter or pick another configuration."</p>
            </Empty>
        }
        .into_any();
    };
    let rows = Memo::new(move |_| {
        let state = state.get();
        let sort = state.sort.as_deref().and_then(SortBy::parse);
        sorted(
            keep_model(all_rows.clone(), state.model.as_deref()),
            sort.as_ref(),
        )
    });
    let sort = Signal::derive(move || state.get().sort.as_deref().and_then(SortBy::parse));
    let on_sort = Callback::new(move |by: SortBy| {
        let mut next = state.get_untracked();
        next.sort = Some(by.to_param());
        go.run(next);
    });
    let pick = {
        let shown = shown.clone();
        let mut all = vec![shown.clone()];
        all.extend(others.iter().cloned());
        move |ev: leptos::ev::Event| {
            let key = event_target_value(&ev);
            let Some(choice) = all.iter().find(|c| c.key() == key) else {
                return;
            };
            let mut next = state.get_untracked();
            next.version = choice.version.clone();
            next.n_shot = choice.n_shot;
            next.filter = Some(choice.filter.clone());
            go.run(next);
        }
    };
    let choice_options = std::iter::once(shown.clone())
        .chain(others.iter().cloned())
        .enumerate()
        .map(|(index, choice)| {
            let label = format!(
                "{} — {}, {}",
                choice.label(),
                format::count(choice.models, "model", "models"),
                format::count(choice.runs, "run", "runs")
            );
            view! { <option value=choice.key() selected=index == 0>{label}</option> }
        })
        .collect_view();
    let notices = notices(&board, others.len(), outside);
    let axis = format!("{} ({})", board.metric.name, direction.phrase());
    let chart = move || {
        let bars: Vec<Bar> = rows
            .get()
            .iter()
            .take(CHART_LIMIT)
            .map(|row| Bar {
                label: row_label(row),
                value: row.value.finite(),
                stderr: row.stderr.finite(),
                note: format::num(row.value),
            })
            .collect();
        let count = bars.len();
        view! { <BarChart title=format!("{} — top {count}", title.clone()) axis_label=axis.clone()
        bars /> }
    };

    view! {
        <div class="board">
            <div class="config" aria-live="polite">
                <div>
                    <span class="eyebrow">"Configuration shown"</span>
                    <strong class="config-label" data-test="configuration">{shown.label()}</strong>
                    <span class="muted">
                        {format!(
                            " — {}, {}",
                            format::count(shown.models, "model", "models"),
                            format::count(shown.runs, "run", "runs")
                        )}
                    </span>
                </div>
                <div class="field">
                    <label for="configuration">"Switch configuration"</label>
                    <select id="configuration" on:change=pick disabled=others.is_empty()>
                        {choice_options}
                    </select>
                </div>
                <p class="direction">
                    <span class="badge">{direction.arrow()}" "{direction.phrase()}</span>
                    {match direction {
                        Direction::Lower => " Ranked ascending: the smallest value is first.",
                        Direction::Ideal => " Ranked by distance to the ideal value.",
                        Direction::Higher => " Ranked descending: the largest value is first.",
                        Direction::Unknown => " Not ranked.",
                    }}
                </p>
            </div>
            {notices}
            {move || {
                if rows.get().is_empty() {
                    view! {
                        <Empty title="No model matches">
                            <p>"No entry's model name contains the text in the model filter."</p>
                        </Empty>
                    }.into_any()
                } else {
                    view! {
                        <div class="stack">
                            <Table rows sort on_sort direction />
                            <div class="chart-box">{chart.clone()}</div>
                        </div>
                    }.into_any()
                }
            }}
        </div>
    }
    .into_any()
}

fn row_label(row: &Row) -> String {
    match &row.revision {
        Some(revision) => format!("{} @ {revision}", row.model),
        None => row.model.clone(),
    }
}

/// `outside` counts the entries whose value the metric cannot take.
fn notices(
    board: &op::LeaderboardLeaderboard,
    others: usize,
    outside: usize,
) -> impl IntoView + use<> {
    let unranked = (!board.ranked).then(|| {
        let reason = board.unranked_reason.clone().unwrap_or_default();
        view! { <p class="notice warn" role="note">"Not ranked: "{reason}</p> }
    });
    let truncated = (board.truncated_runs > 0).then(|| {
        let count = board.truncated_runs;
        view! {
            <p class="notice" role="note">
                {format!("{} cut short by --limit {} left out; such runs are never ranked.",
                         format::count(count, "run", "runs"),
                         if count == 1 { "is" } else { "are" })}
            </p>
        }
    });
    let other = (others > 0).then(|| {
        let configurations =
            format::count(others as i64, "other configuration", "other configurations");
        view! {
            <p class="notice" role="note">
                {format!("{} {} results; their values are not comparable with these and \
                          are not mixed in.",
                         configurations,
                         if others == 1 { "has" } else { "have" })}
            </p>
        }
    });
    let impossible = (outside > 0).then(|| {
        let values = if outside == 1 {
            "value lies"
        } else {
            "values lie"
        };
        view! {
            <p class="notice warn" role="note">
                <span aria-hidden="true">"⚠ "</span>
                {format!("{outside} {values} outside what `{}` can take; those runs are \
                          marked below and their quality warnings say more.",
                          board.metric.name)}
            </p>
        }
    });
    view! { {unranked} {truncated} {other} {impossible} }
}

/// The ranked entries as a keyboard-usable, sortable table.
#[component]
fn Table(
    rows: Memo<Vec<Row>>,
    sort: Signal<Option<SortBy>>,
    on_sort: Callback<SortBy>,
    direction: Direction,
) -> impl IntoView {
    let body = move || {
        rows.get()
            .into_iter()
            .map(|row| {
                let rank = row
                    .rank
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "—".into());
                let value = format::num(row.value);
                let stderr = match row.stderr.kind {
                    Kind::Missing => String::new(),
                    _ => format!("± {}", format::num(row.stderr)),
                };
                let revision = row
                    .revision
                    .clone()
                    .map(|r| view! { <span class="rev">{r}</span> });
                // Without a date of its own a run is placed when it was
                // stored; say so rather than pass that off as its date.
                let undated = (!row.dated).then(|| {
                    view! { <span class="muted" title="The source records no date; this is \
                    when the run was stored.">" (stored)"</span> }
                });
                let outside = row.outside.clone().map(|note| {
                    view! { <span class="range-flag"><span aria-hidden="true">" ⚠ "</span>
                    {note}</span> }
                });
                view! {
                    <tr>
                        <td class="num rank">{rank}</td>
                        <td class="model">
                            <a href=model_href(&row.model)>{row.model.clone()}</a>
                            {revision}
                        </td>
                        <td class="num value">{value}{outside}</td>
                        <td class="num stderr">{stderr}</td>
                        <td><a class="mono" href=run_href(&row.run_id)>
                            {row.run_id.chars().take(8).collect::<String>()}</a></td>
                        <td class="date">{format::date(&row.date)}{undated}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="table-wrap">
            <table class="data" aria-label="Leaderboard entries">
                <thead>
                    <tr>
                        <SortHeader label="Rank" column="rank" natural=Order::Ascending sort on_sort
                            numeric=true />
                        <SortHeader label="Model" column="model" natural=Order::Ascending sort
                            on_sort />
                        <SortHeader label="Value" column="value" natural=value_order(direction)
                            sort on_sort numeric=true />
                        <SortHeader label="± stderr" column="stderr" natural=Order::Ascending sort
                            on_sort numeric=true />
                        <th scope="col">"Run"</th>
                        <SortHeader label="Date" column="date" natural=Order::Descending sort
                            on_sort />
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str, rank: Option<i64>, value: Option<f64>) -> Row {
        let kind = if value.is_some() {
            Kind::Finite
        } else {
            Kind::Nan
        };
        Row {
            rank,
            model: model.into(),
            revision: None,
            value: Num::new(value, kind),
            stderr: Num::new(None, Kind::Missing),
            run_id: "r".into(),
            date: "2025-01-01".into(),
            dated: true,
            outside: None,
        }
    }

    #[test]
    fn values_beyond_the_metric_range_are_named_with_the_range() {
        let unit = (Some(0.0), Some(1.0));
        assert_eq!(
            outside_range(Some(1.7), unit.0, unit.1).as_deref(),
            Some("outside [0, 1]")
        );
        assert_eq!(
            outside_range(Some(-3.0), Some(0.0), None).as_deref(),
            Some("outside [0, ∞]")
        );
        assert_eq!(outside_range(Some(1.0), unit.0, unit.1), None);
        assert_eq!(outside_range(Some(f64::NAN), unit.0, unit.1), None);
        assert_eq!(outside_range(Some(7.0), None, None), None);
    }

    #[test]
    fn lower_is_better_metrics_sort_values_ascending_first() {
        assert_eq!(value_order(Direction::Lower), Order::Ascending);
        assert_eq!(value_order(Direction::Higher), Order::Descending);
        let rows = vec![
            row("a", Some(2), Some(9.0)),
            row("b", None, None),
            row("c", Some(1), Some(3.0)),
        ];
        let by_value = SortBy::parse("value-asc");
        let names: Vec<_> = sorted(rows, by_value.as_ref())
            .into_iter()
            .map(|r| r.model)
            .collect();
        assert_eq!(names, vec!["c", "a", "b"]);
    }

    #[test]
    fn the_model_filter_matches_families_ignoring_case() {
        let rows = vec![
            row("EleutherAI/pythia-160m", Some(1), Some(0.5)),
            row("gpt2", Some(2), Some(0.4)),
        ];
        let kept = keep_model(rows, Some("PYTHIA"));
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].model, "EleutherAI/pythia-160m");
    }
}
